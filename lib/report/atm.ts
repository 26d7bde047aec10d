/**
 * The at-the-money strike of one partition (a day and underlying), estimated from that partition's own
 * trades, so that it costs no read: each contract of the nearest expiry is priced at its first trade's
 * entry (the earliest entry of the day on it), and ATM is the strike whose CE and PE prices are closest
 * (put–call parity: C − P ≈ S − K, so |C − P| is smallest at the strike nearest the spot).
 */
import { isNullKey } from "../../kernel/strategy-kernel.ts";
import type { EpochDays } from "../ist-time.ts";

/** What the estimate is made of; shown beside the chart. */
export const ATM_METHOD =
  "ATM per day and underlying: on the nearest expiry traded that day, each strike's CE and PE are priced at their first trade's entry " +
  "(the earliest entry on that contract, any set); ATM is the strike where the two prices are closest (put–call parity: C − P ≈ S − K). " +
  "The strike step is the smallest gap between strikes traded that day (any expiry). Days where no strike had both a CE and a PE trade have no ATM (\"unknown\").";

/** A partition's ATM estimate; `strike` null when no strike had both a CE and a PE trade. */
export interface AtmEstimate {
  /** The expiry it was read from (epoch days), or null. */
  expiry: EpochDays | null;
  strike: number | null;
  /** Strike points between neighbouring strikes (smallest gap seen), or null with fewer than two strikes. */
  step: number | null;
  /** |C − P| at the chosen strike, in price points. */
  gap: number | null;
  /** Strikes that had both a CE and a PE price. */
  pairs: number;
}

/** The columns of a partition's trades that the estimate reads. */
export interface AtmInput {
  length: number;
  expiry: Float64Array;
  optCode: Float64Array;
  strike: Float64Array;
  entryPrice: Float64Array;
  /** Entry instants in epoch seconds (float). */
  entryS: Float64Array;
}

/** Estimates the ATM strike of one partition dated `day` from its trades (see ATM_METHOD). */
export function estimateAtm(t: AtmInput, day: EpochDays | null): AtmEstimate {
  let nearest = Infinity;
  for (let i = 0; i < t.length; i++) {
    const e = t.expiry[i];
    if (isNullKey(e) || (day !== null && e < day)) continue;
    if (e < nearest) nearest = e;
  }
  if (nearest === Infinity) return { expiry: null, strike: null, step: null, gap: null, pairs: 0 };
  // Per strike: the first CE and PE entry (time, price).
  const first = new Map<number, { ceS: number; ce: number; peS: number; pe: number }>();
  for (let i = 0; i < t.length; i++) {
    if (t.expiry[i] !== nearest || isNullKey(t.strike[i])) continue;
    const opt = t.optCode[i];
    if (opt !== 0 && opt !== 1) continue;
    let f = first.get(t.strike[i]);
    if (!f) first.set(t.strike[i], (f = { ceS: Infinity, ce: NaN, peS: Infinity, pe: NaN }));
    if (opt === 0 && t.entryS[i] < f.ceS) [f.ceS, f.ce] = [t.entryS[i], t.entryPrice[i]];
    if (opt === 1 && t.entryS[i] < f.peS) [f.peS, f.pe] = [t.entryS[i], t.entryPrice[i]];
  }
  // The step from every strike traded that day (any expiry): the nearest expiry alone may show few.
  const all = new Set<number>();
  for (let i = 0; i < t.length; i++) if (!isNullKey(t.strike[i])) all.add(t.strike[i]);
  const sorted = [...all].sort((a, b) => a - b);
  let step: number | null = null;
  for (let k = 1; k < sorted.length; k++) {
    const gap = sorted[k] - sorted[k - 1];
    if (step === null || gap < step) step = gap;
  }
  const strikes = [...first.keys()].sort((a, b) => a - b);
  let best: number | null = null;
  let bestGap = Infinity;
  let pairs = 0;
  for (const s of strikes) {
    const f = first.get(s)!;
    if (Number.isNaN(f.ce) || Number.isNaN(f.pe)) continue;
    pairs++;
    const gap = Math.abs(f.ce - f.pe);
    if (gap < bestGap) [best, bestGap] = [s, gap];
  }
  return { expiry: nearest, strike: best, step, gap: best === null ? null : bestGap, pairs };
}
