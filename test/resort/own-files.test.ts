import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as arrow from "apache-arrow";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { columnToArrow } from "../../lib/parquet/arrow-columns.ts";
import { takeBatch, type ColumnBatch } from "../../lib/parquet/column-batch.ts";
import { encodeArrowColumns, encodeParquet } from "../../lib/parquet/io.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { PACKED_COLUMNS } from "../../lib/packed/schema.ts";
import { firstUnsortedRow } from "../../lib/packed/sort-order.ts";
import { packedFileMetadata } from "../../lib/packed/part-writer.ts";
import { resort } from "../../lib/resort/resort.ts";
import { cleanupTempDirs, genFixture, packedRows, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(120_000);

let raw: string;
let packed: string;
beforeAll(async () => {
  raw = tempDir("own-raw");
  await genFixture(raw);
  packed = tempDir("own-packed");
  await repackFixture([raw], packed, { rowGroupSize: 4000 });
});
afterAll(cleanupTempDirs);

const opts = (dir: string) => ({
  dir,
  check: false,
  dryRun: false,
  workers: 2,
  rowGroupSize: 4000,
  partRows: 2_000_000,
});

/** Rows [from, to) of a batch in reverse order: unsorted, so resort must rewrite them. */
function reversedSlice(b: ColumnBatch, from: number, to: number): ColumnBatch {
  return takeBatch(
    b,
    Int32Array.from({ length: to - from }, (_, i) => to - 1 - i),
  );
}

describe("resort keeps every file a person made", () => {
  test("two hand-named files in a partition folder are each repaired in place; the real part is untouched", async () => {
    const dir = tempDir("hand");
    cpSync(packed, dir, { recursive: true });
    const nifty = join(dir, "2025-11-17", "NIFTY");
    const part = join(nifty, "part-nifty-0.parquet");
    const partBytes = readFileSync(part);
    const rows = await readPackedRows(part);
    const half = Math.floor(rows.length / 2);
    const write = (name: string, b: ColumnBatch) =>
      writeFileSync(
        join(nifty, name),
        encodeParquet([b], PACKED_COLUMNS, { rowGroupSize: 4000, metadata: packedFileMetadata(b.length) }),
      );
    write("a.parquet", reversedSlice(rows, 0, half));
    write("b.parquet", reversedSlice(rows, half, rows.length));
    const before = [...(await packedRows(dir)).values()].flat().sort();

    const r = await resort(opts(dir));
    expect(r.failed).toBe(0);
    expect(r.rewritten.sort()).toEqual([join(nifty, "a.parquet"), join(nifty, "b.parquet")]);
    expect(readFileSync(part).equals(partBytes)).toBe(true);
    for (const [name, n] of [
      ["a.parquet", half],
      ["b.parquet", rows.length - half],
    ] as const) {
      const got = await readPackedRows(join(nifty, name));
      expect(got.length).toBe(n);
      expect(firstUnsortedRow(got)).toBe(-1);
    }
    expect([...(await packedRows(dir)).values()].flat().sort()).toEqual(before);
  });

  test("a prototype file outside any layout gets its underlying from the contract symbol, never null", async () => {
    const dir = tempDir("loose");
    const rows = await readPackedRows(join(packed, "2025-11-17", "BANKNIFTY", "part-banknifty-0.parquet"));
    const b = reversedSlice(rows, 0, rows.length);
    const children: Record<string, arrow.Data> = {};
    for (const spec of PACKED_COLUMNS) {
      if (spec.name === "date" || spec.name === "underlying") continue;
      const col = b.columns.get(spec.name)!;
      children[spec.name] =
        spec.name === "timestamp"
          ? arrow.makeData({ type: new arrow.Int64(), length: b.length, data: col.values as BigInt64Array })
          : columnToArrow(col, b.length);
    }
    const path = join(dir, "old_export.parquet");
    writeFileSync(path, encodeArrowColumns(children, { rowGroupSize: 250_000, metadata: new Map() }));
    const r = await resort(opts(dir));
    expect(r.errors).toEqual([]);
    const got = await readPackedRows(path);
    const u = got.columns.get("underlying")!;
    expect(u.valid === null || u.valid.every((v) => v === 1)).toBe(true);
    expect(new Set(Array.from(u.values as Int32Array, (c) => u.dictionary![c]))).toEqual(new Set(["BANKNIFTY"]));
  });

  test("resort on a folder of its own leaves no _tickpack behind; --check never writes one", async () => {
    const dir = tempDir("nostate");
    const rows = await readPackedRows(join(packed, "2025-11-17", "NIFTY", "part-nifty-0.parquet"));
    mkdirSync(join(dir, "x"));
    writeFileSync(
      join(dir, "x", "mine.parquet"),
      encodeParquet([reversedSlice(rows, 0, rows.length)], PACKED_COLUMNS, {
        rowGroupSize: 4000,
        metadata: packedFileMetadata(rows.length),
      }),
    );
    expect(runScript("resort.ts", [dir, "--check"]).code).toBe(1);
    expect(existsSync(join(dir, "_tickpack"))).toBe(false);
    expect(runScript("resort.ts", [dir]).code).toBe(0);
    expect(existsSync(join(dir, "_tickpack"))).toBe(false);
    expect(runScript("resort.ts", [dir, "--check"]).code).toBe(0);
  });
});

describe("a lock left by a run on another host", () => {
  test("stops repack and resort with a way out; --break-lock takes it", async () => {
    const out = tempDir("foreign-lock");
    cpSync(packed, out, { recursive: true });
    const lock = join(out, "_tickpack", "lock");
    writeFileSync(lock, JSON.stringify({ pid: 1, host: `not-${hostname()}`, since: "2026-01-01T00:00:00.000Z" }));
    for (const [script, args] of [
      ["repack.ts", [raw, "--out", out]],
      ["resort.ts", [out]],
    ] as const) {
      const r = runScript(script, [...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`not-${hostname()}`);
      expect(r.stderr).toContain("--break-lock");
      expect(r.stderr).not.toContain("    at ");
      expect(existsSync(lock)).toBe(true);
    }
    const broken = runScript("repack.ts", [raw, "--out", out, "--break-lock"]);
    expect(broken.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });
});
