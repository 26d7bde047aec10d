/** A part served from the column cache: its mapped whole-part views (no decode, no copy), narrowed to the row groups read. */
import type { PartCache } from "../cache/part-cache.ts";
import { sliceBits } from "../parquet/c-data.ts";
import type { ColumnViews, PartSource, RowSelection } from "./part-source.ts";

/** Rows [s, e) of a batch of column views. */
function sliceViews(v: ColumnViews, s: number, e: number): ColumnViews {
  const n = e - s;
  return {
    length: n,
    columns: v.columns.map((c) => {
      const validity = sliceBits(c.validity, s, n);
      return {
        ...c,
        length: n,
        nullCount: validity ? -1 : 0,
        validity,
        values: c.values ? c.values.subarray(s, e) : null,
        strings: c.strings ? c.strings.slice(s, e) : null,
      };
    }),
  };
}

/**
 * Rows [start, end) of the part for each row group of `selection` that keeps any, in its order:
 * `offset` and `limit` count over the selected groups' rows, as parquet-wasm counts them.
 */
export function selectedRowRanges(rowGroupRows: readonly number[], selection: RowSelection): [number, number][] {
  const starts = [0];
  for (const r of rowGroupRows) starts.push(starts[starts.length - 1] + r);
  const from = selection.offset ?? 0;
  const to = selection.limit === undefined ? Number.POSITIVE_INFINITY : from + selection.limit;
  const out: [number, number][] = [];
  let seen = 0;
  for (const g of selection.rowGroups) {
    const rows = rowGroupRows[g];
    if (rows === undefined) throw new RangeError(`row group ${g} of ${rowGroupRows.length}`);
    const s = Math.max(from, seen);
    const e = Math.min(to, seen + rows);
    if (e > s) out.push([starts[g] + s - seen, starts[g] + e - seen]);
    seen += rows;
  }
  return out;
}

/**
 * The part `cache` holds complete for `columns` (PartCache.complete), as a source: its row groups
 * are the ones its column files record. Only `columns` can be read; the cache stays the caller's
 * to release (no view may be used after), so `close` has nothing to do.
 */
export function cacheSource(path: string, cache: PartCache, columns: readonly string[]): PartSource {
  const whole = cache.views(columns);
  const rowGroupRows = cache.mapped.get(columns[0])?.header.rowGroupRows ?? [];
  return {
    kind: "cache",
    path,
    rowGroupRows,
    columns: whole.columns.map((c) => c.field),
    async read(asked, selection, use) {
      const at = asked.map((name) => {
        const k = columns.indexOf(name);
        if (k < 0) throw new Error(`${path}: column ${name} is not among the cached columns read`);
        return k;
      });
      const picked: ColumnViews = { length: whole.length, columns: at.map((k) => whole.columns[k]) };
      return use(selectedRowRanges(rowGroupRows, selection).map(([s, e]) => sliceViews(picked, s, e)));
    },
    close() {},
  };
}
