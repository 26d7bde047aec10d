/**
 * Arrow-based reads and writes through parquet-wasm (the instance is wasm.ts's; reads without
 * apache-arrow are source.ts's). Reads are viewed in wasm memory through the C Data Interface
 * (arrow-js-ffi) and every wasm object is freed at once: wasm32 memory never shrinks.
 * Run this in a Worker the parent can terminate: corrupt pages can trap wasm (`Unreachable`).
 */
import * as arrow from "apache-arrow";
import { parseSchema, parseTable } from "arrow-js-ffi";
import * as pw from "parquet-wasm/esm";
import { closeParquetFile, openParquetFile, type ParquetFileSource, type RowSelection } from "./source.ts";
import { parquetWasm } from "./wasm.ts";
import { columnToArrow, sharedDictionary, type SharedDictionary } from "./arrow-columns.ts";
import type { ColumnBatch, ColumnSpec } from "./column-batch.ts";

/** An open Parquet file: its footer facts, its Arrow fields and a handle to read row groups. */
export interface ParquetSource extends ParquetFileSource {
  /** Top-level Arrow fields, in file order. */
  fields: arrow.Field[];
}

/**
 * Opens a Parquet file and reads its footer; throws ParquetOpenError with the reason. With `fd`, every
 * read goes through that open descriptor: a rename that replaces `path` meanwhile does not change the bytes.
 */
export async function openParquet(path: string, fd?: number): Promise<ParquetSource> {
  const source = await openParquetFile(path, fd);
  const ffiSchema = source.handle.schema().intoFFI();
  const fields = parseSchema(pw.wasmMemory().buffer, ffiSchema.addr()).fields;
  ffiSchema.free();
  return { ...source, fields };
}

/** The compression codecs of an open file's column chunks (`ZSTD`, `UNCOMPRESSED`, …), by column name. */
export function compressionCodecs(source: ParquetSource): Map<string, Set<string>> {
  const meta = source.handle.metadata();
  const codecs = new Map<string, Set<string>>();
  for (const rg of meta.rowGroups()) {
    for (const c of rg.columns()) {
      const column = c.columnPath().join(".");
      let set = codecs.get(column);
      if (!set) codecs.set(column, (set = new Set()));
      set.add(pw.Compression[c.compression()] ?? String(c.compression()));
      c.free();
    }
    rg.free();
  }
  meta.free();
  return codecs;
}

/** Releases the wasm side of an open file. */
export const closeParquet: (source: ParquetSource) => void = closeParquetFile;

/**
 * Calls `use` with the named columns of the selected rows as Arrow views on wasm memory (no copy),
 * then frees them: `use` must copy out whatever it keeps.
 */
export async function withRows<T>(
  source: ParquetSource,
  columns: string[],
  selection: RowSelection,
  use: (table: arrow.Table) => T,
): Promise<T> {
  if (selection.rowGroups.length === 0) return use(new arrow.Table());
  // batchSize preallocates in wasm: one row group per batch, never more.
  const batchSize = Math.max(1, ...selection.rowGroups.map((g) => source.rowGroupRows[g]));
  const table = await source.handle.read({
    columns,
    rowGroups: selection.rowGroups,
    offset: selection.offset,
    limit: selection.limit,
    batchSize,
  });
  const ffi = table.intoFFI();
  try {
    return use(parseTable(pw.wasmMemory().buffer, ffi.arrayAddrs(), ffi.schemaAddr(), false));
  } finally {
    // drop() consumes the stream and releases its arrays; a free() after it would be a double free.
    ffi.drop();
  }
}

/** Options of a Parquet write. */
export interface WriteOptions {
  rowGroupSize: number;
  /**
   * Dictionary-encode every column (what pyarrow and Polars do by default, so raw files from
   * gen look like delivered ones). Off: dictionaries for strings only, DELTA_BINARY_PACKED for
   * 64-bit integers and timestamps: measured ~2x faster to write than dictionaries on packed rows.
   */
  dictionaryEverywhere?: boolean;
  /** Further columns to dictionary-encode (strings always are). */
  dictionaryColumns?: readonly string[];
  /** Codec; ZSTD unless a caller needs another (tests that mimic foreign files). */
  compression?: pw.Compression;
  /** Key-value metadata for the footer. */
  metadata: Map<string, string>;
  /** How data pages are cut and which columns skip the codec; arrow-rs defaults where absent. */
  pages?: PageLayout;
}

/** Data page size, version and per-column compression of a write (packed files: PACKED_PAGE_LAYOUT). */
export interface PageLayout {
  /** Data page size limit, bytes (arrow-rs default: 1 MiB, so a 100k-row chunk is one page). */
  dataPageBytes?: number;
  /** Rows written between checks of the page limit (arrow-rs default: 1024): a page overshoots the limit by up to this many rows. */
  writeBatchRows?: number;
  /** Columns whose pages are stored uncompressed; the file's codec applies to the rest. */
  uncompressedColumns?: readonly string[];
  /** Non-string columns written PLAIN (no dictionary, no delta): values a decoder copies. */
  plainColumns?: readonly string[];
  /** Data page header version: 1 (arrow-rs default) or 2 (levels outside the compressed values). */
  dataPageVersion?: 1 | 2;
}

/**
 * A whole Parquet file (ZSTD, chunk min/max statistics) holding the chunks one after another.
 * Chunks are serialised to Arrow IPC as they come, so only one chunk is materialised at a time;
 * dict columns must use one dictionary array across chunks (it is written once).
 */
