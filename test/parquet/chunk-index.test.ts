import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import * as arrow from "apache-arrow";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pw from "parquet-wasm/esm";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { columnToArrow, packValidity, sharedDictionary } from "../../lib/parquet/arrow-columns.ts";
import { allocValues, type Column, type ColumnBatch, type ColumnKind } from "../../lib/parquet/column-batch.ts";
import { encodeParquet } from "../../lib/parquet/io.ts";
import {
  type ChunkIndex,
  chunkIndexNative,
  chunkIndexOf,
  chunkIndexWalkAddress,
  readChunkIndex,
} from "../../lib/parquet/native/chunk-index.ts";
import { closeParquetFile, openParquetFile } from "../../lib/parquet/source.ts";
import { decodeStruct, encodeStruct, field, type TList, type TStruct } from "../../lib/parquet/thrift-compact.ts";
import { parquetWasm } from "../../lib/parquet/wasm.ts";
import { randomFor, type SeededRandom } from "../../lib/random.ts";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { CODEC } from "../helpers/random-parquet.ts";

// gen + repack, parquet-wasm writes and DuckDB reads: seconds each on a loaded machine.
setDefaultTimeout(60_000);

afterAll(cleanupTempDirs);

/** The footer (FileMetaData bytes) of a whole Parquet file. */
function footerOf(file: Uint8Array): Uint8Array {
  const len = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(file.length - 8, true);
  return file.subarray(file.length - 8 - len, file.length - 8);
}

/** The native index, asserted built (null would mean the reference alone was tested), and equal to the reference's. */
function expectNativeAsReference(footer: Uint8Array, wanted: readonly string[], label: string): ChunkIndex {
  const native = chunkIndexNative(footer, wanted);
  expect(native, `${label}: the C walk was not built or refused the footer`).not.toBeNull();
  const reference = chunkIndexOf(footer, wanted);
  expect(native, label).toEqual(reference);
  // Map order too: toEqual does not look at it.
  expect(
    native!.rowGroups.map((g) => [...g.chunks.keys()]),
    label,
  ).toEqual(reference.rowGroups.map((g) => [...g.chunks.keys()]));
  expect([...native!.keyValue.keys()], label).toEqual([...reference.keyValue.keys()]);
  expect(readChunkIndex(footer, wanted), label).toEqual(reference);
  return reference;
}

const ENCODINGS: Record<string, number> = {
  PLAIN: 0,
  PLAIN_DICTIONARY: 2,
  RLE: 3,
  BIT_PACKED: 4,
  DELTA_BINARY_PACKED: 5,
  DELTA_LENGTH_BYTE_ARRAY: 6,
  DELTA_BYTE_ARRAY: 7,
  RLE_DICTIONARY: 8,
  BYTE_STREAM_SPLIT: 9,
};

let duck: DuckDBInstance | null = null;

/** What DuckDB's parquet_metadata/parquet_schema/parquet_kv_metadata say of a file, in the index's terms. */
async function duckIndex(path: string): Promise<ChunkIndex & { repetition: Map<string, string> }> {
  duck ??= await DuckDBInstance.create(":memory:");
  const c = await duck.connect();
  const q = `'${path.replaceAll("'", "''")}'`;
  const schema = (await c.runAndReadAll(`SELECT name, repetition_type, num_children FROM parquet_schema(${q})`))
    .getRowObjectsJS()
    .slice(1);
  const meta = (
    await c.runAndReadAll(
      `SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings, num_values,
              total_compressed_size, data_page_offset, dictionary_page_offset
       FROM parquet_metadata(${q}) ORDER BY row_group_id, column_id`,
    )
  ).getRowObjectsJS();
  const kv = (await c.runAndReadAll(`SELECT key, value FROM parquet_kv_metadata(${q})`)).getRowObjectsJS();
  c.closeSync();
  const out = {
    columns: null,
    rowGroups: [] as ChunkIndex["rowGroups"],
    keyValue: new Map<string, string>(),
    repetition: new Map(schema.map((r) => [String(r.name), String(r.repetition_type)])),
  };
  const text = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));
  for (const r of kv) out.keyValue.set(text(r.key), text(r.value));
  for (const r of meta) {
    const g = Number(r.row_group_id);
    out.rowGroups[g] ??= { rows: Number(r.row_group_num_rows), chunks: new Map() };
    const data = Number(r.data_page_offset);
    const dict = r.dictionary_page_offset === null ? -1 : Number(r.dictionary_page_offset);
    out.rowGroups[g].chunks.set(String(r.path_in_schema), {
      codec: CODEC[String(r.compression)],
      numValues: Number(r.num_values),
      start: dict > 0 && dict < data ? dict : data,
      length: Number(r.total_compressed_size),
      encodings: [
        ...new Set(
          String(r.encodings)
            .split(/,\s*/)
            .map((e) => ENCODINGS[e]),
        ),
      ].sort((a, b) => a - b),
      external: false,
    });
  }
  return out;
}

