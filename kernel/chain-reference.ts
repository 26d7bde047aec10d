/**
 * The chain driver (SPEC §6, kernel/tickpack_chain.h) in plain TypeScript, for clarity rather than
 * speed: tests hold the C chain driver and its kernels to it. One partition's rows go in; the
 * driver builds the contract table, merges the rows into one time-ordered stream, keeps every
 * contract's as-of state, calls a kernel per instant for every parameter set, fills its orders and
 * logs every leg when it closes.
 */
import { OPT_CE, OPT_PE } from "../lib/packed/opt-type.ts";

/** One packed row as the chain driver reads it (nulls as null). */
export interface ChainRow {
  /** Epoch ns. */
  timestamp: bigint | null;
  /** Epoch days. */
  expiry: number | null;
  /** Stable opt_type code (lib/packed/opt-type.ts): 0 CE, 1 PE, 2 other; null for a null opt_type. */
  opt: number | null;
  strike: number | null;
  price: number | null;
  /** The kernel's declared columns by name; a missing one reads as null. */
  values?: Record<string, number | null>;
}

/** A kernel parameter and its default (tickpack_params). */
export interface ChainParam {
  name: string;
  defaultValue: number;
}

/** A chain kernel as TypeScript: the same entry points as a C chain kernel, over a ChainView. */
export interface ChainKernelReference {
  /** Declared columns (tickpack_columns), by name, without a type. */
  columns: string[];
  params: ChainParam[];
  /** Doubles of state per set, and per contract per set (ChainView.contractState). */
  stateSize: number;
  contractStateSize: number;
  /** A partition begins: s is zeroed, no instant yet (ts 0n, no rows). */
  start(p: number[], s: Float64Array, c: ChainView): void;
  instant(p: number[], s: Float64Array, c: ChainView): void;
  /** The partition ended; c holds its last instant. The driver then closes every leg still open. */
  end(p: number[], s: Float64Array, c: ChainView): void;
}

/** The parameter values a kernel declares as defaults, in its order, with some overridden by name. */
export function chainParamValues(kernel: ChainKernelReference, overrides: Record<string, number> = {}): number[] {
  for (const name of Object.keys(overrides)) {
    if (!kernel.params.some((p) => p.name === name)) throw new Error(`unknown parameter ${name}`);
  }
  return kernel.params.map((p) => overrides[p.name] ?? p.defaultValue);
}

/** One leg of the trade log, written when the leg closes. */
export interface ChainLegLog {
  set: number;
  position: number;
  leg: number;
  /** The leg's contract: expiry in epoch days, opt code, strike. */
  expiry: number;
  opt: number;
  strike: number;
  /** Signed: > 0 long, < 0 short. */
  lots: number;
  /** Epoch ns of the fills. */
  entryTs: bigint;
  exitTs: bigint;
  entryPrice: number;
  exitPrice: number;
  /** (exit − entry) × lots, in price points. */
  pnl: number;
}

/** A parameter set's totals over the partition. */
export interface ChainSetTotals {
  /** Positions opened. */
  trades: number;
  pnl: number;
  /** Stream rows with a valid price: the same for every set. */
  validRows: number;
  /** Every row given, in the stream or not. */
  rows: number;
  /** --fill touch: fills that found no quote and filled at the price. */
  fillsAtLast: number;
}

export interface ChainRunOptions {
  /** How orders fill (SPEC §7): "last" (default) at the price; "touch" a buy at the ask (values.sp0), a sell at the bid (values.bp0), each of the fill's row, where non-null and > 0. */
  fill?: "last" | "touch";
  /** 09:15:00 IST of the partition's day, epoch ns (openNsOfDay). */
  openNs: bigint;
  /** Which contracts the run selects; rows of the others are neither in the table nor in the stream. */
  select?: (expiry: number, opt: number, strike: number) => boolean;
}

/** 09:15:00 IST (03:45 UTC) of an IST day, in epoch ns. */
export function openNsOfDay(epochDays: number): bigint {
  return BigInt(epochDays * 86400 + 3 * 3600 + 45 * 60) * 1_000_000_000n;
}

/** More open legs than this in one set is a bad order (the C driver's fixed table). */
export const MAX_OPEN_LEGS = 64;

interface Contract {
  expiry: number;
  opt: number;
  strike: number;
}

interface Leg {
  position: number;
  leg: number;
  contract: number;
  lots: number;
  entryTs: bigint;
  entryPrice: number;
  open: boolean;
}

