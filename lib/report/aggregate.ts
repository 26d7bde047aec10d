/**
 * The report's view of a run's trades, built block by block as bench hands partitions over (the
 * `onTrades` path the trade log uses) and then dropped: binned equity curves and per-bucket sums per
 * parameter set, never the trades themselves. Memory: sets × (curve bins + days + buckets).
 */
import type { TradeBlock } from "../bench/bench.ts";
import { formatEpochDays, parseIsoDate, yearMonthOf, type EpochDays, type IsoDate } from "../ist-time.ts";
import { estimateAtm, type AtmEstimate } from "./atm.ts";
import { TimeBins } from "./time-bins.ts";

/** Days-to-expiry buckets (calendar days from the trading day to the expiry). */
export const DTE_BUCKETS = ["0", "1", "2", "3", "4", "5", "6", "7", "8–14", "15–30", "31+", "unknown"] as const;
/** Expiry types: monthly when a week later is another month (the last expiry weekday of its month). */
export const EXPIRY_TYPES = ["weekly", "monthly", "unknown"] as const;
/** Option types as the driver codes them (CE 0, PE 1), and anything else. */
export const OPT_TYPES = ["CE", "PE", "other"] as const;
/** Strike distance from the day's ATM, in strike steps, clamped to ±ATM_SPAN. */
export const ATM_SPAN = 10;
/** ATM distance buckets: below −ATM_SPAN, −ATM_SPAN … +ATM_SPAN steps, above, and no ATM that day. */
export const ATM_BUCKETS = [`<−${ATM_SPAN}`, ...Array.from({ length: 2 * ATM_SPAN + 1 }, (_, k) => (k - ATM_SPAN > 0 ? `+${k - ATM_SPAN}` : String(k - ATM_SPAN))), `>+${ATM_SPAN}`, "unknown"];
/** Holding time buckets, upper bounds in seconds (the last is open). */
export const HOLD_BOUNDS_S = [1, 5, 15, 60, 300, 900, 3600, 10_800, Infinity] as const;
/** Labels of the HOLD_BOUNDS_S buckets. */
export const HOLD_BUCKETS = ["<1 s", "1–5 s", "5–15 s", "15–60 s", "1–5 min", "5–15 min", "15–60 min", "1–3 h", "≥3 h"] as const;

/** PnL (price points), trade count and winning-trade count of one bucket and set. */
export interface BucketSums {
  pnl: number;
  trades: number;
  wins: number;
}

/** A bucketed breakdown: for each bucket, one sum per set (`[bucket][set]` flattened). */
export class Breakdown {
  readonly pnl: Float64Array;
  readonly trades: Float64Array;
  readonly wins: Float64Array;
  constructor(readonly buckets: number, readonly sets: number) {
    this.pnl = new Float64Array(buckets * sets);
    this.trades = new Float64Array(buckets * sets);
    this.wins = new Float64Array(buckets * sets);
  }
  add(bucket: number, set: number, pnl: number): void {
    const k = bucket * this.sets + set;
    this.pnl[k] += pnl;
    this.trades[k]++;
    if (pnl > 0) this.wins[k]++;
  }
  /** One set's sums, bucket by bucket. */
  of(set: number): BucketSums[] {
    return Array.from({ length: this.buckets }, (_, b) => ({ pnl: this.pnl[b * this.sets + set], trades: this.trades[b * this.sets + set], wins: this.wins[b * this.sets + set] }));
  }
}

/** Per-set trade statistics (price points; seconds). */
export interface SetStats {
  trades: number;
  wins: number;
  losses: number;
  winPnl: number;
  lossPnl: number;
  pnl: number;
  holdSumS: number;
}

/** One partition's ATM estimate, with its date and underlying. */
export interface PartitionAtm extends AtmEstimate {
  date: IsoDate;
  underlying: string;
}

/** The curve bins a run may hold per series: ~4M values in all, between 512 and 8192 a series. */
export function maxBinsFor(seriesCount: number): number {
  const want = 2 ** Math.floor(Math.log2(Math.max(1, 4_194_304 / Math.max(1, seriesCount))));
  return Math.min(8192, Math.max(512, want));
}