/** The index checked against DuckDB's own reading of the file: chunks, rows, key-value pairs, repetition. */
async function expectAsDuckDB(index: ChunkIndex, path: string, wanted: readonly string[]): Promise<void> {
  const duckdb = await duckIndex(path);
  expect(index.rowGroups.length).toBe(duckdb.rowGroups.length);
  index.rowGroups.forEach((g, i) => {
    expect(g.rows).toBe(duckdb.rowGroups[i].rows);
    const want = new Map([...duckdb.rowGroups[i].chunks].filter(([name]) => wanted.includes(name)));
    expect(g.chunks).toEqual(want);
  });
  expect(index.keyValue).toEqual(duckdb.keyValue);
  expect(index.columns).not.toBeNull();
  expect(new Map(index.columns!.map((c) => [c.name, c.maxDef === 1 ? "OPTIONAL" : "REQUIRED"]))).toEqual(
    duckdb.repetition,
  );
}

/** parquet-wasm's own formats for a file's columns, to compare with the index's. */
async function wasmFormats(path: string) {
  const source = await openParquetFile(path);
  try {
    return source.columns.map((c) => ({ name: c.name, format: c.format, dictionaryFormat: c.dictionaryFormat }));
  } finally {
    closeParquetFile(source);
  }
}

/** One day of one underlying, a few strikes: several row groups a part. */
const smallPacked = () =>
  packedFixture("chunk-index", { days: 1, strikesEachSide: 3, underlyings: ["NIFTY"], tickProb: 0.2 });

const indexFormats = (index: ChunkIndex) =>
  index.columns!.map((c) => ({ name: c.name, format: c.format, dictionaryFormat: c.dictionaryFormat }));

describe("chunk index of packed files", () => {
  test("the C walk gives the reference's index, which DuckDB and parquet-wasm agree with", async () => {
    const packed = await smallPacked();
    const parts = listPackedPartitions(packed).flatMap((p) => p.parts);
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) {
      const footer = footerOf(readFileSync(part));
      const all = chunkIndexOf(footer, []).columns!.map((c) => c.name);
      expect(all.length).toBeGreaterThan(50);
      const index = expectNativeAsReference(footer, all, part);
      expect(index.rowGroups.length).toBeGreaterThan(1);
      await expectAsDuckDB(index, part, all);
      expect(indexFormats(index)).toEqual(await wasmFormats(part));
      // A few columns, out of file order, one absent and one twice; none; and every chunk's position.
      const some = ["strike", "timestamp", "no_such_column", "expiry", "strike"];
      await expectAsDuckDB(expectNativeAsReference(footer, some, part), part, some);
      expect(expectNativeAsReference(footer, [], part).rowGroups.every((g) => g.chunks.size === 0)).toBe(true);
    }
  });
});

describe("chunk index walk shared between threads", () => {
  test("a worker given this thread's build walks footers as this thread does, with no build of its own", async () => {
    const packed = await smallPacked();
    const footers = listPackedPartitions(packed)
      .flatMap((p) => p.parts)
      .map((part) => footerOf(readFileSync(part)));
    const wanted = ["expiry", "opt_type", "strike", "price", "timestamp"];
    const address = chunkIndexWalkAddress();
    expect(address).not.toBeNull();
    const w = new Worker(join(import.meta.dir, "chunk-index-worker.ts"));
    try {
      const got = await new Promise<{ adopted: boolean; indexes: (ChunkIndex | null)[] }>((resolve, reject) => {
        w.onmessage = (ev) => resolve(ev.data);
        w.onerror = (e) => reject(e);
        w.postMessage({ address, footers, wanted });
      });
      expect(got.adopted).toBe(true);
      expect(got.indexes.length).toBeGreaterThan(0);
      for (let k = 0; k < footers.length; k++) {
        const here = chunkIndexNative(footers[k], wanted);
        expect(here).not.toBeNull();
        expect(got.indexes[k]).toEqual(here);
      }
    } finally {
      w.terminate();
    }
  });
});

