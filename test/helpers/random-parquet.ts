/**
 * Seeded random Parquet files written by parquet-wasm (arrow-rs) with the writer settings that shape
 * pages: v1 and v2 data pages, tiny page and dictionary limits (many pages, a dictionary that falls
 * back to PLAIN or DELTA part-way), DELTA_BINARY_PACKED integers, UNCOMPRESSED and ZSTD, several row
 * groups, nulls from none to whole chunks; and each file's column chunks as DuckDB lists them
 * (parquet_metadata / parquet_schema), cut out of the file with their ChunkDesc, independent of our
 * own footer code.
 */
import * as arrow from "apache-arrow";
import * as pw from "parquet-wasm/esm";
import { readFileSync, writeFileSync } from "node:fs";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { parquetWasm } from "../../lib/parquet/wasm.ts";
import { randomFor, type SeededRandom } from "../../lib/random.ts";
import type { ChunkDesc } from "../../lib/parquet/native/chunk-desc.ts";
import { CompactDecoder, field, type TStruct } from "../../lib/parquet/thrift-compact.ts";

/** Column types bench can read, as Arrow writes them (timestamps without a time zone: DuckDB reads those to the nanosecond). */
export type RandomColumnType =
  | "int32"
  | "int64"
  | "float32"
  | "float64"
  | "date32"
  | "timestampNs"
  | "bool"
  | "utf8"
  | "utf8Dictionary";

/** One cell: a number (int32, date32, floats), a bigint (int64, timestamps), a boolean, a string, or null. */
export type Cell = number | bigint | boolean | string | null;

/** A column to write and how. */
export interface ColumnPlan {
  name: string;
  type: RandomColumnType;
  /** false: a REQUIRED Parquet column (no definition levels). */
  nullable: boolean;
  cells: Cell[];
  dictionary: boolean;
  /** Value encoding (the fallback one when the dictionary is on); the writer's default when absent. */
  encoding?: pw.Encoding;
}

/** A whole file to write. */
export interface FilePlan {
  rows: number;
  columns: ColumnPlan[];
  version: pw.WriterVersion;
  compression: pw.Compression;
  rowGroupSize: number;
  dataPageSizeLimit: number;
  dictionaryPageSizeLimit: number;
  writeBatchSize: number;
}

const TYPES: RandomColumnType[] = [
  "int32",
  "int64",
  "float32",
  "float64",
  "date32",
  "timestampNs",
  "bool",
  "utf8",
  "utf8Dictionary",
];

const pick = <T>(rng: SeededRandom, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)];

/** Random bits of a float32 / float64 (NaN payloads, subnormals, infinities all come up). */
function randomFloatBits(rng: SeededRandom, double: boolean): number {
  if (!double) {
    const u = new Uint32Array([rng.int(0, 0xffffffff)]);
    return new Float32Array(u.buffer)[0];
  }
  const u = new Uint32Array([rng.int(0, 0xffffffff), rng.int(0, 0xffffffff)]);
  return new Float64Array(u.buffer)[0];
}

const INT32_EXTREMES = [-2147483648, 2147483647, 0, -1, 1, -2147483647, 2147483646];
const INT64_EXTREMES = [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n, -(2n ** 63n) + 1n, 2n ** 62n];
const FLOAT_SPECIALS = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, 1.5, -2.25];
const STRING_ALPHABET = ["a", "b", "z", "0", " ", "é", "ß", "€", "日本", "🙂", "\u0000"];

/** `rows` values of one type in a pattern that stresses some encoding. */
function randomValues(rng: SeededRandom, type: RandomColumnType, rows: number): Cell[] {
  const pattern = pick(rng, ["few", "runs", "walk", "extremes", "wide"] as const);
  const out: Cell[] = [];
  const few: Cell[] = [];
  for (let i = 0; i < rng.int(1, 12); i++) few.push(one(rng, type, "wide", i));
  let current: Cell = one(rng, type, "wide", 0);
  for (let i = 0; i < rows; i++) {
    if (pattern === "few") out.push(pick(rng, few));
    else if (pattern === "runs") {
      if (rng.next() < 0.02) current = one(rng, type, "wide", i);
      out.push(current);
    } else if (pattern === "walk") out.push((current = step(rng, type, current, i)));
    else out.push(one(rng, type, pattern, i));
  }
  return out;
}

