/**
 * What `resort --check` (checkPartition) and repack's merge do with packed parts that are corrupt,
 * in the wrong folder, or hold columns tickpack does not write.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as arrow from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { copyFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { columnToArrow } from "../../lib/parquet/arrow-columns.ts";
import { takeBatch, type ColumnBatch } from "../../lib/parquet/column-batch.ts";
import { encodeArrowColumns } from "../../lib/parquet/io.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { PACKED_COLUMNS, PACKED_DICTIONARY_COLUMNS } from "../../lib/packed/schema.ts";
import { packedFileMetadata } from "../../lib/packed/part-writer.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { resort } from "../../lib/resort/resort.ts";
import { cleanupTempDirs, genFixture, packedRows, repackFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);

let rawA: string; // Mon, Tue
let rawB: string; // Tue, Wed: overlaps rawA on Tuesday
let packed: string; // rawA packed
beforeAll(async () => {
  rawA = tempDir("ck-a");
  rawB = tempDir("ck-b");
  await genFixture(rawA, { days: 2 });
  await genFixture(rawB, { days: 2, start: parseIsoDate("2025-11-18") });
  packed = tempDir("ck-packed");
  await repackFixture([rawA], packed, { rowGroupSize: 2000 });
});
afterAll(cleanupTempDirs);

const checkOpts = (dir: string, check = true) => ({
  dir,
  check,
  dryRun: false,
  workers: 2,
  rowGroupSize: 100_000,
  partRows: 2_000_000,
});

function copyOfPacked(label: string): { dir: string; part: (date: string, u: string) => string } {
  const dir = tempDir(label);
  cpSync(packed, dir, { recursive: true });
  return {
    dir,
    part: (date, u) => listPackedPartitions(dir).find((p) => p.date === date && p.underlying === u)!.parts[0],
  };
}

/** XORs `n` bytes (at most half the chunk) in the middle of the first data page of `column` (row group 0). */
async function garbleColumn(path: string, column: string, bytesToGarble: number): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  const rows = (
    await c.runAndReadAll(
      `SELECT data_page_offset, total_compressed_size FROM parquet_metadata('${path}') WHERE path_in_schema = '${column}' AND row_group_id = 0`,
    )
  ).getRowObjectsJS();
  c.closeSync();
  const offset = Number(rows[0].data_page_offset);
  const size = Number(rows[0].total_compressed_size);
  const n = Math.min(bytesToGarble, size >> 1);
  expect(n).toBeGreaterThan(100);
  const bytes = new Uint8Array(readFileSync(path));
  const start = offset + Math.floor((size - n) / 2);
  for (let i = start; i < start + n; i++) bytes[i] ^= 0x5a;
  writeFileSync(path, bytes);
}

/** Writes `rows` (all packed columns) plus a user's column `my_signal` to `path`. */
function writeWithExtraColumn(path: string, rows: ColumnBatch) {
  const children: Record<string, arrow.Data> = {};
  for (const spec of PACKED_COLUMNS) children[spec.name] = columnToArrow(rows.columns.get(spec.name)!, rows.length);
  children.my_signal = arrow.makeData({
    type: new arrow.Float64(),
    length: rows.length,
    data: Float64Array.from({ length: rows.length }, (_, i) => i * 0.5),
  });
  writeFileSync(
    path,
    encodeArrowColumns(children, {
      rowGroupSize: 2000,
      metadata: packedFileMetadata(rows.length),
      dictionaryColumns: PACKED_DICTIONARY_COLUMNS,
    }),
  );
}

function reversed(b: ColumnBatch): ColumnBatch {
  return takeBatch(
    b,
    Int32Array.from({ length: b.length }, (_, i) => b.length - 1 - i),
  );
}

