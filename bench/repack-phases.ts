/**
 * Where one partition's repack time goes, on one core, phase by phase (µs per output row):
 * opening raw files, the pass-1 index (of whole files), decoding the day's rows, converting them,
 * merging, gathering, Arrow IPC, the copy into wasm, and parquet-wasm's writeParquet of the whole
 * partition (the old path); then the path repack takes now: each row group encoded on its own, stitched.
 * `bun bench/repack-phases.ts RAW_DIR UNDERLYING YYYY-MM-DD` on a gen data set (UNDERLYING/ folders).
 */
import { readdirSync } from "node:fs";
import { parseContractName } from "../lib/raw/contract-name.ts";
import { parseExpiryCalendar, resolveExpiry } from "../lib/raw/calendar.ts";
import { parseIsoDate } from "../lib/ist-time.ts";
import { openParquet, closeParquet, withRows } from "../lib/parquet/io.ts";
import { indexRawFile, readRawDay, selectionOf } from "../lib/raw/file.ts";
import { mergePartition, gatherRows } from "../lib/packed/merge.ts";
import { PACKED_COLUMNS, PACKED_DICTIONARY_COLUMNS } from "../lib/packed/schema.ts";
import { RAW_COLUMNS } from "../lib/raw/schema.ts";
import { packedFileMetadata } from "../lib/packed/part-writer.ts";
import { encodeRowGroup } from "../lib/packed/part-writer.ts";
import { ParquetStitcher } from "../lib/parquet/stitch.ts";
import { rmSync } from "node:fs";
import * as arrow from "apache-arrow";
import * as pw from "parquet-wasm/node";
import { columnToArrow, sharedDictionary } from "../lib/parquet/arrow-columns.ts";
const [rawDir, underlying, date] = Bun.argv.slice(2);
if (!rawDir || !underlying || !date) throw new Error("usage: bun bench/repack-phases.ts RAW_DIR UNDERLYING YYYY-MM-DD");
const dir = `${rawDir}/${underlying}`;
const day = parseIsoDate(date);
const cal = parseExpiryCalendar(await Bun.file(`${rawDir}/expiry_calendar.csv`).text(), "cal");
const files = readdirSync(dir).map((f) => `${dir}/${f}`);
const T: Record<string, number> = {};
const tick = (k: string, t0: number) => (T[k] = (T[k] ?? 0) + performance.now() - t0);
const batches: Awaited<ReturnType<typeof readRawDay>>[] = [];
for (const f of files) {
  const name = parseContractName(f);
  let t0 = performance.now();
  const src = await openParquet(f);
  tick("open", t0);
  t0 = performance.now();
  const idx = await indexRawFile(src, name);
  tick("index (whole files, all days)", t0);
  const span = idx.days.find((d) => d.day === day);
  if (span) {
    t0 = performance.now();
    await withRows(
      src,
      RAW_COLUMNS.map((c) => c.name),
      selectionOf(src.rowGroupRows, span.firstRow, span.lastRow),
      () => 0,
    );
    tick("decode52", t0);
    t0 = performance.now();
    batches.push(await readRawDay(src, { ...name, expiry: resolveExpiry(cal, name) }, span, idx.int64Units));
    tick("readRawDay(total)", t0);
  }
  closeParquet(src);
}
const rows = batches.reduce((a, b) => a + b.length, 0);
let t0 = performance.now();
const m = mergePartition(batches);
tick("merge", t0);
t0 = performance.now();
const chunks: ReturnType<typeof gatherRows>[] = [];
for (let s = 0; s < m.length; s += 100000) chunks.push(gatherRows(m, s, Math.min(m.length, s + 100000)));
tick("gather", t0);
t0 = performance.now();
const w = new arrow.RecordBatchStreamWriter();
const dicts = new Map(
  PACKED_COLUMNS.filter((s) => s.kind === "dict").map((s) => [
    s.name,
    sharedDictionary(chunks[0].columns.get(s.name)!.dictionary!),
  ]),
);
for (const c of chunks) {
  const ch: Record<string, arrow.Data> = {};
  for (const s of PACKED_COLUMNS) ch[s.name] = columnToArrow(c.columns.get(s.name)!, c.length, dicts.get(s.name));
  w.write(new arrow.RecordBatch(ch as never));
}
w.finish();
const ipc = w.toUint8Array(true);
tick("toArrow+ipc", t0);
t0 = performance.now();
const tbl = pw.Table.fromIPCStream(ipc);
tick("fromIPC", t0);
let b = new pw.WriterPropertiesBuilder()
  .setCompression(pw.Compression.ZSTD)
  .setDictionaryEnabled(false)
  .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
  .setMaxRowGroupSize(100000);
for (const s of PACKED_COLUMNS) {
  if (s.kind === "dict" || PACKED_DICTIONARY_COLUMNS.includes(s.name)) b = b.setColumnDictionaryEnabled(s.name, true);
  else if (s.kind === "i64" || s.kind === "ts_ns") b = b.setColumnEncoding(s.name, pw.Encoding.DELTA_BINARY_PACKED);
}
t0 = performance.now();
const out = pw.writeParquet(tbl, b.build());
tick("writeParquet (whole partition, the old path)", t0);
// What repack does now: each row group encoded on its own (IPC, copy into wasm, writeParquet of one
// row group) and its column chunks stitched into the file with one footer.
t0 = performance.now();
const encoded = chunks.map((c) => encodeRowGroup(c, 100000));
tick("encodeRowGroup (per row group: IPC + wasm copy + writeParquet)", t0);
t0 = performance.now();
const st = new ParquetStitcher("/tmp/repack-phases-stitched.parquet");
for (const e of encoded) st.appendBuffer(e);
st.finish(packedFileMetadata(rows));
tick("stitch (append chunks, footer, fsync)", t0);
rmSync("/tmp/repack-phases-stitched.parquet", { force: true });
console.log(
  "rows",
  rows,
  "files",
  files.length,
  Object.fromEntries(
    Object.entries(T).map(([k, v]) => [k, `${v.toFixed(0)}ms ${((v * 1000) / rows).toFixed(2)}us/row`]),
  ),
);
console.log("wasm MiB after write", pw.wasmMemory().buffer.byteLength >> 20, "out MiB", out.length >> 20);
