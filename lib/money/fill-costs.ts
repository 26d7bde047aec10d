/**
 * The costs of fills and legs under a day's rates (SPEC §7), by component, in ₹. Nothing is
 * rounded here: contract notes round (STT to the rupee, the rest to the paisa) per note, not per
 * fill, so a backtest's sum of unrounded costs is the fair figure to compare strategies by.
 */
import type { CostRates } from "./cost-schedule.ts";
import type { Rupees } from "./rupees.ts";

/** A fill's direction: a buy pays stamp duty, a sell pays STT. */
export type FillSide = "buy" | "sell";
/** A leg's direction: a long leg buys at entry and sells at exit; a short leg sells at entry and buys at exit. */
export type LegSide = "long" | "short";

/** One fill of a leg: a single order. */
export interface Fill {
  side: FillSide;
  /** The fill price, ₹ per unit of the underlying (the option premium). */
  price: number;
  /** The quantity in lots; its sign is ignored (`side` says which way). */
  lots: number;
  /** Units per lot for this contract. */
  lotSize: number;
}

/** A leg: an entry fill and an exit fill of the same quantity. */
export interface Leg {
  side: LegSide;
  /** The quantity in lots; its sign is ignored (`side` says which way). */
  lots: number;
  lotSize: number;
  /** Fill prices, ₹ per unit. */
  entryPrice: number;
  exitPrice: number;
}

/** Costs by component and their total, in ₹. */
export interface Costs {
  brokerage: Rupees;
  stt: Rupees;
  exchange: Rupees;
  sebi: Rupees;
  ipft: Rupees;
  stamp: Rupees;
  gst: Rupees;
  /** The sum of the seven components. */
  total: Rupees;
}

/** The components of Costs (all but `total`), in the order outputs list them. */
export const COST_COMPONENTS = [
  "brokerage",
  "stt",
  "exchange",
  "sebi",
  "ipft",
  "stamp",
  "gst",
] as const satisfies readonly Exclude<keyof Costs, "total">[];

/** Costs of nothing: every component 0. */
export function zeroCosts(): Costs {
  return { brokerage: 0, stt: 0, exchange: 0, sebi: 0, ipft: 0, stamp: 0, gst: 0, total: 0 };
}

/** Premium turnover of a fill, ₹: price × |lots| × lot size. */
export function premiumTurnover(price: number, lots: number, lotSize: number): Rupees {
  return price * Math.abs(lots) * lotSize;
}

function checkQuantity(price: number, lots: number, lotSize: number): void {
  if (!Number.isFinite(price) || price < 0) throw new RangeError(`fill price must be a number ≥ 0, got ${price}`);
  if (!Number.isFinite(lots) || lots === 0) throw new RangeError(`lots must be a nonzero number, got ${lots}`);
  if (!Number.isInteger(lotSize) || lotSize <= 0)
    throw new RangeError(`lot size must be a whole number > 0, got ${lotSize}`);
}

/** The costs of one fill (one order) under `rates`. */
export function fillCosts(rates: CostRates, fill: Fill): Costs {
  const costs = zeroCosts();
  fillCostsInto(costs, rates, fill.side, fill.price, fill.lots, fill.lotSize);
  return costs;
}

/**
 * Adds one fill's costs under `rates` into `sum`, component by component, and returns the fill's
 * total: fillCosts without an object per fill (a run prices every trade twice over).
 */
export function fillCostsInto(
  sum: Costs,
  rates: CostRates,
  side: FillSide,
  price: number,
  lots: number,
  lotSize: number,
): Rupees {
  checkQuantity(price, lots, lotSize);
  const turnover = premiumTurnover(price, lots, lotSize);
  const brokerage = rates.brokerage_per_order;
  const stt = side === "sell" ? turnover * rates.stt_sell : 0;
  const exchange = turnover * rates.exchange;
  const sebi = turnover * rates.sebi;
  const ipft = turnover * rates.ipft;
  const stamp = side === "buy" ? turnover * rates.stamp_buy : 0;
  const gst = rates.gst * (brokerage + exchange + sebi + ipft);
  const total = brokerage + stt + exchange + sebi + ipft + stamp + gst;
  sum.brokerage += brokerage;
  sum.stt += stt;
  sum.exchange += exchange;
  sum.sebi += sebi;
  sum.ipft += ipft;
  sum.stamp += stamp;
  sum.gst += gst;
  sum.total += total;
  return total;
}

/**
 * A leg's costs: its entry fill's plus its exit fill's. Each fill takes the rates of its own day
 * (`exitRates` defaults to `entryRates`, for a leg opened and closed the same day).
 */
export function legCosts(leg: Leg, entryRates: CostRates, exitRates: CostRates = entryRates): Costs {
  const [entrySide, exitSide]: [FillSide, FillSide] = leg.side === "long" ? ["buy", "sell"] : ["sell", "buy"];
  const entry = fillCosts(entryRates, { side: entrySide, price: leg.entryPrice, lots: leg.lots, lotSize: leg.lotSize });
  const exit = fillCosts(exitRates, { side: exitSide, price: leg.exitPrice, lots: leg.lots, lotSize: leg.lotSize });
  return addCosts([entry, exit]);
}

/** Adds `costs` into `sum`, component by component (for running totals without a list). */
export function addCostsInto(sum: Costs, costs: Costs): Costs {
  for (const c of COST_COMPONENTS) sum[c] += costs[c];
  sum.total += costs.total;
  return sum;
}

/** The sum of many costs, component by component; `total` is the sum of their totals. */
export function addCosts(all: Iterable<Costs>): Costs {
  const sum = zeroCosts();
  for (const c of all) addCostsInto(sum, c);
  return sum;
}