/** One random value; `extremes` favours the type's limits and special values. */
function one(rng: SeededRandom, type: RandomColumnType, pattern: "wide" | "extremes", i: number): Cell {
  const extreme = pattern === "extremes" && rng.next() < 0.7;
  switch (type) {
    case "int32":
      return extreme ? pick(rng, INT32_EXTREMES) : rng.int(-2147483648, 2147483647);
    case "int64":
      return extreme
        ? pick(rng, INT64_EXTREMES)
        : BigInt.asIntN(64, (BigInt(rng.int(0, 0xffffffff)) << 32n) | BigInt(rng.int(0, 0xffffffff)));
    case "float32":
    case "float64":
      if (extreme) return pick(rng, FLOAT_SPECIALS);
      return rng.next() < 0.3 ? randomFloatBits(rng, type === "float64") : (rng.next() - 0.5) * 10 ** rng.int(-5, 8);
    case "date32":
      return rng.int(-100_000, 100_000);
    case "timestampNs":
      return 1_700_000_000_000_000_000n + BigInt(rng.int(-1e9, 1e9)) * 1_000_000n + BigInt(rng.int(0, 999_999));
    case "bool":
      return rng.next() < 0.5;
    default: {
      let s = "";
      const n = extreme ? rng.int(0, 1) : rng.int(0, 24);
      for (let k = 0; k < n; k++) s += pick(rng, STRING_ALPHABET);
      return rng.next() < 0.5 ? `${s}${i}` : s;
    }
  }
}

/** The next value of a random walk: small steps both ways (negative deltas), wrapping at the type's limits. */
function step(rng: SeededRandom, type: RandomColumnType, prev: Cell, i: number): Cell {
  const d = rng.int(-1000, 1000);
  switch (type) {
    case "int32":
      return ((prev as number) + d) | 0;
    case "date32":
      return Math.max(-100_000, Math.min(100_000, (prev as number) + (d % 3)));
    case "int64":
      return BigInt.asIntN(64, (prev as bigint) + BigInt(d) * 1_000_003n);
    case "timestampNs":
      return (prev as bigint) + BigInt(d + 400) * 1_000n;
    case "float32":
      return Math.fround((prev as number) + d / 8);
    case "float64":
      return (prev as number) + d / 8;
    default:
      return one(rng, type, "wide", i);
  }
}

/** Nulls laid over `cells`: none, some, long blocks (whole null pages) or every row. */
function withNulls(rng: SeededRandom, cells: Cell[]): Cell[] {
  const mode = pick(rng, ["none", "some", "blocks", "all"] as const);
  if (mode === "none") return cells;
  if (mode === "all") return cells.map(() => null);
  const rate = rng.next() * 0.6;
  let inBlock = false;
  return cells.map((c) => {
    if (mode === "some") return rng.next() < rate ? null : c;
    if (rng.next() < 0.01) inBlock = !inBlock;
    return inBlock ? null : c;
  });
}

