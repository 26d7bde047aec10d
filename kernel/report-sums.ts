/**
 * The report's sums of a partition's closed trades, as the driver keeps them (driver.c's report sums)
 * when a run asks for them instead of (or beside) the trade log: per segment with a close, its key,
 * its earliest entry and per set PnL, trades and wins; per set the trade statistics and holding-time
 * histogram; per set the PnL by exit minute of the partition's IST day. Nothing per trade leaves C.
 * `reportSumsReference` is the plain TypeScript reference tests hold the driver to.
 */
/** Upper bounds of the holding-time buckets, ns (exclusive; the last bucket is open): 1 s, 5 s, 15 s, 1 min, 5 min, 15 min, 1 h, 3 h. */
export const HOLD_BOUNDS_NS: readonly bigint[] = [1n, 5n, 15n, 60n, 300n, 900n, 3600n, 10_800n].map(
  (s) => s * 1_000_000_000n,
);
/** Holding-time buckets: one per bound and the open one. */
export const HOLD_BUCKET_COUNT = 9;

/**
 * Per-set sums, in this order: trades, wins, losses, win PnL, loss PnL, PnL, holding seconds, then
 * (PnL, trades, wins) per holding bucket. Trades, wins and PnL are the buckets' sums (setSumsFromHold).
 */
export const SET_SUMS = {
  TRADES: 0,
  WINS: 1,
  LOSSES: 2,
  WIN_PNL: 3,
  LOSS_PNL: 4,
  PNL: 5,
  HOLD_S: 6,
  HOLD: 7,
  SIZE: 7 + 3 * HOLD_BUCKET_COUNT,
} as const;

/** Fills each set's trades, wins and PnL with the sums of its holding buckets (in bucket order). */
export function setSumsFromHold(setSums: Float64Array, sets: number): void {
  for (let k = 0; k < sets; k++) {
    const o = k * SET_SUMS.SIZE;
    let pnl = 0;
    let trades = 0;
    let wins = 0;
    for (let h = 0; h < HOLD_BUCKET_COUNT; h++) {
      pnl += setSums[o + SET_SUMS.HOLD + 3 * h];
      trades += setSums[o + SET_SUMS.HOLD + 3 * h + 1];
      wins += setSums[o + SET_SUMS.HOLD + 3 * h + 2];
    }
    setSums[o + SET_SUMS.TRADES] = trades;
    setSums[o + SET_SUMS.WINS] = wins;
    setSums[o + SET_SUMS.PNL] = pnl;
  }
}

/** Minutes of an IST day: the exit-minute bins of a partition. */
export const DAY_MINUTES = 1440;

/** Segments with at least one close, in partition order (a key ≤ -1e299 was null). */
export interface SegmentSums {
  length: number;
  expiry: Float64Array;
  optCode: Float64Array;
  strike: Float64Array;
  /** The earliest entry of the segment's closes (any set; of equal instants the lowest price): epoch ns and price. */
  firstEntryTs: BigInt64Array;
  firstEntryPrice: Float64Array;
  /** `[segment][set]` (PnL, trades, wins), flattened. */
  perSet: Float64Array;
}

/** A partition's report sums (see the file's comment). */
export interface ReportSums {
  sets: number;
  segments: SegmentSums;
  /** SET_SUMS.SIZE values per set. */
  setSums: Float64Array;
  /** IST day (epoch days) of the first close the sums met; NaN without a close. */
  curveDay: number;
  /** The first and last minute of that day whose PnL is not zero in some set (NaN: none). */
  curveLo: number;
  curveHi: number;
  /** Per set, the PnL of each exit minute curveLo … curveHi (`[set][minute]`, flattened). */
  curve: Float64Array;
  /** Some close fell outside curveDay (a partition spanning days): its curve is incomplete. */
  spilled: boolean;
}

/** Index of the holding-time bucket of `holdNs`. */
export function holdBucket(holdNs: bigint): number {
  const k = HOLD_BOUNDS_NS.findIndex((b) => holdNs < b);
  return k < 0 ? HOLD_BOUNDS_NS.length : k;
}

/** The trade log's columns the sums read (strategy-kernel.ts's KernelTradeColumns adds the exit price). */
export interface LoggedTrades {
  length: number;
  set: Float64Array;
  /** Segment key as the driver reports it: epoch days, stable opt_type code, strike; ≤ -1e299 where the key was null. */
  expiry: Float64Array;
  optCode: Float64Array;
  strike: Float64Array;
  entryTs: BigInt64Array;
  exitTs: BigInt64Array;
  entryPrice: Float64Array;
  pnl: Float64Array;
}

const floorDiv = (a: bigint, b: bigint) => (a % b !== 0n && a < 0n ? a / b - 1n : a / b);
const sameKey = (a: number, b: number) => a === b; // NaN equals nothing, as in the driver

