/**
 * The report's view of a run's trades, built block by block as bench hands partitions over (the
 * `onTrades` path the trade log uses) and then dropped: binned equity curves and per-bucket sums per
 * parameter set, never the trades themselves. Memory: sets × (curve bins + days + buckets).
 */
import type { TradeBlock } from "../bench/bench.ts";
import { formatEpochDays, parseIsoDate, type EpochDays, type IsoDate } from "../ist-time.ts";
import { estimateAtm, type AtmEstimate } from "./atm.ts";
import { TimeBins } from "./time-bins.ts";
import { addTradeSumsNative, addTradeSumsReference, firstEntries, tradeSeconds, type TradeSumsInput } from "./trade-sums.ts";

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
    const { entryS, exitRange } = tradeSeconds(b.entryTs, b.exitTs, n);
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
    const atm = estimateAtm(firstEntries({ length: n, expiry: b.expiry, optCode: b.optCode, strike: b.strike, entryPrice: b.entryPrice, entryS, entryTs: b.entryTs }), day);
    this.atm.push({ date, underlying: b.underlying || "?", ...atm });
    this.bins.cover(exitRange[0], exitRange[1]);
    const S = this.sets;
    const sums: TradeSumsInput = {
      length: n, sets: S, set: b.set, pnl: b.pnl, expiry: b.expiry, optCode: b.optCode, strike: b.strike, entryTs: b.entryTs, exitTs: b.exitTs,
      curves: Array.from({ length: S }, (_, s) => this.bins.raw(u * S + s).array), first: this.bins.raw(u * S).first, widthS: this.bins.widthS,
      day: day === null ? NaN : day, atmStrike: atm.strike ?? NaN, atmStep: atm.step ?? 1, atmBuckets: ATM_BUCKETS.length, atmSpan: ATM_SPAN, nullDte: DTE_BUCKETS.length - 1,
      dayTotals: dayBreakdown, dte: this.byDte, expiryType: this.byExpiryType, opt: this.byOpt, atm: this.byAtm, hold: this.byHold, setSums: this.setSums,
    };
    // In C (~5 ms for 0.5M trades): the reference loop ran mostly before the JIT had warmed up (~70 ms),
    // on this thread while the workers wanted both cores.
    if (!addTradeSumsNative(sums)) addTradeSumsReference(sums);
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
