/**
 * Which encodings and page sizes repack should write, for the native page decoder: the largest part
 * of a packed folder rewritten per variant (row group by row group through writeIpcAsParquet and
 * stitched, as repack writes), then, one thread, best CPU time of alternated rounds: ns per row of
 * decoding bench's 7 columns (TinyCC, gcc for reference) and timestamp apart, bytes per row, pages
 * per chunk, a window read (13% of each row group's rows, placed anywhere) against the whole group,
 * and DuckDB's one-thread scan of the same 7 columns (CPU time of this process).
 * Every variant is checked: one chunk per column decoded natively equals parquet-wasm's, and DuckDB
 * reads the whole file to the same column checksums as the original.
 * `bun bench/encoding-choices.ts [PACKED_FILE_OR_FOLDER] [ROUNDS] [WINDOW_SHARE]` (a folder: its largest
 * part; default data/m50-packed, 5 rounds, windows of 0.13 of a row group); VARIANTS=0,8 runs only
 * those of the list below. Variants are written under a fresh /tmp/encodings-* folder, removed after.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import * as arrow from "apache-arrow";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { largestPart } from "./largest-part.ts";
import { packedFileMetadata } from "../lib/packed/part-writer.ts";
import { PACKED_DICTIONARY_COLUMNS } from "../lib/packed/schema.ts";
import { closeParquet, openParquet, type PageLayout, writeIpcAsParquet } from "../lib/parquet/io.ts";
import type { CColumn } from "../lib/parquet/c-data.ts";
import type { ChunkDesc, DecodedChunk } from "../lib/parquet/native/chunk-desc.ts";
import { chunkIndexOf } from "../lib/parquet/native/chunk-index.ts";
import { loadPageDecoder, type PageDecoder } from "../lib/parquet/native/page-decoder.ts";
import { closeParquetFile, openParquetFile, withColumnViews } from "../lib/parquet/source.ts";
import { ParquetStitcher } from "../lib/parquet/stitch.ts";
import { CompactDecoder, type TStruct } from "../lib/parquet/thrift-compact.ts";

const BENCH_COLUMNS = ["expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume"];
const COLUMNS = [...BENCH_COLUMNS, "timestamp"];
const FLOATS = ["price", "bp0", "sp0"];
const INTS = ["timestamp", "volume"];
/** The window read in each row group: this share of its rows, at a place that moves from group to group (golden-ratio steps) so page boundaries fall anywhere in it. */
const WINDOW_SHARE = Number(Bun.argv[4] ?? 0.13);

