import { afterAll, describe, expect, test } from "bun:test";
import * as arrow from "apache-arrow";
import { join } from "node:path";
import { closeParquet, encodeArrowColumns, openParquet, withRows } from "../../lib/parquet/io.ts";
import { closeParquetFile, openParquetFile, withColumnViews } from "../../lib/parquet/source.ts";
import { SeededRandom } from "../../lib/random.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

const dir = tempDir("c-data");
afterAll(cleanupTempDirs);

const N = 5_000;
const rng = new SeededRandom(11);
const nullable = <T>(make: (i: number) => T) =>
  Array.from({ length: N }, (_, i) => (rng.next() < 0.1 ? null : make(i)));
const columns = {
  i32: arrow.vectorFromArray(
    nullable(() => rng.int(-1e6, 1e6)),
    new arrow.Int32(),
  ),
  i16: arrow.vectorFromArray(
    nullable(() => rng.int(-300, 300)),
    new arrow.Int16(),
  ),
  i64: arrow.vectorFromArray(
    nullable(() => BigInt(rng.int(-1e9, 1e9)) * 1000n),
    new arrow.Int64(),
  ),
  f32: arrow.vectorFromArray(
    nullable(() => Math.fround(rng.next() * 100)),
    new arrow.Float32(),
  ),
  f64: arrow.vectorFromArray(
    Array.from({ length: N }, () => rng.next() * 1e4),
    new arrow.Float64(),
  ),
  day: arrow.vectorFromArray(
    nullable((i) => new Date(Date.UTC(2025, 0, 1 + (i % 300)))),
    new arrow.DateDay(),
  ),
  ts: arrow.vectorFromArray(
    nullable((i) => 1_735_689_600_000 + i * 1000),
    new arrow.TimestampMillisecond(),
  ),
  opt: arrow.vectorFromArray(
    nullable(() => (rng.next() < 0.5 ? "CE" : "PE")),
    new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
  ),
  name: arrow.vectorFromArray(
    nullable((i) => `row-${i}-é`),
    new arrow.Utf8(),
  ),
};
const path = join(dir, "types.parquet");
await Bun.write(
  path,
  encodeArrowColumns(Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v.data[0]])), {
    rowGroupSize: 1_700,
    metadata: new Map(),
  }),
);

/** Every value of a column as plain JS (null where invalid), read through apache-arrow. */
async function viaArrow(
  names: string[],
  selection: { rowGroups: number[]; offset?: number; limit?: number },
): Promise<Record<string, unknown[]>> {
  const source = await openParquet(path);
  try {
    return await withRows(source, names, selection, (t) =>
      Object.fromEntries(names.map((n) => [n, Array.from({ length: t.numRows }, (_, i) => t.getChild(n)!.get(i))])),
    );
  } finally {
    closeParquet(source);
  }
}

/** The same through the C Data Interface views. */
async function viaViews(
  names: string[],
  selection: { rowGroups: number[]; offset?: number; limit?: number },
): Promise<Record<string, unknown[]>> {
  const source = await openParquetFile(path);
  try {
    return await withColumnViews(source, names, selection, (batches) => {
      const out: Record<string, unknown[]> = Object.fromEntries(names.map((n) => [n, []]));
      for (const b of batches) {
        b.columns.forEach((c, k) => {
          for (let i = 0; i < b.length; i++) {
            const valid = !c.validity || ((c.validity[i >> 3] >> (i & 7)) & 1) === 1;
            const v = c.dictionary
              ? c.dictionary[(c.values as Int32Array)[i]]
              : c.strings
                ? c.strings[i]
                : c.values![i];
            out[names[k]].push(valid ? v : null);
          }
        });
      }
      return out;
    });
  } finally {
    closeParquetFile(source);
  }
}

describe("C Data Interface views", () => {
  test("the schema names each column with its format", async () => {
    const source = await openParquetFile(path);
    closeParquetFile(source);
    expect(source.columns.map((c) => [c.name, c.format, c.dictionaryFormat])).toEqual([
      ["i32", "i", null],
      ["i16", "s", null],
      ["i64", "l", null],
      ["f32", "f", null],
      ["f64", "g", null],
      ["day", "tdD", null],
      ["ts", "tsm:", null],
      ["opt", "i", "u"],
      ["name", "u", null],
    ]);
    expect(source.rowGroupRows).toEqual([1700, 1700, 1600]);
  });

  test("equal apache-arrow's reading: every type, nulls, row groups in any order, and offset/limit reads", async () => {
    const names = Object.keys(columns);
    const toComparable = (r: Record<string, unknown[]>) =>
      Object.fromEntries(
        Object.entries(r).map(([k, vs]) => [
          k,
          vs.map((v) => (v instanceof Date ? v.getTime() : typeof v === "bigint" ? v.toString() : v)),
        ]),
      );
    for (const selection of [
      { rowGroups: [0] },
      { rowGroups: [2, 0, 1] },
      { rowGroups: [1], offset: 33, limit: 1000 },
      { rowGroups: [0, 1], offset: 1699, limit: 2 },
    ]) {
      const views = await viaViews(names, selection);
      const reference = await viaArrow(names, selection);
      // apache-arrow gives date32 as epoch ms and timestamps as numbers; the views give the stored units.
      reference.day = reference.day.map((v) => (v === null ? null : (v as number) / 86_400_000));
      reference.ts = reference.ts.map((v) => (v === null ? null : BigInt(v as number)));
      expect(toComparable(views)).toEqual(toComparable(reference));
    }
  });

  test("columns come back in the order asked for, not file order", async () => {
    const views = await viaViews(["name", "i32"], { rowGroups: [0], limit: 3 });
    expect(Object.keys(views)).toEqual(["name", "i32"]);
    expect(views.name.length).toBe(3);
  });
});
