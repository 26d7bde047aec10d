/**
 * What parquet-wasm does not expose about a Parquet footer: whether each column chunk carries
 * statistics, and the row groups' min/max for pruning. Reads only the footer bytes (Thrift compact,
 * thrift-compact.ts), without opening the file in parquet-wasm.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { ptr } from "bun:ffi";
import { builtOnce } from "../tinycc.ts";
import { CompactCursor, decodeStruct, field, T, type TList, type TStruct } from "./thrift-compact.ts";

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

/** The footer bytes (FileMetaData) of the Parquet file open as `fd`: the last 8 bytes give their length. */
function readFooterBytes(fd: number): Uint8Array {
  const size = fstatSync(fd).size;
  const tail = new Uint8Array(8);
  readSync(fd, tail, 0, 8, size - 8);
  const len = new DataView(tail.buffer).getUint32(0, true);
  const footer = new Uint8Array(len);
  readSync(fd, footer, 0, len, size - 8 - len);
  return footer;
}

/** Column-chunk facts per row group, from the file's footer (read through `openFd` when given: it stays open). */
export function readColumnChunkFacts(path: string, openFd?: number): ColumnChunkFacts[][] {
  const fd = openFd ?? openSync(path, "r");
  try {
    const meta = decodeStruct(readFooterBytes(fd));
    const rowGroups = (field<TList>(meta, 4)?.items ?? []) as TStruct[];
    return rowGroups.map((rg) =>
      ((field<TList>(rg, 1)?.items ?? []) as TStruct[]).map((chunk) => {
        const md = field<TStruct>(chunk, 3)!;
        const stats = field<TStruct>(md, 12);
        const colPath = ((field<TList>(md, 3)?.items ?? []) as Uint8Array[])
          .map((b) => new TextDecoder().decode(b))
          .join(".");
        const hasMinMax = !!stats && ((stats.has(5) && stats.has(6)) || (stats.has(1) && stats.has(2)));
        const nc = stats ? field<bigint>(stats, 3) : undefined;
        return {
          path: colPath,
          hasMinMax,
          hasStatistics: !!stats,
          nullCount: nc === undefined ? null : Number(nc),
          numValues: Number(field<bigint>(md, 5)),
        };
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
  /** Column (top-level name) → its chunk's null count, absent when the footer does not say. */
  nullCount: Map<string, number>;
}

/** What bench's pruning reads from a footer: every row group's statistics, and the file's key-value metadata. */
export interface FooterStats {
  rowGroups: RowGroupStats[];
  keyValue: Map<string, string>;
}

// Parquet physical types (parquet.thrift `Type`).
const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;

/** A statistics value in its plain encoding, as a number, string or boolean; null for other types. */
function plainValue(bytes: Uint8Array, type: number): number | string | boolean | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case PHYSICAL.BOOLEAN:
      return bytes.length >= 1 ? bytes[0] !== 0 : null;
    case PHYSICAL.INT32:
      return bytes.length >= 4 ? v.getInt32(0, true) : null;
    case PHYSICAL.INT64:
      return bytes.length >= 8 ? Number(v.getBigInt64(0, true)) : null;
    case PHYSICAL.FLOAT:
      return bytes.length >= 4 ? v.getFloat32(0, true) : null;
    case PHYSICAL.DOUBLE:
      return bytes.length >= 8 ? v.getFloat64(0, true) : null;
    case PHYSICAL.BYTE_ARRAY:
      return new TextDecoder().decode(bytes);
    default:
      return null;
  }
}

/** Min and max from their plain encodings, or null where either is of a type not decoded or NaN (missing, then). */
function boundsOf(lo: Uint8Array, hi: Uint8Array, physical: number): ChunkMinMax | null {
  const min = plainValue(lo, physical);
  const max = plainValue(hi, physical);
  return min === null || max === null || Number.isNaN(min) || Number.isNaN(max) ? null : { min, max };
}

/** A column chunk's statistics as found: raw bound bytes (current fields first) and null count. */
interface RawStats {
  min: Uint8Array | null;
  max: Uint8Array | null;
  legacyMin: Uint8Array | null;
  legacyMax: Uint8Array | null;
  nullCount: number | null;
}

function scanStatistics(c: CompactCursor): RawStats {
  const s: RawStats = { min: null, max: null, legacyMin: null, legacyMax: null, nullCount: null };
  c.struct((id, type) => {
    if (type === T.BINARY && (id === 1 || id === 2 || id === 5 || id === 6)) {
      const b = c.binary();
      if (id === 1) s.legacyMax = b;
      else if (id === 2) s.legacyMin = b;
      else if (id === 5) s.max = b;
      else s.min = b;
      return true;
    }
    if (id === 3 && type === T.I64) {
      s.nullCount = c.int();
      return true;
    }
    return false;
  });
  return s;
}

const utf8 = new TextDecoder();

/** One row group's statistics of the wanted columns (RowGroup: 1 columns, 3 num_rows; ColumnChunk: 3 meta_data; ColumnMetaData: 1 type, 3 path_in_schema, 12 statistics). */
function scanRowGroup(c: CompactCursor, wanted: ReadonlySet<string>): RowGroupStats {
  const out: RowGroupStats = { rows: 0, minMax: new Map(), nullCount: new Map() };
  c.struct((id, type) => {
    if (id === 3 && type === T.I64) {
      out.rows = c.int();
      return true;
    }
    if (id !== 1 || type !== T.LIST) return false;
    const { size } = c.list();
    for (let k = 0; k < size; k++) {
      c.struct((cid, ctype) => {
        if (cid !== 3 || ctype !== T.STRUCT) return false;
        let physical = -1;
        let name = "";
        let stats: RawStats | null = null;
        c.struct((mid, mtype) => {
          if (mid === 1 && mtype === T.I32) physical = c.int();
          else if (mid === 3 && mtype === T.LIST) {
            const { size: parts } = c.list();
            const names: string[] = [];
            for (let i = 0; i < parts; i++) names.push(utf8.decode(c.binary()));
            name = names.join(".");
          } else if (mid === 12 && mtype === T.STRUCT) stats = scanStatistics(c);
          else return false;
          return true;
        });
        const st = stats as RawStats | null;
        if (!st || !wanted.has(name)) return true;
        if (st.nullCount !== null) out.nullCount.set(name, st.nullCount);
        const [lo, hi] = st.min && st.max ? [st.min, st.max] : [st.legacyMin, st.legacyMax];
        const bounds = lo && hi ? boundsOf(lo, hi, physical) : null;
        if (bounds) out.minMax.set(name, bounds);
        return true;
      });
    }
    return true;
  });
  return out;
}

/**
 * Every row group's row count, min/max statistics and null counts of the `columns` named, and the
 * file's key-value metadata, from the footer alone (read through `openFd` when given: it stays
 * open). Prefers the current min_value/max_value fields; the legacy min/max only where those are
 * missing. NaN bounds count as missing. The footer is walked in C where TinyCC builds it
 * (footer-scan.c), else by footerStatsOf here; both give the same answer (tested).
 */
export function readFooterStats(path: string, columns: readonly string[], openFd?: number): FooterStats {
  const fd = openFd ?? openSync(path, "r");
  try {
    const bytes = readFooterBytes(fd);
    return footerStatsNative(bytes, columns) ?? footerStatsOf(bytes, columns);
  } finally {
    if (openFd === undefined) closeSync(fd);
  }
}

/** One KeyValue of a footer's key_value_metadata (1 key, 2 value), at the cursor; null where it has no key. */
export function readKeyValue(c: CompactCursor): [string, string] | null {
  let key: string | null = null;
  let value = "";
  c.struct((kid, ktype) => {
    if (ktype !== T.BINARY || (kid !== 1 && kid !== 2)) return false;
    const text = utf8.decode(c.binary());
    if (kid === 1) key = text;
    else value = text;
    return true;
  });
  return key === null ? null : [key, value];
}

/** readFooterStats over footer bytes, walked in place in TypeScript (FileMetaData: 4 row_groups, 5 key_value_metadata). */
export function footerStatsOf(footer: Uint8Array, columns: readonly string[]): FooterStats {
  const c = new CompactCursor(footer);
  const wanted = new Set(columns);
  const out: FooterStats = { rowGroups: [], keyValue: new Map() };
  c.struct((id, type) => {
    if (type !== T.LIST || (id !== 4 && id !== 5)) return false;
    const { size } = c.list();
    for (let i = 0; i < size; i++) {
      if (id === 4) {
        out.rowGroups.push(scanRowGroup(c, wanted));
        continue;
      }
      const pair = readKeyValue(c);
      if (pair) out.keyValue.set(pair[0], pair[1]);
    }
    return true;
  });
  return out;
}

const footerScan = builtOnce(join(import.meta.dir, "footer-scan.c"), {
  tp_footer_stats: { args: ["ptr", "i64", "ptr", "i64", "i64", "ptr", "i64"], returns: "i64" },
});

/** Values footer-scan.c writes per wanted column of a row group (see there). */
const PER_COLUMN = 6;

/** readFooterStats over footer bytes, walked in C; null where TinyCC cannot build it or the footer is malformed (the TypeScript walk then says what it finds). */
export function footerStatsNative(footer: Uint8Array, columns: readonly string[]): FooterStats | null {
  const lib = footerScan();
  if (!lib || footer.length === 0) return null;
  const names = new TextEncoder().encode(columns.map((c) => `${c}\0`).join(""));
  const k = columns.length;
  for (let cap = 2 + 32 * (1 + PER_COLUMN * k) + 4 * 32; cap < 2 ** 28; cap *= 4) {
    const out = new BigInt64Array(cap);
    const n = Number(
      lib.symbols.tp_footer_stats(
        ptr(footer),
        footer.length,
        ptr(names.length > 0 ? names : new Uint8Array(1)),
        names.length,
        k,
        ptr(out),
        cap,
      ),
    );
    if (n === -2) continue;
    if (n < 0) return null;
    const v = (i: number) => Number(out[i]);
    const result: FooterStats = { rowGroups: [], keyValue: new Map() };
    let at = 2;
    for (let g = 0; g < v(0); g++) {
      const stats: RowGroupStats = { rows: v(at), minMax: new Map(), nullCount: new Map() };
      for (let j = 0; j < k; j++) {
        const o = at + 1 + PER_COLUMN * j;
        if (v(o + 1) >= 0) stats.nullCount.set(columns[j], v(o + 1));
        if (v(o + 2) < 0 || v(o + 4) < 0) continue;
        const bounds = boundsOf(
          footer.subarray(v(o + 2), v(o + 2) + v(o + 3)),
          footer.subarray(v(o + 4), v(o + 4) + v(o + 5)),
          v(o),
        );
        if (bounds) stats.minMax.set(columns[j], bounds);
      }
      result.rowGroups.push(stats);
      at += 1 + PER_COLUMN * k;
    }
    for (let p = 0; p < v(1); p++, at += 4) {
      const text = (off: number, len: number) => (off < 0 ? "" : utf8.decode(footer.subarray(off, off + len)));
      result.keyValue.set(text(v(at), v(at + 1)), text(v(at + 2), v(at + 3)));
    }
    return result;
  }
  return null;
}

/** Every row group's row count and min/max statistics of the `columns` named (see readFooterStats). */
export function readRowGroupStats(path: string, columns: readonly string[], openFd?: number): RowGroupStats[] {
  return readFooterStats(path, columns, openFd).rowGroups;
}
