/**
 * An open Parquet file read through parquet-wasm without apache-arrow: its footer facts, and its row
 * groups handed over as C Data Interface views on wasm memory (no copy), freed right after use.
 */
import type * as pw from "parquet-wasm/esm";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { readCBatch, readCSchema, type CColumn, type CField } from "./c-data.ts";
import { parquetWasm } from "./wasm.ts";
import { errorMessage } from "../error-message.ts";

/** A file that is missing, empty or not Parquet. */
export class ParquetOpenError extends Error {}

/** An open Parquet file: its footer facts and a handle to read row groups. */
export interface ParquetFileSource {
  path: string;
  handle: pw.ParquetFile;
  /** Rows of each row group, in file order. */
  rowGroupRows: number[];
  /** Top-level columns, in file order, with their C Data Interface formats. */
  columns: CField[];
  keyValueMetadata: Map<string, string>;
  numRows: number;
  /** The descriptor every read goes through, when the file was opened from one. */
  fd: number | null;
  /** The descriptor openParquetFile opened itself (closed by closeParquetFile), or null. */
  ownFd: number | null;
}

/** What parquet-wasm asks of a Blob: its size, and slices read as ArrayBuffers. */
interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * The open file `fd` as parquet-wasm's Blob, every slice read with a synchronous `pread` (positional:
 * concurrent reads cannot disturb each other). Not `Bun.file`: its reads go through Bun's I/O threads,
 * a round trip of ~1 ms each on a busy 2-core machine against ~0.1 ms for the same read alone
 * (measured), and parquet-wasm reads every column chunk of every row group separately. A file that
 * shrank since gives fewer bytes, as a Blob would.
 */
function preadBlob(fd: number, size: number): BlobLike {
  const clamp = (x: number | undefined, dflt: number) =>
    x === undefined ? dflt : x < 0 ? Math.max(0, size + x) : Math.min(x, size);
  return {
    size,
    slice(start?: number, end?: number) {
      const from = clamp(start, 0);
      const to = Math.max(from, clamp(end, size));
      return {
        arrayBuffer(): Promise<ArrayBuffer> {
          const out = new Uint8Array(to - from);
          let at = 0;
          while (at < out.length) {
            const n = readSync(fd, out, at, out.length - at, from + at);
            if (n === 0) break;
            at += n;
          }
          // As a Blob does past its end: fewer bytes, for parquet-wasm to report. A rejected promise
          // traps its wasm instead (measured: RuntimeError: Unreachable).
          return Promise.resolve(at === out.length ? out.buffer : out.buffer.slice(0, at));
        },
      };
    },
  };
}

/**
 * Opens a Parquet file and reads its footer; throws ParquetOpenError with the reason. With `fd`, every
 * read goes through that open descriptor (left open: the caller's): a rename that replaces `path`
 * meanwhile does not change the bytes. Without, the file is opened here and closed by closeParquetFile.
 */
export async function openParquetFile(path: string, fd?: number): Promise<ParquetFileSource> {
  let own: number | null = null;
  if (fd === undefined) {
    try {
      own = openSync(path, "r");
    } catch (e) {
      throw new ParquetOpenError(
        (e as NodeJS.ErrnoException).code === "ENOENT" ? "file does not exist" : `cannot open: ${errorMessage(e)}`,
      );
    }
  }
  const reads = fd ?? own!;
  try {
    const size = fstatSync(reads).size;
    if (size === 0) throw new ParquetOpenError("empty file (0 bytes)");
    const wasm = parquetWasm();
    let handle: pw.ParquetFile;
    try {
      handle = await wasm.ParquetFile.fromFile(preadBlob(reads, size) as unknown as Blob);
    } catch (e) {
      throw new ParquetOpenError(`not a readable Parquet file (truncated or corrupt?): ${errorMessage(e)}`);
    }
    const meta = handle.metadata();
    const groups = meta.rowGroups();
    const rowGroupRows = groups.map((g) => g.numRows());
    for (const g of groups) g.free();
    const fileMeta = meta.fileMetadata();
    const keyValueMetadata = new Map<string, string>(fileMeta.keyValueMetadata());
    const numRows = fileMeta.numRows();
    fileMeta.free();
    meta.free();
    const ffiSchema = handle.schema().intoFFI();
    const columns = readCSchema(wasm.wasmMemory().buffer, ffiSchema.addr());
    ffiSchema.free();
    return { path, handle, rowGroupRows, columns, keyValueMetadata, numRows, fd: fd ?? null, ownFd: own };
  } catch (e) {
    if (own !== null) closeSync(own);
    throw e;
  }
}

