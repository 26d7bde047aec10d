/**
 * Which Parquet encodings of bench's 7 columns decode fastest through parquet-wasm, and what they
 * cost in bytes. `bun bench/decode-encodings.ts [PACKED_FILE]` (default: the largest part under
 * data/m50-packed): the file's 7 columns rewritten per variant, then each decoded row group by row
 * group, variants alternating, best of 5 on one core.
 */
import * as arrow from "apache-arrow";
import * as pw from "parquet-wasm/node";
import { closeParquet, openParquet, withRows } from "../lib/parquet/io.ts";
import { bestDecodeMs, largestPackedPart } from "./encoding-variants.ts";

const COLUMNS = ["expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume"];
const FLOATS = ["price", "bp0", "sp0"];

const file = Bun.argv[2] ?? largestPackedPart();

// The 7 columns as one Arrow IPC stream, row group by row group as stored.
const source = await openParquet(file);
const rowGroups = source.rowGroupRows.length;
const rows = source.numRows;
const ipcBatches: Uint8Array[] = [];
for (let g = 0; g < rowGroups; g++) {
  await withRows(source, COLUMNS, { rowGroups: [g] }, (t) => {
    // opt_type reads back as a dictionary with one dictionary per batch: plain strings let the batches share a schema.
    const batches = t.batches.map((b) => {
      const children: Record<string, arrow.Data> = {};
      for (const c of COLUMNS)
        children[c] =
          c === "opt_type"
            ? arrow.vectorFromArray(
                Array.from(b.getChild(c)!, (v) => v as string | null),
                new arrow.Utf8(),
              ).data[0]
            : b.getChild(c)!.data[0];
      return new arrow.RecordBatch(children as never);
    });
    ipcBatches.push(arrow.tableToIPC(new arrow.Table(batches), "stream"));
  });
}
closeParquet(source);

type Variant = { name: string; props: (b: pw.WriterPropertiesBuilder) => pw.WriterPropertiesBuilder };
const dict = (b: pw.WriterPropertiesBuilder, cols: string[]) =>
  cols.reduce((x, c) => x.setColumnDictionaryEnabled(c, true), b);
const variants: Variant[] = [
  // What repack writes today (lib/packed/schema.ts PACKED_DICTIONARY_COLUMNS; volume as DELTA_BINARY_PACKED).
  {
    name: "today: dict keys+floats, volume delta",
    props: (b) =>
      dict(b, ["expiry", "opt_type", "strike", ...FLOATS]).setColumnEncoding("volume", pw.Encoding.DELTA_BINARY_PACKED),
  },
  {
    name: "floats plain",
    props: (b) =>
      dict(b, ["expiry", "opt_type", "strike"]).setColumnEncoding("volume", pw.Encoding.DELTA_BINARY_PACKED),
  },
  {
    name: "floats BYTE_STREAM_SPLIT",
    props: (b) =>
      FLOATS.reduce(
        (x, c) => x.setColumnEncoding(c, pw.Encoding.BYTE_STREAM_SPLIT),
        dict(b, ["expiry", "opt_type", "strike"]),
      ).setColumnEncoding("volume", pw.Encoding.DELTA_BINARY_PACKED),
  },
  { name: "dict keys+floats, volume plain", props: (b) => dict(b, ["expiry", "opt_type", "strike", ...FLOATS]) },
  { name: "dict keys+floats+volume", props: (b) => dict(b, ["expiry", "opt_type", "strike", ...FLOATS, "volume"]) },
  {
    name: "today, 1 MiB pages",
    props: (b) =>
      dict(b, ["expiry", "opt_type", "strike", ...FLOATS])
        .setColumnEncoding("volume", pw.Encoding.DELTA_BINARY_PACKED)
        .setDataPageSizeLimit(1 << 20),
  },
];

const written: { v: Variant; path: string; bytes: number }[] = [];
for (const [i, v] of variants.entries()) {
  const props = v
    .props(
      new pw.WriterPropertiesBuilder()
        .setCompression(pw.Compression.ZSTD)
        .setDictionaryEnabled(false)
        .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
        .setMaxRowGroupSize(Math.max(...ipcBatches.map(() => 100_000))),
    )
    .build();
  // One IPC stream of all row groups: the writer cuts them at the same 100k rows.
  const tables = ipcBatches.map((b) => arrow.tableFromIPC(b));
  const all = new arrow.Table(tables.flatMap((t) => t.batches));
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(all, "stream")), props);
  const path = `/tmp/tickpack-decode-${i}.parquet`;
  await Bun.write(path, bytes);
  written.push({ v, path, bytes: bytes.length });
}

const best = await bestDecodeMs(
  written.map((w) => w.path),
  COLUMNS,
  100_000,
);
console.log(
  `${file}: ${rows.toLocaleString("en-US")} rows, ${rowGroups} row groups; the 7 bench columns, decoded on one core (best of 5)`,
);
for (const [k, w] of written.entries()) {
  const ms = best[k];
  console.log(
    `${w.v.name.padEnd(40)} ${(rows / ms / 1000).toFixed(1).padStart(6)}M rows/s  ${(w.bytes / rows).toFixed(2).padStart(6)} B/row`,
  );
}
