import { describe, expect, test } from "bun:test";
import {
  keyRunStarts,
  keyScanIsNative,
  keyRunStartsReference,
  strikeWindow,
  strikeWindowReference,
  type KeyRunColumns,
} from "../../lib/read/key-scan.ts";
import { SeededRandom } from "../../lib/random.ts";

// Without the C build both sides of each comparison below are the TypeScript reference.
test("the C build is the one tested", () => {
  expect(keyScanIsNative()).toBe(true);
});

describe("strikeWindow", () => {
  test("the C build and the TypeScript reference agree on random strikes, sorted or not, NaN included", () => {
    const r = new SeededRandom(17);
    for (let k = 0; k < 200; k++) {
      const n = 1 + Math.floor(r.next() * 3000);
      const strikes = Float32Array.from({ length: n }, () =>
        r.next() < 0.01 ? NaN : 25_000 + 50 * Math.floor(r.next() * 40),
      );
      if (k % 2 === 0) strikes.sort();
      const lo = 25_000 + 50 * Math.floor(r.next() * 40);
      const hi = lo + 50 * Math.floor(r.next() * 10) - (k % 7 === 0 ? 25 : 0);
      expect(strikeWindow(strikes, lo, hi)).toEqual(strikeWindowReference(strikes, lo, hi));
    }
  });

  test("the C build and the reference agree on long runs of one value (up to a few hundred rows), -0 beside 0 and runs of NaN", () => {
    const r = new SeededRandom(29);
    const values = [-0, 0, NaN, 50, 100, 150];
    for (let k = 0; k < 200; k++) {
      const strikes: number[] = [];
      while (strikes.length < 2000) {
        const v = values[Math.floor(r.next() * values.length)];
        // Short runs and runs of a few hundred rows, which the C scan passes over eight rows at a time.
        const long = r.next() < 0.5;
        for (let run = long ? 60 + Math.floor(r.next() * 200) : 1 + Math.floor(r.next() * 40); run > 0; run--)
          strikes.push(v);
      }
      const s = Float32Array.from(strikes);
      for (const [lo, hi] of [
        [0, 0],
        [-0, 50],
        [50, 100],
        [120, 200],
        [-Infinity, Infinity],
      ])
        expect(strikeWindow(s, lo, hi)).toEqual(strikeWindowReference(s, lo, hi));
    }
  });

  test("first and last rows in the band, and its runs", () => {
    const s = Float32Array.from([1, 2, 3, 3, 4, 2, 9]);
    expect(strikeWindow(s, 2, 3)).toEqual({ start: 1, end: 6, runs: 2 });
    expect(strikeWindow(s, 3, 4)).toEqual({ start: 2, end: 5, runs: 1 });
    expect(strikeWindow(s, 5, 8)).toBeNull();
    expect(strikeWindow(Float32Array.from([NaN]), -Infinity, Infinity)).toBeNull();
    expect(strikeWindow(new Float32Array(0), 0, 1)).toBeNull();
  });
});

describe("keyRunStarts", () => {
  /** A random batch of keys in runs, with nulls (where `nulls`), NaN strikes and out-of-range opt codes. */
  function batch(r: SeededRandom, nulls: boolean): KeyRunColumns {
    const n = 1 + Math.floor(r.next() * 2000);
    const expiry = new Int32Array(n),
      opt = new Int32Array(n),
      strike = new Float32Array(n);
    const bits = () => (nulls ? new Uint8Array((n + 7) >> 3) : null);
    const ev = bits(),
      ov = bits(),
      sv = bits();
    let e = 20_400,
      o = 0,
      s = 25_000;
    for (let i = 0; i < n; i++) {
      if (r.next() < 0.05) e += Math.floor(r.next() * 3);
      if (r.next() < 0.05) o = Math.floor(r.next() * 4) - 1; // -1 and 2: out of the map's range
      if (r.next() < 0.05) s = r.next() < 0.1 ? NaN : 25_000 + 50 * Math.floor(r.next() * 5);
      expiry[i] = e;
      opt[i] = o;
      strike[i] = s;
      // Null rows carry garbage values: a null equals a null whatever lies under it.
      for (const [b, v] of [
        [ev, expiry],
        [ov, opt],
        [sv, strike],
      ] as const) {
        if (!b) continue;
        if (r.next() < 0.9) b[i >> 3] |= 1 << (i & 7);
        else v[i] = Math.floor(r.next() * 1000);
      }
    }
    return {
      length: n,
      expiry,
      expiryValid: ev,
      opt,
      optValid: ov,
      optMap: Int32Array.from([1, 0]),
      strike,
      strikeValid: sv,
    };
  }

  test("the C build and the TypeScript reference find the same runs (randomised, with and without nulls)", () => {
    const r = new SeededRandom(23);
    for (let k = 0; k < 300; k++) {
      const b = batch(r, k % 2 === 1);
      expect([...keyRunStarts(b)]).toEqual([...keyRunStartsReference(b)]);
    }
  });

  test("long runs (up to a few hundred rows): the C build and the reference agree where codes differ but map alike, and on -0 beside 0", () => {
    const r = new SeededRandom(31);
    for (let k = 0; k < 200; k++) {
      const n = 500 + Math.floor(r.next() * 2000);
      const expiry = new Int32Array(n),
        opt = new Int32Array(n),
        strike = new Float32Array(n);
      let i = 0;
      while (i < n) {
        // Short runs and runs of a few hundred rows, which the C scan passes over eight rows at a time.
        const run = r.next() < 0.5 ? 1 + Math.floor(r.next() * 60) : 60 + Math.floor(r.next() * 200);
        const e = 20_400 + Math.floor(r.next() * 2);
        const o = Math.floor(r.next() * 3); // codes 0 and 2 both map to CE
        const s = [-0, 0, 25_000, NaN][Math.floor(r.next() * 4)];
        for (let j = i; j < Math.min(n, i + run); j++) [expiry[j], opt[j], strike[j]] = [e, o, s];
        i += run;
      }
      const b: KeyRunColumns = {
        length: n,
        expiry,
        expiryValid: null,
        opt,
        optValid: null,
        optMap: Int32Array.from([0, 1, 0]),
        strike,
        strikeValid: null,
      };
      expect([...keyRunStarts(b)]).toEqual([...keyRunStartsReference(b)]);
    }
  });

  test("runs end where a key changes, a null starts or ends, or a NaN strike stands", () => {
    const b: KeyRunColumns = {
      length: 6,
      expiry: Int32Array.from([1, 1, 1, 1, 2, 2]),
      expiryValid: null,
      opt: Int32Array.from([0, 0, 0, 0, 0, 0]),
      optValid: null,
      optMap: Int32Array.from([0]),
      strike: Float32Array.from([5, 5, NaN, NaN, 5, 5]),
      strikeValid: null,
    };
    expect([...keyRunStarts(b)]).toEqual([0, 2, 3, 4, 6]);
  });
});
