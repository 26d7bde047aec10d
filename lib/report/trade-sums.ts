/**
 * The report's per-trade work on one partition in C (trade-sums.c, built once per thread with
 * TinyCC): the sums into buckets and curves, the entry seconds and exit range, the trades the ATM
 * estimate needs. Each with its TypeScript reference here, which tests compare it with.
 */
import { ptr } from "bun:ffi";
import { join } from "node:path";
import { yearMonthOf } from "../ist-time.ts";
import type { AtmInput } from "./atm.ts";
import { builtOnce } from "../tinycc.ts";

const compiled = builtOnce(join(import.meta.dir, "trade-sums.c"), {
  tp_report_sums: { args: ["ptr", "ptr"], returns: "void" },
  tp_report_seconds: { args: ["ptr", "ptr", "i64", "ptr", "ptr"], returns: "void" },
  tp_first_entries: { args: ["ptr", "ptr", "ptr", "ptr", "i64", "ptr"], returns: "i64" },
});

/** One breakdown's sums, `[bucket][set]` flattened (aggregate.ts's Breakdown). */
export interface BucketSumArrays {
  pnl: Float64Array;
  trades: Float64Array;
  wins: Float64Array;
}

/** The arrays and scalars of one partition's sums (see trade-sums.c). */
export interface TradeSumsInput {
  length: number;
  sets: number;
  set: Float64Array;
  pnl: Float64Array;
  expiry: Float64Array;
  optCode: Float64Array;
  strike: Float64Array;
  entryTs: BigInt64Array;
  exitTs: BigInt64Array;
  /** Curve bins of each set (absolute index of element 0: `first`; bins of `widthS` seconds). */
  curves: Float64Array[];
  first: number;
  widthS: number;
  /** The partition's trading day (epoch days), NaN when unknown. */
  day: number;
  /** ATM strike and step (NaN strike: no ATM that day). */
  atmStrike: number;
  atmStep: number;
  atmBuckets: number;
  atmSpan: number;
  nullDte: number;
  dayTotals: BucketSumArrays;
  dte: BucketSumArrays;
  expiryType: BucketSumArrays;
  opt: BucketSumArrays;
  atm: BucketSumArrays;
  hold: BucketSumArrays;
  setSums: Float64Array;
}

/** Adds one partition's trades to the sums in C; false (nothing added) where TinyCC is unavailable. */
export function addTradeSumsNative(x: TradeSumsInput): boolean {
  const lib = compiled();
  if (!lib || x.length === 0) return lib !== null;
  const p = Float64Array.from([x.length, x.sets, x.widthS, x.first, x.day, x.atmStrike, x.atmStep, x.atmBuckets, x.atmSpan, x.nullDte]);
  const curves = BigUint64Array.from(x.curves, (c) => BigInt(ptr(c)));
  const arrays = [x.set, x.pnl, x.expiry, x.optCode, x.strike, x.entryTs, x.exitTs, curves];
  for (const b of [x.dayTotals, x.dte, x.expiryType, x.opt, x.atm, x.hold]) arrays.push(b.pnl, b.trades, b.wins);
  arrays.push(x.setSums);
  const a = BigUint64Array.from(arrays, (arr) => BigInt(ptr(arr)));
  lib.symbols.tp_report_sums(ptr(p), ptr(a));
  return true;
}

/** Entry instants of a partition's trades as float seconds (±256 ns) and the range of its exit instants, [min, max] (in C where built). */
export function tradeSeconds(entryTs: BigInt64Array, exitTs: BigInt64Array, n: number): { entryS: Float64Array; exitRange: [number, number] } {
  const entryS = new Float64Array(n);
  const range = new Float64Array([Infinity, -Infinity]);
  const lib = compiled();
  if (lib && n > 0) {
    lib.symbols.tp_report_seconds(ptr(entryTs), ptr(exitTs), n, ptr(entryS), ptr(range));
  } else {
    const entry = new Int32Array(entryTs.buffer, entryTs.byteOffset, 2 * n);
    const exit = new Int32Array(exitTs.buffer, exitTs.byteOffset, 2 * n);
    for (let t = 0; t < n; t++) {
      entryS[t] = secondsAt(entry, t);
      const x = secondsAt(exit, t);
      if (x < range[0]) range[0] = x;
      if (x > range[1]) range[1] = x;
    }
  }
  return { entryS, exitRange: [range[0], range[1]] };
}

/** Float seconds of epoch-ns int64 `i` (±256 ns), from its two 32-bit halves: BigInt per trade costs ~50× more. */
const secondsAt = (words: Int32Array, i: number) => (words[2 * i + 1] * 4_294_967_296 + (words[2 * i] >>> 0)) / 1e9;

