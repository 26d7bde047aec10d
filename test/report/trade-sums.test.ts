import { describe, expect, test } from "bun:test";
import { ATM_BUCKETS, ATM_SPAN, Breakdown, DTE_BUCKETS, EXPIRY_TYPES, HOLD_BUCKETS, OPT_TYPES } from "../../lib/report/aggregate.ts";
import { addTradeSumsNative, addTradeSumsReference, firstEntries, firstEntriesReference, tradeSeconds, type TradeSumsInput } from "../../lib/report/trade-sums.ts";
import { estimateAtm } from "../../lib/report/atm.ts";
import { SeededRandom } from "../../lib/random.ts";

/** A random partition's trades and empty sums (expiries near a day, some null keys, far strikes, odd holding times). */
function input(seed: number, sets: number, n: number, withDay: boolean, withAtm: boolean): TradeSumsInput {
  const r = new SeededRandom(seed);
  const day = 20_409;
  const t0 = BigInt(day) * 86_400_000_000_000n + 12_600_000_000_000n;
  const entry = Array.from({ length: n }, () => t0 + BigInt(Math.floor(r.next() * 22_000e9)));
  const width = 60 * 2 ** Math.floor(r.next() * 3);
  const exit = entry.map((e) => e + BigInt(Math.floor(r.next() ** 3 * 20_000e9)));
  const lo = Math.min(...exit.map((x) => Number(x) / 1e9));
  const hi = Math.max(...exit.map((x) => Number(x) / 1e9));
  const first = Math.floor(lo / width);
  const bins = Math.floor(hi / width) - first + 1;
  const b = (buckets: number) => new Breakdown(buckets, sets);
  return {
    length: n, sets,
    set: Float64Array.from({ length: n }, () => Math.floor(r.next() * sets)),
    pnl: Float64Array.from({ length: n }, () => Math.round((r.next() - 0.5) * 400) / 4),
    expiry: Float64Array.from({ length: n }, () => (r.next() < 0.05 ? -1e300 : day + Math.floor(r.next() * 60) - 2)),
    optCode: Float64Array.from({ length: n }, () => [0, 1, 2, -1e300][Math.floor(r.next() * 4)]),
    strike: Float64Array.from({ length: n }, () => (r.next() < 0.05 ? -1e300 : r.next() < 0.02 ? 1e15 : 25_000 + 50 * Math.floor(r.next() * 60) - 1500)),
    entryTs: BigInt64Array.from(entry), exitTs: BigInt64Array.from(exit),
    curves: Array.from({ length: sets }, () => new Float64Array(bins)), first, widthS: width,
    day: withDay ? day : NaN, atmStrike: withAtm ? 25_025 : NaN, atmStep: 50, atmBuckets: ATM_BUCKETS.length, atmSpan: ATM_SPAN, nullDte: DTE_BUCKETS.length - 1,
    dayTotals: b(1), dte: b(DTE_BUCKETS.length), expiryType: b(EXPIRY_TYPES.length), opt: b(OPT_TYPES.length), atm: b(OPT_TYPES.length * ATM_BUCKETS.length), hold: b(HOLD_BUCKETS.length), setSums: new Float64Array(sets * 7),
  };
}

const sums = (x: TradeSumsInput) => [x.curves, x.dayTotals, x.dte, x.expiryType, x.opt, x.atm, x.hold].flatMap((v) => (Array.isArray(v) ? v.map((c) => [...c]) : [[...v.pnl], [...v.trades], [...v.wins]])).concat([[...x.setSums]]);

