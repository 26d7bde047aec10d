/**
 * Where a Parquet file's column chunks lie and how they are typed, from its footer alone: what the
 * native decoder needs to read a flat file without parquet-wasm. Walks only the fields it needs
 * (FileMetaData: 2 schema, 4 row_groups, 5 key_value_metadata; RowGroup: 1 columns, 3 num_rows;
 * ColumnChunk: 1 file_path, 3 meta_data; ColumnMetaData: 1 type, 2 encodings, 3 path_in_schema,
 * 4 codec, 5 num_values, 7 total_compressed_size, 9 data_page_offset, 11 dictionary_page_offset).
 * Walked in C where TinyCC builds it (chunk-index.c), else by chunkIndexOf here; both give the same
 * index (tested). The formats (formatOf, flatColumns) are worked out here for both.
 */
import { join } from "node:path";
import { type ConvertFns, linkSymbols, type Pointer, ptr } from "bun:ffi";
import { builtOnce } from "../../tinycc.ts";
import { CompactCursor, T } from "../thrift-compact.ts";
import { readKeyValue } from "../footer.ts";

/** A leaf column of a flat schema, with the Arrow C Data format parquet-wasm gives it (null: not one the native path reads). */
export interface ColumnSchema {
  name: string;
  physicalType: number;
  /** 0: REQUIRED, 1: OPTIONAL. */
  maxDef: 0 | 1;
  /** C Data Interface format (`g`, `l`, `tsn:UTC`, `tdD`, `s`, …); a string column is a dictionary of `u`. */
  format: string | null;
  /** Format of a dictionary's values (`u`) for a string column, else null. */
  dictionaryFormat: string | null;
}

/** One column chunk's bytes and how they are coded. */
export interface ChunkLocation {
  codec: number;
  /** Values in the chunk (a flat column: its rows). */
  numValues: number;
  /** File offset of its first page (the dictionary page when it has one). */
  start: number;
  /** total_compressed_size: every page, headers included. */
  length: number;
  /** The encodings ColumnMetaData lists, each once, ascending (shared between chunks: not to be changed). */
  encodings: readonly number[];
  /** A chunk kept in another file (ColumnChunk.file_path): the native path does not follow it. */
  external: boolean;
}

/** The footer facts of one file. */
export interface ChunkIndex {
  /** Leaf columns in file order; null when the schema is not flat (a group, a repeated field). */
  columns: ColumnSchema[] | null;
  rowGroups: { rows: number; chunks: Map<string, ChunkLocation> }[];
  keyValue: Map<string, string>;
}

const REPETITION = { REQUIRED: 0, OPTIONAL: 1 } as const;
// parquet.thrift ConvertedType values the formats below look at.
const CONVERTED = {
  UTF8: 0,
  DATE: 6,
  TIMESTAMP_MILLIS: 9,
  TIMESTAMP_MICROS: 10,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
} as const;