/** One set's positions: legs by position, and every leg in opening order. */
interface SetBook {
  positions: Leg[][];
  legs: Leg[];
  openLegs: number;
  pnl: number;
  fillsAtLast: number;
  contractState: Float64Array;
}

/** The key of a row as a contract, or null when a part of it is null. */
function contractOf(r: ChainRow): Contract | null {
  if (r.expiry === null || r.opt === null || r.strike === null) return null;
  return { expiry: r.expiry, opt: r.opt, strike: r.strike };
}

const keyText = (c: Contract) => `${c.expiry}|${c.opt}|${c.strike}`;

const isValid = (r: ChainRow) => r.price !== null && r.price > 0;

/**
 * What a kernel sees (tp_chain_t) and what it may do (the tp_* helpers and orders) for one
 * parameter set at one instant. Arrays are the driver's: read them, never write them.
 */
export class ChainView {
  /** The contract table, sorted by (expiry, opt, strike): contract c is (expiry[c] in epoch days, opt[c], strike[c]). */
  readonly expiry: number[];
  readonly opt: number[];
  readonly strike: number[];
  /** The table's distinct expiries, nearest first. */
  readonly expiries: number[];
  /** 09:15:00 IST of the partition's day, epoch ns. */
  readonly openNs: bigint;
  /** Declared columns, in the kernel's order (index k of rowColumn and asofColumn). */
  readonly columns: string[];

  /** The instant in epoch ns (0n before the first), and minutes since 09:15 IST (negative before it). */
  ts = 0n;
  minute = 0;
  /** The instant's rows in stream order: row i is of contract rowContract[i], valid when rowValid[i]. */
  rowContract: number[] = [];
  rowValid: boolean[] = [];
  /** The instant's rows' own prices (null when null). */
  rowPrice: (number | null)[] = [];
  /** rowColumn[k][i]: declared column k of instant row i. */
  rowColumn: (number | null)[][] = [];

  /** Per contract, as of the instant: has[c] once it has had a valid row; then its latest valid row's price and timestamp. */
  readonly has: boolean[];
  /** NaN until has[c]. */
  readonly asofPrice: number[];
  readonly asofTs: bigint[];
  /** asofColumn[k][c]: declared column k of contract c's latest valid row (which may be null). */
  readonly asofColumn: (number | null)[][];
  /** @internal --fill touch: the instant rows' and each contract's latest valid row's bid and ask. */
  fill: "last" | "touch" = "last";
  rowBid: (number | null)[] = [];
  rowAsk: (number | null)[] = [];
  readonly asofBid: (number | null)[];
  readonly asofAsk: (number | null)[];

  /** The set the kernel is being called for. */
  set = 0;
  /** @internal the driver's books, one per set. */
  readonly books: SetBook[] = [];
  /** @internal the trade log the orders write to. */
  readonly log: ChainLegLog[] = [];

  constructor(contracts: Contract[], openNs: bigint, columns: string[]) {
    this.expiry = contracts.map((c) => c.expiry);
    this.opt = contracts.map((c) => c.opt);
    this.strike = contracts.map((c) => c.strike);
    this.expiries = [...new Set(this.expiry)].sort((a, b) => a - b);
    this.openNs = openNs;
    this.columns = columns;
    this.has = contracts.map(() => false);
    this.asofPrice = contracts.map(() => Number.NaN);
    this.asofTs = contracts.map(() => 0n);
    this.asofColumn = columns.map(() => contracts.map(() => null));
    this.asofBid = contracts.map(() => null);
    this.asofAsk = contracts.map(() => null);
  }

  /** @internal A fill at `price` of a row whose quotes are bid and ask: --fill touch takes the side's quote where there is one. */
  fillPrice(price: number, bid: number | null, ask: number | null, buy: boolean): number {
    if (this.fill === "last") return price;
    const quote = buy ? ask : bid;
    if (quote !== null && quote > 0) return quote;
    this.book.fillsAtLast++;
    return price;
  }

  /** @internal The fill of a buy or a sell of contract c as of the instant. */
  fillAsOf(contract: number, buy: boolean): number {
    return this.fillPrice(this.asofPrice[contract], this.asofBid[contract], this.asofAsk[contract], buy);
  }

  get ncontracts(): number {
    return this.expiry.length;
  }
  get nrows(): number {
    return this.rowContract.length;
  }

