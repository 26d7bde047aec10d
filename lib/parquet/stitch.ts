/**
 * One Parquet file from the row groups of others, with one footer. parquet-wasm has no incremental
 * writer (writeParquet holds a whole file in wasm memory), so a big file is written a row group at a
 * time: each row group is encoded as a small Parquet file of its own, its column chunks (which are
 * self-contained: pages, dictionary page, statistics in their metadata) are appended to the output,
 * and the footer lists them all with their offsets moved. Page indexes are carried over (column
 * indexes as they are, offset indexes with their page offsets moved); bloom filters are dropped
 * (tickpack never writes them).
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { decodeStruct, encodeStruct, field, setI32, setI64, T, type TList, type TStruct } from "./thrift-compact.ts";

const MAGIC = new TextEncoder().encode("PAR1");
const COPY_CHUNK_BYTES = 8 * 2 ** 20;

/** Random access to a Parquet file's bytes, in memory or on disk. */
interface ByteSource {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

function bufferSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) };
}

function fileSource(fd: number): ByteSource {
  return {
    size: fstatSync(fd).size,
    read(o, n) {
      const out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const got = readSync(fd, out, at, n - at, o + at);
        if (got === 0) throw new Error(`file ends early (wanted ${n} bytes at ${o})`);
        at += got;
      }
      return out;
    },
  };
}

/** The FileMetaData of a Parquet file (Thrift compact). */
export function readFileMetaData(src: { size: number; read(offset: number, length: number): Uint8Array }): TStruct {
  if (src.size < 12) throw new Error("not a Parquet file (too short)");
  const tail = src.read(src.size - 8, 8);
  if (tail[4] !== MAGIC[0] || tail[5] !== MAGIC[1] || tail[6] !== MAGIC[2] || tail[7] !== MAGIC[3])
    throw new Error("not a Parquet file (no PAR1 at the end)");
  const len = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (len + 12 > src.size) throw new Error("footer length exceeds the file");
  return decodeStruct(src.read(src.size - 8 - len, len));
}

/** The FileMetaData of a Parquet file on disk. */
export function readFileMetaDataAt(path: string): TStruct {
  const fd = openSync(path, "r");
  try {
    return readFileMetaData(fileSource(fd));
  } finally {
    closeSync(fd);
  }
}

/** Rows of each row group listed in a FileMetaData, and their total. */
export function rowGroupRowsOf(meta: TStruct): { rows: number; rowGroupRows: number[] } {
  const groups = (field<TList>(meta, 4)?.items ?? []) as TStruct[];
  return {
    rows: Number(field<bigint>(meta, 3) ?? 0n),
    rowGroupRows: groups.map((g) => Number(field<bigint>(g, 3) ?? 0n)),
  };
}

const num = (v: bigint | number | undefined) => (v === undefined ? undefined : Number(v));

/** Where a column chunk's bytes lie: from its dictionary page (if any) to the end of its data pages. */
function chunkExtent(chunk: TStruct): [number, number] {
  const md = field<TStruct>(chunk, 3)!;
  const data = num(field<bigint>(md, 9))!;
  const dict = num(field<bigint>(md, 11));
  const start = dict !== undefined && dict > 0 && dict < data ? dict : data;
  return [start, start + num(field<bigint>(md, 7))!];
}

/** Adds `by` to an i64 field when present. */
function shift(s: TStruct, id: number, by: bigint): void {
  const v = field<bigint>(s, id);
  if (v !== undefined) setI64(s, id, v + by);
}

/** Writes one Parquet file from the row groups of others, appended in order. */
export class ParquetStitcher {
  private readonly fd: number;
  private pos = 0;
  private template: TStruct | null = null;
  private readonly rowGroups: TStruct[] = [];
  private readonly columnIndexes: { chunk: TStruct; bytes: Uint8Array }[] = [];
  private readonly offsetIndexes: { chunk: TStruct; index: TStruct }[] = [];
  private rows = 0n;
  private closed = false;