/**
 * The report sums of one partition's closed trades (in trade-log order, as `KernelRun` logs them),
 * written for clarity. A run of consecutive trades on one key is one segment here; the driver keeps
 * one record per segment, so two segments of one key side by side (split by a part boundary) are
 * one record here and two there (their sums add up to the same).
 */
export function reportSumsReference(t: LoggedTrades, sets: number): ReportSums {
  const seg = {
    expiry: [] as number[],
    optCode: [] as number[],
    strike: [] as number[],
    firstEntryTs: [] as bigint[],
    firstEntryPrice: [] as number[],
    perSet: [] as number[],
  };
  const setSums = new Float64Array(sets * SET_SUMS.SIZE);
  const minutes = new Map<number, Float64Array>(); // minute of the day → per set PnL
  let curveDay = NaN;
  let spilled = false;
  for (let i = 0; i < t.length; i++) {
    const set = t.set[i];
    const pnl = t.pnl[i];
    const win = pnl > 0 ? 1 : 0;
    let s = seg.expiry.length - 1;
    if (
      s < 0 ||
      !sameKey(seg.expiry[s], t.expiry[i]) ||
      !sameKey(seg.optCode[s], t.optCode[i]) ||
      !sameKey(seg.strike[s], t.strike[i])
    ) {
      seg.expiry.push(t.expiry[i]);
      seg.optCode.push(t.optCode[i]);
      seg.strike.push(t.strike[i]);
      seg.firstEntryTs.push(t.entryTs[i]);
      seg.firstEntryPrice.push(t.entryPrice[i]);
      seg.perSet.push(...new Array<number>(3 * sets).fill(0));
      s++;
    } else if (
      t.entryTs[i] < seg.firstEntryTs[s] ||
      (t.entryTs[i] === seg.firstEntryTs[s] &&
        (t.entryPrice[i] < seg.firstEntryPrice[s] || Number.isNaN(seg.firstEntryPrice[s])))
    ) {
      seg.firstEntryTs[s] = t.entryTs[i];
      seg.firstEntryPrice[s] = t.entryPrice[i];
    }
    seg.perSet[(s * sets + set) * 3] += pnl;
    seg.perSet[(s * sets + set) * 3 + 1] += 1;
    seg.perSet[(s * sets + set) * 3 + 2] += win;
    const hold = t.exitTs[i] - t.entryTs[i];
    const o = set * SET_SUMS.SIZE;
    if (pnl < 0) {
      setSums[o + SET_SUMS.LOSSES] += 1;
      setSums[o + SET_SUMS.LOSS_PNL] += pnl;
    } else if (pnl > 0) {
      setSums[o + SET_SUMS.WIN_PNL] += pnl;
    }
    setSums[o + SET_SUMS.HOLD_S] += Number(hold) / 1e9;
    const h = o + SET_SUMS.HOLD + 3 * holdBucket(hold);
    setSums[h] += pnl;
    setSums[h + 1] += 1;
    setSums[h + 2] += win;
    // IST midnight is 330 minutes before UTC's.
    const minute = floorDiv(t.exitTs[i], 60_000_000_000n);
    if (Number.isNaN(curveDay)) curveDay = Number(floorDiv(minute + 330n, BigInt(DAY_MINUTES)));
    const m = Number(minute) - (curveDay * DAY_MINUTES - 330);
    if (m < 0 || m >= DAY_MINUTES) {
      spilled = true;
      continue;
    }
    let bin = minutes.get(m);
    if (!bin) minutes.set(m, (bin = new Float64Array(sets)));
    bin[set] += pnl;
  }
  setSumsFromHold(setSums, sets);
  // The curve's range: its first and last minute with a non-zero PnL in some set.
  const used = [...minutes.entries()].filter(([, bin]) => bin.some((v) => v !== 0)).map(([m]) => m);
  const lo = used.length ? Math.min(...used) : NaN;
  const hi = used.length ? Math.max(...used) : NaN;
  const width = used.length ? hi - lo + 1 : 0;
  const curve = new Float64Array(sets * width);
  for (const [m, bin] of minutes)
    if (m >= lo && m <= hi) for (let k = 0; k < sets; k++) curve[k * width + m - lo] = bin[k];
  const n = seg.expiry.length;
  return {
    sets,
    segments: {
      length: n,
      expiry: Float64Array.from(seg.expiry),
      optCode: Float64Array.from(seg.optCode),
      strike: Float64Array.from(seg.strike),
      firstEntryTs: BigInt64Array.from(seg.firstEntryTs),
      firstEntryPrice: Float64Array.from(seg.firstEntryPrice),
      perSet: Float64Array.from(seg.perSet),
    },
    setSums,
    curveDay,
    curveLo: lo,
    curveHi: hi,
    curve,
    spilled,
  };
}