  /** Contract c's as-of price, or NaN before its first valid row or when c is no contract (tp_price). */
  price(contract: number): number {
    return this.isContract(contract) && this.has[contract] ? this.asofPrice[contract] : Number.NaN;
  }

  /** The contract (expiry, opt, strike), or -1 (tp_find). */
  find(expiry: number, opt: number, strike: number): number {
    for (let c = 0; c < this.ncontracts; c++) {
      if (this.expiry[c] === expiry && this.opt[c] === opt && this.strike[c] === strike) return c;
    }
    return -1;
  }

  /**
   * The at-the-money strike of an expiry now (tp_atm): of the strikes whose CE and PE both have an
   * as-of price, the one with the smallest |CE − PE|, ties to the lower strike; NaN when none.
   */
  atm(expiry: number): number {
    let best = Number.NaN;
    let bestGap = Number.POSITIVE_INFINITY;
    // The table is sorted by strike within (expiry, opt): walking the CEs upwards, a strict < keeps the lower strike on a tie.
    for (let ce = 0; ce < this.ncontracts; ce++) {
      if (this.expiry[ce] !== expiry || this.opt[ce] !== OPT_CE || !this.has[ce]) continue;
      const pe = this.find(expiry, OPT_PE, this.strike[ce]);
      if (pe < 0 || !this.has[pe]) continue;
      const gap = Math.abs(this.asofPrice[ce] - this.asofPrice[pe]);
      if (gap < bestGap) {
        bestGap = gap;
        best = this.strike[ce];
      }
    }
    return best;
  }

  /**
   * The strike `steps` listed strikes above (> 0) or below (< 0) `strike` among the expiry's
   * contracts of type opt (tp_strike_step); NaN past either end or when strike is not listed.
   */
  strikeStep(expiry: number, opt: number, strike: number, steps: number): number {
    const strikes: number[] = [];
    for (let c = 0; c < this.ncontracts; c++) {
      if (this.expiry[c] === expiry && this.opt[c] === opt) strikes.push(this.strike[c]);
    }
    const at = strikes.indexOf(strike);
    if (at < 0) return Number.NaN;
    const to = at + steps;
    return to >= 0 && to < strikes.length ? strikes[to] : Number.NaN;
  }

  /** This set's scratch for a contract (contractStateSize doubles, zero at the partition's start). */
  contractState(contract: number): Float64Array {
    if (!this.isContract(contract)) throw new Error(`contractState: no contract ${contract}`);
    const size = this.book.contractState.length / this.ncontracts;
    return this.book.contractState.subarray(contract * size, (contract + 1) * size);
  }

  /** Opens a leg of `lots` on a contract at its as-of price, in `position` (< 0: a new one); returns the position. */
  open(position: number, contract: number, lots: number): number {
    if (!this.isContract(contract)) throw this.badOrder(`open: no contract ${contract}`);
    if (!this.has[contract]) throw this.badOrder(`open: contract ${contract} has no price yet`);
    return this.openLeg(position, contract, lots, this.fillAsOf(contract, lots > 0));
  }

  /** Opens a leg on instant row `row`'s contract at that row's own price; returns the position. */
  openAt(position: number, row: number, lots: number): number {
    const price = this.validRowPrice(row, "openAt");
    return this.openLeg(
      position,
      this.rowContract[row],
      lots,
      this.fillPrice(price, this.rowBid[row], this.rowAsk[row], lots > 0),
    );
  }

  /** Closes every open leg of the position at as-of prices, in opening order; returns how many it closed. */
  close(position: number): number {
    const legs = this.positionLegs(position, "close").filter((l) => l.open);
    for (const l of legs) this.closeLegAtPrice(l, this.fillAsOf(l.contract, l.lots < 0), this.ts);
    return legs.length;
  }

  /** Closes leg `leg` (0, 1, … in the position's opening order) at its contract's as-of price; returns 1. */
  closeLeg(position: number, leg: number): number {
    const l = this.openLegOf(position, leg, "closeLeg");
    this.closeLegAtPrice(l, this.fillAsOf(l.contract, l.lots < 0), this.ts);
    return 1;
  }

