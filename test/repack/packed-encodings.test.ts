/**
 * Packed files carry the codecs, encodings and pages lib/packed/schema.ts chose (as DuckDB's
 * parquet_metadata() and the pages' own headers say), and DuckDB, the native decoder and parquet-wasm
 * read the same rows from them.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkPartition } from "../../lib/packed/check.ts";
import { packedFileMetadata } from "../../lib/packed/part-writer.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import {
  PACKED_COLUMNS,
  PACKED_DICTIONARY_COLUMNS,
  PACKED_KINDS,
  PACKED_UNCOMPRESSED_COLUMNS,
} from "../../lib/packed/schema.ts";
import { encodeParquet, type PageLayout } from "../../lib/parquet/io.ts";
import type { CColumn } from "../../lib/parquet/c-data.ts";
import type { DecodedChunk } from "../../lib/parquet/native/chunk-desc.ts";
import { chunkIndexOf } from "../../lib/parquet/native/chunk-index.ts";
import { loadPageDecoder } from "../../lib/parquet/native/page-decoder.ts";
import { closeParquetFile, openParquetFile, withColumnViews } from "../../lib/parquet/source.ts";
import { CompactDecoder, type TStruct } from "../../lib/parquet/thrift-compact.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);
afterAll(() => (process.env.KEEP ? undefined : cleanupTempDirs()));

/** The columns bench reads, timestamp included. */
const READ_COLUMNS = ["timestamp", "expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume"];
/**
 * The most rows a packed data page holds: arrow-rs caps a page at 20,000 rows whatever its bytes, checked
 * after each write batch (1024 rows) for dictionary-encoded columns, so their pages reach 20,480.
 */
const PAGE_ROWS = 20_000 + 1024;

let parts: string[];
let packed: string;
beforeAll(async () => {
  const raw = tempDir("enc-raw");
  // One partition of ~50k rows: row groups long enough to hold several pages.
  await genFixture(raw, { days: 1, underlyings: ["NIFTY"], strikesEachSide: 1, tickProb: 0.25 });
  packed = tempDir("enc-packed");
  await repackFixture([raw], packed, { rowGroupSize: 45_000 });
  parts = listPackedPartitions(packed).flatMap((p) => p.parts);
});

/** Each row of parquet_metadata() for the file. */
async function chunkMetadata(path: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    return (
      await c.runAndReadAll(
        `SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings FROM parquet_metadata('${path}')`,
      )
    ).getRowObjects();
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** A file's bytes and where each row group's chunks of `columns` lie. */
function chunksOf(path: string, columns: readonly string[]) {
  const bytes = new Uint8Array(readFileSync(path));
  const len = new DataView(bytes.buffer, bytes.length - 8, 4).getUint32(0, true);
  return { bytes, index: chunkIndexOf(bytes.subarray(bytes.length - 8 - len, bytes.length - 8), columns) };
}

/** The rows each data page of a chunk holds, from its page headers (v1: num_values, v2: num_rows). */
function dataPageRows(chunk: Uint8Array): number[] {
  const rows: number[] = [];
  for (let at = 0; at < chunk.length; ) {
    const d = new CompactDecoder(chunk.subarray(at));
    const h: TStruct = d.struct();
    const type = Number(h.get(1)?.value);
    if (type === 0) rows.push(Number((h.get(5)!.value as TStruct).get(1)?.value));
    else if (type === 3) rows.push(Number((h.get(8)!.value as TStruct).get(3)?.value));
    at += d.pos + Number(h.get(3)?.value);
  }
  return rows;
}

describe("packed files' codecs, encodings and pages", () => {
  test("the chosen columns are stored uncompressed, every other one ZSTD; dictionary and delta encodings as chosen", async () => {
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) {
      const meta = await chunkMetadata(part);
      expect(meta.length).toBeGreaterThan(0);
      for (const m of meta) {
        const column = String(m.path_in_schema);
        const encodings = String(m.encodings);
        expect({ column, compression: m.compression }).toEqual({
          column,
          compression: PACKED_UNCOMPRESSED_COLUMNS.includes(column) ? "UNCOMPRESSED" : "ZSTD",
        });
        if (PACKED_DICTIONARY_COLUMNS.includes(column) || PACKED_KINDS.get(column) === "dict")
          expect({ column, encodings }).toEqual({ column, encodings: expect.stringContaining("RLE_DICTIONARY") });
        if (column === "volume")
          expect({ column, encodings }).toEqual({ column, encodings: "RLE, DELTA_BINARY_PACKED" });
      }
    }
  });

  test(`a chunk is cut into pages of at most ${PAGE_ROWS} rows (a window decodes only the pages it touches)`, () => {
    let longChunks = 0;
    for (const part of parts) {
      const { bytes, index } = chunksOf(part, READ_COLUMNS);
      for (const g of index.rowGroups)
        for (const [column, loc] of g.chunks) {
          const pages = dataPageRows(bytes.subarray(loc.start, loc.start + loc.length));
          expect({ column, rows: pages.reduce((a, b) => a + b, 0) }).toEqual({ column, rows: g.rows });
          expect({ column, largest: Math.max(...pages) <= PAGE_ROWS }).toEqual({ column, largest: true });
          if (g.rows > PAGE_ROWS) {
            longChunks++;
            expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(g.rows / PAGE_ROWS));
          }
        }
    }
    expect(longChunks).toBeGreaterThanOrEqual(READ_COLUMNS.length);
  });
});

