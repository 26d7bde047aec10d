/**
 * A partition's trades in rupees (SPEC §7): each trade (a per-contract kernel's) or leg (a chain
 * kernel's) priced by its quantity in lots and its contract's lot size, less the costs of its two
 * fills on the partition's day; and per parameter set the sums a run's totals and statistics need
 * (bounded: a set's sums and its positions' running tallies, never a list of trades).
 */
import { isNullKey } from "../../kernel/segment-key.ts";
import type { KernelTradeColumns } from "../../kernel/strategy-kernel.ts";
import type { IsoDate } from "../ist-time.ts";
import { loadLotSizes, LotSizeError, lotSizeFor, type LotSizes } from "./lot-sizes.ts";
import { type CostSchedule, ratesOn } from "./cost-schedule.ts";
import type { Rupees } from "./rupees.ts";
import { addCostsInto, type Costs, fillCostsInto, zeroCosts } from "./fill-costs.ts";

/** What a worker needs to price trades: lots, where lot sizes are kept, and the cost schedule. */
export interface MoneySettings {
  /** Lots per trade of a per-contract kernel (`--lots`); a chain kernel's legs carry their own. */
  lots: number;
  /** The packed folder whose kept calendar gives lot sizes (lib/money/lot-sizes.ts). */
  packedDir: string;
  /** `--lot-size`: per underlying, over every expiry (wins over the calendar). */
  overrides: Record<string, number>;
  /** `--costs` (null: no costs, net = gross). */
  schedule: CostSchedule | null;
}

/** Each packed folder's lot sizes, read once per thread. */
const keptLotSizes = new Map<string, LotSizes>();

/** A contract's lot size, or a LotSizeError naming it (a null expiry never has one). */
function lotSizeOf(settings: MoneySettings, underlying: string, expiry: number): number {
  if (isNullKey(expiry)) throw new LotSizeError(`no lot size for ${underlying} trades whose expiry is null`);
  let sizes = keptLotSizes.get(settings.packedDir);
  if (!sizes) {
    sizes = loadLotSizes(settings.packedDir);
    keptLotSizes.set(settings.packedDir, sizes);
  }
  return lotSizeFor(sizes, new Map(Object.entries(settings.overrides)), underlying, expiry);
}

/** A set's money over a partition (or a run: they add up). */
export interface SetMoney {
  gross: Rupees;
  costs: Costs;
  net: Rupees;
  /** Positions (a per-contract trade; a chain kernel's position, its legs together), and of them those with net > 0 and < 0. */
  positions: number;
  wins: number;
  /** Σ net of the positions with net > 0, and of those with net < 0 (≤ 0). */
  winNet: Rupees;
  lossNet: Rupees;
}

export function zeroSetMoney(): SetMoney {
  return { gross: 0, costs: zeroCosts(), net: 0, positions: 0, wins: 0, winNet: 0, lossNet: 0 };
}

/** Adds `b` into `a`. */
export function addSetMoney(a: SetMoney, b: SetMoney): void {
  a.gross += b.gross;
  addCostsInto(a.costs, b.costs);
  a.net += b.net;
  a.positions += b.positions;
  a.wins += b.wins;
  a.winNet += b.winNet;
  a.lossNet += b.lossNet;
}

/** Per trade (or leg), in log order: its lots (unsigned), side, lot size, ₹ gross, costs, net, and its position. */
export interface TradeMoneyColumns {
  lots: Float64Array;
  short: Uint8Array;
  lotSize: Float64Array;
  gross: Float64Array;
  costs: Float64Array;
  net: Float64Array;
  position: Float64Array;
}

/** A partition's money: per set, and per trade when the log wants it. */
export interface PartitionMoney {
  sets: SetMoney[];
  trades: TradeMoneyColumns | null;
}

/**
 * Prices a partition's closed trades (all sets, in the log's order). A per-contract kernel's trade
 * is one long position of `settings.lots` lots whose PnL is per unit; a chain kernel's legs carry
 * their signed lots (their PnL already counts them) and their position.
 */
export function priceTrades(
  trades: KernelTradeColumns,
  sets: number,
  day: IsoDate,
  underlying: string,
  settings: MoneySettings,
  keepTrades: boolean,
): PartitionMoney {
  const n = trades.length;
  const out = Array.from({ length: sets }, zeroSetMoney);
  const rates = settings.schedule ? ratesOn(settings.schedule, day) : null;
  const cols: TradeMoneyColumns | null = keepTrades
    ? {
        lots: new Float64Array(n),
        short: new Uint8Array(n),
        lotSize: new Float64Array(n),
        gross: new Float64Array(n),
        costs: new Float64Array(n),
        net: new Float64Array(n),
        position: new Float64Array(n),
      }
    : null;
  const legs = trades.legs;
  // A chain position's net is its legs' sum: open positions (by set and id) until the partition's end.
  const positionNet = new Map<string, number>();
  const perTrade: number[] = new Array(sets).fill(0);
  const lotSizes = new Map<number, number>(); // by expiry: the partition has one underlying
  for (let t = 0; t < n; t++) {
    const set = trades.set[t];
    const signed = legs ? legs.lots[t] : settings.lots;
    const lots = Math.abs(signed);
    const expiry = trades.expiry[t];
    let lotSize = lotSizes.get(expiry);
    if (lotSize === undefined) {
      lotSize = lotSizeOf(settings, underlying, expiry);
      lotSizes.set(expiry, lotSize);
    }
    // A chain leg's PnL counts its lots already; a per-contract trade's is per unit.
    const gross = trades.pnl[t] * (legs ? 1 : lots) * lotSize;
    const m = out[set];
    // A long leg buys to enter and sells to exit; a short one the other way round (fill-costs.ts's legCosts).
    let costs = 0;
    if (rates) {
      const short = signed < 0;
      costs += fillCostsInto(m.costs, rates, short ? "sell" : "buy", trades.entryPrice[t], lots, lotSize);
      costs += fillCostsInto(m.costs, rates, short ? "buy" : "sell", trades.exitPrice[t], lots, lotSize);
    }
    const net = gross - costs;
    m.gross += gross;
    m.net += net;
    const position = legs ? legs.position[t] : perTrade[set]++;
    if (legs) {
      const key = `${set}|${position}`;
      positionNet.set(key, (positionNet.get(key) ?? 0) + net);
    } else tally(m, net);
    if (cols) {
      cols.lots[t] = lots;
      cols.short[t] = signed < 0 ? 1 : 0;
      cols.lotSize[t] = lotSize;
      cols.gross[t] = gross;
      cols.costs[t] = costs;
      cols.net[t] = net;
      cols.position[t] = position;
    }
  }
  // Every leg of a position closes within the partition (intraday), so its net is whole here.
  for (const [key, net] of positionNet) tally(out[Number(key.split("|")[0])], net);
  return { sets: out, trades: cols };
}

function tally(m: SetMoney, net: number): void {
  m.positions++;
  if (net > 0) {
    m.wins++;
    m.winNet += net;
  } else if (net < 0) m.lossNet += net;
}
