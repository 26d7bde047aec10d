import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { footerStatsNative, footerStatsOf, readFooterStats } from "../../lib/parquet/footer.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { PACKED_SORT_ORDER } from "../../lib/packed/schema.ts";
import {
  CompactCursor,
  decodeStruct,
  encodeStruct,
  field,
  T,
  type TList,
  type TStruct,
} from "../../lib/parquet/thrift-compact.ts";
import { cleanupTempDirs, genFixture, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { readdirSync } from "node:fs";
import { join } from "node:path";

// Seconds of CPU work each on a quiet machine: the suite must also pass on a loaded one.
setDefaultTimeout(60_000);

afterAll(cleanupTempDirs);

/** The footer of a Parquet file, decoded by the lossless reader (the reference for the cursor). */
function footerOf(path: string): TStruct {
  const bytes = readFileSync(path);
  const len = bytes.readUInt32LE(bytes.length - 8);
  return decodeStruct(new Uint8Array(bytes.buffer, bytes.byteOffset + bytes.length - 8 - len, len));
}

describe("readFooterStats", () => {
  test("row counts, min/max, null counts and key-value metadata equal the lossless decoder's", async () => {
    const dir = await packedFixture("footer", { days: 1, strikesEachSide: 2, tickProb: 0.05 });
    const part = listPackedPartitions(dir)[0].parts[0];
    const cols = ["expiry", "opt_type", "strike", "timestamp", "is_weekly", "price", "no_such_column"];
    const got = readFooterStats(part, cols);
    const meta = footerOf(part);
    const groups = field<TList>(meta, 4)!.items as TStruct[];
    expect(got.rowGroups.length).toBe(groups.length);
    groups.forEach((rg, i) => {
      expect(got.rowGroups[i].rows).toBe(Number(field<bigint>(rg, 3)));
      for (const chunk of field<TList>(rg, 1)!.items as TStruct[]) {
        const md = field<TStruct>(chunk, 3)!;
        const name = (field<TList>(md, 3)!.items as Uint8Array[]).map((b) => new TextDecoder().decode(b)).join(".");
        const stats = field<TStruct>(md, 12);
        if (!cols.includes(name)) {
          expect(got.rowGroups[i].minMax.has(name)).toBe(false);
          continue;
        }
        expect(got.rowGroups[i].nullCount.get(name)).toBe(Number(field<bigint>(stats!, 3)));
        expect(got.rowGroups[i].minMax.has(name)).toBe(true);
      }
    });
    // Spot values: the key columns' ranges and the writer's metadata.
    const first = got.rowGroups[0];
    expect(typeof first.minMax.get("expiry")!.min).toBe("number");
    expect(["CE", "PE"]).toContain(first.minMax.get("opt_type")!.min as string);
    expect(first.minMax.get("strike")!.min as number).toBeLessThanOrEqual(first.minMax.get("strike")!.max as number);
    expect(got.keyValue.get("tickpack.sort")).toBe(PACKED_SORT_ORDER);
    const kv = ((field<TList>(meta, 5)?.items ?? []) as TStruct[]).map((e): [string, string] => [
      new TextDecoder().decode(field<Uint8Array>(e, 1)),
      new TextDecoder().decode(field<Uint8Array>(e, 2)),
    ]);
    expect([...got.keyValue]).toEqual(kv);
  });
});

describe("footer walk in C", () => {
  test("gives what the TypeScript walk gives, on packed and raw files; a malformed footer is left to it", async () => {
    const raw = tempDir("footer-raw");
    await genFixture(raw, { days: 1, strikesEachSide: 1, tickProb: 0.05 });
    const packed = await packedFixture("footer-c", { days: 2, strikesEachSide: 2, tickProb: 0.05 });
    const files = [
      ...readdirSync(join(raw, "NIFTY"))
        .slice(0, 6)
        .map((f) => join(raw, "NIFTY", f)),
      ...listPackedPartitions(packed).flatMap((p) => p.parts),
    ];
    const cols = [
      "expiry",
      "opt_type",
      "strike",
      "timestamp",
      "price",
      "volume",
      "symbol",
      "is_weekly",
      "date",
      "underlying",
      "absent",
    ];
    for (const f of files) {
      const bytes = readFileSync(f);
      const len = bytes.readUInt32LE(bytes.length - 8);
      const footer = new Uint8Array(bytes.buffer, bytes.byteOffset + bytes.length - 8 - len, len);
      const native = footerStatsNative(footer, cols);
      expect(native, f).not.toBeNull();
      expect(native).toEqual(footerStatsOf(footer, cols));
      expect(footerStatsNative(footer, [])).toEqual(footerStatsOf(footer, []));
      // Cut short: C says it cannot (null), the TypeScript walk throws.
      expect(footerStatsNative(footer.subarray(0, Math.floor(len / 2)), cols)).toBeNull();
      expect(() => footerStatsOf(footer.subarray(0, Math.floor(len / 2)), cols)).toThrow();
    }
  });
});

describe("CompactCursor", () => {
  test("walks and skips every wire type the lossless encoder writes", () => {
    const inner: TStruct = new Map([[1, { type: T.BINARY, value: new TextEncoder().encode("x") }]]);
    const s: TStruct = new Map([
      [1, { type: T.TRUE, value: true }],
      [2, { type: T.BYTE, value: -3 }],
      [3, { type: T.I16, value: -300 }],
      [4, { type: T.I32, value: 123456 }],
      [5, { type: T.I64, value: -(2n ** 40n) }],
      [6, { type: T.DOUBLE, value: 1.5 }],
      [7, { type: T.BINARY, value: new Uint8Array(300).fill(7) }],
      [8, { type: T.LIST, value: { elem: T.I32, items: Array.from({ length: 20 }, (_, i) => i - 10) } }],
      [9, { type: T.MAP, value: { key: T.BINARY, val: T.STRUCT, entries: [[new Uint8Array([1]), inner]] } }],
      [10, { type: T.STRUCT, value: inner }],
      [40, { type: T.I32, value: 42 }], // a long field-id jump (no delta)
    ]);
    const bytes = encodeStruct(s);
    const seen: [number, number][] = [];
    let i32 = 0,
      i64 = 0,
      last = 0;
    const c = new CompactCursor(bytes);
    c.struct((id, type) => {
      seen.push([id, type]);
      if (id === 4) i32 = c.int();
      else if (id === 5) i64 = c.int();
      else if (id === 40) last = c.int();
      else return false;
      return true;
    });
    expect(c.pos).toBe(bytes.length);
    expect(seen.map(([id]) => id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 40]);
    expect([i32, i64, last]).toEqual([123456, -(2 ** 40), 42]);
  });
});
