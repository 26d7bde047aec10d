/** The two units of repack work, each run inside a worker: index one raw file, pack one partition. */
import { mkdirSync } from "node:fs";
import { nullColumn, type ColumnBatch } from "../parquet/column-batch.ts";
import { compareContractKeys, contractKeyOf } from "../packed/contract-key.ts";
import { PartCursor, PartReadError, UnsortedPartitionError, type KeyRange } from "../packed/part-cursor.ts";
import { join } from "node:path";
import { PartWriter } from "../packed/part-writer.ts";
import { PACKED_COLUMNS } from "../packed/schema.ts";
import { formatEpochDays, type EpochDays } from "../ist-time.ts";
import { ExtraColumnsError, readPackedRows } from "../packed/reader.ts";
import type { Layout } from "../packed/layout.ts";
import { gatherRows, mergePartition } from "../packed/merge.ts";
import { commitParts, verifyWrittenFile, writePartition } from "../packed/writer.ts";
import { closeParquet, openParquet } from "../parquet/io.ts";
import {
  checkReadable,
  indexRawFile,
  readRawDay,
  readRejectedRows,
  type DaySpan,
  type Int64TimeUnits,
  type RawFileIndex,
  type ResolvedContract,
} from "../raw/file.ts";
import { writeRejectedRows } from "../packed/rejected.ts";
import { errorMessage } from "../error-message.ts";

// Fault injection for the crash tests: SIGKILL this process once a slice task has written its
// segment file, before anything of the partition is committed.
const KILL_AFTER_SEGMENT = process.env.TICKPACK_TEST_KILL_AFTER_SEGMENT === "1";

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
  /**
   * A share of the partition for one worker (its raw sources are those in the range): the rows of
   * these contracts go to one temp segment file, which the parent stitches with the other shares'
   * segments into the part and commits.
   */
  slice?: KeyRange;
}

/** Outcome of a pack task. */
export type PackResult =
  /** `segment`: a slice task's temp file (null when its range held no rows); it is not committed. */
  | {
      ok: true;
      rowsBefore: number;
      rowsNew: number;
      rowsAfter: number;
      duplicatesDropped: number;
      bytes: number;
      parts: string[];
      segment?: string | null;
    }
  /** A raw source could not be read: the partition was not written; repack retries it without that file. */
  | { ok: false; failedSource: string; error: string }
  /** The existing partition could not be read: it is left untouched. */
  | { ok: false; failedPartition: string; error: string }
  /** A slice task found the existing parts not contract-major: the partition must be packed whole. */
  | { ok: false; unsorted: true };

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

/**
 * Runs pass 2 for one partition, contract by contract (memory: one contract-day and one row group);
 * parts that are not contract-major (hand-made, foreign) are merged the whole-partition way.
 */
export async function runPackTask(task: PackTask): Promise<PackResult> {
  try {
    return await packByContract(task);
  } catch (e) {
    if (e instanceof UnsortedPartitionError)
      return task.slice ? { ok: false, unsorted: true } : packWholePartition(task);
    throw e;
  }
}

/** One raw source's rows of the partition's day, or the failure that names it. */
async function readSourceDay(
  src: PartitionSourcePlan,
  day: EpochDays,
): Promise<ColumnBatch | { ok: false; failedSource: string; error: string }> {
  try {
    const source = await openParquet(src.path);
    try {
      return await readRawDay(source, src.contract, src.span, src.units);
    } finally {
      closeParquet(source);
    }
  } catch (e) {
    return { ok: false, failedSource: src.path, error: `reading rows of ${formatEpochDays(day)}: ${errorMessage(e)}` };
  }
}

/** A batch of no rows with every packed column (the schema of an empty part). */
function emptyPackedBatch(): ColumnBatch {
  return { length: 0, columns: new Map(PACKED_COLUMNS.map((c) => [c.name, nullColumn(c.kind, 0)])) };
}

/**
 * Builds the partition by walking contracts in packed order: each contract's rows from the existing
 * parts (a contiguous run) and from the raw files that hold it (one contract per file) are merged,
 * and appended to the part being written, whose row groups are encoded as they fill.
 */
