import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ColumnFileProblem, ColumnFileWriter, mapColumnFile, type PartKey } from "../../lib/cache/column-file.ts";
import { SeededRandom } from "../../lib/random.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

const dir = tempDir("column-file");
afterAll(cleanupTempDirs);

const KEY: PartKey = {
  path: "/data/packed/2025-11-17/NIFTY.parquet",
  bytes: 123456,
  mtimeNs: "1763351100000000000",
  footer: "00112233445566778899",
};

/** Writes `values` (with `valid`: one flag per row, or null) in batches of the given sizes; returns the path. */
function writeColumn(
  name: string,
  values: Float64Array | Int32Array | BigInt64Array,
  valid: boolean[] | null,
  batches: number[],
  type: string,
): string {
  const path = join(dir, `${name}.col`);
  const w = new ColumnFileWriter(path, KEY, name, type, "plain", values.length, [values.length]);
  let at = 0;
  for (const n of batches) {
    let bits: Uint8Array | null = null;
    if (valid) {
      bits = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (valid[at + i]) bits[i >> 3] |= 1 << (i & 7);
    }
    w.append(values.subarray(at, at + n), bits, n);
    at += n;
  }
  w.commit();
  return path;
}

const rng = new SeededRandom(5);
const N = 300_000; // 2.4 MB of float64: 37 checksum blocks
const f64 = Float64Array.from({ length: N }, () => rng.next() * 1000);
const validity = Array.from({ length: N }, () => rng.next() > 0.05);
// Batches that split bytes of the bitmap and blocks anywhere.
const batches = [1, 7, 8, 1000, 12_345, 99_999, N - 1 - 7 - 8 - 1000 - 12_345 - 99_999];

describe("column cache files", () => {
  test("round trip: values and validity come back as written, whatever the batches", () => {
    const path = writeColumn("price", f64, validity, batches, "g");
    const m = mapColumnFile(path, KEY, "price", true);
    expect(m.header.rows).toBe(N);
    expect(m.header.nullCount).toBe(validity.filter((v) => !v).length);
    expect(m.values).toBeInstanceOf(Float64Array);
    expect(Array.from(m.values as Float64Array)).toEqual(Array.from(f64));
    for (let i = 0; i < N; i++)
      if (((m.validity![i >> 3] >> (i & 7)) & 1) !== (validity[i] ? 1 : 0)) throw new Error(`validity bit ${i}`);
    // Sections are 64-byte aligned in the file: a map hands out views, no copy.
    expect(m.header.values.offset % 64).toBe(0);
  });

  test("int32 and int64 columns without nulls have no validity section", () => {
    const i32 = Int32Array.from({ length: 1001 }, (_, i) => i * 3 - 500);
    const i64 = BigInt64Array.from({ length: 1001 }, (_, i) => BigInt(i) * 1_000_000_007n);
    const a = mapColumnFile(writeColumn("expiry", i32, null, [500, 501], "tdD"), KEY, "expiry");
    const b = mapColumnFile(writeColumn("volume", i64, null, [1001], "l"), KEY, "volume");
    expect(a.validity).toBeNull();
    expect(Array.from(a.values as Int32Array)).toEqual(Array.from(i32));
    expect(Array.from(b.values as BigInt64Array)).toEqual(Array.from(i64));
  });

  const fresh = (name: string) => writeColumn(name, f64, validity, [N], "g");
  const problem = (path: string, column: string, key = KEY, verifyAll = false) => {
    try {
      mapColumnFile(path, key, column, verifyAll);
    } catch (e) {
      expect(e).toBeInstanceOf(ColumnFileProblem);
      return (e as Error).message;
    }
    return null;
  };

  test("a stale key (the part changed: size, mtime or footer) or another column is refused", () => {
    const path = fresh("bp0");
    expect(problem(path, "bp0")).toBeNull();
    expect(problem(path, "bp0", { ...KEY, bytes: KEY.bytes + 1 })).toContain("stale");
    expect(problem(path, "bp0", { ...KEY, mtimeNs: "1763351100000000001" })).toContain("stale");
    expect(problem(path, "bp0", { ...KEY, footer: "ff" })).toContain("stale");
    expect(problem(path, "sp0")).toContain("holds column bp0");
  });

  test("truncated, extended, foreign, empty and header-garbled files are refused", () => {
    const cut = fresh("cut");
    truncateSync(cut, readFileSync(cut).byteLength - 100);
    expect(problem(cut, "cut")).toMatch(/size|end mark/);
    const grown = fresh("grown");
    appendFileSync(grown, "x");
    expect(problem(grown, "grown")).toMatch(/size/);
    const foreign = join(dir, "foreign.col");
    writeFileSync(foreign, "PAR1 this is not ours at all, but long enough to have a header");
    expect(problem(foreign, "foreign")).toContain("magic");
    const empty = join(dir, "empty.col");
    writeFileSync(empty, "");
    expect(problem(empty, "empty")).toContain("shorter");
    const header = fresh("header");
    const bytes = readFileSync(header);
    bytes[40] ^= 0x20; // inside the JSON header
    writeFileSync(header, bytes);
    expect(problem(header, "header")).toContain("header checksum");
  });

  test("a garbled value is found: always in the first and last blocks, anywhere with verifyAll", () => {
    const path = fresh("garbled");
    const m = mapColumnFile(path, KEY, "garbled");
    const { offset, bytes } = m.header.values;
    for (const at of [offset + 3, offset + bytes - 2]) {
      const copy = readFileSync(path);
      copy[at] ^= 1;
      const garbled = join(dir, "garbled-edge.col");
      writeFileSync(garbled, copy);
      expect(problem(garbled, "garbled")).toMatch(/block \d+ checksum mismatch/);
    }
    const copy = readFileSync(path);
    copy[offset + Math.floor(bytes / 2)] ^= 0x80;
    const middle = join(dir, "garbled-middle.col");
    writeFileSync(middle, copy);
    expect(problem(middle, "garbled", KEY, true)).toMatch(/block \d+ checksum mismatch/);
    // The validity bitmap is checked whole on every read.
    const v = readFileSync(path);
    v[m.header.validity!.offset + 5] ^= 4;
    const badValidity = join(dir, "garbled-validity.col");
    writeFileSync(badValidity, v);
    expect(problem(badValidity, "garbled")).toContain("validity checksum");
  });

  test("an aborted writer leaves nothing; a writer given the wrong row count refuses to commit", () => {
    const sub = tempDir("column-file-abort");
    const w = new ColumnFileWriter(join(sub, "x.col"), KEY, "x", "g", "plain", 10, [10]);
    w.append(f64.subarray(0, 5), null, 5);
    expect(() => w.commit()).toThrow("5 rows written of 10");
    w.abort();
    expect(readdirSync(sub)).toEqual([]);
  });
});
