/** The units of resort work, run inside a worker: check one partition, repair one partition. */
import { basename } from "node:path";
import { constantColumn, type ColumnBatch } from "../parquet/column-batch.ts";
import { istDaysOfTimestamps } from "../ist-time.ts";
import { checkPartition, type PartitionCheck } from "../packed/check.ts";
import { readPackedRows } from "../packed/reader.ts";
import type { PackedPartition } from "../packed/layout.ts";
import { mergePartition } from "../packed/merge.ts";
import { writePartition } from "../packed/writer.ts";
import { parsePartName, partFileName } from "../packed/layout.ts";
import { parseContractName } from "../raw/contract-name.ts";

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
  return v?.every((x) => x === 0) ?? false;
}

/**
 * Fills the columns a file may lack that can be derived: the IST date from timestamps, the underlying
 * from the path or, outside a layout, from each row's contract `symbol`. A row whose underlying cannot
 * be told fails the repair: a packed file never holds a null underlying.
 */
function deriveColumns(batch: ColumnBatch, partition: PackedPartition, file: string): void {
  if (allNull(batch, "date")) {
    const ts = batch.columns.get("timestamp")!;
    const days = istDaysOfTimestamps(ts.values as BigInt64Array, ts.valid);
    batch.columns.set("date", { kind: "date32", values: days, valid: ts.valid ? ts.valid.slice() : null });
  }
  if (!allNull(batch, "underlying")) return;
  if (partition.underlying) {
    batch.columns.set("underlying", constantColumn("dict", batch.length, partition.underlying));
    return;
  }
  const symbol = batch.columns.get("symbol")!;
  const names = symbol.dictionary ?? [];
  const underlyingOf = names.map((n) => {
    try {
      return parseContractName(n).underlying;
    } catch {
      return null;
    }
  });
  const codes = new Int32Array(batch.length);
  const dictionary: string[] = [];
  const codeOf = new Map<string, number>();
  for (let i = 0; i < batch.length; i++) {
    const u = symbol.valid && symbol.valid[i] === 0 ? null : underlyingOf[(symbol.values as Int32Array)[i]];
    if (u === null)
      throw new Error(
        `${file}: row ${i} has no underlying: not in the folder names (outside a date/underlying layout) and no contract symbol to read it from`,
      );
    let code = codeOf.get(u);
    if (code === undefined) codeOf.set(u, (code = dictionary.push(u) - 1));
    codes[i] = code;
  }
  batch.columns.set("underlying", { kind: "dict", values: codes, valid: null, dictionary });
}

/**
 * Whether a partition's files carry the layout's own part names (`part-nifty-0.parquet`, `part-0.parquet`).
 * Other files (hand-made, the prototype's outside a layout) keep their names when rewritten, so that
 * two of them never land on one name.
 */
function hasLayoutNames(p: PackedPartition): boolean {
  if (p.layout === null || p.underlying === null) return false;
  const stem = parsePartName(partFileName(p.layout, p.underlying, 0))!.stem;
  return p.parts.every((part) => parsePartName(basename(part))?.stem === stem);
}

/** Runs a repair task: read every part, sort (keeping duplicates), write atomically, verify the row count. */
export async function runRepairTask(task: RepairTask): Promise<RepairResult> {
  const p = task.partition;
  const batches: ColumnBatch[] = [];
  for (const part of p.parts) {
    const b = await readPackedRows(part);
    deriveColumns(b, p, part);
    batches.push(b);
  }
  const before = batches.reduce((a, b) => a + b.length, 0);
  const merged = mergePartition(batches, true);
  if (merged.length !== before)
    throw new Error(`${p.dir}: repair would change the row count (${before} → ${merged.length})`);
  const ownNames = !hasLayoutNames(p);
  const written = await writePartition(merged, {
    out: task.root,
    dir: p.dir,
    layout: p.layout ?? "seed",
    date: p.date,
    underlying: p.underlying ?? "",
    rowGroupSize: task.rowGroupSize,
    partRows: task.partRows,
    existingParts: p.parts,
    // Files with their own names are rewritten in place, each keeping its row count.
    partPath: ownNames ? (i) => p.parts[i] : undefined,
    partSizes: ownNames ? batches.map((b) => b.length) : undefined,
  });
  return { rows: merged.length, parts: written.parts };
}