/** Kinds of the random files: the packed ones, and a plain int32. */
type RandomKind = ColumnKind | "i32";
const KINDS: RandomKind[] = ["ts_ns", "i64", "f64", "f32", "i16", "date32", "bool", "dict", "i32"];

/** A random column of `kind` (nulls at `nullRate`; none when 0). */
function randomColumn(r: SeededRandom, kind: RandomKind, n: number, nullRate: number): Column {
  const valid = nullRate > 0 ? Uint8Array.from({ length: n }, () => (r.next() < nullRate ? 0 : 1)) : null;
  if (kind === "i32") return { kind: "date32", values: Int32Array.from({ length: n }, () => r.int(-1e9, 1e9)), valid };
  const values = allocValues(kind, n);
  for (let i = 0; i < n; i++) {
    if (values instanceof BigInt64Array) values[i] = BigInt(r.int(-1e12, 1e12)) * 1000n;
    else if (kind === "bool") values[i] = r.int(0, 1);
    else if (kind === "dict") values[i] = r.int(0, 4);
    else if (kind === "i16") values[i] = r.int(-30000, 30000);
    else if (kind === "date32") values[i] = r.int(0, 30000);
    else values[i] = r.normal() * 1000;
  }
  return { kind, values, valid, dictionary: kind === "dict" ? ["CE", "PE", "NIFTY", "BANKNIFTY", ""] : undefined };
}

interface RandomFile {
  bytes: Uint8Array;
  names: string[];
}

/**
 * A file of random columns written by parquet-wasm: every kind, each REQUIRED (a non-nullable field)
 * or OPTIONAL at random, several row groups, the codec and dictionaries (on, off, a few columns) at random.
 */
function randomFile(seed: number): RandomFile {
  const r = randomFor(seed, "chunk-index");
  const n = r.int(50, 3000);
  const fields: arrow.Field[] = [];
  const data: arrow.Data[] = [];
  const dictionaryColumns: string[] = [];
  KINDS.forEach((kind, i) => {
    const copies = r.int(1, 2);
    for (let k = 0; k < copies; k++) {
      const name = `${kind}_${i}_${k}`;
      const optional = r.next() < 0.6;
      const col = randomColumn(r, kind, n, optional ? r.next() * 0.3 : 0);
      let d: arrow.Data;
      if (kind === "i32") {
        const nulls = col.valid ? packValidity(col.valid) : { nullBitmap: undefined, nullCount: 0 };
        d = arrow.makeData({ type: new arrow.Int32(), length: n, data: col.values as Int32Array, ...nulls });
      } else if (kind === "ts_ns" && k === 1) {
        // A timestamp without a time zone (isAdjustedToUTC false).
        const nulls = col.valid ? packValidity(col.valid) : { nullBitmap: undefined, nullCount: 0 };
        d = arrow.makeData({
          type: new arrow.TimestampNanosecond(),
          length: n,
          data: col.values as BigInt64Array,
          ...nulls,
        } as never);
      } else d = columnToArrow(col, n, kind === "dict" ? sharedDictionary(col.dictionary!) : undefined);
      fields.push(new arrow.Field(name, d.type, optional));
      data.push(d);
      if (r.next() < 0.3) dictionaryColumns.push(name);
    }
  });
  const schema = new arrow.Schema(fields);
  const batch = new arrow.RecordBatch(
    schema,
    arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children: data }),
  );
  const ipc = arrow.tableToIPC(new arrow.Table([batch]), "stream");
  parquetWasm();
  const everywhere = r.next() < 0.3;
  let props = new pw.WriterPropertiesBuilder()
    .setCompression(r.next() < 0.5 ? pw.Compression.ZSTD : pw.Compression.UNCOMPRESSED)
    .setDictionaryEnabled(everywhere)
    .setStatisticsEnabled(r.next() < 0.5 ? pw.EnabledStatistics.Chunk : pw.EnabledStatistics.None)
    .setMaxRowGroupSize(r.int(Math.ceil(n / 6), n))
    .setKeyValueMetadata(
      new Map([
        [`seed`, String(seed)],
        ["empty", ""],
      ]),
    );
  if (!everywhere) for (const name of dictionaryColumns) props = props.setColumnDictionaryEnabled(name, true);
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(ipc), props.build());
  return { bytes, names: fields.map((f) => f.name) };
}