describe("resort --check", () => {
  test("garbled bytes in a data page of a non-key column are found (every column is decoded)", async () => {
    const { dir, part } = copyOfPacked("ck-garbled");
    const victim = part("2025-11-17", "NIFTY");
    await garbleColumn(victim, "avgPrice", 2000);
    const s = await resort(checkOpts(dir));
    expect(s.failed).toBe(1);
    expect(s.errors.map((e) => e.file)).toEqual([victim]);
    expect(s.errors[0].error).toContain("cannot be read");
  });

  test("a part copied into another date/underlying folder is a problem a rewrite cannot fix", async () => {
    const { dir, part } = copyOfPacked("ck-moved");
    const other = part("2025-11-18", "BANKNIFTY");
    const sameUnderlying = part("2025-11-18", "NIFTY");
    copyFileSync(part("2025-11-17", "NIFTY"), other);
    copyFileSync(part("2025-11-17", "NIFTY"), sameUnderlying);
    const s = await resort(checkOpts(dir));
    expect(s.failed).toBe(2);
    const byFile = new Map(s.errors.map((e) => [e.file, e.error]));
    expect(byFile.get(other)).toBe(
      "belongs to another partition: row 0 has date 2025-11-17, the folder is 2025-11-18/BANKNIFTY",
    );
    expect(byFile.get(sameUnderlying)).toBe(
      "belongs to another partition: row 0 has date 2025-11-17, the folder is 2025-11-18/NIFTY",
    );
    // Not rewritten either.
    const fix = await resort(checkOpts(dir, false));
    expect(fix.rewritten).toEqual([]);
    expect(fix.failed).toBe(2);
  });

  test("a user's extra column: fine while sorted; when a rewrite is needed the file is left as it is, named with the column", async () => {
    const { dir, part } = copyOfPacked("ck-extra");
    const sorted = part("2025-11-17", "NIFTY");
    const unsorted = part("2025-11-18", "NIFTY");
    writeWithExtraColumn(sorted, await readPackedRows(sorted));
    writeWithExtraColumn(unsorted, reversed(await readPackedRows(unsorted)));
    const before = readFileSync(unsorted);
    const check = await resort(checkOpts(dir));
    expect(check.problems.filter((p) => p.file === sorted)).toEqual([]);
    const s = await resort(checkOpts(dir, false));
    expect(s.rewritten).toEqual([]);
    expect(s.errors.map((e) => e.file)).toEqual([unsorted]);
    expect(s.errors[0].error).toContain("has columns tickpack does not write (my_signal)");
    expect(readFileSync(unsorted).equals(before)).toBe(true);
  });
});

describe("repack merging into a partition whose part cannot be merged", () => {
  async function mergeInto(label: string, spoil: (part: string) => Promise<void> | void) {
    const { dir, part } = copyOfPacked(label);
    const victim = part("2025-11-18", "NIFTY");
    const original = readFileSync(victim);
    await spoil(victim);
    const spoiled = readFileSync(victim);
    const s = await repackFixture([rawB], dir, { calendarPath: join(rawB, "expiry_calendar.csv") });
    return { dir, victim, original, spoiled, s };
  }

  async function expectRetriedAfterRepair(dir: string, victim: string, original: Buffer) {
    // The raw inputs of that partition were not recorded: once the part is repaired, they are packed.
    writeFileSync(victim, original);
    const again = await repackFixture([rawB], dir, { calendarPath: join(rawB, "expiry_calendar.csv") });
    expect(again.errors).toEqual([]);
    expect(again.files_in).toBeGreaterThan(0);
    const union = tempDir("ck-union");
    await repackFixture([rawA, rawB], union);
    expect(await packedRows(dir)).toEqual(await packedRows(union));
  }

  test("a corrupt part: the error names the part, not the raw files; the partition is left as it was", async () => {
    const { dir, victim, original, spoiled, s } = await mergeInto("ck-merge-corrupt", (p) =>
      garbleColumn(p, "avgPrice", 2000),
    );
    expect(s.errors.map((e) => e.file)).toEqual([victim]);
    expect(s.errors[0].error).not.toContain("\n");
    expect(readFileSync(victim).equals(spoiled)).toBe(true);
    // The other partitions of rawB (Wednesday, and Tuesday's BANKNIFTY) were packed.
    expect(s.partitions_written).toBe(3);
    expect(s.rows_in).toBe(s.rows_out + s.duplicates_dropped + s.rows_without_timestamp);
    await expectRetriedAfterRepair(dir, victim, original);
  });

  test("a part with a user's extra column: the error names the part and the column; nothing dropped", async () => {
    const { dir, victim, original, spoiled, s } = await mergeInto("ck-merge-extra", async (p) =>
      writeWithExtraColumn(p, await readPackedRows(p)),
    );
    expect(s.errors.map((e) => e.file)).toEqual([victim]);
    expect(s.errors[0].error).toContain("my_signal");
    expect(readFileSync(victim).equals(spoiled)).toBe(true);
    await expectRetriedAfterRepair(dir, victim, original);
  });
});
