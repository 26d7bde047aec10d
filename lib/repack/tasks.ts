/** The two units of repack work, each run inside a worker: index one raw file, pack one partition. */
import type { ColumnBatch } from "../parquet/column-batch.ts";
import { formatEpochDays, type EpochDays } from "../ist-time.ts";
import { ExtraColumnsError, readPackedRows } from "../packed/reader.ts";
import type { Layout } from "../packed/layout.ts";
import { mergePartition } from "../packed/merge.ts";
import { writePartition } from "../packed/writer.ts";
import { closeParquet, openParquet } from "../parquet/io.ts";
import { checkReadable, indexRawFile, readRawDay, readRejectedRows, type DaySpan, type Int64TimeUnits, type RawFileIndex, type ResolvedContract } from "../raw/file.ts";
import { writeRejectedRows } from "../packed/rejected.ts";
import { errorMessage } from "../error-message.ts";

/** Pass 1 task: check and index one raw file. */
export interface IndexTask {
  kind: "index";
  path: string;
  contract: ResolvedContract;
}

/** Keep one raw file's rejected rows under `<out>/_tickpack/rejected/` (rows listed by pass 1). */
export interface RejectTask {
  kind: "reject";
  out: string;
  path: string;
  units: Int64TimeUnits;
  rejected: RawFileIndex["rejected"];
}

/** One raw file's contribution to a partition. */
export interface PartitionSourcePlan {
  path: string;
  contract: ResolvedContract;
  /** Where the partition's day lies in the file (from pass 1). */
  span: DaySpan;
  /** Units of its INT64 time columns (from pass 1). */
  units: Int64TimeUnits;
}

/** Pass 2 task: build and write one partition. */
export interface PackTask {
  kind: "pack";
  out: string;
  dir: string;
  layout: Layout;
  rowGroupSize: number;
  partRows: number;
  day: EpochDays;
  underlying: string;
  existingParts: string[];
  sources: PartitionSourcePlan[];
  /** Only read the sources (finding which one traps the reader); write nothing. */
  probe?: boolean;
}

/** Outcome of a pack task. */
export type PackResult =
  | { ok: true; rowsBefore: number; rowsNew: number; rowsAfter: number; duplicatesDropped: number; bytes: number; parts: string[] }
  /** A raw source could not be read: the partition was not written; repack retries it without that file. */
  | { ok: false; failedSource: string; error: string }
  /** The existing partition could not be read: it is left untouched. */
  | { ok: false; failedPartition: string; error: string };


/** Runs pass 1 for one file. */
export async function runIndexTask(task: IndexTask): Promise<RawFileIndex> {
  checkReadable(task.path);
  const source = await openParquet(task.path);
  try {
    return await indexRawFile(source, task.contract);
  } finally {
    closeParquet(source);
  }
}

/** Reads one raw file's rejected rows and writes them, with their reason and the file's path, to its rejected-row file; returns the rows written. */
export async function runRejectTask(task: RejectTask): Promise<number> {
  checkReadable(task.path);
  const source = await openParquet(task.path);
  try {
    const rows = await readRejectedRows(source, task.rejected, task.units);
    writeRejectedRows(task.out, task.path, rows);
    return rows.length;
  } finally {
    closeParquet(source);
  }
}

/** Runs pass 2 for one partition: existing rows, then each raw source in order, merged and written. */
export async function runPackTask(task: PackTask): Promise<PackResult> {
  const batches: ColumnBatch[] = [];
  let rowsBefore = 0;
  for (const part of task.existingParts) {
    try {
      const b = await readPackedRows(part);
      rowsBefore += b.length;
      batches.push(b);
    } catch (e) {
      const why = e instanceof ExtraColumnsError ? `existing packed file ${e.message}` : `existing packed file cannot be read, left in place: ${errorMessage(e)}`;
      return { ok: false, failedPartition: part, error: why };
    }
  }
  let rowsNew = 0;
  for (const src of task.sources) {
    try {
      const source = await openParquet(src.path);
      try {
        const b = await readRawDay(source, src.contract, src.span, src.units);
        rowsNew += b.length;
        batches.push(b);
      } finally {
        closeParquet(source);
      }
    } catch (e) {
      return { ok: false, failedSource: src.path, error: `reading rows of ${formatEpochDays(task.day)}: ${errorMessage(e)}` };
    }
  }
  if (task.probe) return { ok: true, rowsBefore, rowsNew, rowsAfter: rowsBefore, duplicatesDropped: 0, bytes: 0, parts: [] };
  const merged = mergePartition(batches);
  const written = await writePartition(merged, {
    out: task.out,
    dir: task.dir,
    layout: task.layout,
    date: formatEpochDays(task.day),
    underlying: task.underlying,
    rowGroupSize: task.rowGroupSize,
    partRows: task.partRows,
    existingParts: task.existingParts,
  });
  return {
    ok: true,
    rowsBefore,
    rowsNew,
    rowsAfter: merged.length,
    duplicatesDropped: merged.duplicatesDropped,
    bytes: written.bytes,
    parts: written.parts,
  };
}