  /** Closes leg `leg` at instant row `row`'s own price (a valid row of the leg's contract); returns 1. */
  closeLegAt(position: number, leg: number, row: number): number {
    const l = this.openLegOf(position, leg, "closeLegAt");
    const price = this.validRowPrice(row, "closeLegAt");
    if (this.rowContract[row] !== l.contract) {
      throw this.badOrder(`closeLegAt: row ${row} is not of leg ${leg}'s contract ${l.contract}`);
    }
    this.closeLegAtPrice(l, this.fillPrice(price, this.rowBid[row], this.rowAsk[row], l.lots < 0), this.ts);
    return 1;
  }

  /** Open legs of the position (0 once closed, or for an unknown position). */
  openLegs(position: number): number {
    return this.knownLegs(position).filter((l) => l.open).length;
  }

  /** Σ lots × entry price over the position's open legs (a short straddle's premium received is −entryValue). */
  entryValue(position: number): number {
    let sum = 0;
    for (const l of this.knownLegs(position)) if (l.open) sum += l.lots * l.entryPrice;
    return sum;
  }

  /** Σ lots × as-of price over the position's open legs (the cost to buy a short back is −value). */
  value(position: number): number {
    let sum = 0;
    for (const l of this.knownLegs(position)) if (l.open) sum += l.lots * this.asofPrice[l.contract];
    return sum;
  }

  /** @internal closes a leg at a price and time, logging it. */
  closeLegAtPrice(l: Leg, exitPrice: number, exitTs: bigint): void {
    const book = this.book;
    const pnl = (exitPrice - l.entryPrice) * l.lots;
    l.open = false;
    book.openLegs--;
    book.pnl += pnl;
    this.log.push({
      set: this.set,
      position: l.position,
      leg: l.leg,
      expiry: this.expiry[l.contract],
      opt: this.opt[l.contract],
      strike: this.strike[l.contract],
      lots: l.lots,
      entryTs: l.entryTs,
      exitTs,
      entryPrice: l.entryPrice,
      exitPrice,
      pnl,
    });
  }

  private get book(): SetBook {
    return this.books[this.set];
  }

  private isContract(contract: number): boolean {
    return Number.isInteger(contract) && contract >= 0 && contract < this.ncontracts;
  }

  private badOrder(what: string): Error {
    return new Error(`chain kernel, set ${this.set}, instant ${this.ts}: bad order: ${what}`);
  }

  private openLeg(position: number, contract: number, lots: number, price: number): number {
    const book = this.book;
    if (lots === 0 || !Number.isFinite(lots)) throw this.badOrder(`open: ${lots} lots`);
    if (book.openLegs >= MAX_OPEN_LEGS) throw this.badOrder(`open: more than ${MAX_OPEN_LEGS} open legs`);
    let legs: Leg[];
    if (position < 0) {
      position = book.positions.length;
      legs = [];
      book.positions.push(legs);
    } else {
      legs = this.positionLegs(position, "open");
      // A position whose legs have all closed is over: a new leg needs a new position (a new trade).
      if (legs.length > 0 && !legs.some((l) => l.open)) throw this.badOrder(`open: position ${position} is closed`);
    }
    const leg: Leg = { position, leg: legs.length, contract, lots, entryTs: this.ts, entryPrice: price, open: true };
    legs.push(leg);
    book.legs.push(leg);
    book.openLegs++;
    return position;
  }

  private validRowPrice(row: number, what: string): number {
    if (!(Number.isInteger(row) && row >= 0 && row < this.nrows)) throw this.badOrder(`${what}: no instant row ${row}`);
    const price = this.rowPrice[row];
    if (!this.rowValid[row] || price === null) throw this.badOrder(`${what}: instant row ${row} has no valid price`);
    return price;
  }

  private knownLegs(position: number): Leg[] {
    return Number.isInteger(position) && position >= 0 && position < this.book.positions.length
      ? this.book.positions[position]
      : [];
  }

  private positionLegs(position: number, what: string): Leg[] {
    if (!(Number.isInteger(position) && position >= 0 && position < this.book.positions.length)) {
      throw this.badOrder(`${what}: no position ${position}`);
    }
    return this.book.positions[position];
  }

  private openLegOf(position: number, leg: number, what: string): Leg {
    const l = this.positionLegs(position, what)[leg];
    if (!l?.open) throw this.badOrder(`${what}: leg ${leg} of position ${position} is not open`);
    return l;
  }
}

/** A partition's result: totals per set, and every leg in the order legs closed (set by set at the end). */
export interface ChainRunResult {
  sets: ChainSetTotals[];
  legs: ChainLegLog[];
}

