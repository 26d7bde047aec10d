import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TradeBlock } from "../../lib/bench/bench.ts";
import { driverLayoutC } from "../../kernel/driver-layout.ts";
import { isNullKey, NULL_KEY } from "../../kernel/segment-key.ts";
import { keyText } from "../../lib/bench/trade-row.ts";
import { OPT_CODE_NAMES, OPT_OTHER, stableOptCode } from "../../lib/packed/opt-type.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { dteBucket, expiryTypeBucket, EXPIRY_TYPES, DTE_BUCKETS } from "../../lib/report/buckets.ts";

function trades(keys: [number, number, number][]): TradeBlock {
  const f = (k: number) => Float64Array.from(keys, (x) => x[k]);
  const zeros = new Float64Array(keys.length);
  return {
    length: keys.length,
    date: "2025-11-17",
    underlying: "NIFTY",
    set: zeros,
    expiry: f(0),
    optCode: f(1),
    strike: f(2),
    entryTs: new BigInt64Array(keys.length),
    exitTs: new BigInt64Array(keys.length),
    entryPrice: zeros,
    exitPrice: zeros,
    pnl: zeros,
  };
}

describe("segment key values", () => {
  test("a null key is the driver's NULL_KEY only; a NaN strike is a stored value", () => {
    expect([NULL_KEY, -1e299 * 2, NaN, -1e298, 0, 25_000].map(isNullKey)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    const e = parseIsoDate("2025-11-25");
    const b = trades([
      [NULL_KEY, NULL_KEY, NULL_KEY],
      [e, 1, NaN],
      [e, 0, Math.fround(3402.3)],
    ]);
    expect(keyText(b, 0)).toEqual({ expiry: null, opt: null, strike: null });
    expect(keyText(b, 1)).toEqual({ expiry: "2025-11-25", opt: "PE", strike: NaN });
    expect(keyText(b, 2)).toEqual({ expiry: "2025-11-25", opt: "CE", strike: 3402.3 });
  });

  test("a NaN or null expiry falls in the report's unknown buckets", () => {
    const day = parseIsoDate("2025-11-17");
    expect([NULL_KEY, NaN].map(expiryTypeBucket).map((k) => EXPIRY_TYPES[k])).toEqual(["unknown", "unknown"]);
    expect([NULL_KEY, NaN].map((e) => DTE_BUCKETS[dteBucket(e, day)])).toEqual(["unknown", "unknown"]);
  });

  test("stable opt_type codes name their values; anything else is OPT_OTHER", () => {
    for (const [code, name] of OPT_CODE_NAMES.entries()) if (code !== OPT_OTHER) expect(stableOptCode(name)).toBe(code);
    expect([null, "XX", "ce"].map(stableOptCode)).toEqual([OPT_OTHER, OPT_OTHER, OPT_OTHER]);
  });
});

describe("the C units define the same values", () => {
  const root = join(import.meta.dir, "..", "..");
  const defined = (file: string, name: RegExp) => {
    const m = new RegExp(`#define (${name.source})\\s+\\(?(-?[0-9.e]+)\\)?`).exec(
      readFileSync(join(root, file), "utf8"),
    );
    return m ? Number(m[2]) : undefined;
  };

  test("key-scan.c's TP_OPT_OTHER is OPT_OTHER; the driver's null key is NULL_KEY, from the layout only", () => {
    expect(defined("lib/read/key-scan.c", /TP_OPT_OTHER/)).toBe(OPT_OTHER);
    expect(defined("kernel/driver.c", /\w*NULL_KEY/)).toBeUndefined();
    const m = /#define TPD_NULL_KEY \((-?[0-9.e+]+)\)/.exec(driverLayoutC());
    expect(Number(m?.[1])).toBe(NULL_KEY);
  });
});
