/**
 * What parquet-wasm does not expose about a Parquet footer: whether each column chunk carries
 * statistics. Reads only the footer bytes (Thrift compact, decoded by thrift-compact.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { decodeStruct, field, type TList, type TStruct } from "./thrift-compact.ts";

/** What the footer says about one column chunk. */
export interface ColumnChunkFacts {
  path: string;
  /** A Statistics struct with min and max (either the legacy or the current fields). */
  hasMinMax: boolean;
  /** Any Statistics struct at all (an all-null chunk has null_count but no min/max). */
  hasStatistics: boolean;
  nullCount: number | null;
  numValues: number;
}

/** Column-chunk facts per row group, from the file's footer (read through `openFd` when given: it stays open). */
export function readColumnChunkFacts(path: string, openFd?: number): ColumnChunkFacts[][] {
  const fd = openFd ?? openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = new Uint8Array(8);
    readSync(fd, tail, 0, 8, size - 8);
    const len = new DataView(tail.buffer).getUint32(0, true);
    const footer = new Uint8Array(len);
    readSync(fd, footer, 0, len, size - 8 - len);
    const meta = decodeStruct(footer);
    const rowGroups = (field<TList>(meta, 4)?.items ?? []) as TStruct[];
    return rowGroups.map((rg) =>
      ((field<TList>(rg, 1)?.items ?? []) as TStruct[]).map((chunk) => {
        const md = field<TStruct>(chunk, 3)!;
        const stats = field<TStruct>(md, 12);
        const colPath = ((field<TList>(md, 3)?.items ?? []) as Uint8Array[]).map((b) => new TextDecoder().decode(b)).join(".");
        const hasMinMax = !!stats && ((stats.has(5) && stats.has(6)) || (stats.has(1) && stats.has(2)));
        const nc = stats ? field<bigint>(stats, 3) : undefined;
        return { path: colPath, hasMinMax, hasStatistics: !!stats, nullCount: nc === undefined ? null : Number(nc), numValues: Number(field<bigint>(md, 5)) };
      }),
    );
  } finally {
    if (openFd === undefined) closeSync(fd);
  }
}