/** A random file plan for `seed`: 0 to ~2500 rows of 1–6 random columns and random writer settings. */
export function randomFilePlan(seed: number): FilePlan {
  const rng = randomFor(seed, "random-parquet");
  const rows = rng.next() < 0.05 ? 0 : rng.next() < 0.5 ? rng.int(1, 300) : rng.int(300, 2500);
  const version = rng.next() < 0.5 ? pw.WriterVersion.V1 : pw.WriterVersion.V2;
  const columns: ColumnPlan[] = [];
  const n = rng.int(1, 6);
  for (let k = 0; k < n; k++) {
    const type = pick(rng, TYPES);
    const nullable = rng.next() < 0.7;
    const values = randomValues(rng, type, rows);
    const cells = nullable ? withNulls(rng, values) : values;
    const dictionary = type === "bool" ? false : rng.next() < 0.6;
    let encoding: pw.Encoding | undefined;
    const integer = type === "int32" || type === "int64" || type === "date32" || type === "timestampNs";
    if (integer && rng.next() < 0.5) encoding = pw.Encoding.DELTA_BINARY_PACKED;
    // v2 would fall back to RLE booleans and DELTA_BYTE_ARRAY strings, which the native path does not decode.
    else if (version === pw.WriterVersion.V2 && !integer) encoding = pw.Encoding.PLAIN;
    columns.push({ name: `c${k}_${type}`, type, nullable, cells, dictionary, encoding });
  }
  return {
    rows,
    columns,
    version,
    compression: rng.next() < 0.5 ? pw.Compression.UNCOMPRESSED : pw.Compression.ZSTD,
    // At most ~8 row groups: each is a read of its own in every engine.
    rowGroupSize: rng.next() < 0.3 ? Math.max(1, rows) : rng.int(Math.max(1, Math.ceil(rows / 8)), Math.max(1, rows)),
    dataPageSizeLimit: pick(rng, [16, 64, 256, 1024, 1 << 20]),
    dictionaryPageSizeLimit: pick(rng, [16, 64, 256, 4096, 1 << 20]),
    writeBatchSize: pick(rng, [1, 3, 8, 64, 1024]),
  };
}

function bitmapOf(cells: Cell[]): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array((cells.length + 7) >> 3);
  let nulls = 0;
  cells.forEach((c, i) => {
    if (c === null) nulls++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  });
  return { bitmap, nulls };
}

function utf8Data(strings: (string | null)[]): { offsets: Int32Array; bytes: Uint8Array } {
  const encoded = strings.map((s) => new TextEncoder().encode(s ?? ""));
  const offsets = new Int32Array(strings.length + 1);
  for (const [i, b] of encoded.entries()) offsets[i + 1] = offsets[i] + b.length;
  const bytes = new Uint8Array(offsets[strings.length]);
  for (const [i, b] of encoded.entries()) bytes.set(b, offsets[i]);
  return { offsets, bytes };
}

/** A column's cells as Arrow data. */
function arrowData(plan: ColumnPlan): arrow.Data {
  const { cells } = plan;
  const length = cells.length;
  const { bitmap, nulls } = bitmapOf(cells);
  const nullable = { nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : undefined };
  const nums = <A extends { [k: number]: number | bigint }>(out: A, zero: number | bigint): A => {
    for (const [i, c] of cells.entries()) out[i] = (c ?? zero) as number | bigint;
    return out;
  };
  switch (plan.type) {
    case "int32":
      return arrow.makeData({ type: new arrow.Int32(), length, ...nullable, data: nums(new Int32Array(length), 0) });
    case "date32":
      return arrow.makeData({ type: new arrow.DateDay(), length, ...nullable, data: nums(new Int32Array(length), 0) });
    case "int64":
      return arrow.makeData({
        type: new arrow.Int64(),
        length,
        ...nullable,
        data: nums(new BigInt64Array(length), 0n),
      });
    case "timestampNs":
      return arrow.makeData({
        type: new arrow.TimestampNanosecond(),
        length,
        ...nullable,
        data: nums(new BigInt64Array(length), 0n),
      });
    case "float32":
      return arrow.makeData({
        type: new arrow.Float32(),
        length,
        ...nullable,
        data: nums(new Float32Array(length), 0),
      });
    case "float64":
      return arrow.makeData({
        type: new arrow.Float64(),
        length,
        ...nullable,
        data: nums(new Float64Array(length), 0),
      });
    case "bool": {
      const data = new Uint8Array((length + 7) >> 3);
      cells.forEach((c, i) => {
        if (c === true) data[i >> 3] |= 1 << (i & 7);
      });
      return arrow.makeData({ type: new arrow.Bool(), length, ...nullable, data });
    }
    case "utf8": {
      const { offsets, bytes } = utf8Data(cells as (string | null)[]);
      return arrow.makeData({ type: new arrow.Utf8(), length, ...nullable, valueOffsets: offsets, data: bytes });
    }
    default: {
      const distinct = [...new Set(cells.filter((c): c is string => c !== null))];
      const code = new Map(distinct.map((s, i) => [s, i]));
      const { offsets, bytes } = utf8Data(distinct);
      const dictionary = arrow.makeVector(
        arrow.makeData({
          type: new arrow.Utf8(),
          length: distinct.length,
          nullCount: 0,
          valueOffsets: offsets,
          data: bytes,
        }),
      );
      return arrow.makeData({
        type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
        length,
        ...nullable,
        data: Int32Array.from(cells, (c) => (c === null ? 0 : code.get(c as string)!)),
        dictionary,
      });
    }
  }
}

