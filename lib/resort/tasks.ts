/** The units of resort work, run inside a worker: check one partition, repair one partition. */
import { constantColumn, type ColumnBatch } from "../parquet/column-batch.ts";
import { istDaysOfTimestamps } from "../ist-time.ts";
import { checkPartition, type PartitionCheck } from "../packed/check.ts";
import { readPackedRows } from "../packed/reader.ts";
import type { PackedPartition } from "../packed/layout.ts";
import { mergePartition } from "../packed/merge.ts";
import { writePartition } from "../packed/writer.ts";

/** Check a partition. */
export interface CheckTask {
  kind: "check";
  partition: PackedPartition;
  rowGroupLimit: number;
}

/** Rewrite a partition in packed form, keeping every row. */
export interface RepairTask {
  kind: "repair";
  partition: PackedPartition;
  /** Folder whose `_tickpack/journal` makes the rewrite atomic. */
  root: string;
  rowGroupSize: number;
  partRows: number;
}

/** What a repair wrote. */
export interface RepairResult {
  rows: number;
  parts: string[];
}

/** Runs a check task. */
export function runCheckTask(task: CheckTask): Promise<PartitionCheck> {
  return checkPartition(task.partition, task.rowGroupLimit);
}

function allNull(batch: ColumnBatch, name: string): boolean {
  const v = batch.columns.get(name)!.valid;
  return v !== null && v.every((x) => x === 0);
}

/** Fills the columns a file may lack that can be derived: the IST date from timestamps, the underlying from the path. */
function deriveColumns(batch: ColumnBatch, partition: PackedPartition): void {
  if (allNull(batch, "date")) {
    const ts = batch.columns.get("timestamp")!;
    const days = istDaysOfTimestamps(ts.values as BigInt64Array, ts.valid);
    batch.columns.set("date", { kind: "date32", values: days, valid: ts.valid ? ts.valid.slice() : null });
  }
  if (allNull(batch, "underlying") && partition.underlying) batch.columns.set("underlying", constantColumn("dict", batch.length, partition.underlying));
}

/** Runs a repair task: read every part, sort (keeping duplicates), write atomically, verify the row count. */
export async function runRepairTask(task: RepairTask): Promise<RepairResult> {
  const p = task.partition;
  const batches: ColumnBatch[] = [];
  for (const part of p.parts) {
    const b = await readPackedRows(part);
    deriveColumns(b, p);
    batches.push(b);
  }
  const before = batches.reduce((a, b) => a + b.length, 0);
  const merged = mergePartition(batches, true);
  if (merged.length !== before) throw new Error(`${p.dir}: repair would change the row count (${before} → ${merged.length})`);
  // Files outside a known layout keep their own name (one part).
  const single = p.layout === null || p.underlying === null ? p.parts[0] : null;
  const written = await writePartition(merged, {
    out: task.root,
    dir: p.dir,
    layout: p.layout ?? "seed",
    underlying: p.underlying ?? "",
    rowGroupSize: task.rowGroupSize,
    partRows: single ? Math.max(1, merged.length) : task.partRows,
    existingParts: p.parts,
    partPath: single ? () => single : undefined,
  });
  return { rows: merged.length, parts: written.parts };
}
