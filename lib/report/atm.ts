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
  // Per expiry and strike: the first CE and PE entry (time, price). Trades come contract by contract:
  // the maps are consulted only when the contract changes.
  type First = { ceS: number; ce: number; peS: number; pe: number };
  const byExpiry = new Map<number, Map<number, First>>();
  const strikes = new Set<number>();
  let lastExpiry = NaN;
  let lastStrike = NaN;
  let f: First = { ceS: Infinity, ce: NaN, peS: Infinity, pe: NaN };
  for (let i = 0; i < t.length; i++) {
    const expiry = t.expiry[i];
    const strike = t.strike[i];
    const opt = t.optCode[i];
    // A NaN strike is a value, but one no ATM can be read from.
    if (isNullKey(expiry) || isNullKey(strike) || Number.isNaN(strike) || (day !== null && expiry < day)) continue;
    if (opt !== OPT_CE && opt !== OPT_PE) continue;
    if (strike !== lastStrike || expiry !== lastExpiry) {
      lastStrike = strike;
      lastExpiry = expiry;
      strikes.add(strike);
      let m = byExpiry.get(expiry);
      if (!m) byExpiry.set(expiry, (m = new Map()));
      const known = m.get(strike);
      if (known) f = known;
      else m.set(strike, (f = { ceS: Infinity, ce: NaN, peS: Infinity, pe: NaN }));
    }
    const at = t.entryS[i];
    if (opt === OPT_CE && at < f.ceS) {
      f.ceS = at;
      f.ce = t.entryPrice[i];
    }
    if (opt === OPT_PE && at < f.peS) {
      f.peS = at;
      f.pe = t.entryPrice[i];
    }
  }
  // The step from every strike traded that day (any expiry): one expiry alone may show few. Gaps of
  // the decimals written, to 9 digits: float32 strikes 3402.3 and 3402.4 are 0.0998535… apart.
  const sorted = [...strikes].sort((a, b) => a - b).map(strikeDecimal);
  let step: number | null = null;
  for (let k = 1; k < sorted.length; k++) {
    const d = sorted[k] - sorted[k - 1];
    const gap = Number.isInteger(d) && d < 1e9 ? d : Number(d.toPrecision(9));
    if (step === null || gap < step) step = gap;
  }
  // The nearest expiry with a CE/PE pair: a strategy that traded only calls of the nearest one (a
  // rally) may still have traded both sides of the next.
  for (const expiry of [...byExpiry.keys()].sort((a, b) => a - b)) {
    let best: number | null = null;
    let bestGap = Infinity;
    let pairs = 0;
    for (const [strike, p] of [...byExpiry.get(expiry)!.entries()].sort(([a], [b]) => a - b)) {
      if (Number.isNaN(p.ce) || Number.isNaN(p.pe)) continue;
      pairs++;
      const gap = Math.abs(p.ce - p.pe);
      if (gap < bestGap) [best, bestGap] = [strike, gap];
    }
    if (best !== null) return { expiry, strike: best, step, gap: bestGap, pairs };
  }
  return { expiry: null, strike: null, step, gap: null, pairs: 0 };
}