/** Writes `plan` as a Parquet file at `path`. */
export function writeFilePlan(path: string, plan: FilePlan): void {
  parquetWasm();
  const fields = plan.columns.map((c) => new arrow.Field(c.name, arrowData(c).type, c.nullable));
  const children = plan.columns.map(arrowData);
  const schema = new arrow.Schema(fields);
  const batch = new arrow.RecordBatch(
    schema,
    arrow.makeData({ type: new arrow.Struct(fields), length: plan.rows, nullCount: 0, children }),
  );
  let builder = new pw.WriterPropertiesBuilder()
    .setWriterVersion(plan.version)
    .setCompression(plan.compression)
    .setMaxRowGroupSize(plan.rowGroupSize)
    .setDataPageSizeLimit(plan.dataPageSizeLimit)
    .setDictionaryPageSizeLimit(plan.dictionaryPageSizeLimit)
    .setWriteBatchSize(plan.writeBatchSize)
    .setDictionaryEnabled(false);
  for (const c of plan.columns) {
    builder = builder.setColumnDictionaryEnabled(c.name, c.dictionary);
    if (c.encoding !== undefined) builder = builder.setColumnEncoding(c.name, c.encoding);
  }
  const ipc = arrow.tableToIPC(new arrow.Table(batch), "stream");
  writeFileSync(path, pw.writeParquet(pw.Table.fromIPCStream(ipc), builder.build()));
}

/** A column chunk of a file as DuckDB lists it, with its bytes and what a decoder is given. */
export interface ListedChunk {
  rowGroup: number;
  /** Row of the file at which the chunk's row group starts. */
  firstRow: number;
  /** DuckDB's list of the chunk's encodings (`PLAIN, RLE, RLE_DICTIONARY`). */
  encodings: string;
  desc: ChunkDesc;
  bytes: Uint8Array;
}

const PHYSICAL: Record<string, number> = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
};
/** Parquet codec ids (parquet.thrift CompressionCodec) by the names DuckDB's parquet_metadata() gives. */
export const CODEC: Record<string, number> = {
  UNCOMPRESSED: 0,
  SNAPPY: 1,
  GZIP: 2,
  LZO: 3,
  BROTLI: 4,
  LZ4: 5,
  ZSTD: 6,
  LZ4_RAW: 7,
};

let instance: DuckDBInstance | null = null;

