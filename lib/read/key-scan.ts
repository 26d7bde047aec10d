/** Per-row scans of a batch's segment key (key-scan.c, built once per thread with TinyCC), with their TypeScript references. */
import { ptr } from "bun:ffi";
import { join } from "node:path";
import type { KernelBatch } from "../../kernel/kernel-batch.ts";
import { isValidAt } from "../parquet/c-data.ts";
import { builtOnce } from "../tinycc.ts";
import { OPT_OTHER } from "../packed/opt-type.ts";

/** Rows [start, end) from the first strike in the band to the last, and how many runs of consecutive rows in the band that holds. */
export interface StrikeWindow {
  start: number;
  end: number;
  runs: number;
}

const compiled = builtOnce(join(import.meta.dir, "key-scan.c"), {
  tp_strike_window: { args: ["ptr", "i64", "f64", "f64", "ptr"], returns: "void" },
  tp_key_runs: { args: ["ptr", "ptr", "ptr", "ptr", "ptr", "i64", "ptr", "ptr", "i64", "ptr"], returns: "i64" },
});

/** Whether the C build is the one in use (TinyCC built it in this thread); else the TypeScript references run. */
export function keyScanIsNative(): boolean {
  return compiled() !== null;
}

/** The window of `strike` inside [lo, hi] (bounds as stored, float32: storedStrikeBand; NaN is in no band), or null when no strike is; in C where TinyCC builds it. */
export function strikeWindow(strike: Float32Array, lo: number, hi: number): StrikeWindow | null {
  const lib = compiled();
  if (!lib || strike.length === 0) return strikeWindowReference(strike, lo, hi);
  const out = new BigInt64Array(3);
  lib.symbols.tp_strike_window(ptr(strike), strike.length, lo, hi, ptr(out));
  return out[0] < 0n ? null : { start: Number(out[0]), end: Number(out[1]), runs: Number(out[2]) };
}

/** The plain TypeScript reference of tp_strike_window. */
export function strikeWindowReference(strike: Float32Array, lo: number, hi: number): StrikeWindow | null {
  let start = -1;
  let end = -1;
  let runs = 0;
  for (let i = 0; i < strike.length; i++) {
    const v = strike[i];
    if (v >= lo && v <= hi) {
      if (end !== i) runs++;
      if (start < 0) start = i;
      end = i + 1;
    }
  }
  return start < 0 ? null : { start, end, runs };
}

/** A batch's segment key columns as the driver reads them (validity: Arrow bitmaps, null = all valid; opt_type codes mapped by optMap, out of range = OPT_OTHER). */
export type KeyRunColumns = Pick<
  KernelBatch,
  "length" | "expiry" | "expiryValid" | "opt" | "optValid" | "optMap" | "strike" | "strikeValid"
>;

let startsScratch = new Float64Array(0);

/**
 * Starts of the runs of equal keys in a batch (a null equals a null, as in the driver; NaN equals
 * nothing): run k is rows [starts[k], starts[k + 1]); the last value is the batch's length. A view on
 * a buffer reused by the next call. In C where TinyCC builds it.
 */
export function keyRunStarts(b: KeyRunColumns): Float64Array {
  const lib = compiled();
  if (!lib || b.length === 0 || b.optMap.length === 0) return keyRunStartsReference(b);
  if (startsScratch.length < b.length + 1) startsScratch = new Float64Array(b.length + 1);
  const opt = (bits: Uint8Array | null) => (bits && bits.byteLength > 0 ? ptr(bits) : null);
  const runs = Number(
    lib.symbols.tp_key_runs(
      ptr(b.expiry),
      opt(b.expiryValid),
      ptr(b.opt),
      opt(b.optValid),
      ptr(b.optMap),
      b.optMap.length,
      ptr(b.strike),
      opt(b.strikeValid),
      b.length,
      ptr(startsScratch),
    ),
  );
  return startsScratch.subarray(0, runs + 1);
}

/** The plain TypeScript reference of tp_key_runs. */
export function keyRunStartsReference(b: KeyRunColumns): Float64Array {
  const starts: number[] = [];
  const { expiry, opt, optMap, strike } = b;
  const ev = b.expiryValid,
    ov = b.optValid,
    sv = b.strikeValid;
  let i = 0;
  while (i < b.length) {
    const i0 = i;
    const eNull = !isValidAt(ev, i0),
      oNull = !isValidAt(ov, i0),
      sNull = !isValidAt(sv, i0);
    const e = expiry[i0],
      o = optMap[opt[i0]] ?? OPT_OTHER,
      s = strike[i0];
    starts.push(i0);
    i++;
    while (
      i < b.length &&
      !isValidAt(ev, i) === eNull &&
      (eNull || expiry[i] === e) &&
      !isValidAt(ov, i) === oNull &&
      (oNull || (optMap[opt[i]] ?? OPT_OTHER) === o) &&
      !isValidAt(sv, i) === sNull &&
      (sNull || strike[i] === s)
    )
      i++;
  }
  starts.push(b.length);
  return Float64Array.from(starts);
}
