/** Small generated data sets and canonical views of packed output, shared by the tests. */
import { mkdtempSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_DEFECTS, generateRawDataset, type GenOptions } from "../../lib/gen/gen.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { PACKED_COLUMNS } from "../../lib/packed/schema.ts";
import { DEFAULT_PART_ROWS } from "../../lib/packed/writer.ts";
import { repack, type RepackOptions, type RepackSummary } from "../../lib/repack/repack.ts";
import type { Column } from "../../lib/parquet/column-batch.ts";

const made: string[] = [];

/** A fresh temp folder, removed by cleanupTempDirs(). */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tickpack-${label}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir() made. */
export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * Stamps `files` with a modification time in the past and returns a check that lists those written
 * since (their mtime or inode changed). Comparing fresh mtimes proves little: file times are as
 * coarse as the kernel's clock tick, so a rewrite soon after the first write can keep the same one.
 */
export function stampToDetectWrites(files: string[]): () => string[] {
  const stamp = new Date("2001-01-01T00:00:00Z");
  const inodes = new Map(
    files.map((f) => {
      utimesSync(f, stamp, stamp);
      return [f, statSync(f).ino];
    }),
  );
  return () =>
    files.filter((f) => {
      const s = statSync(f, { throwIfNoEntry: false });
      return !s || s.mtimeMs !== stamp.getTime() || s.ino !== inodes.get(f);
    });
}

/** A ~40k-row raw data set (NIFTY + BANKNIFTY, 2 days, 3 strikes each side… scaled down by tick-prob). */
export async function genFixture(out: string, overrides: Partial<GenOptions> = {}) {
  return generateRawDataset({
    out,
    days: 2,
    start: parseIsoDate("2025-11-17"),
    underlyings: ["NIFTY", "BANKNIFTY"],
    seed: 7,
    strikesEachSide: 1,
    tickProb: 0.05,
    defects: { ...DEFAULT_DEFECTS, nullRate: 0.01, zeroPriceRate: 0.005, disorderRate: 0.01 },
    rowGroupSize: 1000,
    workers: 2,
    ...overrides,
  });
}

/** A packed folder made from `genFixture(overrides)` with test defaults, in fresh temp folders named by `label`. */
export async function packedFixture(label: string, overrides: Partial<GenOptions> = {}): Promise<string> {
  const raw = tempDir(`${label}-raw`);
  await genFixture(raw, overrides);
  const packed = tempDir(`${label}-packed`);
  await repackFixture([raw], packed);
  return packed;
}

/** repack with test defaults (2 workers, small row groups). */
export function repackFixture(
  rawDirs: string[],
  out: string,
  overrides: Partial<RepackOptions> = {},
): Promise<RepackSummary> {
  return repack({ rawDirs, out, workers: 2, rowGroupSize: 5000, partRows: DEFAULT_PART_ROWS, ...overrides });
}

function cell(c: Column, i: number): string {
  if (c.valid && c.valid[i] === 0) return "∅";
  return c.kind === "dict" ? c.dictionary![(c.values as Int32Array)[i]] : String(c.values[i]);
}

/** Every packed partition under `out` as `date/underlying` → rows (all columns, as text), parts concatenated. */
export async function packedRows(out: string): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const p of listPackedPartitions(out)) {
    const rows: string[] = [];
    for (const part of p.parts) {
      const b = await readPackedRows(part);
      const cols = PACKED_COLUMNS.map((s) => b.columns.get(s.name)!);
      for (let i = 0; i < b.length; i++) rows.push(cols.map((c) => cell(c, i)).join("|"));
    }
    result.set(`${p.date}/${p.underlying}`, rows);
  }
  return result;
}
