/**
 * The at-the-money strike of one partition (a day and underlying), estimated from that partition's own
 * trades, so that it costs no read: each contract is priced at its first trade's entry (the earliest
 * entry of the day on it), and ATM is the strike whose CE and PE prices are closest (put–call parity:
 * C − P ≈ S − K, so |C − P| is smallest at the strike nearest the spot), on the nearest expiry that has
 * such a pair.
 */
import type { EpochDays } from "../ist-time.ts";
import { strikeDecimal } from "../packed/strike.ts";
import { OPT_CE, OPT_PE } from "../packed/opt-type.ts";
import { isNullKey } from "../../kernel/segment-key.ts";

/** What the estimate is made of; shown beside the chart. */
export const ATM_METHOD =
  "ATM per day and underlying, from the run's own trades (no extra read): each strike's CE and PE are priced at their first trade's entry " +
  "(the earliest entry on that contract that day, any set); ATM is the strike where the two prices are closest (put–call parity: C − P ≈ S − K), " +
  "on the nearest expiry that has a strike with both a CE and a PE trade. First entries come some minutes after the open, so the estimate can be a strike off the open's. " +
  'The strike step is the smallest gap between strikes traded that day (any expiry). Days where no strike had both a CE and a PE trade have no ATM ("unknown").';

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
  // Typed arrays and native numeric sorts, no map or object per contract: this runs on the main
  // thread once per partition, as cold code, while the workers run (a Map-of-Maps version, kept as
  // the tests' reference, took ~1 µs a segment there).
  const n = t.length;
  // The CE and PE rows an estimate may read, in input order.
  const rows = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const expiry = t.expiry[i];
    const strike = t.strike[i];
    const opt = t.optCode[i];
    // A NaN strike is a value, but one no ATM can be read from.
    if (isNullKey(expiry) || isNullKey(strike) || Number.isNaN(strike) || (day !== null && expiry < day)) continue;
    if (opt !== OPT_CE && opt !== OPT_PE) continue;
    rows[m++] = i;
  }
  const strikes = sortedUnique(m, (k) => t.strike[rows[k]]);
  // The step from every strike traded that day (any expiry): one expiry alone may show few. Gaps of
  // the decimals written, to 9 digits: float32 strikes 3402.3 and 3402.4 are 0.0998535… apart.
  let step: number | null = null;
  let previous = Number.NaN;
  for (let k = 0; k < strikes.length; k++) {
    const decimal = strikeDecimal(strikes[k]);
    if (k > 0) {
      const d = decimal - previous;
      const gap = Number.isInteger(d) && d < 1e9 ? d : Number(d.toPrecision(9));
      if (step === null || gap < step) step = gap;
    }
    previous = decimal;
  }
  // Per strike of one expiry: its first CE and PE entry (the earliest instant; of equal ones, the first met).
  const s = strikes.length;
  const ceS = new Float64Array(s);
  const ce = new Float64Array(s);
  const peS = new Float64Array(s);
  const pe = new Float64Array(s);
  // The nearest expiry with a CE/PE pair: a strategy that traded only calls of the nearest one (a
  // rally) may still have traded both sides of the next.
  const expiries = sortedUnique(m, (k) => t.expiry[rows[k]]);
  for (let e = 0; e < expiries.length; e++) {
    const expiry = expiries[e];
    ceS.fill(Infinity);
    peS.fill(Infinity);
    ce.fill(Number.NaN);
    pe.fill(Number.NaN);
    for (let k = 0; k < m; k++) {
      const i = rows[k];
      if (t.expiry[i] !== expiry) continue;
      const at = t.entryS[i];
      const x = indexOf(strikes, t.strike[i]);
      if (t.optCode[i] === OPT_CE) {
        if (at < ceS[x]) {
          ceS[x] = at;
          ce[x] = t.entryPrice[i];
        }
      } else if (at < peS[x]) {
        peS[x] = at;
        pe[x] = t.entryPrice[i];
      }
    }
    let best: number | null = null;
    let bestGap = Infinity;
    let pairs = 0;
    for (let x = 0; x < s; x++) {
      if (Number.isNaN(ce[x]) || Number.isNaN(pe[x])) continue;
      pairs++;
      const gap = Math.abs(ce[x] - pe[x]);
      if (gap < bestGap) [best, bestGap] = [strikes[x], gap];
    }
    if (best !== null) return { expiry, strike: best, step, gap: bestGap, pairs };
  }
  return { expiry: null, strike: null, step, gap: null, pairs: 0 };
}

/** The distinct values of `value(0 … count − 1)` (none NaN), ascending. */
function sortedUnique(count: number, value: (k: number) => number): Float64Array {
  const all = new Float64Array(count);
  for (let k = 0; k < count; k++) all[k] = value(k);
  all.sort();
  let u = 0;
  for (let k = 0; k < count; k++) if (k === 0 || all[k] !== all[u - 1]) all[u++] = all[k];
  return all.subarray(0, u);
}

/** The index of `v` in the ascending `sorted`, which holds it. */
function indexOf(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
