/** Where a row group's strikes fall inside a band (strike-window.c, built once per thread with TinyCC). */
import { cc, ptr } from "bun:ffi";
import { join } from "node:path";

/** Rows [start, end) from the first strike in the band to the last, and how many runs of consecutive rows in the band that holds. */
export interface StrikeWindow {
  start: number;
  end: number;
  runs: number;
}

type Symbols = { tp_strike_window: (strike: ReturnType<typeof ptr>, n: number, lo: number, hi: number, out: ReturnType<typeof ptr>) => void };
let built: { symbols: Symbols } | null | undefined;

function compiled(): { symbols: Symbols } | null {
  if (built === undefined) {
    try {
      built = cc({ source: join(import.meta.dir, "strike-window.c"), symbols: { tp_strike_window: { args: ["ptr", "i64", "f64", "f64", "ptr"], returns: "void" } } }) as never;
    } catch {
      built = null;
    }
  }
  return built ?? null;
}

/** The window of `strike` inside [lo, hi] (NaN is in no band), or null when no strike is; in C where TinyCC builds it. */
export function strikeWindow(strike: Float32Array, lo: number, hi: number): StrikeWindow | null {
  const lib = compiled();
  if (!lib || strike.length === 0) return strikeWindowReference(strike, lo, hi);
  const out = new BigInt64Array(3);
  lib.symbols.tp_strike_window(ptr(strike), strike.length, lo, hi, ptr(out));
  return out[0] < 0n ? null : { start: Number(out[0]), end: Number(out[1]), runs: Number(out[2]) };
}

/** The plain TypeScript reference of strike-window.c. */
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
