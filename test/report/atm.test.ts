import { describe, expect, test } from "bun:test";
import { type AtmInput, estimateAtm } from "../../lib/report/atm.ts";
import { OPT_CE, OPT_OTHER, OPT_PE } from "../../lib/packed/opt-type.ts";
import { SeededRandom } from "../../lib/random.ts";
import { NULL_KEY } from "../../kernel/segment-key.ts";
import { estimateAtmReference } from "./atm-reference.ts";

/** Segments as a partition's sums hold them, drawn at random: keys repeat, out of order too, and instants tie. */
function randomInput(r: SeededRandom): AtmInput {
  const n = Math.floor(r.next() * 120);
  const day = 20_400;
  const expiries = [day - 1, day, day + 3, day + 7, day + 35, NULL_KEY];
  // Integer strikes, float32 ones with decimals, a NaN and a null cell.
  const strikes = [
    24_900,
    24_950,
    25_000,
    25_050,
    25_100,
    Math.fround(3402.3),
    Math.fround(3402.4),
    Number.NaN,
    NULL_KEY,
  ];
  const pick = <T>(xs: T[]) => xs[Math.floor(r.next() * xs.length)];
  const t: AtmInput = {
    length: n,
    expiry: new Float64Array(n),
    optCode: new Float64Array(n),
    strike: new Float64Array(n),
    entryPrice: new Float64Array(n),
    entryS: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    t.expiry[i] = pick(expiries);
    t.optCode[i] = pick([OPT_CE, OPT_CE, OPT_PE, OPT_PE, OPT_OTHER]);
    t.strike[i] = pick(strikes);
    t.entryPrice[i] = Math.round(r.next() * 400) / 4;
    t.entryS[i] = 1_762_000_000 + Math.floor(r.next() * 20);
  }
  return t;
}

describe("estimateAtm", () => {
  test("matches the reference (maps per expiry and strike) on random partitions", () => {
    const r = new SeededRandom(23);
    let found = 0;
    for (let k = 0; k < 3000; k++) {
      const t = randomInput(r);
      const day = r.next() < 0.8 ? 20_400 : null;
      const got = estimateAtm(t, day);
      expect(got).toEqual(estimateAtmReference(t, day));
      if (got.strike !== null) found++;
    }
    // The cases exercised include partitions with an estimate and partitions without one.
    expect(found).toBeGreaterThan(1000);
    expect(found).toBeLessThan(3000);
  });

  test("the nearest expiry with a CE/PE pair; of equal gaps the lowest strike; of equal instants the first met", () => {
    const t: AtmInput = {
      length: 6,
      expiry: Float64Array.from([20_403, 20_403, 20_403, 20_403, 20_410, 20_410]),
      optCode: Float64Array.from([OPT_CE, OPT_CE, OPT_PE, OPT_PE, OPT_CE, OPT_PE]),
      strike: Float64Array.from([25_100, 25_000, 25_100, 25_000, 25_000, 25_000]),
      entryPrice: Float64Array.from([90, 140, 110, 60, 200, 200]),
      entryS: Float64Array.from([5, 5, 5, 5, 1, 1]),
    };
    // 25000: |140 − 60| = 80; 25100: |90 − 110| = 20.
    expect(estimateAtm(t, 20_400)).toEqual({ expiry: 20_403, strike: 25_100, step: 100, gap: 20, pairs: 2 });
    // A later entry at the same strike does not replace the first; an equal instant does not either.
    const later = { ...t, length: 7 };
    later.expiry = Float64Array.from([...t.expiry, 20_403]);
    later.optCode = Float64Array.from([...t.optCode, OPT_CE]);
    later.strike = Float64Array.from([...t.strike, 25_100]);
    later.entryPrice = Float64Array.from([...t.entryPrice, 110]);
    later.entryS = Float64Array.from([...t.entryS, 5]);
    expect(estimateAtm(later, 20_400).gap).toBe(20);
  });
});
