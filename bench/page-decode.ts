/**
 * Nanoseconds per value of decoding bench's columns of a packed file, column by column, one thread:
 * the native page decoder built by TinyCC and by gcc, parquet-wasm (one column read per row group),
 * and how much of the native time is ZSTD alone (every page of the chunks decompressed by libzstd,
 * nothing decoded), and TinyCC's decode of a fixed-width column as codes and as runs of codes
 * (the forms bench reads `timestamp` in: nothing gathered, nothing unpacked where the chunk allows).
 * `bun bench/page-decode.ts PACKED_FILE_OR_FOLDER [ROUNDS]` (a folder: its largest part). Chunks are
 * located with DuckDB's parquet_metadata(); rounds alternate the paths, best CPU time of each.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { dlopen, ptr } from "bun:ffi";
import { largestPart } from "./largest-part.ts";
import { Codec, type ChunkDesc, PhysicalType } from "../lib/parquet/native/chunk-desc.ts";
import { loadPageDecoder, type PageDecoder } from "../lib/parquet/native/page-decoder.ts";
import { loadZstd } from "../lib/parquet/native/zstd.ts";
import { closeParquetFile, openParquetFile, withColumnViews } from "../lib/parquet/source.ts";
import { CompactDecoder, type TStruct } from "../lib/parquet/thrift-compact.ts";

const COLUMNS = ["timestamp", "expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume"];

interface Chunk {
  desc: ChunkDesc;
  bytes: Uint8Array;
  /** Each page's compressed bytes and its uncompressed size (v2: values only). */
  pages: { body: Uint8Array; size: number }[];
}

/** A chunk's pages, walked with the project's Thrift reader. */
function pagesOf(bytes: Uint8Array): Chunk["pages"] {
  const pages = [];
  for (let at = 0; at < bytes.length; ) {
    const d = new CompactDecoder(bytes.subarray(at));
    const h = d.struct();
    const num = (s: TStruct, id: number) => Number((s.get(id)?.value as number | undefined) ?? 0);
    const v2 = h.get(8)?.value as TStruct | undefined;
    const levels = v2 ? num(v2, 5) : 0;
    const body = at + d.pos;
    pages.push({ body: bytes.subarray(body + levels, body + num(h, 3)), size: num(h, 2) - levels });
    at = body + num(h, 3);
  }
  return pages;
}

const file = largestPart(Bun.argv[2] ?? "data/m50-packed");
const rounds = Number(Bun.argv[3] ?? 5);
const whole = await Bun.file(file).bytes();
const db = await DuckDBInstance.create(":memory:");
const con = await db.connect();
const optional = new Map(
  (await con.runAndReadAll(`select name, repetition_type from parquet_schema('${file}')`))
    .getRowObjects()
    .map((r) => [String(r.name), r.repetition_type === "OPTIONAL"]),
);
const meta = (
  await con.runAndReadAll(
    `select row_group_id, path_in_schema, type, num_values, compression, encodings, dictionary_page_offset,
            data_page_offset, total_compressed_size from parquet_metadata('${file}') order by row_group_id`,
  )
).getRowObjects();
con.closeSync();
db.closeSync();

const byColumn = new Map<string, { chunks: Chunk[]; encodings: string }>();
for (const r of meta) {
  const column = String(r.path_in_schema);
  if (!COLUMNS.includes(column)) continue;
  const start = Number(r.dictionary_page_offset ?? r.data_page_offset);
  const bytes = whole.subarray(start, start + Number(r.total_compressed_size));
  const entry = byColumn.get(column) ?? { chunks: [], encodings: String(r.encodings) };
  entry.chunks.push({
    bytes,
    pages: pagesOf(bytes),
    desc: {
      file,
      column,
      physicalType: PhysicalType[String(r.type) as keyof typeof PhysicalType],
      maxDef: optional.get(column) ? 1 : 0,
      codec: r.compression === "ZSTD" ? Codec.ZSTD : Codec.UNCOMPRESSED,
      numValues: Number(r.num_values),
    },
  });
  byColumn.set(column, entry);
}

