/**
 * Where a Parquet file's column chunks lie and how they are typed, from its footer alone: what the
 * native decoder needs to read a flat file without parquet-wasm. Walks only the fields it needs
 * (FileMetaData: 2 schema, 4 row_groups, 5 key_value_metadata; RowGroup: 1 columns, 3 num_rows;
 * ColumnChunk: 1 file_path, 3 meta_data; ColumnMetaData: 1 type, 2 encodings, 3 path_in_schema,
 * 4 codec, 5 num_values, 7 total_compressed_size, 9 data_page_offset, 11 dictionary_page_offset).
 */
import { CompactCursor, T } from "../thrift-compact.ts";

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
  encodings: number[];
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
        encodings = Array.from({ length: size }, () => c.int());
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
  // Some writers leave dictionary_page_offset at 0 for a chunk without one: it counts only before the data.
  const start = dictOffset > 0 && dictOffset < dataOffset ? dictOffset : dataOffset;
  return [name, { codec, numValues, start, length, encodings, external }];
}

/** The chunk index of a footer (FileMetaData bytes), with the chunks of the `wanted` columns only. */
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
      let key: string | null = null;
      let value = "";
      c.struct((kid, ktype) => {
        if (ktype !== T.BINARY || (kid !== 1 && kid !== 2)) return false;
        const text = utf8.decode(c.binary());
        if (kid === 1) key = text;
        else value = text;
        return true;
      });
      if (key !== null) out.keyValue.set(key, value);
    }
    return true;
  });
  return out;
}
