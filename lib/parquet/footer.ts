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

/** The FileMetaData struct of the Parquet file open as `fd` (its footer: the last 8 bytes give its length). */
function readFooter(fd: number): TStruct {
  const size = fstatSync(fd).size;
  const tail = new Uint8Array(8);
  readSync(fd, tail, 0, 8, size - 8);
  const len = new DataView(tail.buffer).getUint32(0, true);
  const footer = new Uint8Array(len);
  readSync(fd, footer, 0, len, size - 8 - len);
  return decodeStruct(footer);
}

/** Column-chunk facts per row group, from the file's footer (read through `openFd` when given: it stays open). */
export function readColumnChunkFacts(path: string, openFd?: number): ColumnChunkFacts[][] {
  const fd = openFd ?? openSync(path, "r");
  try {
    const meta = readFooter(fd);
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

/** A column chunk's min/max statistics, decoded by its physical type (null where absent or of a type not decoded). */
export interface ChunkMinMax {
  min: number | string | boolean;
  max: number | string | boolean;
}

/** One row group's row count and the min/max of the columns asked for. */
export interface RowGroupStats {
  rows: number;
  /** Column (top-level name) → its chunk's min/max, absent when the footer has none. */
  minMax: Map<string, ChunkMinMax>;
}

// Parquet physical types (parquet.thrift `Type`).
const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;

/** A statistics value in its plain encoding, as a number, string or boolean; null for other types. */
function plainValue(bytes: Uint8Array, type: number): number | string | boolean | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case PHYSICAL.BOOLEAN: return bytes.length >= 1 ? bytes[0] !== 0 : null;
    case PHYSICAL.INT32: return bytes.length >= 4 ? v.getInt32(0, true) : null;
    case PHYSICAL.INT64: return bytes.length >= 8 ? Number(v.getBigInt64(0, true)) : null;
    case PHYSICAL.FLOAT: return bytes.length >= 4 ? v.getFloat32(0, true) : null;
    case PHYSICAL.DOUBLE: return bytes.length >= 8 ? v.getFloat64(0, true) : null;
    case PHYSICAL.BYTE_ARRAY: return new TextDecoder().decode(bytes);
    default: return null;
  }
}

/**
 * Every row group's row count and min/max statistics of the `columns` named, from the footer alone
 * (read through `openFd` when given: it stays open). Prefers the current min_value/max_value
 * fields; the legacy min/max only where those are missing. NaN bounds count as missing.
 */
export function readRowGroupStats(path: string, columns: readonly string[], openFd?: number): RowGroupStats[] {
  const fd = openFd ?? openSync(path, "r");
  try {
    const meta = readFooter(fd);
    const wanted = new Set(columns);
    const rowGroups = (field<TList>(meta, 4)?.items ?? []) as TStruct[];
    return rowGroups.map((rg) => {
      const minMax = new Map<string, ChunkMinMax>();
      for (const chunk of (field<TList>(rg, 1)?.items ?? []) as TStruct[]) {
        const md = field<TStruct>(chunk, 3);
        if (!md) continue;
        const name = ((field<TList>(md, 3)?.items ?? []) as Uint8Array[]).map((b) => new TextDecoder().decode(b)).join(".");
        if (!wanted.has(name)) continue;
        const stats = field<TStruct>(md, 12);
        if (!stats) continue;
        const type = Number(field<number>(md, 1));
        const [lo, hi] = stats.has(6) && stats.has(5) ? [field<Uint8Array>(stats, 6)!, field<Uint8Array>(stats, 5)!] : [field<Uint8Array>(stats, 2), field<Uint8Array>(stats, 1)];
        if (!lo || !hi) continue;
        const min = plainValue(lo, type);
        const max = plainValue(hi, type);
        if (min === null || max === null || Number.isNaN(min) || Number.isNaN(max)) continue;
        minMax.set(name, { min, max });
      }
      return { rows: Number(field<bigint>(rg, 3) ?? 0), minMax };
    });
  } finally {
    if (openFd === undefined) closeSync(fd);
  }
}
