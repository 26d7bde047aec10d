import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import * as arrow from "apache-arrow";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pw from "parquet-wasm/esm";
import { mapFileReadOnly } from "../../lib/cache/mapping.ts";
import { isValidAt, valuesCtorOf } from "../../lib/parquet/c-data.ts";
import {
  ChunkDecodeError,
  Codec,
  type ChunkDesc,
  type DecodedChunk,
  PhysicalType,
} from "../../lib/parquet/native/chunk-desc.ts";
import { type DecodedForm, loadPageDecoder } from "../../lib/parquet/native/page-decoder.ts";
import { decodeChunk as decodeReference } from "../../lib/parquet/native/page-decoder-reference.ts";
import { CODE_RUN, codeAt, codesOfRuns, dictionaryCopy } from "../../lib/parquet/native/code-runs.ts";
import { ptr } from "bun:ffi";
import { closeParquetFile, openParquetFile, withColumnViews } from "../../lib/parquet/source.ts";
import { parquetWasm } from "../../lib/parquet/wasm.ts";
import { randomFor } from "../../lib/random.ts";
import { encodeStruct, T, type TStruct } from "../../lib/parquet/thrift-compact.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";
import { bitPacked, uleb, zigzag } from "../helpers/page-bytes.ts";

// Writes and decodes a few dozen files: seconds on a quiet machine, more on a loaded one.
setDefaultTimeout(60_000);
afterAll(cleanupTempDirs);

const ROWS = 7000;
const ROW_GROUP = 3000;

/** A column of the test table: its Arrow type, nullability and generated values (null: a null row). */
interface TestColumn {
  name: string;
  type: arrow.DataType;
  nullable: boolean;
  values: unknown[];
}

/** Seeded columns of every physical type, with nulls, repeats (dictionaries), wide deltas and unicode. */
function testColumns(seed: number): TestColumn[] {
  const r = randomFor(seed, "page-decoder-native");
  const maybeNull = <T>(rate: number, v: () => T) => Array.from({ length: ROWS }, () => (r.next() < rate ? null : v()));
  const prices = Array.from({ length: 3000 }, (_, i) => 100 + i * 0.05);
  const words = ["CE", "PE", "", "ठीक", "NIFTY", "BANKNIFTY", "€uro", "x".repeat(40)];
  let ts = 1_763_437_501_000_000_000n;
  const u64 = () =>
    (BigInt(r.int(0, 2 ** 31 - 1)) << 33n) ^ BigInt(r.int(0, 2 ** 31 - 1)) ^ (r.next() < 0.5 ? -1n : 0n);
  return [
    { name: "b", type: new arrow.Bool(), nullable: true, values: maybeNull(0.1, () => r.next() < 0.3) },
    { name: "i32", type: new arrow.Int32(), nullable: true, values: maybeNull(0.05, () => r.int(-40, 40) * 1000) },
    {
      name: "i64",
      type: new arrow.Int64(),
      nullable: true,
      values: maybeNull(0.02, () => {
        ts += BigInt(r.int(0, 3_000_000_000)) - (r.next() < 0.01 ? 10_000_000_000n : 0n);
        return ts;
      }),
    },
    { name: "i64req", type: new arrow.Int64(), nullable: false, values: maybeNull(0, u64) },
    {
      name: "i32req",
      type: new arrow.Int32(),
      nullable: false,
      values: maybeNull(0, () => r.int(-(2 ** 31), 2 ** 31 - 1)),
    },
    {
      name: "f32",
      type: new arrow.Float32(),
      nullable: true,
      values: maybeNull(0.03, () => Math.fround(r.int(0, 50) * 50)),
    },
    { name: "f64", type: new arrow.Float64(), nullable: true, values: maybeNull(0.03, () => prices[r.int(0, 2999)]) },
    { name: "f64req", type: new arrow.Float64(), nullable: false, values: maybeNull(0, () => prices[r.int(0, 20)]) },
    {
      name: "s",
      type: new arrow.Utf8(),
      nullable: true,
      values: maybeNull(0.05, () => words[r.int(0, words.length - 1)]),
    },
    { name: "sreq", type: new arrow.Utf8(), nullable: false, values: maybeNull(0, () => `k${r.int(0, 3000)}`) },
    { name: "allnull", type: new arrow.Float64(), nullable: true, values: maybeNull(1, () => 0) },
  ];
}

/** Writer knobs of one test file. */
interface Knobs {
  label: string;
  version: pw.WriterVersion;
  compression: pw.Compression;
  dictionary: boolean;
  /** DELTA_BINARY_PACKED for the integer columns (as the fallback when the dictionary is on). */
  delta?: boolean;
  /** Small pages: many per chunk. */
  smallPages?: boolean;
  /** A small dictionary page limit: chunks fall back to PLAIN (or DELTA) part-way. */
  fallback?: boolean;
  /** arrow-rs's own v2 choices for booleans and strings (RLE, DELTA_BYTE_ARRAY), which the contract leaves to parquet-wasm; otherwise PLAIN. */
  v2Defaults?: boolean;
}

const KNOBS: Knobs[] = [
  { label: "v1-dict-zstd", version: pw.WriterVersion.V1, compression: pw.Compression.ZSTD, dictionary: true },
  {
    label: "v2-dict-zstd-pages",
    version: pw.WriterVersion.V2,
    compression: pw.Compression.ZSTD,
    dictionary: true,
    smallPages: true,
  },
  {
    label: "v1-fallback-plain",
    version: pw.WriterVersion.V1,
    compression: pw.Compression.UNCOMPRESSED,
    dictionary: true,
    fallback: true,
    smallPages: true,
  },
  {
    label: "v2-fallback-delta-zstd",
    version: pw.WriterVersion.V2,
    compression: pw.Compression.ZSTD,
    dictionary: true,
    fallback: true,
    delta: true,
  },
  {
    label: "v1-dict-uncompressed-pages",
    version: pw.WriterVersion.V1,
    compression: pw.Compression.UNCOMPRESSED,
    dictionary: true,
    smallPages: true,
  },
  {
    label: "v2-dict-uncompressed",
    version: pw.WriterVersion.V2,
    compression: pw.Compression.UNCOMPRESSED,
    dictionary: true,
  },
  {
    label: "v1-delta-plain-uncompressed",
    version: pw.WriterVersion.V1,
    compression: pw.Compression.UNCOMPRESSED,
    dictionary: false,
    delta: true,
    smallPages: true,
  },
  {
    label: "v2-plain-uncompressed",
    version: pw.WriterVersion.V2,
    compression: pw.Compression.UNCOMPRESSED,
    dictionary: false,
  },
];

