import { describe, expect, test } from "bun:test";
import { strikeWindow, strikeWindowReference } from "../../lib/bench/strike-window.ts";
import { SeededRandom } from "../../lib/random.ts";

describe("strikeWindow", () => {
  test("the C build and the TypeScript reference agree on random strikes, sorted or not, NaN included", () => {
    const r = new SeededRandom(17);
    for (let k = 0; k < 200; k++) {
      const n = 1 + Math.floor(r.next() * 3000);
      const strikes = Float32Array.from({ length: n }, () => (r.next() < 0.01 ? NaN : 25_000 + 50 * Math.floor(r.next() * 40)));
      if (k % 2 === 0) strikes.sort();
      const lo = 25_000 + 50 * Math.floor(r.next() * 40);
      const hi = lo + 50 * Math.floor(r.next() * 10) - (k % 7 === 0 ? 25 : 0);
      expect(strikeWindow(strikes, lo, hi)).toEqual(strikeWindowReference(strikes, lo, hi));
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
