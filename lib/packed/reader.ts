/** Reading packed part files back into columns (for merges and checks). */
import { columnFromArrow } from "../parquet/arrow-columns.ts";
import { concatBatches, nullColumn, type Column, type ColumnBatch, type ColumnSpec } from "../parquet/column-batch.ts";
import { PACKED_COLUMNS, PACKED_KINDS } from "./schema.ts";
import { closeParquet, openParquet, withRows, type ParquetSource } from "../parquet/io.ts";

/** A packed file holds columns tickpack does not write: merging or rewriting it would drop them. */
export class ExtraColumnsError extends Error {}

/** Columns of a file that are not packed columns (a user's own, e.g. `my_signal`). */
export function extraColumnsOf(source: ParquetSource): string[] {
  return source.fields.map((f) => f.name).filter((n) => !PACKED_KINDS.has(n));
}

/** One row group of a packed file: `specs` (default: every packed column), a missing one as nulls. */
export async function readPackedGroup(
  source: ParquetSource,
  g: number,
  specs: readonly ColumnSpec[] = PACKED_COLUMNS,
): Promise<ColumnBatch> {
  const present = new Set(source.fields.map((f) => f.name));
  const names = specs.filter((c) => present.has(c.name)).map((c) => c.name);
  return withRows(source, names, { rowGroups: [g] }, (table) => {
    const columns = new Map<string, Column>();
    for (const spec of specs) {
      const child = present.has(spec.name) ? table.getChild(spec.name) : null;
      columns.set(
        spec.name,
        child ? columnFromArrow(spec.name, child.data, spec.kind) : nullColumn(spec.kind, table.numRows),
      );
    }
    return { length: table.numRows, columns };
  });
}

/**
 * Every packed column of a packed file (missing ones as nulls), read one row group at a time.
 * Throws ExtraColumnsError when the file has other columns: every caller rewrites what it reads,
 * and dropping a user's columns silently is never right.
 */
export async function readPackedRows(path: string): Promise<ColumnBatch> {
  const source = await openParquet(path);
  try {
    const extra = extraColumnsOf(source);
    if (extra.length)
      throw new ExtraColumnsError(
        `has columns tickpack does not write (${extra.join(", ")}): rewriting it would drop them, so it is left as it is`,
      );
    const groups: ColumnBatch[] = [];
    for (let g = 0; g < source.rowGroupRows.length; g++) groups.push(await readPackedGroup(source, g));
    return groups.length === 1 ? groups[0] : concatBatches(PACKED_KINDS, groups);
  } finally {
    closeParquet(source);
  }
}