/** Accumulates a run's trades for the report, block by block, in bounded memory. */
export class ReportAggregator {
  readonly bins: TimeBins;
  /** Underlyings in order of first appearance; curve series `u * sets + set`. */
  readonly underlyings: string[] = [];
  readonly byDte: Breakdown;
  readonly byExpiryType: Breakdown;
  readonly byOpt: Breakdown;
  /** Buckets `opt * ATM_BUCKETS.length + distance` (opt: CE, PE, other). */
  readonly byAtm: Breakdown;
  readonly byHold: Breakdown;
  readonly byDay = new Map<IsoDate, Breakdown>();
  /** Per set: trades, wins, losses, win PnL, loss PnL, PnL, holding seconds (7 values a set). */
  private readonly setSums: Float64Array;
  readonly atm: PartitionAtm[] = [];
  /** Partitions handed over, and the trading days they cover. */
  partitions = 0;
  readonly dates = new Set<IsoDate>();
  private readonly expiryTypeOf = new Map<EpochDays, number>();

  /** `sets`: the run's parameter sets (trade `set` values are 0 … sets − 1). */
  constructor(readonly sets: number) {
    // Two underlyings is the common case; a curve per (underlying, set).
    this.bins = new TimeBins(maxBinsFor(sets * 2));
    this.byDte = new Breakdown(DTE_BUCKETS.length, sets);
    this.byExpiryType = new Breakdown(EXPIRY_TYPES.length, sets);
    this.byOpt = new Breakdown(OPT_TYPES.length, sets);
    this.byAtm = new Breakdown(OPT_TYPES.length * ATM_BUCKETS.length, sets);
    this.byHold = new Breakdown(HOLD_BUCKETS.length, sets);
    this.setSums = new Float64Array(sets * 7);
  }

  private expiryType(expiry: EpochDays): number {
    let t = this.expiryTypeOf.get(expiry);
    if (t === undefined) {
      // NSE's monthly contract expires on the last expiry weekday of its month (moved a day earlier on
      // a holiday): a week later is then another month. No calendar is needed.
      t = yearMonthOf(expiry + 7).month !== yearMonthOf(expiry).month ? 1 : 0;
      this.expiryTypeOf.set(expiry, t);
    }
    return t;
  }

  private underlyingIndex(name: string): number {
    let u = this.underlyings.indexOf(name);
    if (u < 0) {
      u = this.underlyings.push(name) - 1;
      for (let s = 0; s < this.sets; s++) this.bins.addSeries();
    }
    return u;
  }