  /** Creates (truncates) `path`. */
  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
    this.write(MAGIC);
  }

  /** Rows appended so far. */
  get rowCount(): number {
    return Number(this.rows);
  }

  private write(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.pos += bytes.length;
  }

  /** Appends the row groups of a whole Parquet file held in memory (e.g. one row group from parquet-wasm). */
  appendBuffer(file: Uint8Array): void {
    this.append(bufferSource(file));
  }

  /** Appends the row groups of a Parquet file on disk, copying its column chunks a few MiB at a time. */
  appendFile(path: string): void {
    const fd = openSync(path, "r");
    try {
      this.append(fileSource(fd));
    } finally {
      closeSync(fd);
    }
  }

  private append(src: ByteSource): void {
    const meta = readFileMetaData(src);
    this.template ??= meta;
    const groups = (field<TList>(meta, 4)?.items ?? []) as TStruct[];
    const chunks = groups.flatMap((g) => (field<TList>(g, 1)?.items ?? []) as TStruct[]);
    if (chunks.length === 0) {
      for (const g of groups) this.addRowGroup(g);
      return;
    }
    let start = Infinity;
    let end = 0;
    for (const c of chunks) {
      const [s, e] = chunkExtent(c);
      start = Math.min(start, s);
      end = Math.max(end, e);
    }
    const by = BigInt(this.pos - start);
    for (const c of chunks) {
      shift(c, 2, by);
      const md = field<TStruct>(c, 3)!;
      for (const id of [9, 10, 11]) shift(md, id, by);
      md.delete(14); // bloom filter offset and length: not carried over
      md.delete(15);
      const ciAt = num(field<bigint>(c, 6));
      if (ciAt !== undefined)
        this.columnIndexes.push({ chunk: c, bytes: src.read(ciAt, field<number>(c, 7)!).slice() });
      const oiAt = num(field<bigint>(c, 4));
      if (oiAt !== undefined) {
        const index = decodeStruct(src.read(oiAt, field<number>(c, 5)!));
        for (const loc of (field<TList>(index, 1)?.items ?? []) as TStruct[]) shift(loc, 1, by);
        this.offsetIndexes.push({ chunk: c, index });
      }
    }
    for (const g of groups) {
      shift(g, 5, by);
      this.addRowGroup(g);
    }
    for (let at = start; at < end; at += COPY_CHUNK_BYTES)
      this.write(src.read(at, Math.min(COPY_CHUNK_BYTES, end - at)));
  }

  private addRowGroup(g: TStruct): void {
    g.set(7, { type: T.I16, value: this.rowGroups.length });
    this.rowGroups.push(g);
    this.rows += field<bigint>(g, 3) ?? 0n;
  }

  /**
   * Writes the page indexes and the footer (the first appended file's schema, `metadata` merged into
   * its key-value metadata), fsyncs and closes; returns the file's size in bytes.
   */
  finish(metadata: Map<string, string>): number {
    if (!this.template) throw new Error(`${this.path}: nothing was appended`);
    for (const { chunk, bytes } of this.columnIndexes) {
      setI64(chunk, 6, BigInt(this.pos));
      setI32(chunk, 7, bytes.length);
      this.write(bytes);
    }
    for (const { chunk, index } of this.offsetIndexes) {
      const bytes = encodeStruct(index);
      setI64(chunk, 4, BigInt(this.pos));
      setI32(chunk, 5, bytes.length);
      this.write(bytes);
    }
    const meta: TStruct = new Map(this.template);
    setI64(meta, 3, this.rows);
    meta.set(4, { type: T.LIST, value: { elem: T.STRUCT, items: this.rowGroups } });
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const kv = ((field<TList>(meta, 5)?.items ?? []) as TStruct[]).filter(
      (e) => !metadata.has(dec.decode(field<Uint8Array>(e, 1))),
    );
    for (const [k, v] of metadata)
      kv.push(
        new Map([
          [1, { type: T.BINARY, value: enc.encode(k) }],
          [2, { type: T.BINARY, value: enc.encode(v) }],
        ]),
      );
    meta.set(5, { type: T.LIST, value: { elem: T.STRUCT, items: kv } });
    const footer = encodeStruct(meta);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(MAGIC, 4);
    this.write(footer);
    this.write(tail);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    return this.pos;
  }

  /** Closes and removes the file (a write that failed or was abandoned). */
  abort(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    rmSync(this.path, { force: true });
  }
}