function writeTestFile(path: string, columns: TestColumn[], k: Knobs): void {
  parquetWasm();
  const fields = columns.map((c) => new arrow.Field(c.name, c.type, c.nullable));
  const data = columns.map((c) => arrow.vectorFromArray(c.values, c.type as never).data[0]);
  const schema = new arrow.Schema(fields);
  const batch = new arrow.RecordBatch(
    schema,
    arrow.makeData({ type: new arrow.Struct(fields), length: ROWS, nullCount: 0, children: data }),
  );
  let b = new pw.WriterPropertiesBuilder()
    .setWriterVersion(k.version)
    .setCompression(k.compression)
    .setDictionaryEnabled(k.dictionary)
    .setMaxRowGroupSize(ROW_GROUP);
  if (k.smallPages) b = b.setDataPageSizeLimit(700).setWriteBatchSize(64);
  if (k.fallback) b = b.setDictionaryPageSizeLimit(300);
  if (k.version === pw.WriterVersion.V2 && !k.v2Defaults)
    for (const c of columns)
      if (arrow.DataType.isBool(c.type) || arrow.DataType.isUtf8(c.type))
        b = b.setColumnEncoding(c.name, pw.Encoding.PLAIN);
  if (k.delta)
    for (const c of columns)
      if (arrow.DataType.isInt(c.type)) b = b.setColumnEncoding(c.name, pw.Encoding.DELTA_BINARY_PACKED);
  const ipc = arrow.tableToIPC(new arrow.Table(batch), "stream");
  writeFileSync(path, pw.writeParquet(pw.Table.fromIPCStream(ipc), b.build()));
}

/** One column chunk as DuckDB's parquet_metadata() locates it (not our footer code). */
interface TestChunk {
  rowGroup: number;
  desc: ChunkDesc;
  bytes: Uint8Array;
  encodings: string;
}