describe("trade sums", () => {
  test("the C build and the TypeScript reference give the same sums, bucket by bucket (randomised)", () => {
    for (const [seed, sets, withDay, withAtm] of [[1, 1, true, true], [2, 3, true, false], [3, 7, false, true], [4, 2, false, false]] as const) {
      const a = input(seed, sets, 5000, withDay, withAtm);
      const b = input(seed, sets, 5000, withDay, withAtm);
      expect(addTradeSumsNative(a)).toBe(true);
      addTradeSumsReference(b);
      expect(sums(a)).toEqual(sums(b));
      // Every trade landed once in each breakdown.
      expect(a.hold.trades.reduce((x, y) => x + y, 0)).toBe(5000);
      expect(a.atm.trades.reduce((x, y) => x + y, 0)).toBe(5000);
    }
  });

  test("entry seconds and the exit range, as the reference rounds them", () => {
    const x = input(5, 1, 3000, true, true);
    const { entryS, exitRange } = tradeSeconds(x.entryTs, x.exitTs, 3000);
    const words = (ts: BigInt64Array) => new Int32Array(ts.buffer);
    const sec = (w: Int32Array, i: number) => (w[2 * i + 1] * 4_294_967_296 + (w[2 * i] >>> 0)) / 1e9;
    expect([...entryS]).toEqual(Array.from({ length: 3000 }, (_, i) => sec(words(x.entryTs), i)));
    const exits = Array.from({ length: 3000 }, (_, i) => sec(words(x.exitTs), i));
    expect(exitRange).toEqual([Math.min(...exits), Math.max(...exits)]);
    expect(Math.abs(entryS[0] - Number(x.entryTs[0]) / 1e9)).toBeLessThan(1e-6);
  });

  test("the ATM estimate from each contract run's first entry equals the estimate from every trade (C and reference)", () => {
    const r = new SeededRandom(31);
    for (let k = 0; k < 40; k++) {
      // Trades contract by contract (runs), some contracts met again later, equal entry times, null keys.
      const n = 200 + Math.floor(r.next() * 2000);
      const expiry = new Float64Array(n), optCode = new Float64Array(n), strike = new Float64Array(n), entryPrice = new Float64Array(n);
      const entryTs = new BigInt64Array(n);
      let e = 20_410, o = 0, s = 25_000;
      for (let i = 0; i < n; i++) {
        if (r.next() < 0.08) [e, o, s] = [20_410 + 7 * Math.floor(r.next() * 3), Math.floor(r.next() * 2), 24_800 + 50 * Math.floor(r.next() * 9)];
        expiry[i] = r.next() < 0.01 ? -1e300 : e;
        optCode[i] = o;
        strike[i] = r.next() < 0.005 ? NaN : s;
        entryPrice[i] = 20 + r.next() * 100;
        entryTs[i] = 1_763_350_000_000_000_000n + BigInt(Math.floor(r.next() * 50)) * 1_000_000_000n;
      }
      const entryS = Float64Array.from(entryTs, (x) => Number(x) / 1e9);
      const all = { length: n, expiry, optCode, strike, entryPrice, entryS };
      const few = firstEntries({ ...all, entryTs });
      expect([...firstEntriesReference(all)].length).toBe(few.length);
      expect(few.length).toBeLessThan(n);
      for (const day of [20_409, null]) expect(estimateAtm(few, day)).toEqual(estimateAtm(all, day));
    }
  });

  test("buckets of known trades: expiry type by the calendar rule, ATM distance clamped, a far strike in the edge bucket", () => {
    const x = input(9, 1, 4, true, true);
    // 2025-11-25 is NIFTY's monthly (a week later is December), 2025-11-18 a weekly.
    x.expiry.set([20_417, 20_410, -1e300, 20_410]);
    x.strike.set([25_025, 25_125, 1e15, -1e300]);
    x.optCode.set([0, 1, 0, 2]);
    addTradeSumsReference(x);
    expect([...x.expiryType.trades]).toEqual([2, 1, 1]); // weekly, monthly, unknown
    const A = ATM_BUCKETS.length;
    const at = (opt: number, label: string) => x.atm.trades[opt * A + ATM_BUCKETS.indexOf(label)];
    expect([at(0, "0"), at(1, "+2"), at(0, `>+${ATM_SPAN}`), at(2, "unknown")]).toEqual([1, 1, 1, 1]);
  });
});