/** A variant's page layout, and columns it dictionary-encodes beyond repack's (PACKED_DICTIONARY_COLUMNS). */
const VARIANTS: { name: string; pages: PageLayout; dictionary?: readonly string[] }[] = [
  { name: "all ZSTD, 1 MiB pages (before)", pages: {} },
  { name: "256 KiB pages", pages: { dataPageBytes: 256 << 10, writeBatchRows: 1024 } },
  { name: "64 KiB pages", pages: { dataPageBytes: 64 << 10, writeBatchRows: 512 } },
  { name: "16 KiB pages", pages: { dataPageBytes: 16 << 10, writeBatchRows: 256 } },
  { name: "floats uncompressed", pages: { uncompressedColumns: FLOATS } },
  { name: "ts/volume uncompressed", pages: { uncompressedColumns: INTS } },
  { name: "v2 pages", pages: { dataPageVersion: 2 } },
  { name: "8 KiB pages", pages: { dataPageBytes: 8 << 10, writeBatchRows: 128 } },
  { name: "floats+ts/vol unc.", pages: { uncompressedColumns: [...FLOATS, ...INTS] } },
  {
    name: "64 KiB + floats+ts/vol unc.",
    pages: { dataPageBytes: 64 << 10, writeBatchRows: 512, uncompressedColumns: [...FLOATS, ...INTS] },
  },
  {
    name: "16 KiB + floats unc.",
    pages: { dataPageBytes: 16 << 10, writeBatchRows: 256, uncompressedColumns: FLOATS },
  },
  {
    name: "16 KiB + floats+ts/vol unc.",
    pages: { dataPageBytes: 16 << 10, writeBatchRows: 256, uncompressedColumns: [...FLOATS, ...INTS] },
  },
  {
    name: "8 KiB + floats+ts/vol unc.",
    pages: { dataPageBytes: 8 << 10, writeBatchRows: 128, uncompressedColumns: [...FLOATS, ...INTS] },
  },
  {
    name: "floats unc., ts PLAIN unc., vol unc.",
    pages: { uncompressedColumns: [...FLOATS, ...INTS], plainColumns: ["timestamp"] },
  },
  { name: "floats unc., ts/vol PLAIN unc.", pages: { uncompressedColumns: [...FLOATS, ...INTS], plainColumns: INTS } },
  {
    name: "floats+ts/vol unc., ts dictionary",
    pages: { uncompressedColumns: [...FLOATS, ...INTS] },
    dictionary: ["timestamp"],
  },
];

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Data pages of a chunk (v1 or v2), walked from its page headers. */
function dataPagesOf(bytes: Uint8Array): number {
  let pages = 0;
  for (let at = 0; at < bytes.length; ) {
    const d = new CompactDecoder(bytes.subarray(at));
    const h: TStruct = d.struct();
    const type = Number(h.get(1)?.value ?? -1);
    if (type === 0 || type === 3) pages++;
    at += d.pos + Number(h.get(3)?.value ?? 0);
  }
  return pages;
}

interface Chunk {
  bytes: Uint8Array;
  desc: ChunkDesc;
  pages: number;
}

/** A variant's file: its chunks of the measured columns, by column, row group order. */
interface Variant {
  name: string;
  path: string;
  fileBytes: number;
  writeMs: number;
  chunks: Map<string, Chunk[]>;
}

function chunksOf(path: string): Map<string, Chunk[]> {
  const whole = new Uint8Array(readFileSync(path));
  const n = whole.length;
  const len = new DataView(whole.buffer, n - 8, 4).getUint32(0, true);
  const index = chunkIndexOf(whole.subarray(n - 8 - len, n - 8), COLUMNS);
  const schema = new Map(index.columns!.map((c) => [c.name, c]));
  const out = new Map<string, Chunk[]>();
  for (const column of COLUMNS) {
    const s = schema.get(column)!;
    out.set(
      column,
      index.rowGroups.map((g) => {
        const loc = g.chunks.get(column)!;
        const bytes = whole.subarray(loc.start, loc.start + loc.length);
        return {
          bytes,
          pages: dataPagesOf(bytes),
          desc: {
            file: path,
            column,
            physicalType: s.physicalType,
            maxDef: s.maxDef,
            codec: loc.codec,
            numValues: loc.numValues,
          },
        };
      }),
    );
  }
  return out;
}

/** Why a natively decoded chunk differs from parquet-wasm's column, or null when they agree. */
function difference(native: DecodedChunk, wasm: CColumn): string | null {
  if (native.length !== wasm.length) return `length ${native.length} vs ${wasm.length}`;
  if (native.nullCount !== wasm.nullCount) return `nulls ${native.nullCount} vs ${wasm.nullCount}`;
  const valid = (v: Uint8Array | null, i: number) => v === null || ((v[i >> 3] >> (i & 7)) & 1) === 1;
  for (let i = 0; i < native.length; i++) {
    const ok = valid(native.validity, i);
    if (ok !== valid(wasm.validity, i)) return `row ${i}: validity`;
    if (!ok) continue;
    const a = native.dictionary ? native.dictionary[native.values[i] as number] : String(native.values[i]);
    const b = wasm.dictionary ? wasm.dictionary[wasm.values![i] as number] : String(wasm.values![i]);
    if (a !== b) return `row ${i}: ${a} vs ${b}`;
  }
  return null;
}