/** Runs a chain kernel over one partition's rows (file order) for every parameter set. */
export function runChainReference(
  rows: ChainRow[],
  kernel: ChainKernelReference,
  paramSets: number[][],
  options: ChainRunOptions,
): ChainRunResult {
  const selected = (c: Contract | null): c is Contract =>
    c !== null && (options.select?.(c.expiry, c.opt, c.strike) ?? true);

  // The contract table: distinct selected keys, sorted by (expiry, opt, strike).
  const byKey = new Map<string, Contract>();
  for (const r of rows) {
    const c = contractOf(r);
    if (selected(c)) byKey.set(keyText(c), c);
  }
  const contracts = [...byKey.values()].sort((a, b) => a.expiry - b.expiry || a.opt - b.opt || a.strike - b.strike);
  const index = new Map(contracts.map((c, i) => [keyText(c), i]));

  // The stream: rows with a timestamp and a selected key, by timestamp; Array.prototype.sort is stable, so ties keep file order.
  const stream = rows
    .map((r) => ({ r, c: contractOf(r) }))
    .filter((x): x is { r: ChainRow & { timestamp: bigint }; c: Contract } => x.r.timestamp !== null && selected(x.c))
    .map(({ r, c }) => ({ r, ts: r.timestamp, contract: index.get(keyText(c))! }))
    .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));

  const view = new ChainView(contracts, options.openNs, kernel.columns);
  view.fill = options.fill ?? "last";
  const states = paramSets.map(() => new Float64Array(kernel.stateSize));
  for (let set = 0; set < paramSets.length; set++) {
    view.books.push({
      positions: [],
      legs: [],
      openLegs: 0,
      pnl: 0,
      fillsAtLast: 0,
      contractState: new Float64Array(contracts.length * kernel.contractStateSize),
    });
  }
  const eachSet = (call: (p: number[], s: Float64Array) => void) => {
    for (let set = 0; set < paramSets.length; set++) {
      view.set = set;
      call(paramSets[set], states[set]);
    }
  };
  const columnOf = (r: ChainRow, name: string) => r.values?.[name] ?? null;

  view.rowColumn = kernel.columns.map(() => []);
  eachSet((p, s) => kernel.start(p, s, view));

  let validRows = 0;
  for (let i = 0; i < stream.length; ) {
    let j = i;
    while (j < stream.length && stream[j].ts === stream[i].ts) j++;
    const instant = stream.slice(i, j);
    view.ts = stream[i].ts;
    view.minute = Number(view.ts - options.openNs) / 6e10;
    view.rowContract = instant.map((x) => x.contract);
    view.rowValid = instant.map((x) => isValid(x.r));
    view.rowPrice = instant.map((x) => x.r.price);
    view.rowColumn = kernel.columns.map((name) => instant.map((x) => columnOf(x.r, name)));
    view.rowBid = instant.map((x) => columnOf(x.r, "bp0"));
    view.rowAsk = instant.map((x) => columnOf(x.r, "sp0"));
    // Every row of the instant updates the as-of state before any kernel sees the instant.
    for (const { r, contract } of instant) {
      if (!isValid(r)) continue;
      validRows++;
      view.has[contract] = true;
      view.asofPrice[contract] = r.price!;
      view.asofTs[contract] = view.ts;
      view.asofBid[contract] = columnOf(r, "bp0");
      view.asofAsk[contract] = columnOf(r, "sp0");
      kernel.columns.forEach((name, k) => {
        view.asofColumn[k][contract] = columnOf(r, name);
      });
    }
    eachSet((p, s) => kernel.instant(p, s, view));
    i = j;
  }

  eachSet((p, s) => {
    kernel.end(p, s, view);
    // What the kernel left open closes at its contract's last valid price, at that row's time (or at
    // the leg's entry, when the contract had no valid row after it).
    for (const l of view.books[view.set].legs) {
      if (!l.open) continue;
      let exitTs = view.asofTs[l.contract];
      if (exitTs < l.entryTs) exitTs = l.entryTs;
      view.closeLegAtPrice(l, view.fillAsOf(l.contract, l.lots < 0), exitTs);
    }
  });

  return {
    sets: view.books.map((b) => ({
      trades: b.positions.length,
      pnl: b.pnl,
      validRows,
      rows: rows.length,
      fillsAtLast: b.fillsAtLast,
    })),
    legs: view.log,
  };
}
