/**
 * The built-in ema_cross strategy: its parameters and a plain TypeScript reference of its rules
 * (docs/strategy.md),
 * written for clarity, that tests hold the C kernel (ema_cross.c, run by the tickpack driver) to.
 */
import { NULL_KEY } from "./segment-key.ts";
import { stableOptCode } from "../lib/packed/opt-type.ts";
import type { FillRule, KernelTrade, SetTotals } from "./strategy-kernel.ts";

/** Strategy parameters (docs/strategy.md#parameters). */
export interface EmaCrossParams {
  fast: number;
  slow: number;
  /** Largest spread as a fraction of mid (0.0005 = 5 bp). */
  max_spread: number;
  min_volume: number;
}

export const DEFAULT_PARAMS: EmaCrossParams = { fast: 5, slow: 21, max_spread: 0.0005, min_volume: 1 };

/** A closed trade of the reference (the kernel's trade without set and pnl). */
export type Trade = Omit<KernelTrade, "set" | "pnl">;

/** One row for the reference implementation (nulls as null). */
export interface ReferenceRow {
  expiry: number | null;
  optType: string | null;
  strike: number | null;
  price: number | null;
  bp0: number | null;
  sp0: number | null;
  volume: number | null;
  ts?: bigint;
}

/**
 * The rules of docs/strategy.md over whole partitions (each an array of rows), for clarity rather
 * than speed; with `fill` "touch" (SPEC §7) an entry buys at the row's ask and an exit sells at the
 * row's bid (the segment's end: its last valid row's), each where that quote is non-null and > 0,
 * else at the price (counted in fillsAtLast).
 */
export function emaCrossReference(
  partitions: ReferenceRow[][],
  params: EmaCrossParams,
  fill: FillRule = "last",
): SetTotals & { tradeList: Trade[] } {
  const af = 2 / (params.fast + 1);
  const as = 2 / (params.slow + 1);
  const out = { rows: 0, validRows: 0, trades: 0, pnl: 0, fillsAtLast: 0, tradeList: [] as Trade[] };
  const at = (price: number, quote: number | null) => {
    if (fill === "last") return price;
    if (quote !== null && quote > 0) return quote;
    out.fillsAtLast++;
    return price;
  };
  for (const rows of partitions) {
    // Split into segments: maximal runs of equal (expiry, opt_type, strike).
    let i = 0;
    while (i < rows.length) {
      let j = i + 1; // a row is in its own segment even when its key equals nothing (a NaN strike)
      const same = (a: ReferenceRow, b: ReferenceRow) =>
        a.expiry === b.expiry &&
        a.optType === b.optType &&
        (a.strike === b.strike || (a.strike === null && b.strike === null));
      while (j < rows.length && same(rows[i], rows[j])) j++;
      out.rows += j - i;
      let emaF = 0,
        emaS = 0,
        seen = false,
        long = false,
        entry = 0,
        entryTs = 0n,
        last = 0,
        lastBid: number | null = null,
        lastTs = 0n;
      const close = (kernelPrice: number, bid: number | null, ts: bigint) => {
        const price = at(kernelPrice, bid);
        out.pnl += price - entry;
        out.tradeList.push({
          expiry: rows[i].expiry ?? NULL_KEY,
          optCode: rows[i].optType === null ? NULL_KEY : stableOptCode(rows[i].optType),
          strike: rows[i].strike ?? NULL_KEY,
          entryTs,
          exitTs: ts,
          entryPrice: entry,
          exitPrice: price,
        });
        long = false;
      };
      for (let k = i; k < j; k++) {
        const r = rows[k];
        if (r.price === null || !(r.price > 0)) continue;
        out.validRows++;
        const p = r.price;
        const ts = r.ts ?? 0n;
        if (!seen) {
          seen = true;
          emaF = emaS = p;
        } else {
          emaF = af * p + (1 - af) * emaF;
          emaS = as * p + (1 - as) * emaS;
          const spreadOk =
            r.bp0 !== null &&
            r.sp0 !== null &&
            r.bp0 > 0 &&
            r.sp0 > 0 &&
            (r.sp0 - r.bp0) / ((r.sp0 + r.bp0) / 2) <= params.max_spread;
          const volumeOk = r.volume !== null && r.volume >= params.min_volume;
          if (!long && emaF > emaS && spreadOk && volumeOk) {
            long = true;
            entry = at(p, r.sp0);
            entryTs = ts;
            out.trades++;
          } else if (long && emaS >= emaF) close(p, r.bp0, ts);
        }
        last = p;
        lastBid = r.bp0;
        lastTs = ts;
      }
      if (long) close(last, lastBid, lastTs);
      i = j;
    }
  }
  return out;
}