describe("chunk index of random files", () => {
  test("every type, required and optional, dictionaries on and off: C = reference = DuckDB = parquet-wasm", async () => {
    const dir = tempDir("chunk-index-random");
    const seen = { required: 0, optional: 0, dictionary: 0, plain: 0, groups: 0 };
    for (let seed = 1; seed <= 12; seed++) {
      const { bytes, names } = randomFile(seed);
      const path = join(dir, `random-${seed}.parquet`);
      writeFileSync(path, bytes);
      const footer = footerOf(bytes);
      const index = expectNativeAsReference(footer, names, path);
      await expectAsDuckDB(index, path, names);
      expect(indexFormats(index)).toEqual(await wasmFormats(path));
      expect(index.columns!.every((c) => c.format !== null)).toBe(true);
      for (const c of index.columns!) seen[c.maxDef === 1 ? "optional" : "required"]++;
      for (const g of index.rowGroups)
        for (const loc of g.chunks.values()) seen[loc.encodings.includes(8) ? "dictionary" : "plain"]++;
      seen.groups = Math.max(seen.groups, index.rowGroups.length);
      // A random subset, shuffled.
      const r = randomFor(seed, "subset");
      const some = names.filter(() => r.next() < 0.4).sort(() => r.next() - 0.5);
      expectNativeAsReference(footer, some, `${path} subset`);
    }
    // The random files did cover what they are for.
    expect(seen.required).toBeGreaterThan(0);
    expect(seen.optional).toBeGreaterThan(0);
    expect(seen.dictionary).toBeGreaterThan(0);
    expect(seen.plain).toBeGreaterThan(0);
    expect(seen.groups).toBeGreaterThan(2);
  });

  test("a file written by encodeParquet (the packed writer's path)", async () => {
    const n = 5000;
    const r = randomFor(3, "encode-parquet");
    const kinds: ColumnKind[] = ["ts_ns", "i64", "f64", "f32", "i16", "date32", "bool", "dict"];
    const specs = kinds.map((kind) => ({ name: `c_${kind}`, kind }));
    const batch: ColumnBatch = {
      length: n,
      columns: new Map(specs.map((s) => [s.name, randomColumn(r, s.kind, n, 0.1)])),
    };
    const bytes = encodeParquet([batch], specs, { rowGroupSize: 1500, metadata: new Map([["k", "v"]]) });
    const path = join(tempDir("chunk-index-encode"), "encoded.parquet");
    writeFileSync(path, bytes);
    const names = specs.map((s) => s.name);
    const index = expectNativeAsReference(footerOf(bytes), names, path);
    expect(index.rowGroups.length).toBe(4);
    await expectAsDuckDB(index, path, names);
    expect(indexFormats(index)).toEqual(await wasmFormats(path));
  });
});

/** A packed-like footer of a small random file, and that footer decoded losslessly (to edit). */
function smallFooter(seed: number): { footer: Uint8Array; names: string[]; meta: TStruct } {
  const { bytes, names } = randomFile(seed);
  const footer = footerOf(bytes);
  return { footer, names, meta: decodeStruct(footer) };
}

