/**
 * A decoding source whose reads are written to the column cache on the way: a cache file holds a
 * whole part, so the fill goes on only while every row group is read whole, in order, with every
 * column being filled; any other read abandons it (the part then stays uncached).
 */
import type { PartCache } from "../cache/part-cache.ts";
import { expandCodes } from "../parquet/c-data.ts";
import { keyBatch, stableOptCodes } from "./driver-batch.ts";
import { partRows, type PartSource } from "./part-source.ts";

/** A source that fills the cache with what is read through it. */
export interface FillingSource extends PartSource {
  /** Commits the files filled (once every row group was read); `close` without it abandons them. */
  commitFill(): void;
}

/** `source` (holding every one of `columns`), its reads appended to `cache`'s files for `columns`; closing it closes `source`. */
export function fillingSource(source: PartSource, cache: PartCache, columns: readonly string[]): FillingSource {
  const fields = new Map(source.columns.map((f) => [f.name, f]));
  cache.startFill(
    columns.map((c) => fields.get(c)!),
    partRows(source),
    [...source.rowGroupRows],
  );
  let next = 0; // the row group the files expect next
  let filling = true;
  const abandon = () => {
    filling = false;
    cache.abortFill();
  };
  return {
    kind: source.kind,
    path: source.path,
    rowGroupRows: source.rowGroupRows,
    columns: source.columns,
    read(asked, selection, use) {
      if (!filling) return source.read(asked, selection, use);
      const inOrder = selection.rowGroups.every((g, k) => g === next + k);
      const whole = selection.offset === undefined && selection.limit === undefined;
      if (!inOrder || !whole || !columns.every((c) => asked.includes(c))) {
        abandon();
        return source.read(asked, selection, use);
      }
      return source.read(asked, selection, (batches) => {
        // Cached before `use` runs: a kernel that writes through its pointers changes only this batch.
        for (const b of batches) {
          // The cache keeps values: a column read as codes is expanded for it.
          const coded = b.columns.some((c) => c.codeValues || c.codeRuns);
          const values = coded ? { ...b, columns: b.columns.map(expandCodes) } : b;
          cache.append(values, asked, () => stableOptCodes(keyBatch(values, asked, source.path)));
        }
        next += selection.rowGroups.length;
        return use(batches);
      });
    },
    commitFill() {
      if (!filling) return;
      filling = false;
      if (next === source.rowGroupRows.length) cache.commitFill();
      else cache.abortFill();
    },
    close() {
      if (filling) abandon();
      source.close();
    },
  };
}
