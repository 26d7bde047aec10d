/** Checking rows against the packed sort order: the contract order (contract-key.ts), then timestamp. */
import type { Column, ColumnBatch } from "../parquet/column-batch.ts";
import { compareContractKeys } from "./contract-key.ts";

/** Sort key of one row, for messages and comparisons. */
export interface PackedSortKey {
  expiry: number | null;
  optType: string | null;
  strike: number | null;
  timestamp: bigint | null;
}

function at(c: Column | undefined, i: number): number | bigint | string | null {
  if (!c || (c.valid && c.valid[i] === 0)) return null;
  return c.kind === "dict" ? c.dictionary![(c.values as Int32Array)[i]] : c.values[i];
}

/** The sort key of row `i`. */
export function sortKeyAt(batch: ColumnBatch, i: number): PackedSortKey {
  const c = batch.columns;
  return {
    expiry: at(c.get("expiry"), i) as number | null,
    optType: at(c.get("opt_type"), i) as string | null,
    strike: at(c.get("strike"), i) as number | null,
    timestamp: at(c.get("timestamp"), i) as bigint | null,
  };
}

/** Negative, zero or positive as key `a` sorts before, with or after `b` (nulls first). */
export function comparePackedKeys(a: PackedSortKey, b: PackedSortKey): number {
  const ta = a.timestamp;
  const tb = b.timestamp;
  return compareContractKeys(a, b) || (ta === tb ? 0 : ta === null ? -1 : tb === null ? 1 : ta < tb ? -1 : 1);
}

/** Index of the first row that sorts before its predecessor, or -1 when the batch is in packed order. */
export function firstUnsortedRow(batch: ColumnBatch): number {
  let prev = batch.length > 0 ? sortKeyAt(batch, 0) : null;
  for (let i = 1; i < batch.length; i++) {
    const cur = sortKeyAt(batch, i);
    if (comparePackedKeys(prev!, cur) > 0) return i;
    prev = cur;
  }
  return -1;
}