export function encodeParquet(
  chunks: Iterable<ColumnBatch>,
  specs: readonly ColumnSpec[],
  options: WriteOptions,
): Uint8Array {
  const writer = new arrow.RecordBatchStreamWriter();
  const dictionaries = new Map<string, SharedDictionary>();
  const types = new Map<string, arrow.DataType>();
  for (const chunk of chunks) {
    const children: Record<string, arrow.Data> = {};
    for (const spec of specs) {
      const col = chunk.columns.get(spec.name)!;
      let dict: SharedDictionary | undefined;
      if (spec.kind === "dict") {
        dict = dictionaries.get(spec.name);
        if (!dict || dict.strings !== col.dictionary)
          dictionaries.set(spec.name, (dict = sharedDictionary(col.dictionary ?? [])));
      }
      children[spec.name] = columnToArrow(col, chunk.length, dict);
      types.set(spec.name, children[spec.name].type);
    }
    writer.write(new arrow.RecordBatch(children as never));
  }
  writer.finish();
  return writeIpcAsParquet(writer.toUint8Array(true), types, options);
}

/** A whole Parquet file holding Arrow columns of equal length. */
export function encodeArrowColumns(children: Record<string, arrow.Data>, options: WriteOptions): Uint8Array {
  const ipc = arrow.tableToIPC(new arrow.Table(new arrow.RecordBatch(children as never)), "stream");
  return writeIpcAsParquet(ipc, new Map(Object.entries(children).map(([name, d]) => [name, d.type])), options);
}

/** A whole Parquet file from an Arrow IPC stream whose columns have `types` (by name), written as `options` say. */
export function writeIpcAsParquet(
  ipc: Uint8Array,
  types: ReadonlyMap<string, arrow.DataType>,
  options: WriteOptions,
): Uint8Array {
  parquetWasm();
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(options.compression ?? pw.Compression.ZSTD)
    .setDictionaryEnabled(options.dictionaryEverywhere === true)
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
    .setMaxRowGroupSize(options.rowGroupSize)
    .setCreatedBy("tickpack")
    .setKeyValueMetadata(options.metadata);
  const pages = options.pages;
  if (pages?.dataPageBytes !== undefined) builder = builder.setDataPageSizeLimit(pages.dataPageBytes);
  if (pages?.writeBatchRows !== undefined) builder = builder.setWriteBatchSize(pages.writeBatchRows);
  if (pages?.dataPageVersion === 2) builder = builder.setWriterVersion(pw.WriterVersion.V2);
  for (const name of pages?.uncompressedColumns ?? [])
    if (types.has(name)) builder = builder.setColumnCompression(name, pw.Compression.UNCOMPRESSED);
  if (!options.dictionaryEverywhere) {
    for (const [name, t] of types) {
      if (pages?.plainColumns?.includes(name)) builder = builder.setColumnEncoding(name, pw.Encoding.PLAIN);
      else if (arrow.DataType.isDictionary(t) || arrow.DataType.isUtf8(t) || options.dictionaryColumns?.includes(name))
        builder = builder.setColumnDictionaryEnabled(name, true);
      else if (arrow.DataType.isTimestamp(t) || (arrow.DataType.isInt(t) && t.bitWidth === 64))
        builder = builder.setColumnEncoding(name, pw.Encoding.DELTA_BINARY_PACKED);
    }
  }
  // fromIPCStream copies into wasm; writeParquet consumes the table and the properties.
  return pw.writeParquet(pw.Table.fromIPCStream(ipc), builder.build());
}

/**
 * A Parquet file written row group by row group through parquet-wasm's streaming writer: each
 * `write` is accepted only once the previous batch has been consumed, so one batch (and one row group
 * being encoded) is held at a time, and encoded bytes go to `sink` as they come.
 */
export class ParquetStreamWriter {
  private queue: pw.RecordBatch[] = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private drained: (() => void) | null = null;
  private readonly pump: Promise<void>;

  /** Starts the writer; `sink` receives the file's bytes in order. */
  constructor(sink: (bytes: Uint8Array) => void, options: { rowGroupSize: number; metadata: Map<string, string> }) {
    parquetWasm();
    const source = new ReadableStream<pw.RecordBatch>(
      {
        pull: async (controller) => {
          while (this.queue.length === 0 && !this.ended) await new Promise<void>((r) => (this.wake = r));
          const next = this.queue.shift();
          if (this.queue.length === 0) this.drained?.();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const props = new pw.WriterPropertiesBuilder()
      .setCompression(pw.Compression.ZSTD)
      .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
      .setMaxRowGroupSize(options.rowGroupSize)
      .setCreatedBy("tickpack")
      .setKeyValueMetadata(options.metadata)
      .build();
    this.pump = (async () => {
      const out = await pw.transformParquetStream(source, props);
      const reader = out.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sink(value);
      }
    })();
    this.pump.catch(() => {}); // surfaced by write/end
  }

  /** Hands one batch to the writer; resolves once it has been taken (or the writer failed, which rejects). */
  async write(batch: arrow.RecordBatch): Promise<void> {
    const table = pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(batch), "stream"));
    this.queue.push(...table.recordBatches());
    table.free();
    const wasDrained = new Promise<void>((r) => (this.drained = r));
    this.wake?.();
    await Promise.race([wasDrained, this.pump]);
  }

  /** Writes the footer; resolves when every byte has reached the sink. */
  async end(): Promise<void> {
    this.ended = true;
    this.wake?.();
    await this.pump;
  }
}