  /** Takes one partition's trades (kept as sums only; the block can be dropped afterwards). */
  add(b: TradeBlock): void {
    this.partitions++;
    const n = b.length;
    // Instants as float seconds, read through the int64s' 32-bit halves: BigInt per trade costs ~50× more.
    const entryS = secondsOf(b.entryTs, n);
    const exitS = secondsOf(b.exitTs, n);
    let day: EpochDays | null = null;
    try {
      day = b.date === "" ? null : parseIsoDate(b.date);
    } catch {
      day = null;
    }
    const date = day === null ? (n > 0 ? formatEpochDays(Math.floor((entryS[0] + 19_800) / 86_400)) : "unknown") : b.date;
    this.dates.add(date);
    const u = this.underlyingIndex(b.underlying || "?");
    // A day without trades is still a day of the run (a zero bar).
    let dayBreakdown = this.byDay.get(date);
    if (!dayBreakdown) this.byDay.set(date, (dayBreakdown = new Breakdown(1, this.sets)));
    if (n === 0) return;
    const atm = estimateAtm({ length: n, expiry: b.expiry, optCode: b.optCode, strike: b.strike, entryPrice: b.entryPrice, entryS }, day);
    this.atm.push({ date, underlying: b.underlying || "?", ...atm });
    let lo = Infinity;
    let hi = -Infinity;
    for (let t = 0; t < n; t++) {
      if (exitS[t] < lo) lo = exitS[t];
      if (exitS[t] > hi) hi = exitS[t];
    }
    this.bins.cover(lo, hi);
    // One flat loop without calls or allocations: it runs once per run, mostly before the JIT has
    // warmed up, and every instruction here is taken from the workers' two cores.
    const S = this.sets;
    const A = ATM_BUCKETS.length;
    const NULL_DTE = DTE_BUCKETS.length - 1;
    const curves = Array.from({ length: S }, (_, s) => this.bins.raw(u * S + s).array);
    const first = this.bins.raw(u * S).first;
    const width = this.bins.widthS;
    const atmStrike = atm.strike ?? NaN;
    const atmStep = atm.step ?? 1;
    const dayP = dayBreakdown.pnl, dayN = dayBreakdown.trades, dayW = dayBreakdown.wins;
    const dteP = this.byDte.pnl, dteN = this.byDte.trades, dteW = this.byDte.wins;
    const expP = this.byExpiryType.pnl, expN = this.byExpiryType.trades, expW = this.byExpiryType.wins;
    const optP = this.byOpt.pnl, optN = this.byOpt.trades, optW = this.byOpt.wins;
    const atmP = this.byAtm.pnl, atmN = this.byAtm.trades, atmW = this.byAtm.wins;
    const holdP = this.byHold.pnl, holdN = this.byHold.trades, holdW = this.byHold.wins;
    const st = this.setSums;
    const dayNum = day === null ? NaN : day;
    let lastExpiry = NaN;
    let lastType = 2;
    for (let t = 0; t < n; t++) {
      const s = b.set[t] | 0;
      const pnl = b.pnl[t];
      const win = pnl > 0 ? 1 : 0;
      curves[s][(Math.floor(exitS[t] / width) - first) | 0] += pnl;
      dayP[s] += pnl;
      dayN[s]++;
      dayW[s] += win;
      const expiry = b.expiry[t];
      let dte = NULL_DTE;
      let type = 2;
      if (expiry > -1e299) {
        const d = expiry - dayNum; // NaN without a date: no bucket below matches
        dte = d >= 0 && d <= 7 ? d | 0 : d > 7 && d <= 14 ? 8 : d > 14 && d <= 30 ? 9 : d > 30 ? 10 : NULL_DTE;
        if (expiry !== lastExpiry) [lastExpiry, lastType] = [expiry, this.expiryType(expiry)];
        type = lastType;
      }
      let k = dte * S + s;
      dteP[k] += pnl;
      dteN[k]++;
      dteW[k] += win;
      k = type * S + s;
      expP[k] += pnl;
      expN[k]++;
      expW[k] += win;
      const code = b.optCode[t];
      const opt = code === 0 ? 0 : code === 1 ? 1 : 2;
      k = opt * S + s;
      optP[k] += pnl;
      optN[k]++;
      optW[k] += win;
      let dist = A - 1;
      const strike = b.strike[t];
      if (strike > -1e299 && atmStrike === atmStrike) {
        const steps = Math.round((strike - atmStrike) / atmStep) | 0;
        dist = steps < -ATM_SPAN ? 0 : steps > ATM_SPAN ? A - 2 : steps + ATM_SPAN + 1;
      }
      k = (opt * A + dist) * S + s;
      atmP[k] += pnl;
      atmN[k]++;
      atmW[k] += win;
      const holdS = exitS[t] - entryS[t];
      const h = holdS < 1 ? 0 : holdS < 5 ? 1 : holdS < 15 ? 2 : holdS < 60 ? 3 : holdS < 300 ? 4 : holdS < 900 ? 5 : holdS < 3600 ? 6 : holdS < 10_800 ? 7 : 8;
      k = h * S + s;
      holdP[k] += pnl;
      holdN[k]++;
      holdW[k] += win;
      // Per set: trades, wins, losses, win PnL, loss PnL, PnL, holding seconds.
      const o = s * 7;
      st[o]++;
      st[o + 1] += win;
      st[o + 2] += pnl < 0 ? 1 : 0;
      st[o + 3] += pnl > 0 ? pnl : 0;
      st[o + 4] += pnl < 0 ? pnl : 0;
      st[o + 5] += pnl;
      st[o + 6] += holdS;
    }
  }

  /** Per-set trade statistics. */
  get stats(): SetStats[] {
    const st = this.setSums;
    return Array.from({ length: this.sets }, (_, s) => ({ trades: st[s * 7], wins: st[s * 7 + 1], losses: st[s * 7 + 2], winPnl: st[s * 7 + 3], lossPnl: st[s * 7 + 4], pnl: st[s * 7 + 5], holdSumS: st[s * 7 + 6] }));
  }

  /** One set's PnL by day, in date order. */
  dayPnl(set: number): { date: IsoDate; pnl: number; trades: number; wins: number }[] {
    return [...this.byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, br]) => ({ date, ...br.of(set)[0] }));
  }
}

/** Float seconds of epoch-ns int64s (±256 ns), from their two 32-bit halves. */
function secondsOf(ns: BigInt64Array, n: number): Float64Array {
  const words = new Int32Array(ns.buffer, ns.byteOffset, n * 2);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (words[2 * i + 1] * 4_294_967_296 + (words[2 * i] >>> 0)) / 1e9;
  return out;
}