/** Adds one partition's trades to the sums: the plain TypeScript reference of trade-sums.c. */
export function addTradeSumsReference(x: TradeSumsInput): void {
  const S = x.sets;
  const A = x.atmBuckets;
  const entry = new Int32Array(x.entryTs.buffer, x.entryTs.byteOffset, 2 * x.length);
  const exit = new Int32Array(x.exitTs.buffer, x.exitTs.byteOffset, 2 * x.length);
  let lastExpiry = NaN;
  let lastType = 2;
  for (let t = 0; t < x.length; t++) {
    const s = x.set[t] | 0;
    const pnl = x.pnl[t];
    const win = pnl > 0 ? 1 : 0;
    const exitS = secondsAt(exit, t);
    const holdS = exitS - secondsAt(entry, t);
    x.curves[s][(Math.floor(exitS / x.widthS) - x.first) | 0] += pnl;
    const e = x.expiry[t];
    let dte = x.nullDte;
    let type = 2;
    if (e > -1e299) {
      const d = e - x.day; // NaN without a date: no bucket below matches
      dte = d >= 0 && d <= 7 ? d | 0 : d > 7 && d <= 14 ? 8 : d > 14 && d <= 30 ? 9 : d > 30 ? 10 : x.nullDte;
      if (e !== lastExpiry) {
        // NSE's monthly contract expires on the last expiry weekday of its month (moved a day earlier
        // on a holiday): a week later is then another month. No calendar is needed.
        lastExpiry = e;
        lastType = yearMonthOf(Math.floor(e) + 7).month !== yearMonthOf(Math.floor(e)).month ? 1 : 0;
      }
      type = lastType;
    }
    const code = x.optCode[t];
    const opt = code === 0 ? 0 : code === 1 ? 1 : 2;
    let dist = A - 1;
    const strike = x.strike[t];
    if (strike > -1e299 && x.atmStrike === x.atmStrike) {
      const steps = Math.round((strike - x.atmStrike) / x.atmStep);
      // Compared before any integer conversion: a strike far off the ATM must not wrap around.
      if (steps === steps) dist = steps < -x.atmSpan ? 0 : steps > x.atmSpan ? A - 2 : steps + x.atmSpan + 1;
    }
    const h = holdS < 1 ? 0 : holdS < 5 ? 1 : holdS < 15 ? 2 : holdS < 60 ? 3 : holdS < 300 ? 4 : holdS < 900 ? 5 : holdS < 3600 ? 6 : holdS < 10_800 ? 7 : 8;
    for (const [b, k] of [[x.dayTotals, s], [x.dte, dte * S + s], [x.expiryType, type * S + s], [x.opt, opt * S + s], [x.atm, (opt * A + dist) * S + s], [x.hold, h * S + s]] as const) {
      b.pnl[k] += pnl;
      b.trades[k]++;
      b.wins[k] += win;
    }
    const o = s * 7;
    x.setSums[o]++;
    x.setSums[o + 1] += win;
    x.setSums[o + 2] += pnl < 0 ? 1 : 0;
    x.setSums[o + 3] += pnl > 0 ? pnl : 0;
    x.setSums[o + 4] += pnl < 0 ? pnl : 0;
    x.setSums[o + 5] += pnl;
    x.setSums[o + 6] += holdS;
  }
}

/** A partition's trades as the ATM estimate reads them, with their entry instants as int64 ns too. */
export type FirstEntryInput = AtmInput & { entryTs: BigInt64Array };

/**
 * Of each run of consecutive trades on one contract, the first with the earliest entry (in C where
 * built): all the ATM estimate keeps of a contract, so it gives the same answer from these few
 * hundred as from every trade, and no per-trade JS loop runs (the JIT compiled the estimate's loop for
 * ~40 ms on the thread the workers share the cores with, measured).
 */
export function firstEntries(t: FirstEntryInput): AtmInput {
  const lib = compiled();
  let idx: Float64Array;
  if (lib && t.length > 0) {
    const out = new Float64Array(t.length);
    idx = out.subarray(0, Number(lib.symbols.tp_first_entries(ptr(t.expiry), ptr(t.optCode), ptr(t.strike), ptr(t.entryTs), t.length, ptr(out))));
  } else {
    idx = firstEntriesReference(t);
  }
  const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]);
  return { length: idx.length, expiry: pick(t.expiry), optCode: pick(t.optCode), strike: pick(t.strike), entryPrice: pick(t.entryPrice), entryS: pick(t.entryS) };
}

/** The plain TypeScript reference of tp_first_entries: the chosen trades' indices. */
export function firstEntriesReference(t: Pick<FirstEntryInput, "length" | "expiry" | "optCode" | "strike" | "entryS">): Float64Array {
  const idx: number[] = [];
  for (let i = 0; i < t.length; ) {
    let best = i;
    let j = i + 1;
    while (j < t.length && t.expiry[j] === t.expiry[i] && t.optCode[j] === t.optCode[i] && t.strike[j] === t.strike[i]) {
      if (t.entryS[j] < t.entryS[best]) best = j;
      j++;
    }
    idx.push(best);
    i = j;
  }
  return Float64Array.from(idx);
}
