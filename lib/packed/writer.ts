/**
 * Writing a partition's part files so that a crash leaves the old partition or the new one:
 * every part goes to a synced temp file whose footer is read back, then a journal listing the
 * renames is made durable, then the renames happen. A run that finds a journal finishes it.
 */
import { mkdirSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fsyncDir, removeAbandonedTempFiles, tempPathFor, writeFileSynced } from "../atomic-file.ts";
import { withExclusiveCommitLock } from "./commit-lock.ts";
import { applyJournal, commitStep, fileIdentity, isRenamedFile, journalState, listJournals, readJournal, writeJournal, type Journal } from "./journal.ts";
import type { IsoDate } from "../ist-time.ts";
import type { ColumnBatch } from "../parquet/column-batch.ts";
import { partFileName, STATE_DIR, type Layout } from "./layout.ts";
import { gatherRows, type MergedPartition } from "./merge.ts";
import { PACKED_COLUMNS, PACKED_DICTIONARY_COLUMNS, PACKED_SORT_ORDER, TICKPACK_VERSION } from "./schema.ts";
import { closeParquet, encodeParquet, openParquet } from "../parquet/io.ts";

/** Default rows per part file: keeps a worker's wasm memory under ~2 GiB while writing. */
export const DEFAULT_PART_ROWS = 2_000_000;

/** Where and how to write one partition. */
export interface PartitionTarget {
  /** The output root (its `_tickpack/journal` holds commit journals, `_tickpack/commit.lock` the commit lock). */
  out: string;
  dir: string;
  layout: Layout;
  /** The partition's IST day, when it has one (recorded in the footer). */
  date: IsoDate | null;
  underlying: string;
  rowGroupSize: number;
  /** Most rows in one part file. */
  partRows: number;
  /** Part files that exist now and are replaced. */
  existingParts: string[];
  /** Path of part `index`; defaults to the layout's name in `dir`. */
  partPath?: (index: number) => string;
  /** Rows of each part (summing to the partition's rows); defaults to `partRows` each. */
  partSizes?: number[];
}

/** What a partition write produced. */
export interface WrittenPartition {
  parts: string[];
  bytes: number;
}

/** Footer metadata tickpack writes into every packed file: sort order, version, rows, and the partition's date and underlying where known (checked against the folder). */
export function packedFileMetadata(rows: number, partition: { date?: IsoDate | null; underlying?: string | null } = {}): Map<string, string> {
  const meta = new Map([
    ["tickpack.sort", PACKED_SORT_ORDER],
    ["tickpack.version", TICKPACK_VERSION],
    ["tickpack.rows", String(rows)],
  ]);
  if (partition.date) meta.set("tickpack.date", partition.date);
  if (partition.underlying) meta.set("tickpack.underlying", partition.underlying);
  return meta;
}

/** Output rows [start, end) of a merged partition, one row group at a time. */
function* rowGroupChunks(merged: MergedPartition, start: number, end: number, rowGroupSize: number): Generator<ColumnBatch> {
  for (let s = start; s < end; s += rowGroupSize) yield gatherRows(merged, s, Math.min(end, s + rowGroupSize));
  if (start === end) yield gatherRows(merged, start, end);
}

/** Writes a merged partition as its parts, replacing the old ones atomically. */
export async function writePartition(merged: MergedPartition, target: PartitionTarget): Promise<WrittenPartition> {
  mkdirSync(target.dir, { recursive: true });
  const sizes = target.partSizes ?? evenPartSizes(merged.length, target.partRows);
  const journal: Journal = { renames: [], removes: [] };
  let bytes = 0;
  try {
    let start = 0;
    for (let p = 0; p < sizes.length; p++) {
      const end = start + sizes[p];
      const final = target.partPath ? target.partPath(p) : join(target.dir, partFileName(target.layout, target.underlying, p));
      const temp = tempPathFor(final);
      journal.renames.push({ temp, final, size: 0, tailHash: "" });
      const encoded = encodeParquet(rowGroupChunks(merged, start, end, target.rowGroupSize), PACKED_COLUMNS, {
        rowGroupSize: target.rowGroupSize,
        metadata: packedFileMetadata(end - start, { date: target.date, underlying: target.underlying }),
        dictionaryColumns: PACKED_DICTIONARY_COLUMNS,
      });
      writeFileSynced(temp, encoded);
      bytes += encoded.length;
      await verifyWrittenFile(temp, end - start, target.rowGroupSize);
      Object.assign(journal.renames[p], fileIdentity(temp));
      start = end;
    }
    // The temps' names must be durable before a journal counts on them (an OS crash could lose them).
    for (const d of new Set(journal.renames.map((r) => dirname(r.temp)))) fsyncDir(d);
  } catch (e) {
    for (const r of journal.renames) rmSync(r.temp, { force: true });
    throw e;
  }
  const finals = new Set(journal.renames.map((r) => r.final));
  journal.removes = target.existingParts.filter((p) => !finals.has(p));
  const jpath = writeJournal(target.out, journal);
  withExclusiveCommitLock(target.out, () => {
    applyJournal(journal);
    commitStep();
    // Under the lock: a reader that sees no journal sees every rename done.
    unlinkSync(jpath);
  });
  return { parts: journal.renames.map((r) => r.final), bytes };
}

/** Rows of each part: `partRows` each, the last one shorter; one (possibly empty) part at least. */
function evenPartSizes(rows: number, partRows: number): number[] {
  const count = Math.max(1, Math.ceil(rows / partRows));
  return Array.from({ length: count }, (_, p) => Math.min(rows, (p + 1) * partRows) - p * partRows);
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

/** What recovery did. */
export interface Recovery {
  /** Interrupted commits finished. */
  finished: number;
  /** Commits that could not be finished because a file they counted on was lost; their partitions were left as they were. */
  rolledBack: number;
}

/** A commit that can be neither finished nor undone: a person must look at the partition. */
export class CommitRecoveryError extends Error {}

/**
 * Finishes the commits an interrupted run left in `root`'s journals (or rolls back one whose new files
 * were lost before any rename) and removes the temp files dead runs left; depends on `root` alone.
 */
export function recoverInterruptedWrites(root: string): Recovery {
  const recovery: Recovery = { finished: 0, rolledBack: 0 };
  const keep = new Set<string>();
  withExclusiveCommitLock(root, () => {
    for (const jpath of listJournals(root)) {
      const journal = readJournal(root, jpath);
      if (journalState(journal) === "lost") {
        if (journal.renames.some(isRenamedFile)) {
          throw new CommitRecoveryError(`${jpath}: a commit was interrupted after some of its files were renamed and another was lost (an OS crash?): the partition of ${journal.renames[0].final} may be incomplete; the journal is kept for inspection`);
        }
        // Nothing was renamed yet: the old version is whole. Its inputs are not in the manifest, so they are packed again.
        for (const r of journal.renames) rmSync(r.temp, { force: true });
        recovery.rolledBack++;
      } else {
        applyJournal(journal);
        recovery.finished++;
      }
      unlinkSync(jpath);
      fsyncDir(dirname(jpath));
    }
  });
  removeTempFilesUnder(root, keep);
  return recovery;
}

/** Removes dead runs' temp files in `dir` and every folder below it (links are not followed). */
function removeTempFilesUnder(dir: string, keep: Set<string>): void {
  removeAbandonedTempFiles(dir, keep);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTempFilesUnder(join(dir, entry.name), keep);
}
