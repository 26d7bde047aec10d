/**
 * Writing a partition's part files so that a crash leaves the old partition or the new one:
 * every part goes to a synced temp file whose footer is read back, then a journal listing the
 * renames is made durable, then the renames happen. A run that finds a journal finishes it.
 */
import { mkdirSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fsyncDir, removeAbandonedTempFiles } from "../atomic-file.ts";
import { withExclusiveCommitLock } from "./commit-lock.ts";
import {
  applyJournal,
  commitDone,
  commitStep,
  fileIdentity,
  isRenamedFile,
  journalState,
  listJournals,
  readJournal,
  writeJournal,
  type Journal,
} from "./journal.ts";
import type { IsoDate } from "../ist-time.ts";
import type { Layout } from "./layout.ts";
import { gatherRows, type MergedPartition } from "./merge.ts";
import { PartWriter, type WrittenPart } from "./part-writer.ts";
import { closeParquet, openParquet } from "../parquet/io.ts";

/** Rows per row group unless `--row-group-size` says otherwise (docs/formats.md: row groups ≤ 100,000 rows). */
export const DEFAULT_ROW_GROUP_SIZE = 100_000;

/** Rows per part file unless `--part-rows` says otherwise (repack and resort): no split, one file per partition (memory is bounded by a row group either way). */
export const DEFAULT_PART_ROWS = Number.POSITIVE_INFINITY;

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

/** Writes a merged partition as its parts, replacing the old ones atomically (encoded a row group at a time). */
export async function writePartition(merged: MergedPartition, target: PartitionTarget): Promise<WrittenPartition> {
  mkdirSync(target.dir, { recursive: true });
  const writer = new PartWriter({
    ...target,
    partSizes: target.partSizes ?? evenPartSizes(merged.length, target.partRows),
  });
  let parts: WrittenPart[];
  try {
    for (let s = 0; s < merged.length; s += target.rowGroupSize)
      writer.add(gatherRows(merged, s, Math.min(merged.length, s + target.rowGroupSize)));
    parts = writer.finish(gatherRows(merged, 0, 0));
    for (const p of parts) await verifyWrittenFile(p.temp, p.rows, target.rowGroupSize);
  } catch (e) {
    writer.abort();
    throw e;
  }
  commitParts(target.out, parts, target.existingParts);
  return { parts: parts.map((p) => p.final), bytes: parts.reduce((a, p) => a + p.bytes, 0) };
}

/**
 * Makes written temp parts the partition: their folder is fsynced, a journal listing the renames made
 * durable, then under the commit lock the renames happen and the old parts the new version no longer
 * has are removed. A crash at any point leaves the old partition or (via the journal) the new one.
 */
export function commitParts(out: string, parts: { temp: string; final: string }[], existingParts: string[]): void {
  const journal: Journal = { renames: [], removes: [] };
  try {
    for (const p of parts) journal.renames.push({ temp: p.temp, final: p.final, ...fileIdentity(p.temp) });
    // The temps' names must be durable before a journal counts on them (an OS crash could lose them).
    for (const d of new Set(journal.renames.map((r) => dirname(r.temp)))) fsyncDir(d);
  } catch (e) {
    for (const p of parts) rmSync(p.temp, { force: true });
    throw e;
  }
  const finals = new Set(journal.renames.map((r) => r.final));
  journal.removes = existingParts.filter((p) => !finals.has(p));
  const jpath = writeJournal(out, journal);
  withExclusiveCommitLock(out, () => {
    applyJournal(journal);
    commitStep();
    // Under the lock: a reader that sees no journal sees every rename done.
    unlinkSync(jpath);
  });
  commitDone();
}

/** Rows of each part: `partRows` each, the last one shorter; one (possibly empty) part at least. */
function evenPartSizes(rows: number, partRows: number): number[] {
  // One part needs no arithmetic with partRows (unbounded by default: 0 * Infinity is NaN).
  if (rows <= partRows) return [rows];
  const count = Math.ceil(rows / partRows);
  return Array.from({ length: count }, (_, p) => Math.min(rows, (p + 1) * partRows) - p * partRows);
}

/** Reads a freshly written file's footer back: parquet-wasm can fail without saying so. */
export async function verifyWrittenFile(path: string, rows: number, rowGroupSize: number): Promise<void> {
  const source = await openParquet(path);
  try {
    if (source.numRows !== rows) throw new Error(`${path}: wrote ${rows} rows but the footer says ${source.numRows}`);
    if (source.rowGroupRows.some((r) => r > rowGroupSize))
      throw new Error(`${path}: a row group exceeds ${rowGroupSize} rows`);
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

/** What recovery did, as repack's and resort's summaries report it (`recovered`). */
export interface RecoveredCommits {
  finished: number;
  rolled_back: number;
}

/** A recovery in the summaries' terms. */
export function recoveredCommits(r: Recovery): RecoveredCommits {
  return { finished: r.finished, rolled_back: r.rolledBack };
}

/** A commit that can be neither finished nor undone: a person must look at the partition. */
export class CommitRecoveryError extends Error {}

/**
 * Finishes the commits an interrupted run left in `root`'s journals (or rolls back one whose new files
 * were lost before any rename) and removes the temp files dead runs left; depends on `root` alone.
 */
export function recoverInterruptedWrites(root: string): Recovery {
  const recovery: Recovery = { finished: 0, rolledBack: 0 };
  withExclusiveCommitLock(root, () => {
    for (const jpath of listJournals(root)) {
      const journal = readJournal(root, jpath);
      if (journalState(journal) === "lost") {
        if (journal.renames.some(isRenamedFile)) {
          throw new CommitRecoveryError(
            `${jpath}: a commit was interrupted after some of its files were renamed and another was lost (an OS crash?): the partition of ${journal.renames[0].final} may be incomplete; the journal is kept for inspection`,
          );
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
  removeTempFilesUnder(root);
  return recovery;
}

/** Removes dead runs' temp files in `dir` and every folder below it (links are not followed). */
function removeTempFilesUnder(dir: string): void {
  removeAbandonedTempFiles(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) removeTempFilesUnder(join(dir, entry.name));
}
