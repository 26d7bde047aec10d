/**
 * The reference of lib/report/atm.ts's estimate: the same rule (ATM_METHOD) written with maps, as it
 * was before the estimate moved to typed arrays.
 */
import type { EpochDays } from "../../lib/ist-time.ts";
import type { AtmEstimate, AtmInput } from "../../lib/report/atm.ts";
import { strikeDecimal } from "../../lib/packed/strike.ts";
import { OPT_CE, OPT_PE } from "../../lib/packed/opt-type.ts";
import { isNullKey } from "../../kernel/segment-key.ts";

/** estimateAtm written for clarity (maps per expiry and strike): what the tests hold it to. */
export function estimateAtmReference(t: AtmInput, day: EpochDays | null): AtmEstimate {
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