interface SchemaElement {
  type: number;
  repetition: number;
  name: string;
  children: number;
  converted: number;
  /** LogicalType union member id (1 STRING, 6 DATE, 8 TIMESTAMP, 10 INTEGER), -1 when absent. */
  logical: number;
  /** TIMESTAMP: 1 MILLIS, 2 MICROS, 3 NANOS; INTEGER: bit width. */
  logicalUnit: number;
  /** TIMESTAMP: isAdjustedToUTC; INTEGER: isSigned. */
  logicalFlag: boolean;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

function readSchemaElement(c: CompactCursor): SchemaElement {
  const e: SchemaElement = {
    type: -1,
    repetition: -1,
    name: "",
    children: 0,
    converted: -1,
    logical: -1,
    logicalUnit: -1,
    logicalFlag: false,
  };
  c.struct((id, type) => {
    if (id === 1 && type === T.I32) e.type = c.int();
    else if (id === 3 && type === T.I32) e.repetition = c.int();
    else if (id === 4 && type === T.BINARY) e.name = utf8.decode(c.binary());
    else if (id === 5 && type === T.I32) e.children = c.int();
    else if (id === 6 && type === T.I32) e.converted = c.int();
    else if (id === 10 && type === T.STRUCT) readLogicalType(c, e);
    else return false;
    return true;
  });
  return e;
}

/** LogicalType is a union: one field set, a struct. TIMESTAMP (8): 1 isAdjustedToUTC, 2 unit (union: 1 MILLIS, 2 MICROS, 3 NANOS); INTEGER (10): 1 bitWidth (i8), 2 isSigned. */
function readLogicalType(c: CompactCursor, e: SchemaElement): void {
  c.struct((id, type) => {
    if (type !== T.STRUCT) return false;
    e.logical = id;
    c.struct((fid, ftype) => {
      if (id === 8 && fid === 1 && (ftype === T.TRUE || ftype === T.FALSE)) e.logicalFlag = ftype === T.TRUE;
      else if (id === 8 && fid === 2 && ftype === T.STRUCT)
        c.struct((uid, utype) => {
          if (utype !== T.STRUCT) return false;
          e.logicalUnit = uid;
          c.struct(() => false);
          return true;
        });
      else if (id === 10 && fid === 1 && ftype === T.BYTE) e.logicalUnit = c.byteValue();
      else if (id === 10 && fid === 2 && (ftype === T.TRUE || ftype === T.FALSE)) e.logicalFlag = ftype === T.TRUE;
      else return false;
      return true;
    });
    return true;
  });
}

const TIMESTAMP_UNIT: Record<number, string> = { 1: "m", 2: "u", 3: "n" };

/** The C Data format arrow-rs gives a flat column of tickpack's types (as parquet-wasm reports them), or null for any other. */
function formatOf(e: SchemaElement): { format: string | null; dictionaryFormat: string | null } {
  const none = { format: null, dictionaryFormat: null };
  const plain = (format: string) => ({ format, dictionaryFormat: null });
  switch (e.type) {
    case 0:
      return e.logical === -1 && e.converted === -1 ? plain("b") : none;
    case 1:
      if (e.logical === 6 || e.converted === CONVERTED.DATE) return plain("tdD");
      if (e.logical === 10)
        return e.logicalFlag && e.logicalUnit === 16
          ? plain("s")
          : e.logicalFlag && e.logicalUnit === 32
            ? plain("i")
            : none;
      if (e.converted === CONVERTED.INT_16) return plain("s");
      return e.logical === -1 && (e.converted === -1 || e.converted === CONVERTED.INT_32) ? plain("i") : none;
    case 2: {
      if (e.logical === 8) {
        const unit = TIMESTAMP_UNIT[e.logicalUnit];
        return unit ? plain(`ts${unit}:${e.logicalFlag ? "UTC" : ""}`) : none;
      }
      if (e.converted === CONVERTED.TIMESTAMP_MILLIS) return plain("tsm:UTC");
      if (e.converted === CONVERTED.TIMESTAMP_MICROS) return plain("tsu:UTC");
      if (e.logical === 10) return e.logicalFlag && e.logicalUnit === 64 ? plain("l") : none;
      return e.logical === -1 && (e.converted === -1 || e.converted === CONVERTED.INT_64) ? plain("l") : none;
    }
    case 4:
      return e.logical === -1 && e.converted === -1 ? plain("f") : none;
    case 5:
      return e.logical === -1 && e.converted === -1 ? plain("g") : none;
    case 6:
      // tickpack writes its strings as Arrow dictionaries (the footer's ARROW:schema says so); parquet-wasm reads them back as such.
      return e.logical === 1 || e.converted === CONVERTED.UTF8 ? { format: "i", dictionaryFormat: "u" } : none;
    default:
      return none;
  }
}

/** The leaf columns of a flat schema (root, then leaves only, none repeated), or null. */
function flatColumns(elements: SchemaElement[]): ColumnSchema[] | null {
  if (elements.length === 0 || elements[0].children !== elements.length - 1) return null;
  const out: ColumnSchema[] = [];
  for (const e of elements.slice(1)) {
    if (e.children > 0 || e.type < 0) return null;
    if (e.repetition !== REPETITION.REQUIRED && e.repetition !== REPETITION.OPTIONAL) return null;
    out.push({
      name: e.name,
      physicalType: e.type,
      maxDef: e.repetition === REPETITION.OPTIONAL ? 1 : 0,
      ...formatOf(e),
    });
  }
  return out;
}

function readChunk(c: CompactCursor, wanted: ReadonlySet<string>): [string, ChunkLocation] | null {
  let name = "";
  let external = false;
  let codec = -1;
  let numValues = 0;
  let length = 0;
  let dataOffset = -1;
  let dictOffset = -1;
  let encodings: number[] = [];
  c.struct((id, type) => {
    if (id === 1 && type === T.BINARY) {
      external = c.binary().length > 0;
      return true;
    }
    if (id !== 3 || type !== T.STRUCT) return false;
    c.struct((mid, mtype) => {
      if (mid === 2 && mtype === T.LIST) {
        const { size } = c.list();
        encodings = ascendingOnce(Array.from({ length: size }, () => c.int()));
      } else if (mid === 3 && mtype === T.LIST) {
        const { size } = c.list();
        const parts: string[] = [];
        for (let i = 0; i < size; i++) parts.push(utf8.decode(c.binary()));
        name = parts.join(".");
      } else if (mid === 4 && mtype === T.I32) codec = c.int();
      else if (mid === 5 && mtype === T.I64) numValues = c.int();
      else if (mid === 7 && mtype === T.I64) length = c.int();
      else if (mid === 9 && mtype === T.I64) dataOffset = c.int();
      else if (mid === 11 && mtype === T.I64) dictOffset = c.int();
      else return false;
      return true;
    });
    return true;
  });
  if (!wanted.has(name)) return null;
  return [name, { codec, numValues, start: chunkStart(dataOffset, dictOffset), length, encodings, external }];
}

/** Where a chunk's pages begin, from its data_page_offset and dictionary_page_offset (-1: absent). */
function chunkStart(dataOffset: number, dictOffset: number): number {
  // Some writers leave dictionary_page_offset at 0 for a chunk without one: it counts only before the data.
  return dictOffset > 0 && dictOffset < dataOffset ? dictOffset : dataOffset;
}

/** A list of encodings as a set: a writer may repeat one (a page each), and order says nothing. */
function ascendingOnce(encodings: number[]): number[] {
  return [...new Set(encodings)].sort((a, b) => a - b);
}

/** The chunk index of a footer (FileMetaData bytes), with the chunks of the `wanted` columns only: walked in C where it can be, else in TypeScript. */
export function readChunkIndex(footer: Uint8Array, wanted: readonly string[]): ChunkIndex {
  return chunkIndexNative(footer, wanted) ?? chunkIndexOf(footer, wanted);
}

/** readChunkIndex walked in TypeScript (the reference); throws on a footer it cannot walk. */
export function chunkIndexOf(footer: Uint8Array, wanted: readonly string[]): ChunkIndex {
  const c = new CompactCursor(footer);
  const want = new Set(wanted);
  const out: ChunkIndex = { columns: null, rowGroups: [], keyValue: new Map() };
  c.struct((id, type) => {
    if (type !== T.LIST || (id !== 2 && id !== 4 && id !== 5)) return false;
    const { size } = c.list();
    if (id === 2) {
      const elements: SchemaElement[] = [];
      for (let i = 0; i < size; i++) elements.push(readSchemaElement(c));
      out.columns = flatColumns(elements);
      return true;
    }
    for (let i = 0; i < size; i++) {
      if (id === 4) {
        const group = { rows: 0, chunks: new Map<string, ChunkLocation>() };
        c.struct((gid, gtype) => {
          if (gid === 3 && gtype === T.I64) group.rows = c.int();
          else if (gid === 1 && gtype === T.LIST) {
            const { size: n } = c.list();
            for (let k = 0; k < n; k++) {
              const chunk = readChunk(c, want);
              if (chunk) group.chunks.set(chunk[0], chunk[1]);
            }
          } else return false;
          return true;
        });
        out.rowGroups.push(group);
        continue;
      }
      const pair = readKeyValue(c);
      if (pair) out.keyValue.set(pair[0], pair[1]);
    }
    return true;
  });
  return out;
}

const CHUNK_INDEX_SYMBOLS = {
  tp_chunk_index: { args: ["ptr", "i64", "ptr", "ptr", "i64", "ptr", "i64"], returns: "i64" },
} as const;
const chunkIndexScan = builtOnce(join(import.meta.dir, "chunk-index.c"), CHUNK_INDEX_SYMBOLS);

/** The walk another thread of the process built (chunkIndexWalkAddress), bound here instead of building one. */
let adopted: { symbols: ConvertFns<typeof CHUNK_INDEX_SYMBOLS> } | null = null;

/** Builds this thread's C walk now rather than on the first footer (a worker does it before its first task); whether it built. */
export function buildChunkIndexWalk(): boolean {
  return adopted !== null || chunkIndexScan() !== null;
}

/** The address of this thread's C walk (built here, kept for the process's life), or null where TinyCC cannot build it. */
export function chunkIndexWalkAddress(): number | null {
  const lib = chunkIndexScan();
  return lib ? Number((lib.symbols.tp_chunk_index as unknown as { ptr: number }).ptr) : null;
}

/** Calls the walk built by another thread of the process (its chunkIndexWalkAddress) instead of building one. */
export function adoptChunkIndexWalk(address: number): void {
  const tp_chunk_index = { ...CHUNK_INDEX_SYMBOLS.tp_chunk_index, ptr: address as unknown as Pointer };
  adopted = linkSymbols({ tp_chunk_index });
}

/** Whether this thread walks footers with another thread's build (adoptChunkIndexWalk). */
export function chunkIndexWalkAdopted(): boolean {
  return adopted !== null;
}

// Values chunk-index.c writes (see there): a header, per schema element, per wanted column of a row group, per pair.
const HEADER = 4;
const PER_ELEMENT = 9;
const PER_CHUNK = 8;
const PER_PAIR = 4;

/**
 * Names the C walk compares as bytes exactly where the reference, comparing decoded strings, finds
 * the same: none may hold a U+FFFD (what a decoder makes of invalid bytes) or a lone surrogate
 * (which an encoder turns into U+FFFD).
 */
const NOT_BYTE_EXACT = /\uFFFD|\p{Cs}/u;

/** readChunkIndex walked in C; null where TinyCC cannot build it, the footer is malformed or holds what the C walk leaves to the reference (see chunk-index.c). */
export function chunkIndexNative(footer: Uint8Array, wanted: readonly string[]): ChunkIndex | null {
  const lib = adopted ?? chunkIndexScan();
  if (!lib || footer.length === 0 || wanted.some((w) => NOT_BYTE_EXACT.test(w))) return null;
  const columns = [...new Set(wanted)];
  const k = columns.length;
  const encoded = columns.map((w) => encoder.encode(w));
  const names = new Uint8Array(
    Math.max(
      1,
      encoded.reduce((n, e) => n + e.length, 0),
    ),
  );
  const offs = new BigInt64Array(k + 1);
  encoded.forEach((e, i) => {
    names.set(e, Number(offs[i]));
    offs[i + 1] = offs[i] + BigInt(e.length);
  });
  let out = new BigInt64Array(HEADER + PER_ELEMENT * 80 + 32 * (1 + PER_CHUNK * k) + PER_PAIR * 8);
  const walk = () =>
    Number(lib.symbols.tp_chunk_index(ptr(footer), footer.length, ptr(names), ptr(offs), k, ptr(out), out.length));
  let n = walk();
  if (n === -2) {
    // out[3]: the values needed; a second walk with room for them cannot come short.
    out = new BigInt64Array(Number(out[3]));
    n = walk();
  }
  if (n < 0) return null;
  // Every value but the encodings bitmask is within ±2^53 (chunk-index.c checks): read as two 32-bit words, no BigInt made.
  const words = new Int32Array(out.buffer, 0, 2 * n);
  const v = (i: number) => (words[2 * i] >>> 0) + words[2 * i + 1] * 4294967296;
  if (HEADER + PER_ELEMENT * v(0) + (1 + PER_CHUNK * k) * v(1) + PER_PAIR * v(2) !== n) return null;
  const text = (off: number, len: number) => (off < 0 ? "" : utf8.decode(footer.subarray(off, off + len)));
  let at = HEADER;
  const elements: SchemaElement[] = [];
  for (let i = 0; i < v(0); i++, at += PER_ELEMENT)
    elements.push({
      type: v(at),
      repetition: v(at + 1),
      name: text(v(at + 2), v(at + 3)),
      children: v(at + 4),
      converted: v(at + 5),
      logical: v(at + 6),
      logicalUnit: v(at + 7),
      logicalFlag: v(at + 8) !== 0,
    });
  const result: ChunkIndex = { columns: flatColumns(elements), rowGroups: [], keyValue: new Map() };
  for (let g = 0; g < v(1); g++, at += 1 + PER_CHUNK * k) {
    // The reference's map holds the chunks in footer order: position (1-based in the group) says it.
    const found: [number, string, ChunkLocation][] = [];
    for (let j = 0; j < k; j++) {
      const o = at + 1 + PER_CHUNK * j;
      if (v(o) === 0) continue;
      found.push([
        v(o),
        columns[j],
        {
          codec: v(o + 1),
          numValues: v(o + 2),
          start: chunkStart(v(o + 4), v(o + 5)),
          length: v(o + 3),
          encodings: encodingsOf(words[2 * (o + 6)], words[2 * (o + 6) + 1]),
          external: v(o + 7) !== 0,
        },
      ]);
    }
    found.sort((a, b) => a[0] - b[0]);
    result.rowGroups.push({ rows: v(at), chunks: new Map(found.map(([, name, loc]) => [name, loc])) });
  }
  for (let p = 0; p < v(2); p++, at += PER_PAIR)
    result.keyValue.set(text(v(at), v(at + 1)), text(v(at + 2), v(at + 3)));
  return result;
}

/**
 * The encodings a bitmask holds (bit e: encoding e), given as its low and high 32-bit words,
 * ascending. A file's chunks share a few masks: each is spelled out once per thread (a 63-step loop
 * per chunk was hot enough to be compiled twice over by the optimising JIT in every worker). The
 * arrays are shared, so frozen.
 */
function encodingsOf(low: number, high: number): number[] {
  const key = high * 4294967296 + (low >>> 0);
  let out = encodingLists.get(key);
  if (!out) {
    const list: number[] = [];
    for (let e = 0; e < 32; e++) if ((low >>> e) & 1) list.push(e);
    for (let e = 0; e < 31; e++) if ((high >>> e) & 1) list.push(32 + e);
    out = Object.freeze(list) as number[];
    encodingLists.set(key, out);
  }
  return out;
}
const encodingLists = new Map<number, number[]>();
