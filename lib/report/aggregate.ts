/**
 * The report's view of a run's trades, built partition by partition from the sums the workers' driver
 * kept (kernel/report-sums.ts), handed over by bench in partition order and then dropped: binned
 * equity curves and per-bucket sums per parameter set, never the trades themselves. Memory: sets ×
 * (curve bins + days + buckets).
 */
import type { ReportSumsBlock } from "../bench/bench.ts";
import { SET_SUMS, DAY_MINUTES } from "../../kernel/report-sums.ts";
import { formatEpochDays, parseIsoDate, type EpochDays, type IsoDate } from "../ist-time.ts";
import { estimateAtm, type AtmEstimate } from "./atm.ts";
import {
  ATM_BUCKETS,
  atmBucket,
  DTE_BUCKETS,
  dteBucket,
  EXPIRY_TYPES,
  type ExpiryTypeOf,
  expiryTypeBucket,
  HOLD_BUCKETS,
  OPT_TYPES,
  optBucket,
} from "./buckets.ts";
import { TimeBins } from "./time-bins.ts";
import { isNullKey } from "../../kernel/segment-key.ts";

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
  constructor(
    readonly buckets: number,
    readonly sets: number,
  ) {
    this.pnl = new Float64Array(buckets * sets);
    this.trades = new Float64Array(buckets * sets);
    this.wins = new Float64Array(buckets * sets);
  }
  /** Adds `trades` trades of `set` with PnL `pnl`, `wins` of them winning, to `bucket`. */
  add(bucket: number, set: number, pnl: number, trades: number, wins: number): void {
    const k = bucket * this.sets + set;
    this.pnl[k] += pnl;
    this.trades[k] += trades;
    this.wins[k] += wins;
  }
  /** One set's sums, bucket by bucket. */
  of(set: number): BucketSums[] {
    return Array.from({ length: this.buckets }, (_, b) => ({
      pnl: this.pnl[b * this.sets + set],
      trades: this.trades[b * this.sets + set],
      wins: this.wins[b * this.sets + set],
    }));
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
  /**
   * Per underlying and expiry (`UNDERLYING|epoch day`, `UNDERLYING|` for a null expiry): the expiry
   * type is decided when the page is built, from the calendar kept with the data if there is one.
   */
  readonly byExpiry = new Map<string, Breakdown>();
  readonly byOpt: Breakdown;
  /** Buckets `opt * ATM_BUCKETS.length + distance` (opt: CE, PE, other). */
  readonly byAtm: Breakdown;
  readonly byHold: Breakdown;
  readonly byDay = new Map<IsoDate, Breakdown>();
  /** Per set: the scalar sums of SET_SUMS (trades, wins, losses, win PnL, loss PnL, PnL, holding seconds). */
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
    this.byOpt = new Breakdown(OPT_TYPES.length, sets);
    this.byAtm = new Breakdown(OPT_TYPES.length * ATM_BUCKETS.length, sets);
    this.byHold = new Breakdown(HOLD_BUCKETS.length, sets);
    this.setSums = new Float64Array(sets * SET_SUMS.HOLD);
  }

  /**
   * Sizes the curve's bins for a run over the IST days `first` … `last`, before any sums arrive: its
   * partitions' days, known once they are listed.
   */
  fitDays(first: IsoDate, last: IsoDate): void {
    const days = parseIsoDate(last) - parseIsoDate(first) + 1;
    if (days > 0) this.bins.fitSpan(days * 86_400);
  }

  private underlyingIndex(name: string): number {
    let u = this.underlyings.indexOf(name);
    if (u < 0) {
      u = this.underlyings.push(name) - 1;
      for (let s = 0; s < this.sets; s++) this.bins.addSeries();
    }
    return u;
  }

  /** Takes one partition's sums (kept as sums only; the block can be dropped afterwards). */
  add(b: ReportSumsBlock): void {
    this.partitions++;
    const { sums, spillTrades } = b;
    const S = this.sets;
    if (sums.sets !== S) throw new Error(`report sums of ${sums.sets} sets for a report of ${S}`);
    let day: EpochDays | null = null;
    try {
      day = b.date === "" ? null : parseIsoDate(b.date);
    } catch {
      day = null;
    }
    // A partition whose path gives no day: the IST day of its first exit.
    const date = day !== null ? b.date : Number.isNaN(sums.curveDay) ? "unknown" : formatEpochDays(sums.curveDay);
    day ??= Number.isNaN(sums.curveDay) ? null : sums.curveDay;
    this.dates.add(date);
    const underlying = b.underlying || "?";
    const u = this.underlyingIndex(underlying);
    // A day without trades is still a day of the run (a zero bar).
    let dayBreakdown = this.byDay.get(date);
    if (!dayBreakdown) this.byDay.set(date, (dayBreakdown = new Breakdown(1, S)));
    const st = sums.setSums;
    for (let s = 0; s < S; s++) {
      const o = s * SET_SUMS.SIZE;
      dayBreakdown.add(0, s, st[o + SET_SUMS.PNL], st[o + SET_SUMS.TRADES], st[o + SET_SUMS.WINS]);
      // The scalar sums (trades … holding seconds) precede the holding buckets in SET_SUMS.
      for (let q = 0; q < SET_SUMS.HOLD; q++) this.setSums[s * SET_SUMS.HOLD + q] += st[o + q];
      for (let h = 0; h < HOLD_BUCKETS.length; h++) {
        const x = o + SET_SUMS.HOLD + 3 * h;
        if (st[x + 1] > 0) this.byHold.add(h, s, st[x], st[x + 1], st[x + 2]);
      }
    }
    const g = sums.segments;
    if (g.length === 0) return;
    // Each segment's earliest entry prices its contract: all the estimate reads of a partition.
    const entryS = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) entryS[i] = Number(g.firstEntryTs[i]) / 1e9;
    const atm = estimateAtm(
      {
        length: g.length,
        expiry: g.expiry,
        optCode: g.optCode,
        strike: g.strike,
        entryPrice: g.firstEntryPrice,
        entryS,
      },
      day,
    );
    this.atm.push({ date, underlying, ...atm });
    // Segments come in key order: an expiry's bucket and breakdown are looked up when it changes.
    let expiry = Number.NaN;
    let dte = 0;
    let byThisExpiry: Breakdown | null = null;
    for (let i = 0; i < g.length; i++) {
      if (g.expiry[i] !== expiry || byThisExpiry === null) {
        expiry = g.expiry[i];
        dte = dteBucket(expiry, day);
        const expiryKey = `${underlying}|${isNullKey(expiry) || !Number.isFinite(expiry) ? "" : Math.floor(expiry)}`;
        byThisExpiry = this.byExpiry.get(expiryKey) ?? null;
        if (!byThisExpiry) this.byExpiry.set(expiryKey, (byThisExpiry = new Breakdown(1, S)));
      }
      const opt = optBucket(g.optCode[i]);
      const dist = opt * ATM_BUCKETS.length + atmBucket(g.strike[i], atm.strike, atm.step);
      for (let s = 0; s < S; s++) {
        const x = (i * S + s) * 3;
        const trades = g.perSet[x + 1];
        if (trades === 0) continue;
        const pnl = g.perSet[x];
        const wins = g.perSet[x + 2];
        this.byDte.add(dte, s, pnl, trades, wins);
        byThisExpiry.add(0, s, pnl, trades, wins);
        this.byOpt.add(opt, s, pnl, trades, wins);
        this.byAtm.add(dist, s, pnl, trades, wins);
      }
    }
    if (spillTrades) {
      // Exits on more than one day: the curve from every exit.
      const exitS = Float64Array.from(spillTrades.exitTs, (t) => Number(t) / 1e9);
      let [from, to] = [Infinity, -Infinity];
      for (const t of exitS) [from, to] = [Math.min(from, t), Math.max(to, t)];
      this.bins.cover(from, to);
      for (let t = 0; t < exitS.length; t++) this.bins.add(u * S + spillTrades.set[t], exitS[t], spillTrades.pnl[t]);
      return;
    }
    if (Number.isNaN(sums.curveLo)) return;
    // Minute bins of the partition's IST day: minute m starts (day × 1440 − 330 + m) × 60 s after the epoch.
    const first = sums.curveDay * DAY_MINUTES - 330;
    const width = sums.curveHi - sums.curveLo + 1;
    this.bins.cover((first + sums.curveLo) * 60, (first + sums.curveHi) * 60);
    for (let s = 0; s < S; s++) {
      for (let m = 0; m < width; m++) {
        const v = sums.curve[s * width + m];
        if (v !== 0) this.bins.add(u * S + s, (first + sums.curveLo + m) * 60, v);
      }
    }
  }

  /** Per-set trade statistics. */
  get stats(): SetStats[] {
    return Array.from({ length: this.sets }, (_, s) => {
      const at = (field: number) => this.setSums[s * SET_SUMS.HOLD + field];
      return {
        trades: at(SET_SUMS.TRADES),
        wins: at(SET_SUMS.WINS),
        losses: at(SET_SUMS.LOSSES),
        winPnl: at(SET_SUMS.WIN_PNL),
        lossPnl: at(SET_SUMS.LOSS_PNL),
        pnl: at(SET_SUMS.PNL),
        holdSumS: at(SET_SUMS.HOLD_S),
      };
    });
  }

  /**
   * One set's sums by EXPIRY_TYPES bucket: an expiry's type is `expiryTypeOf`'s answer (the kept
   * calendar's), else lib/raw/calendar.ts's weekday rule. Also how many traded expiries took the rule.
   */
  expiryTypeSums(
    set: number,
    expiryTypeOf: ExpiryTypeOf | null,
  ): { sums: BucketSums[]; byRule: number; expiries: number } {
    const sums = EXPIRY_TYPES.map(() => ({ pnl: 0, trades: 0, wins: 0 }));
    let byRule = 0;
    let expiries = 0;
    for (const [key, br] of [...this.byExpiry.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [underlying, e] = key.split("|");
      let bucket = EXPIRY_TYPES.length - 1;
      if (e !== "") {
        expiries++;
        const known = expiryTypeOf?.(underlying, Number(e)) ?? null;
        if (known === null) byRule++;
        bucket = known === null ? expiryTypeBucket(Number(e)) : EXPIRY_TYPES.indexOf(known);
      }
      const x = br.of(set)[0];
      sums[bucket].pnl += x.pnl;
      sums[bucket].trades += x.trades;
      sums[bucket].wins += x.wins;
    }
    return { sums, byRule, expiries };
  }

  /** One set's PnL by day, in date order. */
  dayPnl(set: number): { date: IsoDate; pnl: number; trades: number; wins: number }[] {
    return [...this.byDay.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([date, br]) => ({ date, ...br.of(set)[0] }));
  }
}
