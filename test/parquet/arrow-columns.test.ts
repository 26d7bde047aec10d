import { describe, expect, test } from "bun:test";
import { scaleInt64 } from "../../lib/parquet/arrow-columns.ts";
import { SeededRandom } from "../../lib/random.ts";

describe("scaleInt64", () => {
  test("equals BigInt arithmetic for ms and µs timestamps, naive (IST shift) or UTC", () => {
    const rng = new SeededRandom(3);
    const n = 20_000;
    const src = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      // Typical epochs, values around 0, negatives, and a few beyond 2^53 (the BigInt path).
      src[i] = r < 0.7 ? BigInt(Math.floor(rng.next() * 2e15)) : r < 0.8 ? BigInt(rng.int(-5000, 5000)) : r < 0.95 ? -BigInt(Math.floor(rng.next() * 2e15)) : 2n ** 60n + BigInt(rng.int(0, 1000));
    }
    for (const mul of [1000, 1_000_000]) {
      for (const shift of [0, 19_800_000_000_000]) {
        const dst = new BigInt64Array(n + 3);
        scaleInt64(src, dst, 3, n, mul, shift);
        for (let i = 0; i < n; i++) expect(dst[3 + i]).toBe(BigInt.asIntN(64, src[i] * BigInt(mul) - BigInt(shift)));
      }
    }
  });
});
