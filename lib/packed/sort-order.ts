/** Checking rows against the packed sort order (expiry, opt_type by string with CE < PE, strike, timestamp). */
import type { Column, ColumnBatch } from "../parquet/column-batch.ts";

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

const optRank = (s: string | null) => (s === null ? -1 : s === "CE" ? 0 : s === "PE" ? 1 : 2);

/** Negative, zero or positive as key `a` sorts before, with or after `b` (nulls first). */
export function comparePackedKeys(a: PackedSortKey, b: PackedSortKey): number {
  const num = (x: number | bigint | null, y: number | bigint | null) =>
    x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
  return (
    num(a.expiry, b.expiry) ||
    optRank(a.optType) - optRank(b.optType) ||
    (a.optType === b.optType ? 0 : (a.optType ?? "") < (b.optType ?? "") ? -1 : 1) ||
    num(a.strike, b.strike) ||
    num(a.timestamp, b.timestamp)
  );
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