const zstdLib = loadZstd();
if (!zstdLib) throw new Error("libzstd not found");
const zstd = dlopen(zstdLib.library, {
  ZSTD_createDCtx: { args: [], returns: "ptr" },
  ZSTD_decompressDCtx: { args: ["ptr", "ptr", "u64", "ptr", "u64"], returns: "u64" },
}).symbols;
const dctx = zstd.ZSTD_createDCtx();
const scratch = new Uint8Array(1 << 24);

const decoders: PageDecoder[] = [loadPageDecoder("tcc"), loadPageDecoder("gcc")];
const source = await openParquetFile(file);
const groups = source.rowGroupRows.map((_, g) => g);

/**
 * CPU milliseconds of `run` (the process's user + system time: on a shared machine, wall time counts
 * the other processes' turns too), best of the rounds.
 */
const best = new Map<string, number>();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const time = (key: string, run: () => void) => {
  const t = cpuMs();
  run();
  best.set(key, Math.min(best.get(key) ?? Infinity, cpuMs() - t));
};

for (let round = 0; round < rounds + 1; round++) {
  for (const [column, { chunks }] of byColumn) {
    for (const d of decoders)
      time(`${d.compiler}|${column}`, () => {
        for (const c of chunks) d.decodeChunk(c.bytes, c.desc, { start: 0, count: c.desc.numValues });
      });
    for (const form of ["codes", "runs"] as const)
      time(`${form}|${column}`, () => {
        for (const c of chunks)
          decoders[0].decodeChunk(c.bytes, c.desc, { start: 0, count: c.desc.numValues }, 0, form);
      });
    time(`zstd|${column}`, () => {
      for (const c of chunks)
        for (const p of c.pages) {
          if (c.desc.codec !== Codec.ZSTD) continue;
          const n = Number(zstd.ZSTD_decompressDCtx(dctx, ptr(scratch), scratch.length, ptr(p.body), p.body.length));
          if (n !== p.size) throw new Error(`${column}: zstd gave ${n} bytes, the page says ${p.size}`);
        }
    });
    const t = cpuMs();
    for (const g of groups) await withColumnViews(source, [column], { rowGroups: [g] }, () => {});
    const ms = cpuMs() - t;
    best.set(`wasm|${column}`, Math.min(best.get(`wasm|${column}`) ?? Infinity, ms));
  }
  if (round === 0) best.clear(); // the first round warms every path up
}
closeParquetFile(source);

const ns = (key: string, values: number) => ((best.get(key)! * 1e6) / values).toFixed(2);
console.log(
  `${file}: ${source.numRows} rows, ${groups.length} row groups; best of ${rounds}, CPU ns per value, one thread`,
);
console.log(
  ["column", "encodings", "tcc", "of which zstd", "gcc", "parquet-wasm", "tcc as codes", "tcc as runs"].join("\t"),
);
let total = { tcc: 0, gcc: 0, zstd: 0, wasm: 0 };
for (const [column, { chunks, encodings }] of byColumn) {
  const values = chunks.reduce((a, c) => a + c.desc.numValues, 0);
  console.log(
    [
      column,
      encodings,
      ns(`tcc|${column}`, values),
      ns(`zstd|${column}`, values),
      ns(`gcc|${column}`, values),
      ns(`wasm|${column}`, values),
      ns(`codes|${column}`, values),
      ns(`runs|${column}`, values),
    ].join("\t"),
  );
  total = {
    tcc: total.tcc + best.get(`tcc|${column}`)!,
    gcc: total.gcc + best.get(`gcc|${column}`)!,
    zstd: total.zstd + best.get(`zstd|${column}`)!,
    wasm: total.wasm + best.get(`wasm|${column}`)!,
  };
}
const rows = source.numRows;
console.log(
  `all ${byColumn.size} columns, ns per row: tcc ${((total.tcc * 1e6) / rows).toFixed(1)} (zstd ${((total.zstd * 1e6) / rows).toFixed(1)}), gcc ${((total.gcc * 1e6) / rows).toFixed(1)}, parquet-wasm ${((total.wasm * 1e6) / rows).toFixed(1)}`,
);
