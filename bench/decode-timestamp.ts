/**
 * What decoding `timestamp` costs, the column any trade time needs (bench --trades, --report): the
 * packed file's timestamps rewritten per encoding and compression, each decoded row group by row
 * group through parquet-wasm (best of 5, one core), and native zstd (`Bun.zstdDecompressSync`) on
 * the same values as plain 1 MiB pages, decompression alone. Packed files store it dictionary-coded and
 * uncompressed (docs/formats.md), read natively as runs of codes.
 * `bun bench/decode-timestamp.ts [PACKED_FILE]` (default: the largest part under data/m50-packed).
 */
import * as arrow from "apache-arrow";
import * as pw from "parquet-wasm/node";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeParquet, openParquet, withRows } from "../lib/parquet/io.ts";
import { bestDecodeMs, largestPackedPart } from "./encoding-variants.ts";

const TS = "timestamp";
const file = Bun.argv[2] ?? largestPackedPart();

// The timestamps, copied out of wasm memory row group by row group.
const source = await openParquet(file);
const rows = source.numRows;
const chunks: BigInt64Array[] = [];
for (let g = 0; g < source.rowGroupRows.length; g++) {
  await withRows(source, [TS], { rowGroups: [g] }, (t) => {
    for (const b of t.batches) chunks.push((b.getChild(TS)!.data[0].values as BigInt64Array).slice());
  });
}
closeParquet(source);
const batches = chunks.map(
  (v) =>
    new arrow.RecordBatch({
      [TS]: arrow.makeData({ type: new arrow.TimestampNanosecond("UTC"), length: v.length, nullCount: 0, data: v }),
    } as never),
);
const ipc = arrow.tableToIPC(new arrow.Table(batches), "stream");

type Variant = [name: string, props: (b: pw.WriterPropertiesBuilder) => pw.WriterPropertiesBuilder];
const variants: Variant[] = [
  ["delta + ZSTD", (b) => b.setColumnEncoding(TS, pw.Encoding.DELTA_BINARY_PACKED)],
  ["plain + ZSTD", (b) => b.setColumnEncoding(TS, pw.Encoding.PLAIN)],
  ["dictionary + ZSTD", (b) => b.setColumnDictionaryEnabled(TS, true)],
  ["byte stream split + ZSTD", (b) => b.setColumnEncoding(TS, pw.Encoding.BYTE_STREAM_SPLIT)],
  [
    "delta + LZ4_RAW (not what repack writes)",
    (b) => b.setColumnEncoding(TS, pw.Encoding.DELTA_BINARY_PACKED).setColumnCompression(TS, pw.Compression.LZ4_RAW),
  ],
  [
    "delta, uncompressed (not what repack writes)",
    (b) =>
      b.setColumnEncoding(TS, pw.Encoding.DELTA_BINARY_PACKED).setColumnCompression(TS, pw.Compression.UNCOMPRESSED),
  ],
];
const written = variants.map(([name, props], i) => {
  const builder = props(
    new pw.WriterPropertiesBuilder()
      .setCompression(pw.Compression.ZSTD)
      .setDictionaryEnabled(false)
      .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
      .setMaxRowGroupSize(Math.max(...source.rowGroupRows)),
  );
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(ipc), builder.build());
  const path = join(tmpdir(), `tickpack-decode-ts-${process.pid}-${i}.parquet`);
  writeFileSync(path, bytes);
  return { name, path, bytes: bytes.length };
});

try {
  const best = await bestDecodeMs(
    written.map((w) => w.path),
    [TS],
    Math.max(...source.rowGroupRows),
  );
  console.log(
    `${file}: ${rows.toLocaleString("en-US")} rows; timestamp decoded on one core through parquet-wasm (best of 5)`,
  );
  for (const [k, w] of written.entries())
    console.log(
      `  ${w.name.padEnd(34)} ${(rows / best[k] / 1000).toFixed(1).padStart(6)}M rows/s  ${(w.bytes / rows).toFixed(2)} B/row`,
    );
  // Native zstd on the same values as plain 1 MiB pages: decompression alone, no decoding.
  const all = new Uint8Array(rows * 8);
  let at = 0;
  for (const c of chunks) {
    all.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += c.byteLength;
  }
  const pages: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += 1 << 20)
    pages.push(Bun.zstdCompressSync(all.subarray(o, Math.min(all.length, o + (1 << 20))), { level: 1 }));
  let ms = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (const p of pages) Bun.zstdDecompressSync(p);
    ms = Math.min(ms, performance.now() - t);
  }
  console.log(
    `  ${"native zstd, plain pages (Bun)".padEnd(34)} ${(rows / ms / 1000).toFixed(1).padStart(6)}M rows/s  decompression alone`,
  );
} finally {
  for (const w of written) rmSync(w.path, { force: true });
}