/** Releases the wasm side of an open file (and the descriptor openParquetFile opened for it). */
export function closeParquetFile(source: Pick<ParquetFileSource, "handle" | "ownFd">): void {
  source.handle.free();
  if (source.ownFd !== null) closeSync(source.ownFd);
  source.ownFd = null;
}

/** Rows to read: whole row groups, optionally narrowed to `limit` rows from `offset` (counted from the first of them). */
export interface RowSelection {
  rowGroups: number[];
  offset?: number;
  limit?: number;
}

/** One record batch as column views, in the order the columns were asked for. */
export interface ColumnViews {
  length: number;
  columns: CColumn[];
}

/** The batches of a read as C Data Interface views, and a function that frees them. */
async function readColumnViews(
  source: Pick<ParquetFileSource, "handle" | "rowGroupRows">,
  columns: readonly string[],
  selection: RowSelection,
): Promise<{ batches: ColumnViews[]; release: () => void }> {
  const wasm = parquetWasm();
  // batchSize preallocates in wasm: one row group per batch, never more.
  const batchSize = Math.max(1, ...selection.rowGroups.map((g) => source.rowGroupRows[g]));
  const table = await source.handle.read({
    columns: [...columns],
    rowGroups: selection.rowGroups,
    offset: selection.offset,
    limit: selection.limit,
    batchSize,
  });
  const ffi = table.intoFFI();
  try {
    const memory = wasm.wasmMemory().buffer;
    const fields = readCSchema(memory, ffi.schemaAddr());
    const byName = columns.map((c) => fields.findIndex((f) => f.name === c));
    const batches = Array.from(ffi.arrayAddrs(), (addr) => {
      const b = readCBatch(memory, addr, fields);
      return { length: b.length, columns: byName.map((k) => b.columns[k]) };
    });
    // drop() consumes the stream and releases its arrays; a free() after it would be a double free.
    return { batches, release: () => ffi.drop() };
  } catch (e) {
    ffi.drop();
    throw e;
  }
}

/** Calls `use` with the named columns of the selected rows as views on wasm memory, then frees them: `use` must copy what it keeps. */
export async function withColumnViews<T>(
  source: Pick<ParquetFileSource, "handle" | "rowGroupRows">,
  columns: readonly string[],
  selection: RowSelection,
  use: (batches: ColumnViews[]) => T,
): Promise<T> {
  if (selection.rowGroups.length === 0) return use([]);
  const { batches, release } = await readColumnViews(source, columns, selection);
  try {
    return use(batches);
  } finally {
    release();
  }
}

/**
 * Decodes the first rows of `path`'s first row group here and drops them: the engine then tiers up
 * parquet-wasm's decoders in this thread, once, before the workers that share its compiled module
 * start. Two workers tiering up one fresh module at once took ~145 ms each for their first row group,
 * against ~33 ms for one alone, and ~17 ms each after this (measured, 7 bench columns). Never throws:
 * a file that cannot be read is left for the workers to report.
 */
export async function warmUpDecoders(path: string, columns: string[], rows = 20_000): Promise<void> {
  let source: ParquetFileSource | null = null;
  try {
    source = await openParquetFile(path);
    const present = new Set(source.columns.map((c) => c.name));
    const wanted = columns.filter((c) => present.has(c));
    for (let g = 0; g < source.rowGroupRows.length && rows > 0 && wanted.length > 0; g++) {
      await withColumnViews(
        source,
        wanted,
        { rowGroups: [g], limit: Math.min(rows, source.rowGroupRows[g]) },
        () => {},
      );
      rows -= source.rowGroupRows[g];
    }
  } catch {
    // the workers meet the same file and name the problem
  } finally {
    if (source) closeParquetFile(source);
  }
}