const source = largestPart(Bun.argv[2] ?? join(import.meta.dir, "..", "data", "m50-packed"));
const rounds = Number(Bun.argv[3] ?? 5);
/** Which variants to run (indices into VARIANTS, comma-separated, in the VARIANTS environment variable); all by default. */
const chosen = process.env.VARIANTS ? process.env.VARIANTS.split(",").map(Number) : VARIANTS.map((_, k) => k);
const dir = mkdtempSync(join(tmpdir(), "encodings-"));
try {
  // The source's row groups, read once each and written per variant.
  const input = await openParquet(source);
  const stitchers = chosen
    .map((k) => VARIANTS[k])
    .map((v, k) => ({
      ...v,
      stitcher: new ParquetStitcher(join(dir, `variant-${k}.parquet`)),
      writeMs: 0,
    }));
  for (let g = 0; g < input.rowGroupRows.length; g++) {
    const table = await input.handle.read({ rowGroups: [g], batchSize: input.rowGroupRows[g] });
    const ipc = table.intoIPCStream();
    const types = new Map(arrow.tableFromIPC(ipc).schema.fields.map((f) => [f.name, f.type as arrow.DataType]));
    for (const v of stitchers) {
      const t = cpuMs();
      const bytes = writeIpcAsParquet(ipc, types, {
        rowGroupSize: input.rowGroupRows[g],
        metadata: new Map(),
        dictionaryColumns: [...PACKED_DICTIONARY_COLUMNS, ...(v.dictionary ?? [])],
        pages: v.pages,
      });
      v.writeMs += cpuMs() - t;
      v.stitcher.appendBuffer(bytes);
    }
  }
  const rows = input.numRows;
  closeParquet(input);
  const variants: Variant[] = stitchers.map((v) => {
    const fileBytes = v.stitcher.finish(packedFileMetadata(rows));
    return { name: v.name, path: v.stitcher.path, fileBytes, writeMs: v.writeMs, chunks: chunksOf(v.stitcher.path) };
  });

  // Checks: native = parquet-wasm on the middle row group, DuckDB's checksums = the original's.
  const tcc = loadPageDecoder("tcc");
  const decoders: PageDecoder[] = [tcc, loadPageDecoder("gcc")];
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  const checksums = async (path: string) =>
    JSON.stringify(
      (await con.runAndReadAll(`select count(*), sum(hash(columns(*))) from read_parquet('${path}')`)).getRows(),
      (_, v) => (typeof v === "bigint" ? String(v) : v),
    );
  const expected = await checksums(source);
  for (const v of variants) {
    if ((await checksums(v.path)) !== expected)
      throw new Error(`${v.name}: DuckDB reads other values than the original's`);
    const file = await openParquetFile(v.path);
    const g = Math.floor(file.rowGroupRows.length / 2);
    for (const column of COLUMNS) {
      const c = v.chunks.get(column)![g];
      const native = tcc.decodeChunk(c.bytes, c.desc, { start: 0, count: c.desc.numValues });
      const why = await withColumnViews(file, [column], { rowGroups: [g] }, (b) => difference(native, b[0].columns[0]));
      if (why) throw new Error(`${v.name}: ${column}, row group ${g}: native vs parquet-wasm: ${why}`);
    }
    closeParquetFile(file);
  }

  // Timing: rounds alternate the variants; the first round warms up.
  const best = new Map<string, number>();
  const time = (key: string, run: () => void) => {
    const t = cpuMs();
    run();
    best.set(key, Math.min(best.get(key) ?? Infinity, cpuMs() - t));
  };
  // DuckDB on one thread scanning the same 7 columns: the engine bench's cold target is set against, on the same layouts.
  await con.run("SET threads = 1");
  const duckScan = (path: string) =>
    `SELECT count(*), sum(price), sum(bp0), sum(sp0), sum(volume), min(expiry), min(opt_type), sum(strike) FROM read_parquet('${path}')`;
  for (let round = 0; round <= rounds; round++) {
    for (const v of variants) {
      const t = cpuMs();
      await con.run(duckScan(v.path));
      if (round > 0) best.set(`${v.name}|duckdb`, Math.min(best.get(`${v.name}|duckdb`) ?? Infinity, cpuMs() - t));
    }
    for (const v of variants)
      for (const [column, chunks] of v.chunks) {
        for (const d of decoders)
          time(`${v.name}|${d.compiler}|${column}`, () => {
            for (const c of chunks) d.decodeChunk(c.bytes, c.desc, { start: 0, count: c.desc.numValues });
          });
        time(`${v.name}|window|${column}`, () => {
          for (const [g, c] of chunks.entries()) {
            const count = Math.floor(c.desc.numValues * WINDOW_SHARE);
            const at = ((g + 1) * 0.618034) % 1;
            tcc.decodeChunk(c.bytes, c.desc, { start: Math.floor(at * (c.desc.numValues - count)), count });
          }
        });
      }
    if (round === 0) for (const k of [...best.keys()]) if (!k.endsWith("|duckdb")) best.delete(k);
  }
  con.closeSync();
  db.closeSync();

  const sum = (v: Variant, what: string, columns: string[]) =>
    columns.reduce((a, c) => a + best.get(`${v.name}|${what}|${c}`)!, 0);
  const bytesOf = (v: Variant, columns: string[]) =>
    columns.reduce((a, c) => a + v.chunks.get(c)!.reduce((b, k) => b + k.bytes.length, 0), 0);
  const medianPages = (v: Variant, column: string) => {
    const p = v.chunks
      .get(column)!
      .map((c) => c.pages)
      .sort((a, b) => a - b);
    return p[p.length >> 1];
  };
  const nsRow = (ms: number) => ((ms * 1e6) / rows).toFixed(1);
  console.log(
    `${source}: ${rows} rows, ${variants[0].chunks.get("price")!.length} row groups; best of ${rounds} alternated rounds, CPU time, one thread`,
  );
  console.log(
    [
      "variant",
      "pages/chunk ts,price,bp0",
      "7 cols tcc ns/row",
      "gcc",
      "timestamp tcc",
      "window/whole (7 cols)",
      "DuckDB 1 thread ns/row",
      "7 cols B/row",
      "timestamp B/row",
      "file B/row",
      "write CPU s",
    ].join("\t"),
  );
  for (const v of variants)
    console.log(
      [
        v.name,
        ["timestamp", "price", "bp0"].map((c) => medianPages(v, c)).join(","),
        nsRow(sum(v, "tcc", BENCH_COLUMNS)),
        nsRow(sum(v, "gcc", BENCH_COLUMNS)),
        nsRow(sum(v, "tcc", ["timestamp"])),
        `${((100 * sum(v, "window", BENCH_COLUMNS)) / sum(v, "tcc", BENCH_COLUMNS)).toFixed(0)}%`,
        nsRow(best.get(`${v.name}|duckdb`)!),
        (bytesOf(v, BENCH_COLUMNS) / rows).toFixed(2),
        (bytesOf(v, ["timestamp"]) / rows).toFixed(2),
        (v.fileBytes / rows).toFixed(1),
        (v.writeMs / 1000).toFixed(1),
      ].join("\t"),
    );
  console.log("per column, tcc ns/row (window/whole):");
  console.log(["variant", ...COLUMNS].join("\t"));
  for (const v of variants)
    console.log(
      [
        v.name,
        ...COLUMNS.map(
          (c) => `${nsRow(sum(v, "tcc", [c]))} (${((100 * sum(v, "window", [c])) / sum(v, "tcc", [c])).toFixed(0)}%)`,
        ),
      ].join("\t"),
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