/** A column's rows as text ("∅" for null), from the native decoder. */
function nativeText(d: DecodedChunk): string[] {
  return Array.from({ length: d.length }, (_, i) => {
    if (d.validity && ((d.validity[i >> 3] >> (i & 7)) & 1) === 0) return "∅";
    return d.dictionary ? d.dictionary[d.values[i] as number] : String(d.values[i]);
  });
}

/** A column's rows as text ("∅" for null), from parquet-wasm. */
function wasmText(c: CColumn): string[] {
  return Array.from({ length: c.length }, (_, i) => {
    if (c.validity && ((c.validity[i >> 3] >> (i & 7)) & 1) === 0) return "∅";
    return c.dictionary ? String(c.dictionary[c.values![i] as number]) : String(c.values![i]);
  });
}

/** The columns as text, in file order, from DuckDB (timestamps in ns, dates in days since 1970). */
async function duckText(path: string): Promise<Map<string, string[]>> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const rows = (
      await c.runAndReadAll(
        `SELECT epoch_ns("timestamp") AS "timestamp", expiry - DATE '1970-01-01' AS expiry, opt_type::VARCHAR AS opt_type,
                strike, price, bp0, sp0, volume
         FROM read_parquet('${path}', file_row_number = true) ORDER BY file_row_number`,
      )
    ).getRowObjects();
    return new Map(READ_COLUMNS.map((col) => [col, rows.map((r) => (r[col] === null ? "∅" : String(r[col])))]));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

describe("reading packed files", () => {
  test("DuckDB, the native decoder (TinyCC) and parquet-wasm read the same rows of bench's columns", async () => {
    const decoder = loadPageDecoder("tcc");
    expect(decoder.native).toBe(true);
    expect(decoder.compiler).toBe("tcc");
    for (const part of parts) {
      const duck = await duckText(part);
      const { bytes, index } = chunksOf(part, READ_COLUMNS);
      const schema = new Map(index.columns!.map((c) => [c.name, c]));
      const file = await openParquetFile(part);
      try {
        let first = 0;
        for (const [g, group] of index.rowGroups.entries()) {
          for (const column of READ_COLUMNS) {
            const loc = group.chunks.get(column)!;
            const s = schema.get(column)!;
            const native = nativeText(
              decoder.decodeChunk(
                bytes.subarray(loc.start, loc.start + loc.length),
                {
                  file: part,
                  column,
                  physicalType: s.physicalType,
                  maxDef: s.maxDef,
                  codec: loc.codec,
                  numValues: loc.numValues,
                },
                { start: 0, count: group.rows },
              ),
            );
            const wasm = await withColumnViews(file, [column], { rowGroups: [g] }, (b) =>
              b.flatMap((batch) => wasmText(batch.columns[0])),
            );
            const fromDuck = duck.get(column)!.slice(first, first + group.rows);
            expect({ column, g, native: native.length }).toEqual({ column, g, native: group.rows });
            // Compared whole, a difference would print 45k rows: the first differing row instead.
            const at = native.findIndex((v, i) => v !== wasm[i] || v !== fromDuck[i]);
            const row = (k: number) => [native[k], wasm[k], fromDuck[k]];
            expect({ column, g, at, row: at < 0 ? [] : row(at) }).toEqual({ column, g, at: -1, row: [] });
          }
          first += group.rows;
        }
        expect(first).toBe(duck.get("timestamp")!.length);
      } finally {
        closeParquetFile(file);
      }
    }
  });
});

describe("resort --check and the codecs", () => {
  test("accepts the packed layout and files written before it (all ZSTD); flags another column stored uncompressed", async () => {
    const [partition] = listPackedPartitions(packed);
    expect((await checkPartition(partition, 45_000)).issues).toEqual([]);
    const rows = await readPackedRows(partition.parts[0]);
    const dir = tempDir("enc-check");
    const written = (name: string, pages: PageLayout) => {
      const path = join(dir, name);
      const metadata = packedFileMetadata(rows.length, { date: partition.date, underlying: partition.underlying });
      const options = { rowGroupSize: 45_000, metadata, dictionaryColumns: PACKED_DICTIONARY_COLUMNS, pages };
      writeFileSync(path, encodeParquet([rows], PACKED_COLUMNS, options));
      return path;
    };
    const problems = async (path: string) =>
      (await checkPartition({ ...partition, parts: [path] }, 45_000)).issues.map((i) => i.problem);
    expect(await problems(written("all-zstd.parquet", {}))).toEqual([]);
    const oi = written("oi-uncompressed.parquet", { uncompressedColumns: [...PACKED_UNCOMPRESSED_COLUMNS, "oi"] });
    expect(await problems(oi)).toEqual(["compression UNCOMPRESSED, not ZSTD"]);
  });
});