async function packByContract(task: PackTask): Promise<PackResult> {
  let cursor: PartCursor;
  try {
    cursor = await PartCursor.open(task.existingParts, task.slice);
  } catch (e) {
    if (e instanceof PartReadError) return { ok: false, failedPartition: e.part, error: e.message };
    throw e;
  }
  // Stable: sources of one contract keep input order (ties keep input order in the packed file).
  const raws = task.sources
    .map((s, i) => ({ s, i, key: contractKeyOf(s.contract) }))
    .sort((a, b) => compareContractKeys(a.key, b.key) || a.i - b.i);
  if (!task.probe) mkdirSync(task.dir, { recursive: true });
  const target = {
    dir: task.dir,
    layout: task.layout,
    date: formatEpochDays(task.day),
    underlying: task.underlying,
    rowGroupSize: task.rowGroupSize,
  };
  const writer = task.probe
    ? null
    : task.slice
      ? new PartWriter({ ...target, partSizes: [Infinity], partPath: () => join(task.dir, "slice") })
      : new PartWriter({ ...target, partSizes: [task.partRows] });
  let rowsNew = 0;
  let rowsAfter = 0;
  let duplicates = 0;
  try {
    for (let r = 0; ; ) {
      const ek = await cursor.peek();
      const rk = r < raws.length ? raws[r].key : null;
      if (!ek && !rk) break;
      const key = !rk || (ek && compareContractKeys(ek, rk) <= 0) ? ek! : rk;
      const batches = ek && compareContractKeys(ek, key) === 0 ? await cursor.take() : [];
      for (; r < raws.length && compareContractKeys(raws[r].key, key) === 0; r++) {
        const b = await readSourceDay(raws[r].s, task.day);
        if (!("length" in b)) {
          writer?.abort();
          return b;
        }
        rowsNew += b.length;
        batches.push(b);
      }
      if (!writer) continue;
      const merged = mergePartition(batches);
      duplicates += merged.duplicatesDropped;
      rowsAfter += merged.length;
      writer.add(gatherRows(merged, 0, merged.length));
    }
    const rowsBefore = cursor.rows;
    if (!writer)
      return { ok: true, rowsBefore, rowsNew, rowsAfter: rowsBefore, duplicatesDropped: 0, bytes: 0, parts: [] };
    if (task.slice) {
      const segment = rowsAfter === 0 ? null : writer.finish(emptyPackedBatch())[0].temp;
      if (!segment) writer.abort();
      else if (KILL_AFTER_SEGMENT) process.kill(process.pid, "SIGKILL");
      return { ok: true, rowsBefore, rowsNew, rowsAfter, duplicatesDropped: duplicates, bytes: 0, parts: [], segment };
    }
    const parts = writer.finish(emptyPackedBatch());
    for (const p of parts) await verifyWrittenFile(p.temp, p.rows, task.rowGroupSize);
    commitParts(task.out, parts, task.existingParts);
    return {
      ok: true,
      rowsBefore,
      rowsNew,
      rowsAfter,
      duplicatesDropped: duplicates,
      bytes: parts.reduce((a, p) => a + p.bytes, 0),
      parts: parts.map((p) => p.final),
    };
  } catch (e) {
    writer?.abort();
    if (e instanceof PartReadError) return { ok: false, failedPartition: e.part, error: e.message };
    throw e;
  } finally {
    cursor.close();
  }
}

/** Pass 2 the whole-partition way: existing rows, then each raw source in order, merged in memory and written. */
async function packWholePartition(task: PackTask): Promise<PackResult> {
  const batches: ColumnBatch[] = [];
  let rowsBefore = 0;
  for (const part of task.existingParts) {
    try {
      const b = await readPackedRows(part);
      rowsBefore += b.length;
      batches.push(b);
    } catch (e) {
      const why =
        e instanceof ExtraColumnsError
          ? `existing packed file ${e.message}`
          : `existing packed file cannot be read, left in place: ${errorMessage(e)}`;
      return { ok: false, failedPartition: part, error: why };
    }
  }
  let rowsNew = 0;
  for (const src of task.sources) {
    const b = await readSourceDay(src, task.day);
    if (!("length" in b)) return b;
    rowsNew += b.length;
    batches.push(b);
  }
  if (task.probe)
    return { ok: true, rowsBefore, rowsNew, rowsAfter: rowsBefore, duplicatesDropped: 0, bytes: 0, parts: [] };
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