describe("footers the C walk must not take at face value", () => {
  test("truncated or garbled: null or the reference's index, never a crash; null wherever the reference throws", () => {
    let refused = 0;
    let same = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const { footer, names } = smallFooter(seed);
      const r = randomFor(seed, "garble");
      const cases: Uint8Array[] = [];
      for (let i = 0; i < 40; i++) cases.push(footer.subarray(0, r.int(0, footer.length - 1)));
      for (let i = 0; i < 150; i++) {
        const g = footer.slice();
        const flips = r.int(1, 4);
        for (let f = 0; f < flips; f++) g[r.int(0, g.length - 1)] = r.int(0, 255);
        cases.push(g);
      }
      // Runs of 0xff: list sizes, lengths and field ids as large as a varint gets, and overlong varints.
      for (let i = 0; i < 30; i++) {
        const g = footer.slice();
        g.fill(0xff, r.int(0, g.length - 1), r.int(0, g.length - 1) + r.int(1, 16));
        cases.push(g);
      }
      for (const g of cases) {
        const native = chunkIndexNative(g, names);
        let reference: ChunkIndex | null = null;
        try {
          reference = chunkIndexOf(g, names);
        } catch {
          // The reference cannot walk it: the C walk must have said so too.
        }
        if (native === null) refused++;
        else {
          expect(reference).not.toBeNull();
          expect(native).toEqual(reference!);
          same++;
        }
      }
    }
    // Both outcomes happen: a garbled footer is often still walkable, a cut one never.
    expect(refused).toBeGreaterThan(0);
    expect(same).toBeGreaterThan(0);
  });

  test("sections out of order: left to the reference, which readChunkIndex then uses", () => {
    const { footer, names, meta } = smallFooter(5);
    // Fields written in descending id order (encodeStruct sorts them): each with its absolute id.
    const parts = [...meta.keys()]
      .sort((a, b) => b - a)
      .map((id) => {
        const f = meta.get(id)!;
        const one = encodeStruct(new Map([[id, f]]));
        return Uint8Array.of(f.type, id * 2, ...one.subarray(1, one.length - 1));
      });
    const bytes = Uint8Array.from([...parts.flatMap((p) => [...p]), 0]);
    expect(decodeStruct(bytes)).toEqual(meta);
    expect(chunkIndexNative(bytes, names)).toBeNull();
    expect(readChunkIndex(bytes, names)).toEqual(chunkIndexOf(footer, names));
  });

  test("repeated encodings, a nested path, a chunk in another file and an empty one: as the reference reads them", () => {
    const { meta, names } = smallFooter(6);
    const groups = field<TList>(meta, 4)!.items as TStruct[];
    const chunks = field<TList>(groups[0], 1)!.items as TStruct[];
    const md = (k: number) => field<TStruct>(chunks[k], 3)!;
    md(2).set(2, { type: 9, value: { elem: 5, items: [8, 0, 3, 8, 0] } });
    md(1).set(3, { type: 9, value: { elem: 8, items: ["a", "b.c"].map((s) => new TextEncoder().encode(s)) } });
    chunks[2].set(1, { type: 8, value: new TextEncoder().encode("other.parquet") });
    md(3).delete(3);
    // A path twice in one group: the first chunk's place in the map, the last one's values (a Map's set).
    md(4).set(3, md(0).get(3)!);
    const bytes = encodeStruct(meta);
    const wanted = [...names, "a.b.c", ""];
    const index = expectNativeAsReference(bytes, wanted, "edited");
    const first = index.rowGroups[0].chunks;
    expect(first.has("a.b.c")).toBe(true);
    expect(first.get(names[2])!.external).toBe(true);
    expect(first.get(names[2])!.encodings).toEqual([0, 3, 8]);
    expect(first.has("")).toBe(true);
    expect([...first.keys()].indexOf(names[0])).toBe(0);
    // Chunk 4's location (past chunk 0's), not chunk 0's.
    expect(first.get(names[0])!.start).toBeGreaterThan(first.get("a.b.c")!.start);
    const path5 = md(5).get(3)!;
    // A path part starting with a byte-order mark: a decoder drops it, so the reference finds "bom" there; left to it.
    md(5).set(3, {
      type: 9,
      value: { elem: 8, items: [Uint8Array.of(0xef, 0xbb, 0xbf, ...new TextEncoder().encode("bom"))] },
    });
    expect(chunkIndexNative(encodeStruct(meta), [...wanted, "bom"])).toBeNull();
    expect(readChunkIndex(encodeStruct(meta), [...wanted, "bom"]).rowGroups[0].chunks.has("bom")).toBe(true);
    md(5).set(3, path5);
    // A count past 2^53, which a JS number does not hold exactly: left to the reference.
    const numValues = md(4).get(5)!;
    md(4).set(5, { type: 6, value: 2n ** 53n + 2n });
    expect(chunkIndexNative(encodeStruct(meta), wanted)).toBeNull();
    expect(readChunkIndex(encodeStruct(meta), wanted).rowGroups[0].chunks.get(names[0])!.numValues).toBe(2 ** 53 + 2);
    md(4).set(5, numValues);
    // The bitmask's highest bit, and one past it: left to the reference.
    md(4).set(2, { type: 9, value: { elem: 5, items: [62, 1, 30, 31] } });
    expect(
      expectNativeAsReference(encodeStruct(meta), wanted, "encoding 62").rowGroups[0].chunks.get(names[0])!.encodings,
    ).toEqual([1, 30, 31, 62]);
    md(4).set(2, { type: 9, value: { elem: 5, items: [63] } });
    expect(chunkIndexNative(encodeStruct(meta), wanted)).toBeNull();
    expect(readChunkIndex(encodeStruct(meta), wanted).rowGroups[0].chunks.get(names[0])!.encodings).toEqual([63]);
  });
});
