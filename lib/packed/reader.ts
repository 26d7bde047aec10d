/** Reading packed part files back into columns (for merges and checks). */
import { columnFromArrow } from "../parquet/arrow-columns.ts";
import { concatBatches, nullColumn, type Column, type ColumnBatch, type ColumnKind } from "../parquet/column-batch.ts";
import { PACKED_COLUMNS } from "./schema.ts";
import { closeParquet, openParquet, withRows } from "../parquet/io.ts";

const PACKED_KINDS: ReadonlyMap<string, ColumnKind> = new Map(PACKED_COLUMNS.map((c) => [c.name, c.kind]));

/** Every packed column of a packed file (missing ones as nulls), read one row group at a time. */
export async function readPackedRows(path: string): Promise<ColumnBatch> {
  const source = await openParquet(path);
  try {
    const present = new Set(source.fields.map((f) => f.name));
    const names = PACKED_COLUMNS.filter((c) => present.has(c.name)).map((c) => c.name);
    const groups: ColumnBatch[] = [];
    for (let g = 0; g < source.rowGroupRows.length; g++) {
      groups.push(
        await withRows(source, names, { rowGroups: [g] }, (table) => {
          const columns = new Map<string, Column>();
          for (const spec of PACKED_COLUMNS) {
            const child = present.has(spec.name) ? table.getChild(spec.name) : null;
            columns.set(spec.name, child ? columnFromArrow(spec.name, child.data, spec.kind) : nullColumn(spec.kind, table.numRows));
          }
          return { length: table.numRows, columns };
        }),
      );
    }
    return groups.length === 1 ? groups[0] : concatBatches(PACKED_KINDS, groups);
  } finally {
    closeParquet(source);
  }
}
