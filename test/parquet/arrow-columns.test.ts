import { describe, expect, test } from "bun:test";
import { detectEpochUnit, scaleInt64 } from "../../lib/parquet/arrow-columns.ts";
import { SeededRandom } from "../../lib/random.ts";

describe("scaleInt64", () => {
  test("equals BigInt arithmetic for ms and µs timestamps, naive (IST shift) or UTC", () => {
    const rng = new SeededRandom(3);
    const n = 20_000;
    const src = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      // Typical epochs, values around 0, negatives, and a few beyond 2^53 (the BigInt path).
      src[i] =
        r < 0.7
          ? BigInt(Math.floor(rng.next() * 2e15))
          : r < 0.8
            ? BigInt(rng.int(-5000, 5000))
            : r < 0.95
              ? -BigInt(Math.floor(rng.next() * 2e15))
              : 2n ** 60n + BigInt(rng.int(0, 1000));
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

describe("detectEpochUnit", () => {
  const ns = 1_763_351_100_000_000_000n; // 2025-11-17 03:45 UTC
  test("tells s/ms/µs/ns by magnitude; 0 and nulls say nothing; disagreement and undecidable values throw, naming the row", () => {
    expect(detectEpochUnit("t", BigInt64Array.of(0n, ns / 1_000_000_000n), null, null)).toBe("s");
    expect(detectEpochUnit("t", BigInt64Array.of(ns / 1_000_000n, 0n), null, null)).toBe("ms");
    expect(detectEpochUnit("t", BigInt64Array.of(ns / 1_000n), null, null)).toBe("us");
    expect(detectEpochUnit("t", BigInt64Array.of(ns), null, null)).toBe("ns");
    expect(detectEpochUnit("t", BigInt64Array.of(0n, 0n), null, null)).toBeNull();
    expect(detectEpochUnit("t", BigInt64Array.of(5n, ns), Uint8Array.of(0, 1), null)).toBe("ns");
    expect(() => detectEpochUnit("t", BigInt64Array.of(ns / 1_000_000n), null, "ns", 100)).toThrow(
      "column t: INT64 epoch values in more than one unit (nanoseconds before, milliseconds at row 100",
    );
    expect(() => detectEpochUnit("t", BigInt64Array.of(0n, 12_345n), null, null)).toThrow(
      "cannot tell the unit of INT64 epoch value 12345 at row 1",
    );
  });
});