async function chunksOf(path: string): Promise<TestChunk[]> {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  try {
    const file = await Bun.file(path).bytes();
    const schema = await con.runAndReadAll(`select name, repetition_type from parquet_schema('${path}')`);
    const optional = new Map(schema.getRowObjects().map((r) => [String(r.name), r.repetition_type === "OPTIONAL"]));
    const meta = await con.runAndReadAll(
      `select row_group_id, path_in_schema, type, num_values, compression, encodings, dictionary_page_offset,
              data_page_offset, total_compressed_size from parquet_metadata('${path}') order by row_group_id, column_id`,
    );
    return meta.getRowObjects().map((r) => {
      const start = Number(r.dictionary_page_offset ?? r.data_page_offset);
      const column = String(r.path_in_schema);
      return {
        rowGroup: Number(r.row_group_id),
        encodings: String(r.encodings),
        bytes: file.subarray(start, start + Number(r.total_compressed_size)),
        desc: {
          file: path,
          column,
          physicalType: PhysicalType[String(r.type) as keyof typeof PhysicalType],
          maxDef: optional.get(column) ? 1 : 0,
          codec: r.compression === "ZSTD" ? Codec.ZSTD : Codec.UNCOMPRESSED,
          numValues: Number(r.num_values),
        },
      };
    });
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** parquet-wasm's reading of every column of a row group, as plain values (null for a null row). */
async function expectedRows(path: string, rowGroup: number, columns: TestColumn[]): Promise<Map<string, unknown[]>> {
  const source = await openParquetFile(path);
  try {
    return await withColumnViews(
      source,
      columns.map((c) => c.name),
      { rowGroups: [rowGroup] },
      (batches) => {
        const out = new Map<string, unknown[]>(columns.map((c) => [c.name, []]));
        for (const batch of batches)
          columns.forEach((c, k) => {
            const col = batch.columns[k];
            const list = out.get(c.name)!;
            for (let i = 0; i < batch.length; i++) {
              if (!isValidAt(col.validity, i)) list.push(null);
              else if (col.strings) list.push(col.strings[i]);
              else if (col.dictionary) list.push(col.dictionary[(col.values as Int32Array)[i]]);
              else if (col.values) list.push(col.values[i]);
              else list.push(undefined); // booleans: no view (checked against the generated values)
            }
          });
        return out;
      },
    );
  } finally {
    closeParquetFile(source);
  }
}

/** A decoded window as plain values (null for a null row), checking that a null row's slot is 0. */
function plainValues(d: DecodedChunk, type: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < d.length; i++) {
    const v = d.values[i];
    if (!isValidAt(d.validity, i)) {
      if (v !== 0 && v !== 0n) throw new Error(`null row ${i} holds ${v}`);
      out.push(null);
    } else if (type === PhysicalType.BYTE_ARRAY) out.push(d.dictionary![v as number]);
    else if (type === PhysicalType.BOOLEAN) out.push(v === 1);
    else out.push(v);
  }
  return out;
}

function nullsIn(values: unknown[]): number {
  return values.filter((v) => v === null).length;
}

const columns = testColumns(23);
/** A file written with arrow-rs's v2 defaults, for the encodings the decoder refuses. */
const V2_DEFAULTS: Knobs = {
  label: "v2-defaults",
  version: pw.WriterVersion.V2,
  compression: pw.Compression.ZSTD,
  dictionary: false,
  v2Defaults: true,
};

const files = new Map<string, { path: string; chunks: TestChunk[]; expected: Map<string, unknown[]>[] }>();

beforeAll(async () => {
  const dir = tempDir("page-decoder-native");
  for (const k of [...KNOBS, V2_DEFAULTS]) {
    const path = join(dir, `${k.label}.parquet`);
    writeTestFile(path, columns, k);
    const chunks = await chunksOf(path);
    const groups = Math.max(...chunks.map((c) => c.rowGroup)) + 1;
    const expected = [];
    for (let g = 0; g < groups; g++) expected.push(await expectedRows(path, g, columns));
    files.set(k.label, { path, chunks, expected });
  }
});

/** Every chunk of the test files of a type that can come as codes (not BOOLEAN, not BYTE_ARRAY), with its file's knobs. */
function codableChunks(): { k: Knobs; chunk: TestChunk }[] {
  return KNOBS.flatMap((k) =>
    files
      .get(k.label)!
      .chunks.filter(
        (c) => c.desc.physicalType !== PhysicalType.BOOLEAN && c.desc.physicalType !== PhysicalType.BYTE_ARRAY,
      )
      .map((chunk) => ({ k, chunk })),
  );
}

/** Rows [start, start + count) of the generated column that row group g holds. */
function generated(name: string, g: number, start: number, count: number): unknown[] {
  const c = columns.find((x) => x.name === name)!;
  return c.values.slice(g * ROW_GROUP + start, g * ROW_GROUP + start + count);
}

describe("the native page decoder", () => {
  const tcc = loadPageDecoder("tcc");

  test("is the TinyCC build of page-decoder.c, with libzstd", () => {
    expect(tcc.native).toBe(true);
    expect(tcc.compiler).toBe("tcc");
    expect(tcc.zstd).not.toBeNull();
  });

  for (const k of KNOBS) {
    test(`decodes every chunk of ${k.label} as parquet-wasm does`, () => {
      const f = files.get(k.label)!;
      const encodings = new Set<string>();
      for (const chunk of f.chunks) {
        const { desc } = chunk;
        for (const e of chunk.encodings.split(", ")) encodings.add(e);
        const expected = f.expected[chunk.rowGroup].get(desc.column)!;
        const got = plainValues(
          tcc.decodeChunk(chunk.bytes, desc, { start: 0, count: desc.numValues }),
          desc.physicalType,
        );
        const want =
          desc.physicalType === PhysicalType.BOOLEAN
            ? generated(desc.column, chunk.rowGroup, 0, desc.numValues)
            : expected;
        expect({ column: desc.column, values: got }).toEqual({ column: desc.column, values: want });
        const d = tcc.decodeChunk(chunk.bytes, desc, { start: 0, count: desc.numValues });
        expect(d.nullCount).toBe(nullsIn(want));
        expect(d.validity === null).toBe(nullsIn(want) === 0);
      }
      // The file holds what its knobs ask for (so each path of the decoder is met).
      if (k.dictionary) expect(encodings).toContain("RLE_DICTIONARY");
      if (k.delta) expect(encodings).toContain("DELTA_BINARY_PACKED");
    });
  }

  test("the files mix page kinds: fallback chunks hold dictionary and plain pages, small pages many per chunk", () => {
    const fallback = files.get("v1-fallback-plain")!.chunks.find((c) => c.desc.column === "f64")!;
    expect(fallback.encodings.split(", ")).toEqual(expect.arrayContaining(["PLAIN", "RLE_DICTIONARY"]));
    const pages = (c: TestChunk) =>
      pageHeaders(c.bytes).filter((p) => p.fields.has("5.1") || p.fields.has("8.1")).length;
    expect(pages(fallback)).toBeGreaterThan(3);
    const delta = files.get("v2-fallback-delta-zstd")!.chunks.find((c) => c.desc.column === "i64req")!;
    expect(delta.encodings.split(", ")).toEqual(expect.arrayContaining(["RLE_DICTIONARY", "DELTA_BINARY_PACKED"]));
  });

  test("PLAIN_DICTIONARY (the v1 name) decodes as RLE_DICTIONARY does", () => {
    // arrow-rs names both RLE_DICTIONARY: the encodings of every page header are renamed here.
    const c = files.get("v1-fallback-plain")!.chunks.find((x) => x.desc.column === "f64" && x.rowGroup === 0)!;
    const bytes = c.bytes.slice();
    let renamed = 0;
    for (const p of pageHeaders(bytes)) {
      for (const key of ["5.2", "7.2"]) {
        const f = p.fields.get(key);
        if (f && (zigzagAt(bytes, f) === 8 || key === "7.2")) {
          bytes.set(withVarint(bytes, f.at, f.end, 2).subarray(f.at, f.end), f.at);
          renamed++;
        }
      }
    }
    expect(renamed).toBeGreaterThan(1);
    const w = { start: 0, count: c.desc.numValues };
    expect(plainValues(tcc.decodeChunk(bytes, c.desc, w), PhysicalType.DOUBLE)).toEqual(
      plainValues(tcc.decodeChunk(c.bytes, c.desc, w), PhysicalType.DOUBLE),
    );
  });

  test("arrow-rs's v2 booleans (RLE) and strings (DELTA_BYTE_ARRAY) are a ChunkDecodeError naming the encoding", () => {
    const f = files.get(V2_DEFAULTS.label)!;
    const refused = (column: string) => {
      const c = f.chunks.find((x) => x.desc.column === column && x.rowGroup === 0)!;
      return () => tcc.decodeChunk(c.bytes, c.desc, { start: 0, count: 1 });
    };
    expect(refused("b")).toThrow(
      new ChunkDecodeError(`${f.path}: column b: page 0 (at byte 0): values: RLE is not supported`),
    );
    expect(refused("sreq")).toThrow(/column sreq: page 0 \(at byte 0\): values: DELTA_BYTE_ARRAY is not supported$/);
  });

  test("windows: random ranges, empty ones, whole chunks and page boundaries give the rows of the whole", () => {
    const r = randomFor(5, "windows");
    for (const k of KNOBS) {
      const f = files.get(k.label)!;
      for (const chunk of f.chunks) {
        const { desc } = chunk;
        const whole = plainValues(
          tcc.decodeChunk(chunk.bytes, desc, { start: 0, count: desc.numValues }),
          desc.physicalType,
        );
        const n = desc.numValues;
        const windows = [
          { start: 0, count: 0 },
          { start: n, count: 0 },
          { start: n - 1, count: 1 },
          { start: 63, count: 130 },
          ...Array.from({ length: 8 }, () => {
            const start = r.int(0, n);
            return { start, count: r.int(0, n - start) };
          }),
        ];
        for (const w of windows) {
          const got = plainValues(tcc.decodeChunk(chunk.bytes, desc, w), desc.physicalType);
          expect({ column: desc.column, w, got }).toEqual({
            column: desc.column,
            w,
            got: whole.slice(w.start, w.start + w.count),
          });
        }
      }
    }
  });

  test("pages wholly outside a window are not decompressed", () => {
    const c = files.get("v2-dict-zstd-pages")!.chunks.find((x) => x.desc.column === "f64" && x.rowGroup === 0)!;
    const data = pageHeaders(c.bytes).filter((p) => p.fields.has("8.3"));
    expect(data.length).toBeGreaterThan(3);
    const firstRows = zigzagAt(c.bytes, data[0].fields.get("8.3")!);
    const last = data[data.length - 1];
    const garbled = c.bytes.slice();
    // The last page's zstd frame loses its magic number (levels, uncompressed in v2, come first).
    const frame = last.next - zigzagAt(c.bytes, last.fields.get("3")!) + zigzagAt(c.bytes, last.fields.get("8.5")!);
    garbled[frame] ^= 0xff;
    const w = { start: 0, count: firstRows };
    expect(plainValues(tcc.decodeChunk(garbled, c.desc, w), PhysicalType.DOUBLE)).toEqual(
      files.get("v2-dict-zstd-pages")!.expected[0].get("f64")!.slice(0, firstRows),
    );
    expect(() => tcc.decodeChunk(garbled, c.desc, { start: 0, count: c.desc.numValues })).toThrow(
      new RegExp(`column f64: page ${data.length} \\(at byte ${last.at}\\): ZSTD`),
    );
  });

  test("a window outside the chunk is a ChunkDecodeError", () => {
    const chunk = files.get("v1-dict-zstd")!.chunks.find((c) => c.desc.column === "f64")!;
    const n = chunk.desc.numValues;
    for (const w of [
      { start: -1, count: 2 },
      { start: n, count: 1 },
      { start: 10, count: n },
      { start: 0.5, count: 1 },
    ])
      expect(() => tcc.decodeChunk(chunk.bytes, chunk.desc, w)).toThrow(
        new ChunkDecodeError(
          `${chunk.desc.file}: column f64: rows [${w.start}, ${w.start + w.count}) outside the chunk's ${n} rows`,
        ),
      );
  });

  test("codes: a fixed-width chunk asked as codes gives the plain decode's rows through its code values", () => {
    const r = randomFor(6, "codes");
    let dictionaryOnly = 0;
    let appended = 0;
    for (const { k, chunk } of codableChunks()) {
      const { desc } = chunk;
      const n = desc.numValues;
      const windows = [
        { start: 0, count: n },
        { start: 0, count: 0 },
        { start: n - 1, count: 1 },
        ...Array.from({ length: 4 }, () => {
          const start = r.int(0, n);
          return { start, count: r.int(0, n - start) };
        }),
      ];
      for (const w of windows) {
        const want = plainValues(tcc.decodeChunk(chunk.bytes, desc, w), desc.physicalType);
        const d = tcc.decodeChunk(chunk.bytes, desc, w, 3, "codes");
        expect(d.values).toBeInstanceOf(Int32Array);
        const dict = d.dictionaryValues!;
        expect(dict).not.toBeNull();
        const got: unknown[] = [];
        for (let i = 0; i < d.length; i++) {
          const code = d.values[i] as number;
          if (!isValidAt(d.validity, i)) {
            expect(code).toBe(0);
            got.push(null);
          } else {
            expect(code >= 0 && code < dict.length).toBe(true);
            got.push(dict[code]);
          }
        }
        expect({ file: k.label, column: desc.column, w, got }).toEqual({
          file: k.label,
          column: desc.column,
          w,
          got: want,
        });
        // The reference keeps the same contract.
        const ref = decodeReference(chunk.bytes, desc, w, true);
        const refDict = ref.dictionaryValues!;
        expect(
          Array.from(ref.values as Int32Array, (c, i): unknown => (isValidAt(ref.validity, i) ? refDict[c] : null)),
        ).toEqual(want);
        if (w.count !== n) continue;
        const data = dataEncodings(chunk.bytes);
        const dictPage = pageHeaders(chunk.bytes).find((p) => p.fields.has("7.1"));
        const entries = dictPage ? zigzagAt(chunk.bytes, dictPage.fields.get("7.1")!) : 0;
        if (data.every((e) => e === 8)) {
          // Dictionary pages only: the codes index the dictionary page's values, nothing more.
          expect(dict.length).toBe(entries);
          dictionaryOnly++;
        } else if (data.includes(8)) {
          // Fallback: the values of its PLAIN or DELTA pages appended past the dictionary page's, one entry each.
          const valid = want.filter((v) => v !== null).length;
          expect(dict.length).toBeGreaterThan(entries);
          expect(dict.length).toBeLessThan(entries + valid);
          appended++;
        }
      }
    }
    expect(dictionaryOnly).toBeGreaterThan(0);
    // Fallback chunks: values of their PLAIN or DELTA pages appended to the dictionary.
    expect(appended).toBeGreaterThan(0);
  });

  test("runs: a dictionary-coded, uncompressed, null-free window comes as runs of codes; any other as codes", () => {
    const r = randomFor(7, "runs");
    let asRuns = 0;
    let asCodes = 0;
    for (const { k, chunk } of codableChunks()) {
      const { desc } = chunk;
      const n = desc.numValues;
      const data = dataEncodings(chunk.bytes);
      for (const w of [
        { start: 0, count: n },
        ...Array.from({ length: 6 }, () => {
          const start = r.int(0, n - 1);
          return { start, count: r.int(1, Math.min(n - start, 700)) };
        }),
      ]) {
        if (w.count === 0) continue;
        const plain = tcc.decodeChunk(chunk.bytes, desc, w);
        const want = plainValues(plain, desc.physicalType);
        const d = tcc.decodeChunk(chunk.bytes, desc, w, 4, "runs");
        const dict: ArrayLike<unknown> = d.codeRuns
          ? dictionaryCopy(
              d.codeRuns,
              valuesCtorOf(
                desc.physicalType === PhysicalType.INT64
                  ? "l"
                  : desc.physicalType === PhysicalType.INT32
                    ? "i"
                    : desc.physicalType === PhysicalType.FLOAT
                      ? "f"
                      : "g",
              )!,
            )
          : d.dictionaryValues!;
        if (d.codeRuns) {
          // The dictionary is left in the chunk, not copied.
          const at = d.codeRuns.dictionaryAt - Number(ptr(chunk.bytes));
          expect(at > 0 && at + d.codeRuns.entries * d.codeRuns.valueBytes <= chunk.bytes.length).toBe(true);
          asRuns++;
          // Only where nothing had to be unpacked or decompressed, and no row is null.
          expect({ label: k.label, column: desc.column, codec: desc.codec, nulls: plain.nullCount }).toEqual({
            label: k.label,
            column: desc.column,
            codec: 0,
            nulls: 0,
          });
          expect(data.every((e) => e === 8)).toBe(true);
          expect(d.validity).toBeNull();
          // The reference's read of every row's code, and of some rows alone, through the dictionary.
          const codes = codesOfRuns(d.codeRuns.records, d.length);
          expect({ column: desc.column, w, got: Array.from(codes, (c): unknown => dict[c]) }).toEqual({
            column: desc.column,
            w,
            got: want,
          });
          for (let q = 0; q < 5; q++) {
            const row = r.int(0, d.length - 1);
            expect(codeAt(d.codeRuns.records, row)).toBe(codes[row]);
          }
          // Runs are few: a run header per ≤ 504 bit-packed codes or per repeated code, split at pages.
          expect(d.codeRuns.records.length / CODE_RUN.SIZE).toBeLessThanOrEqual(Math.max(2, d.length / 2));
        } else {
          asCodes++;
          expect(d.values).toBeInstanceOf(Int32Array);
          const got = Array.from(d.values as Int32Array, (c, i): unknown =>
            isValidAt(d.validity, i) ? dict[c] : null,
          );
          expect({ column: desc.column, w, got }).toEqual({ column: desc.column, w, got: want });
        }
      }
    }
    expect(asRuns).toBeGreaterThan(10);
    expect(asCodes).toBeGreaterThan(10);
  });

  test("codes: a slot's code values stay valid while another slot decodes as codes", () => {
    const chunks = files.get("v1-dict-zstd")!.chunks.filter((c) => c.rowGroup === 0);
    const f64 = chunks.find((c) => c.desc.column === "f64")!;
    const i64 = chunks.find((c) => c.desc.column === "i64")!;
    const a = tcc.decodeChunk(f64.bytes, f64.desc, { start: 0, count: 100 }, 1, "codes");
    const before = Array.from(a.dictionaryValues as Float64Array);
    tcc.decodeChunk(i64.bytes, i64.desc, { start: 0, count: 3000 }, 2, "runs");
    tcc.decodeChunk(i64.bytes, i64.desc, { start: 0, count: 3000 }, 2);
    expect(Array.from(a.dictionaryValues as Float64Array)).toEqual(before);
  });

  test("slots: one slot's result stays valid while another slot decodes", () => {
    const chunks = files.get("v1-dict-zstd")!.chunks.filter((c) => c.rowGroup === 0);
    const f64 = chunks.find((c) => c.desc.column === "f64")!;
    const i64 = chunks.find((c) => c.desc.column === "i64")!;
    const a = tcc.decodeChunk(f64.bytes, f64.desc, { start: 0, count: 100 }, 1);
    const before = Array.from(a.values as Float64Array);
    tcc.decodeChunk(i64.bytes, i64.desc, { start: 0, count: 3000 }, 2);
    expect(Array.from(a.values as Float64Array)).toEqual(before);
  });

  test("the buffers the C holds only the addresses of survive full collections (ZSTD context, dictionaries)", () => {
    const chunks = files.get("v1-dict-zstd")!.chunks;
    const decodeAll = () =>
      chunks.map((c) =>
        plainValues(tcc.decodeChunk(c.bytes, c.desc, { start: 0, count: c.desc.numValues }), c.desc.physicalType),
      );
    const first = decodeAll();
    for (let round = 0; round < 3; round++) {
      // Buffers of the same size, which the allocator may put where a collected one was.
      const junk: BigInt64Array[] = [];
      for (let i = 0; i < 200; i++) junk.push(new BigInt64Array(new ArrayBuffer(48)).fill(-1n));
      Bun.gc(true);
      expect(junk.length).toBe(200);
      expect(decodeAll()).toEqual(first);
    }
  });

  test("decodes from a read-only map of the file (a write to the chunk would fault)", () => {
    const f = files.get("v1-fallback-plain")!;
    const map = mapFileReadOnly(f.path);
    try {
      for (const c of f.chunks.filter((x) => x.rowGroup === 1)) {
        const at = c.bytes.byteOffset;
        const mapped = map.bytes.subarray(at, at + c.bytes.length);
        const w = { start: 0, count: c.desc.numValues };
        expect(plainValues(tcc.decodeChunk(mapped, c.desc, w), c.desc.physicalType)).toEqual(
          plainValues(tcc.decodeChunk(c.bytes, c.desc, w), c.desc.physicalType),
        );
      }
    } finally {
      map.unmap();
    }
  });

  test("gcc builds give the same bytes as TinyCC's", () => {
    const gcc = loadPageDecoder("gcc");
    expect(gcc.native).toBe(true);
    expect(gcc.compiler).toBe("gcc");
    const r = randomFor(9, "gcc");
    const bytesOf = (d: DecodedChunk) => [
      Array.from(new Uint8Array(d.values.buffer, 0, d.values.byteLength)),
      d.validity ? Array.from(d.validity) : null,
      d.nullCount,
      d.dictionary,
    ];
    for (const k of KNOBS) {
      for (const chunk of files.get(k.label)!.chunks) {
        const { desc } = chunk;
        const start = r.int(0, desc.numValues);
        for (const w of [
          { start: 0, count: desc.numValues },
          { start, count: r.int(0, desc.numValues - start) },
        ])
          expect(bytesOf(gcc.decodeChunk(chunk.bytes, desc, w))).toEqual(
            bytesOf(tcc.decodeChunk(chunk.bytes, desc, w)),
          );
      }
    }
  });
});

/** Offsets of a Thrift compact struct's integer fields at `at` (dotted ids: "3", "7.1"), walked here, not by the decoder. */
/** The value encoding of each data page of a chunk (v1 or v2), in order. */
function dataEncodings(bytes: Uint8Array): number[] {
  return pageHeaders(bytes).flatMap((p) => {
    const f = p.fields.get("5.2") ?? p.fields.get("8.4");
    return f ? [zigzagAt(bytes, f)] : [];
  });
}

function headerFields(b: Uint8Array, at: number): { fields: Map<string, { at: number; end: number }>; end: number } {
  const fields = new Map<string, { at: number; end: number }>();
  const varint = () => {
    while (b[at++] & 0x80) {}
  };
  const struct = (prefix: string) => {
    let id = 0;
    for (;;) {
      const h = b[at++];
      if (h === 0) return;
      id += h >> 4;
      const type = h & 15;
      const key = prefix + String(id);
      if (type === 5 || type === 6) {
        const start = at;
        varint();
        fields.set(key, { at: start, end: at });
      } else if (type === 12) struct(`${key}.`);
      else if (type === 1 || type === 2) {
        // a bool lives in the header
      } else if (type === 8) {
        const start = at;
        let n = 0;
        let shift = 0;
        for (;;) {
          const x = b[at++];
          n |= (x & 0x7f) << shift;
          shift += 7;
          if (!(x & 0x80)) break;
        }
        at = start + (at - start) + n;
      } else throw new Error(`header field type ${type} not handled by the test`);
    }
  };
  struct("");
  return { fields, end: at };
}

/** The page headers of a chunk, walked here: each one's fields and where its page ends. */
function pageHeaders(
  bytes: Uint8Array,
): { at: number; fields: Map<string, { at: number; end: number }>; next: number }[] {
  const out = [];
  for (let at = 0; at < bytes.length; ) {
    const h = headerFields(bytes, at);
    const next = h.end + zigzagAt(bytes, h.fields.get("3")!);
    out.push({ at, fields: h.fields, next });
    at = next;
  }
  return out;
}

/** `bytes` with the varint at [at, end) replaced by zigzag(value) in the same number of bytes (non-canonical when shorter). */
function withVarint(bytes: Uint8Array, at: number, end: number, value: number): Uint8Array {
  const out = bytes.slice();
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  for (let i = at; i < end; i++) {
    out[i] = (z & 0x7f) | (i < end - 1 ? 0x80 : 0);
    z = Math.floor(z / 128);
  }
  if (z !== 0) throw new Error("value does not fit");
  return out;
}

function zigzagAt(bytes: Uint8Array, f: { at: number; end: number }): number {
  let v = 0;
  for (let i = f.end - 1; i >= f.at; i--) v = v * 128 + (bytes[i] & 0x7f);
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

describe("guards: a garbled chunk is a ChunkDecodeError naming file and column", () => {
  const tcc = loadPageDecoder("tcc");
  const chunk = (label: string, column: string) =>
    files.get(label)!.chunks.find((c) => c.desc.column === column && c.rowGroup === 0)!;
  const fails = (c: TestChunk, bytes: Uint8Array, reason: RegExp) => {
    let error: unknown = null;
    try {
      tcc.decodeChunk(bytes, c.desc, { start: 0, count: c.desc.numValues });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChunkDecodeError);
    const message = (error as Error).message;
    expect(message.startsWith(`${c.desc.file}: column ${c.desc.column}: `)).toBe(true);
    expect(message).toMatch(reason);
  };

  test("truncation", () => {
    for (const [label, column] of [
      ["v1-dict-zstd", "f64"],
      ["v1-delta-plain-uncompressed", "i64"],
      ["v2-plain-uncompressed", "s"],
    ]) {
      const c = chunk(label, column);
      fails(c, c.bytes.subarray(0, c.bytes.length - 3), /runs past the chunk|truncated|past the page/);
      fails(c, c.bytes.subarray(0, 5), /garbled or truncated page header|runs past the chunk/);
      fails(c, c.bytes.subarray(0, 0), /pages hold 0 rows, the chunk says 3000/);
    }
  });

  test("a flipped page size", () => {
    const c = chunk("v1-delta-plain-uncompressed", "i64");
    const { fields, end } = headerFields(c.bytes, 0);
    const comp = fields.get("3")!;
    const size = zigzagAt(c.bytes, comp);
    fails(c, withVarint(c.bytes, comp.at, comp.end, size - 1), /uncompressed page of \d+ bytes says \d+ uncompressed/);
    const unc = fields.get("2")!;
    fails(c, withVarint(c.bytes, unc.at, unc.end, -5), /negative page size/);
    const firstPage = c.bytes.subarray(0, end + size);
    fails(
      c,
      withVarint(firstPage, comp.at, comp.end, size + 1),
      /page of \d+ bytes runs past the chunk's \d+ remaining bytes/,
    );
  });

  test("a zstd size that differs from the page header", () => {
    const c = chunk("v1-dict-zstd", "f64");
    const { fields } = headerFields(c.bytes, 0);
    const unc = fields.get("2")!;
    fails(
      c,
      withVarint(c.bytes, unc.at, unc.end, zigzagAt(c.bytes, unc) - 1),
      /ZSTD frame holds \d+ bytes, the page header says/,
    );
  });

  test("a dictionary index past the dictionary", () => {
    const c = chunk("v1-fallback-plain", "f64req");
    const { fields } = headerFields(c.bytes, 0);
    const n = fields.get("7.1")!; // the dictionary page's num_values
    fails(c, withVarint(c.bytes, n.at, n.end, 1), /dictionary index \d+ ≥ dictionary size 1/);
  });

  test("a bit width out of range", () => {
    const c = chunk("v1-fallback-plain", "f64req"); // required: a data page's body starts with the bit width
    const dict = headerFields(c.bytes, 0);
    const dictSize = zigzagAt(c.bytes, dict.fields.get("3")!);
    const page = headerFields(c.bytes, dict.end + dictSize);
    const bytes = c.bytes.slice();
    bytes[page.end] = 33;
    fails(c, bytes, /page 1 \(at byte \d+\): dictionary indices: bit width 33 > 32/);
  });

  test("an unsupported codec or type", () => {
    const c = chunk("v1-dict-zstd", "f64");
    expect(() => tcc.decodeChunk(c.bytes, { ...c.desc, codec: 1 }, { start: 0, count: 1 })).toThrow(
      /column f64: compression codec 1 is not supported/,
    );
    expect(() => tcc.decodeChunk(c.bytes, { ...c.desc, physicalType: 7 }, { start: 0, count: 1 })).toThrow(
      /column f64: physical type 7 is not supported/,
    );
  });

  test("random byte flips and truncations: a ChunkDecodeError or values, never a crash or another error", () => {
    const r = randomFor(11, "flips");
    let errors = 0;
    for (let round = 0; round < 600; round++) {
      const all = [...files.values()]
        .flatMap((f) => f.chunks)
        .filter((c) => c.desc.physicalType !== PhysicalType.BOOLEAN);
      const c = all[r.int(0, all.length - 1)];
      const bytes = c.bytes.slice(0, r.next() < 0.2 ? r.int(0, c.bytes.length) : c.bytes.length);
      for (let f = r.int(1, 3); f > 0 && bytes.length > 0; f--) bytes[r.int(0, bytes.length - 1)] ^= 1 << r.int(0, 7);
      try {
        const start = r.int(0, c.desc.numValues);
        const form = (["values", "values", "codes", "runs"] as const)[r.int(0, 3)];
        const d = tcc.decodeChunk(bytes, c.desc, { start, count: r.int(0, c.desc.numValues - start) }, 0, form);
        if (d.codeRuns) {
          // Runs cover the window from its first row; their bit-packed codes are checked by whoever reads them.
          expect(d.values.length).toBe(0);
          if (d.length > 0)
            expect(codesOfRuns(d.codeRuns.records, d.length).every((code) => code >= 0 && code < 2 ** 32)).toBe(true);
        } else {
          expect(d.values.length).toBe(d.length);
          // Codes never point past what they index.
          const dict = d.dictionaryValues;
          if (dict)
            for (const code of d.values as Int32Array) expect(code >= 0 && code < Math.max(1, dict.length)).toBe(true);
        }
      } catch (e) {
        if (!(e instanceof ChunkDecodeError)) throw e;
        expect(e.message.startsWith(`${c.desc.file}: column ${c.desc.column}: `)).toBe(true);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});

describe("without libzstd", () => {
  test("TICKPACK_LIBZSTD=none: uncompressed chunks decode, a ZSTD chunk is a ChunkDecodeError", async () => {
    const dir = tempDir("page-decoder-nozstd");
    const plain = files.get("v1-delta-plain-uncompressed")!.chunks.find((c) => c.desc.column === "i64")!;
    const zstd = files.get("v1-dict-zstd")!.chunks.find((c) => c.desc.column === "f64")!;
    writeFileSync(join(dir, "plain.bin"), plain.bytes);
    writeFileSync(join(dir, "zstd.bin"), zstd.bytes);
    const script = join(dir, "child.ts");
    writeFileSync(
      script,
      `import { loadPageDecoder } from ${JSON.stringify(join(import.meta.dir, "../../lib/parquet/native/page-decoder.ts"))};
const d = loadPageDecoder("tcc");
const read = (n: string) => new Uint8Array(require("node:fs").readFileSync(${JSON.stringify(dir)} + "/" + n));
const out: Record<string, unknown> = { zstd: d.zstd };
const p = d.decodeChunk(read("plain.bin"), ${JSON.stringify(plain.desc)}, { start: 0, count: ${plain.desc.numValues} });
out.plain = Array.from(p.values as BigInt64Array, String);
try { d.decodeChunk(read("zstd.bin"), ${JSON.stringify(zstd.desc)}, { start: 0, count: 1 }); out.error = null; }
catch (e) { out.error = (e as Error).constructor.name + ": " + (e as Error).message; }
console.log(JSON.stringify(out));`,
    );
    const child = Bun.spawnSync([process.execPath, script], { env: { ...process.env, TICKPACK_LIBZSTD: "none" } });
    const out = JSON.parse(child.stdout.toString());
    expect(out.zstd).toBeNull();
    const want = plainValues(
      loadPageDecoder("tcc").decodeChunk(plain.bytes, plain.desc, { start: 0, count: plain.desc.numValues }),
      PhysicalType.INT64,
    );
    expect(out.plain).toEqual(want.map((v) => (v === null ? "0" : String(v))));
    expect(out.error).toBe(
      `ChunkDecodeError: ${zstd.desc.file}: column f64: ZSTD-compressed, and libzstd is missing (TICKPACK_LIBZSTD names another path)`,
    );
  });
});

/** A page: its header (written with the project's Thrift encoder, fields as given) and body. */
function pageOf(
  type: number,
  body: Uint8Array,
  sub: number,
  fields: Record<number, number>,
  extra?: TStruct,
): Uint8Array {
  const header: TStruct = new Map([
    [1, { type: T.I32, value: type }],
    [2, { type: T.I32, value: body.length }],
    [3, { type: T.I32, value: body.length }],
    [
      sub,
      {
        type: T.STRUCT,
        value: new Map(Object.entries(fields).map(([id, v]) => [Number(id), { type: T.I32, value: v }])),
      },
    ],
  ]);
  for (const [id, f] of extra ?? []) header.set(id, f);
  const h = encodeStruct(header);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe("hand-made chunks: each bound the contract lists", () => {
  const tcc = loadPageDecoder("tcc");
  const desc = (over: Partial<ChunkDesc> = {}): ChunkDesc => ({
    file: "made.parquet",
    column: "x",
    physicalType: PhysicalType.DOUBLE,
    maxDef: 0,
    codec: Codec.UNCOMPRESSED,
    numValues: 10,
    ...over,
  });
  const dictPage = (n: number) =>
    pageOf(2, new Uint8Array(new Float64Array(n).map((_, i) => i + 0.5).buffer), 7, { 1: n, 2: 0 });
  const dataPage = (n: number, body: number[], encoding = 8) =>
    pageOf(0, Uint8Array.from(body), 5, { 1: n, 2: encoding, 3: 3, 4: 3 });
  const decode = (chunk: Uint8Array, d = desc()) =>
    Array.from(tcc.decodeChunk(chunk, d, { start: 0, count: d.numValues }).values as Float64Array);
  const refused = (chunk: Uint8Array, reason: string, d = desc()) =>
    expect(() => tcc.decodeChunk(chunk, d, { start: 0, count: d.numValues })).toThrow(
      new ChunkDecodeError(`made.parquet: column x: ${reason}`),
    );

  test("a well-made chunk decodes (so each refusal below is the one change's)", () => {
    // bit width 1; an RLE run of 10 ones
    expect(decode(concat(dictPage(2), dataPage(10, [1, 10 << 1, 1])))).toEqual(Array(10).fill(1.5));
    // an index page is skipped
    const index = pageOf(1, new Uint8Array(0), 6, {});
    expect(decode(concat(dictPage(2), index, dataPage(10, [1, 10 << 1, 1])))).toEqual(Array(10).fill(1.5));
  });

  test("runs past the page's values, fewer values than the levels say", () => {
    refused(
      concat(dictPage(2), dataPage(10, [1, 20 << 1, 1])),
      `page 1 (at byte ${dictPage(2).length}): dictionary indices: RLE run of 20 values past the 10 the page holds`,
    );
    refused(
      concat(dictPage(2), dataPage(10, [1, (3 << 1) | 1, 0xff, 0xff, 0xff])),
      `page 1 (at byte ${dictPage(2).length}): dictionary indices: bit-packed run of 24 values past the 10 the page holds`,
    );
    const levels = [2, 0, 0, 0, 10 << 1, 1]; // ten valid rows
    refused(
      concat(dataPage(10, [...levels, ...new Uint8Array(new Float64Array(5).buffer)], 0)),
      "page 0 (at byte 0): PLAIN: 10 values in 40 bytes",
      desc({ maxDef: 1 }),
    );
  });

  test("a bit-packed run whose groups do not all fit in the page is refused, even if the values read would", () => {
    // Width 8, two groups (16 indices) declared, the page's 10 values in 10 bytes: arrow-rs writes
    // whole groups, and a run cut short is what a garbled header gives (one read a byte too long
    // shifts every value after it), so the reference refuses it and so must the C.
    const values = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1];
    const cut = concat(dictPage(2), dataPage(10, [8, (2 << 1) | 1, ...values]));
    refused(cut, `page 1 (at byte ${dictPage(2).length}): dictionary indices: bit-packed run runs past the page`);
    expect(() => decodeReference(cut, desc(), { start: 0, count: 10 })).toThrow(/bit-packed run runs past its bytes/);
    const whole = concat(dictPage(2), dataPage(10, [8, (2 << 1) | 1, ...values, 0, 0, 0, 0, 0, 0]));
    expect(decode(whole)).toEqual(values.map((v) => v + 0.5));
  });

  test("a page stored as is whose header says another uncompressed size is refused, in the window or not", () => {
    const body = [1, 10 << 1, 1];
    const good = dataPage(10, body);
    const bad = pageOf(
      0,
      Uint8Array.from(body),
      5,
      { 1: 10, 2: 8, 3: 3, 4: 3 },
      new Map([[2, { type: T.I32, value: 4 }]]),
    );
    const chunk = concat(dictPage(2), good, bad);
    const d = desc({ numValues: 20 });
    for (const window of [
      { start: 0, count: 10 },
      { start: 10, count: 10 },
    ]) {
      expect(() => tcc.decodeChunk(chunk, d, window)).toThrow(
        new ChunkDecodeError(
          `made.parquet: column x: page 2 (at byte ${dictPage(2).length + good.length}): uncompressed page of 3 bytes says 4 uncompressed`,
        ),
      );
      expect(() => decodeReference(chunk, d, window)).toThrow(/page holds 3 bytes, its header says 4 uncompressed/);
    }
    expect(decode(concat(dictPage(2), good, good), d)).toEqual(Array(20).fill(1.5));
  });

  test("an RLE run of no values holds no index to check: the C reads past it as the reference does", () => {
    // Width 8: a run of 0 values of index 70 (past the 2 entries), then a run of 10 of index 1.
    const chunk = concat(dictPage(2), dataPage(10, [8, 0, 70, 10 << 1, 1]));
    expect(decode(chunk)).toEqual(Array(10).fill(1.5));
    expect(Array.from(decodeReference(chunk, desc(), { start: 0, count: 10 }).values as Float64Array)).toEqual(
      Array(10).fill(1.5),
    );
  });

  test("a dictionary index past the dictionary, in a run read in place and in one read with room to spare", () => {
    // bit width 2, one bit-packed group: indices 0, 1, 3, 0, … (3 ≥ 2 entries)
    const group = [2, (1 << 1) | 1, 0x34, 0x00];
    refused(
      concat(dictPage(2), dataPage(8, group)),
      `page 1 (at byte ${dictPage(2).length}): dictionary index 3 ≥ dictionary size 2`,
      desc({ numValues: 8 }),
    );
    // trailing bytes let the group be read with 64-bit loads, unpacked and gathered in one pass
    refused(
      concat(dictPage(2), dataPage(8, [...group, ...Array(16).fill(0)])),
      `page 1 (at byte ${dictPage(2).length}): dictionary index 3 ≥ dictionary size 2`,
      desc({ numValues: 8 }),
    );
    const fine = [2, (1 << 1) | 1, 0x14, 0x00];
    expect(decode(concat(dictPage(2), dataPage(8, [...fine, ...Array(16).fill(0)])), desc({ numValues: 8 }))).toEqual([
      0.5, 1.5, 1.5, 0.5, 0.5, 0.5, 0.5, 0.5,
    ]);
  });

  test("a v2 page whose null count differs from its levels", () => {
    const v2 = (nulls: number) =>
      pageOf(3, Uint8Array.from([10 << 1, 1, ...new Uint8Array(new Float64Array(10).fill(2.5).buffer)]), 8, {
        1: 10,
        2: nulls,
        3: 10,
        4: 0,
        5: 2,
        6: 0,
      });
    expect(decode(v2(0), desc({ maxDef: 1 }))).toEqual(Array(10).fill(2.5));
    refused(v2(1), "page 0 (at byte 0): header says 1 nulls, the levels 0", desc({ maxDef: 1 }));
  });

  test("page order and row counts", () => {
    refused(
      concat(dataPage(10, [1, 10 << 1, 1]), dictPage(2)),
      "page 0 (at byte 0): dictionary-encoded data page before the dictionary page",
    );
    refused(
      concat(dictPage(2), dictPage(2), dataPage(10, [1, 10 << 1, 1])),
      `page 1 (at byte ${dictPage(2).length}): a second dictionary page`,
    );
    refused(
      concat(dictPage(2), dataPage(10, [1, 10 << 1, 1])),
      "pages hold 10 rows, the chunk says 11",
      desc({ numValues: 11 }),
    );
  });

  test("every bit width, in the unrolled loops and past them: hand-made pages decode as the reference, TinyCC and gcc", () => {
    // The C unrolls a loop per width up to a build's limit (fewer under TinyCC) and takes a generic
    // one past it; writers pick the narrowest width, so wide ones are hand-made here.
    const gcc = loadPageDecoder("gcc");
    const r = randomFor(31, "widths");
    const windows = (n: number) => {
      const start = r.int(1, n - 1);
      return [
        { start: 0, count: n },
        { start, count: r.int(0, n - start) },
      ];
    };
    const same = (chunk: Uint8Array, d: ChunkDesc, label: string, forms: DecodedForm[]) => {
      for (const w of windows(d.numValues)) {
        const want = Array.from(decodeReference(chunk, d, w).values as ArrayLike<unknown>, String);
        for (const decoder of [tcc, gcc])
          for (const form of forms) {
            const got = decoder.decodeChunk(chunk, d, w, 0, form);
            const values =
              form === "values"
                ? Array.from(got.values as ArrayLike<unknown>, String)
                : Array.from(got.values as Int32Array, (c) => String(got.dictionaryValues![c]));
            expect({ label, compiler: decoder.compiler, form, w, values }).toEqual({
              label,
              compiler: decoder.compiler,
              form,
              w,
              values: want,
            });
          }
      }
    };
    for (let w = 1; w <= 32; w++) {
      // Dictionary indices of width w (the dictionary may be smaller than 2^w: its indices just stay under its size).
      const entries = Math.min(2 ** w, 700);
      const index = () => BigInt(r.int(0, entries - 1));
      const groups = (n: number) => Array.from({ length: 8 * n }, index);
      const a = groups(40);
      const rle = index();
      const b = groups(3);
      const body = [
        w,
        ...uleb(BigInt((40 << 1) | 1)),
        ...bitPacked(a, w),
        ...uleb(5n << 1n),
        ...bitPacked([rle], Math.ceil(w / 8) * 8),
        ...uleb(BigInt((3 << 1) | 1)),
        ...bitPacked(b, w),
      ];
      const n = a.length + 5 + b.length;
      same(concat(dictPage(entries), dataPage(n, body)), desc({ numValues: n }), `dictionary, width ${w}`, [
        "values",
        "codes",
      ]);
    }
    for (const [type, bits] of [
      [PhysicalType.INT64, 64],
      [PhysicalType.INT32, 32],
    ] as const) {
      for (let w = 1; w <= bits; w++) {
        // One block of 128 deltas in 4 miniblocks of 32, the second and fourth of width w (their largest
        // delta over the minimum 2^w - 1), then a block's first miniblocks only, cut by the total.
        const wrap = (v: bigint) => (bits === 64 ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v));
        const minDelta = BigInt(r.int(-1000, 1000));
        const mini = (width: number) =>
          Array.from({ length: 32 }, (_, i) =>
            width === 0 ? 0n : i === 7 ? (1n << BigInt(width)) - 1n : BigInt(r.int(0, 2 ** Math.min(width, 30) - 1)),
          );
        const blockOf = (widths: number[]) => {
          const deltas = widths.map(mini);
          return {
            deltas: deltas.flat(),
            bytes: [...zigzag(minDelta), ...widths, ...deltas.flatMap((d, i) => bitPacked(d, widths[i]))],
          };
        };
        const one = blockOf([3, w, 0, w]);
        const two = blockOf([w, Math.min(w, 5), 0, 0]);
        const total = 128 + 40;
        const first = wrap(BigInt(r.int(-(2 ** 30), 2 ** 30)) * 1_000_003n);
        const body = [...uleb(128n), ...uleb(4n), ...uleb(BigInt(total)), ...zigzag(first), ...one.bytes, ...two.bytes];
        const d = desc({ physicalType: type, numValues: total });
        // the expected values, apart from the reference: every delta plus the minimum, wrapping in the type's bits
        const want = [first];
        for (const delta of [...one.deltas, ...two.deltas].slice(0, total - 1))
          want.push(wrap(want[want.length - 1] + minDelta + delta));
        const chunk = dataPage(total, body, 5);
        expect(
          Array.from(decodeReference(chunk, d, { start: 0, count: total }).values as ArrayLike<unknown>, String),
        ).toEqual(want.map(String));
        same(chunk, d, `DELTA_BINARY_PACKED ${bits === 64 ? "INT64" : "INT32"}, width ${w}`, ["values"]);
      }
    }
  });

  test("a field header of type 0 is garbling, not the stop byte (which is 0 alone)", () => {
    // The data page's header with its closing stop byte made 0x10 (field id + 1, type 0): read as a
    // stop, the header would end where it did and the page decode as if intact.
    const body = [1, 10 << 1, 1];
    const page = dataPage(10, body);
    const stop = page.length - body.length - 1;
    expect(page[stop]).toBe(0);
    const garbled = page.slice();
    garbled[stop] = 0x10;
    const chunk = concat(dictPage(2), garbled);
    refused(chunk, `page 1 (at byte ${dictPage(2).length}): garbled or truncated page header`);
    expect(() => decodeReference(chunk, desc(), { start: 0, count: 10 })).toThrow(/unknown Thrift type 0/);
    expect(decode(concat(dictPage(2), page))).toEqual(Array(10).fill(1.5));
  });

  test("a DELTA header out of range, a varint too long, a struct nested too deep", () => {
    const delta = (block: number) =>
      dataPage(10, [(block & 0x7f) | (block > 127 ? 0x80 : 0), ...(block > 127 ? [block >> 7] : []), 4, 10, 0], 5);
    refused(
      concat(delta(100)),
      "page 0 (at byte 0): DELTA_BINARY_PACKED: block size 100 out of range",
      desc({ physicalType: PhysicalType.INT64 }),
    );
    const long = Uint8Array.from([0x15, ...Array(11).fill(0x80), 0]);
    refused(long, "page 0 (at byte 0): garbled or truncated page header");
    // field 10, a struct holding field 1, a struct holding … 40 deep
    const deep = Uint8Array.from([0x1c, 0x15, 0x00, ...Array(40).fill(0x1c), ...Array(41).fill(0), 0]);
    refused(concat(deep), "page 0 (at byte 0): garbled or truncated page header");
  });
});
