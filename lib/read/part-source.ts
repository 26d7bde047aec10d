/**
 * One part of a partition as the read path sees it, whatever serves it: the column cache's mapped
 * files, a native page decoder, or parquet-wasm. The run loop asks every source the same way.
 */
import type { CField } from "../parquet/c-data.ts";
import type { ColumnViews, RowSelection } from "../parquet/source.ts";

export type { ColumnViews, RowSelection } from "../parquet/source.ts";

/** A part's columns, read by row group (or a window of rows in them). */
export interface PartSource {
  readonly kind: "cache" | "native" | "wasm";
  readonly path: string;
  /** Rows of each row group, in file order. */
  readonly rowGroupRows: readonly number[];
  /** Top-level columns present, in file order, with their C Data Interface formats (lib/parquet/c-data.ts CField). */
  readonly columns: readonly CField[];
  /** Calls `use` with the named columns of the selected rows (RowSelection of lib/parquet/source.ts), one ColumnViews per row group read (columns in the order asked); the views are valid only during `use`. */
  read<T>(columns: readonly string[], selection: RowSelection, use: (batches: ColumnViews[]) => T): Promise<T>;
  close(): void;
}

/** Rows of the whole part. */
export function partRows(source: Pick<PartSource, "rowGroupRows">): number {
  let n = 0;
  for (const r of source.rowGroupRows) n += r;
  return n;
}
