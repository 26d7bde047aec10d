/**
 * Writing a partition's part files so that a crash leaves the old partition or the new one:
 * every part goes to a synced temp file whose footer is read back, then a journal listing the
 * renames is made durable, then the renames happen. A run that finds a journal finishes it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fsyncDir, TEMP_MARKER, tempPathFor, writeFileAtomic, writeFileSynced } from "../atomic-file.ts";
import type { ColumnBatch } from "../parquet/column-batch.ts";
import { partFileName, STATE_DIR, type Layout } from "./layout.ts";
import { gatherRows, type MergedPartition } from "./merge.ts";
import { PACKED_COLUMNS, PACKED_DICTIONARY_COLUMNS, PACKED_SORT_ORDER, TICKPACK_VERSION } from "./schema.ts";
import { closeParquet, encodeParquet, openParquet } from "../parquet/io.ts";

/** Default rows per part file: keeps a worker's wasm memory under ~2 GiB while writing. */
export const DEFAULT_PART_ROWS = 2_000_000;

/** Where and how to write one partition. */
export interface PartitionTarget {
  /** The output root (its `_tickpack/journal` holds commit journals). */
  out: string;
  dir: string;
  layout: Layout;
  underlying: string;
  rowGroupSize: number;
  /** Most rows in one part file. */
  partRows: number;
  /** Part files that exist now and are replaced. */
  existingParts: string[];
  /** Path of part `index`; defaults to the layout's name in `dir`. */
  partPath?: (index: number) => string;
}

/** What a partition write produced. */
export interface WrittenPartition {
  parts: string[];
  bytes: number;
}

interface Journal {
  renames: [string, string][];
  removes: string[];
}

/** The journal folder of an output root. */
function journalDir(out: string): string {
  return join(out, STATE_DIR, "journal");
}

/** Footer metadata tickpack writes into every packed file. */
export function packedFileMetadata(rows: number): Map<string, string> {
  return new Map([
    ["tickpack.sort", PACKED_SORT_ORDER],
    ["tickpack.version", TICKPACK_VERSION],
    ["tickpack.rows", String(rows)],
  ]);
}

/** Output rows [start, end) of a merged partition, one row group at a time. */
function* rowGroupChunks(merged: MergedPartition, start: number, end: number, rowGroupSize: number): Generator<ColumnBatch> {
  for (let s = start; s < end; s += rowGroupSize) yield gatherRows(merged, s, Math.min(end, s + rowGroupSize));
  if (start === end) yield gatherRows(merged, start, end);
}

/** Writes a merged partition as its parts, replacing the old ones atomically. */
export async function writePartition(merged: MergedPartition, target: PartitionTarget): Promise<WrittenPartition> {
  mkdirSync(target.dir, { recursive: true });
  const partCount = Math.max(1, Math.ceil(merged.length / target.partRows));
  const journal: Journal = { renames: [], removes: [] };
  let bytes = 0;
  try {
    for (let p = 0; p < partCount; p++) {
      const start = p * target.partRows;
      const end = Math.min(merged.length, start + target.partRows);
      const final = target.partPath ? target.partPath(p) : join(target.dir, partFileName(target.layout, target.underlying, p));
      const temp = tempPathFor(final);
      journal.renames.push([temp, final]);
      const encoded = encodeParquet(rowGroupChunks(merged, start, end, target.rowGroupSize), PACKED_COLUMNS, {
        rowGroupSize: target.rowGroupSize,
        metadata: packedFileMetadata(end - start),
        dictionaryColumns: PACKED_DICTIONARY_COLUMNS,
      });
      writeFileSynced(temp, encoded);
      bytes += encoded.length;
      await verifyWrittenFile(temp, end - start, target.rowGroupSize);
    }
  } catch (e) {
    for (const [temp] of journal.renames) rmSync(temp, { force: true });
    throw e;
  }
  const finals = new Set(journal.renames.map(([, f]) => f));
  journal.removes = target.existingParts.filter((p) => !finals.has(p));
  const jdir = journalDir(target.out);
  mkdirSync(jdir, { recursive: true });
  const jpath = join(jdir, `${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 10)}.json`);
  writeFileAtomic(jpath, new TextEncoder().encode(JSON.stringify(journal)));
  applyJournal(journal);
  unlinkSync(jpath);
  return { parts: journal.renames.map(([, f]) => f), bytes };
}

/** Reads a freshly written file's footer back: parquet-wasm can fail without saying so. */
async function verifyWrittenFile(path: string, rows: number, rowGroupSize: number): Promise<void> {
  const source = await openParquet(path);
  try {
    if (source.numRows !== rows) throw new Error(`${path}: wrote ${rows} rows but the footer says ${source.numRows}`);
    if (source.rowGroupRows.some((r) => r > rowGroupSize)) throw new Error(`${path}: a row group exceeds ${rowGroupSize} rows`);
  } finally {
    closeParquet(source);
  }
}

function applyJournal(journal: Journal): void {
  const dirs = new Set<string>();
  for (const [temp, final] of journal.renames) {
    // A rename already done by an interrupted run leaves no temp behind.
    if (existsSync(temp)) renameSync(temp, final);
    dirs.add(dirname(final));
  }
  for (const path of journal.removes) {
    rmSync(path, { force: true });
    dirs.add(dirname(path));
  }
  for (const d of dirs) fsyncDir(d);
}

/** Finishes the commits an interrupted run left in its journals and removes abandoned temp files; returns how many commits it finished. */
export function recoverInterruptedWrites(out: string): number {
  const jdir = journalDir(out);
  let finished = 0;
  const keep = new Set<string>();
  if (existsSync(jdir)) {
    for (const name of readdirSync(jdir)) {
      const path = join(jdir, name);
      if (name.includes(TEMP_MARKER)) {
        rmSync(path, { force: true });
        continue;
      }
      const journal = JSON.parse(readFileSync(path, "utf8")) as Journal;
      applyJournal(journal);
      for (const [temp] of journal.renames) keep.add(temp);
      unlinkSync(path);
      finished++;
    }
  }
  removeTempFiles(out, keep);
  return finished;
}

function removeTempFiles(dir: string, keep: Set<string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removeTempFiles(path, keep);
    else if (entry.name.includes(TEMP_MARKER) && !keep.has(path)) rmSync(path, { force: true });
  }
}