/** A DuckDB connection of one thread (rows come back in file order). */
export async function duckConnection(): Promise<DuckDBConnection> {
  instance ??= await DuckDBInstance.create(":memory:", { threads: "1" });
  return instance.connect();
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Every column chunk of the flat Parquet file at `path`, in row-group then column order, as DuckDB's metadata functions describe it. */
export async function listColumnChunks(path: string): Promise<ListedChunk[]> {
  const c = await duckConnection();
  try {
    const schema = (
      await c.runAndReadAll(
        `SELECT name, repetition_type FROM parquet_schema(${quote(path)}) WHERE num_children IS NULL`,
      )
    ).getRowObjectsJS();
    const repetition = new Map(schema.map((r) => [String(r.name), String(r.repetition_type)]));
    const rows = (
      await c.runAndReadAll(
        `SELECT row_group_id, row_group_num_rows, path_in_schema, type, compression, encodings, num_values,
           coalesce(dictionary_page_offset, data_page_offset) AS start, total_compressed_size
         FROM parquet_metadata(${quote(path)}) ORDER BY row_group_id, column_id`,
      )
    ).getRowObjectsJS();
    const file = readFileSync(path);
    const groupRows = new Map<number, number>();
    for (const r of rows) groupRows.set(Number(r.row_group_id), Number(r.row_group_num_rows));
    const firstRows: number[] = [];
    let at = 0;
    for (let g = 0; g < groupRows.size; g++) {
      firstRows.push(at);
      at += groupRows.get(g) ?? 0;
    }
    return rows.map((r) => {
      const column = String(r.path_in_schema);
      const rep = repetition.get(column);
      if (rep !== "REQUIRED" && rep !== "OPTIONAL") throw new Error(`${path}: ${column} is ${rep}: not a flat column`);
      const start = Number(r.start);
      const size = Number(r.total_compressed_size);
      return {
        rowGroup: Number(r.row_group_id),
        firstRow: firstRows[Number(r.row_group_id)],
        encodings: String(r.encodings),
        desc: {
          file: path,
          column,
          physicalType: PHYSICAL[String(r.type)] ?? -1,
          maxDef: rep === "OPTIONAL" ? 1 : 0,
          codec: CODEC[String(r.compression)] ?? -1,
          numValues: Number(r.num_values),
        },
        bytes: new Uint8Array(file.buffer, file.byteOffset + start, size),
      };
    });
  } finally {
    c.closeSync();
  }
}

/**
 * Every row of the named columns as DuckDB reads them, in file order, each as the physical value a
 * decoder gives: dates as days, timestamps as ns since the epoch, strings as strings.
 */
export async function duckColumns(
  path: string,
  columns: { name: string; type: RandomColumnType }[],
): Promise<Cell[][]> {
  if (columns.length === 0) return [];
  const exprs = columns.map(({ name, type }) => {
    const col = `"${name}"`;
    if (type === "date32") return `(${col} - DATE '1970-01-01')::INTEGER`;
    if (type === "timestampNs") return `epoch_ns(${col})`;
    return col;
  });
  const c = await duckConnection();
  try {
    const reader = await c.runAndReadAll(`SELECT ${exprs.join(", ")} FROM read_parquet(${quote(path)})`);
    const got = reader.getColumnsJS() as Cell[][];
    // No rows: DuckDB gives no columns at all.
    return columns.map((_, k) => got[k] ?? []);
  } finally {
    c.closeSync();
  }
}

/** One page of a chunk as its header says: type (0 v1 data, 2 dictionary, 3 v2 data), value encoding, values and nulls (v2 only). */
export interface PageFacts {
  /** Offset of the page's header in the chunk, and of its body. */
  offset: number;
  bodyStart: number;
  type: number;
  encoding: number;
  numValues: number;
  numNulls: number | null;
  uncompressedSize: number;
  /** Bytes at the start of the body stored uncompressed whatever the codec: a v2 page's levels (all of it when not is_compressed). */
  uncompressedPrefix: number;
}

/** The pages of an intact chunk, from their headers (read with the footer's Thrift decoder, not the decoder under test). */
export function pagesOf(chunk: Uint8Array): PageFacts[] {
  const out: PageFacts[] = [];
  let pos = 0;
  while (pos < chunk.length) {
    const d = new CompactDecoder(chunk.subarray(pos));
    const h = d.struct();
    const type = field<number>(h, 1)!;
    const sub = field<TStruct>(h, type === 0 ? 5 : type === 2 ? 7 : 8);
    out.push({
      offset: pos,
      bodyStart: pos + d.pos,
      type,
      encoding: sub ? field<number>(sub, type === 3 ? 4 : 2)! : -1,
      numValues: sub ? field<number>(sub, 1)! : 0,
      numNulls: type === 3 && sub ? field<number>(sub, 2)! : null,
      uncompressedSize: field<number>(h, 2)!,
      uncompressedPrefix:
        type !== 3 || !sub
          ? 0
          : field<boolean>(sub, 7) === false
            ? field<number>(h, 3)!
            : (field<number>(sub, 5) ?? 0) + (field<number>(sub, 6) ?? 0),
    });
    pos += d.pos + field<number>(h, 3)!;
  }
  return out;
}
