/**
 * One cached column of one part file (docs/cache.md): a JSON header, a validity bitmap and the
 * values, each section 64-byte aligned so that a memory map of the file hands the kernel its
 * pointers directly. Written to a temp file and renamed (a reader sees a whole file or none);
 * read back by mapping it and checking it before anything is served.
 */
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { checksumHex } from "./checksum.ts";
import { tempPathFor } from "../atomic-file.ts";
import { valuesCtorOf, type CValues } from "../parquet/c-data.ts";
import { mapFileReadOnly, type FileMapping } from "./mapping.ts";

/** First bytes of a cache file. */
export const COLUMN_FILE_MAGIC = "TPKCACHE";
/** Last bytes of a whole cache file (a truncated one lacks them). */
export const COLUMN_FILE_END = "TPKCEND1";
/** Version of the layout below; another version is dropped and rebuilt. */
export const COLUMN_FILE_VERSION = 1;
const PREFIX = 16; // magic, u32 header length, u32 FNV-1a of the header
const ALIGN = 64;

/** What identifies the bytes of the part a column was decoded from: a change in any field makes the entry stale. */
export interface PartKey {
  /** The part's real path. */
  path: string;
  bytes: number;
  /** Modification time, ns since the epoch, as a decimal string (exact). */
  mtimeNs: string;
  /** Checksum of the part's Parquet footer. */
  footer: string;
}

/** The header of a column file (its first bytes, as JSON). */
export interface ColumnFileHeader {
  format: "tickpack-column-cache";
  version: number;
  key: PartKey;
  column: string;
  /** Arrow C Data Interface format of the values (`g` float64, `i` int32, `tdD` date32, …). */
  type: string;
  /** How the values encode the column when not as stored: `opt-code` is opt_type as its stable code (lib/packed/opt-type.ts). */
  encoding: "plain" | "opt-code";
  rows: number;
  /** Rows of each row group of the part (they sum to `rows`): what a run reports as row groups read without parsing the part's footer. */
  rowGroupRows: number[];
  nullCount: number;
  /** Byte range of the validity bitmap (bit i set = row i valid); null when no row is null. */
  validity: { offset: number; bytes: number; checksum: string } | null;
  /** Byte range of the values, and the checksums of its blocks in order (each `blockBytes`, the last shorter). */
  values: { offset: number; bytes: number; blockBytes: number; blocks: string[] };
  fileBytes: number;
}

/** Bytes per value of a cacheable C format (a fixed-width one), or null. */
export function elementBytes(type: string): number | null {
  return valuesCtorOf(type)?.BYTES_PER_ELEMENT ?? null;
}

const BITS_IN_BYTE = Uint8Array.from({ length: 256 }, (_, b) => b.toString(2).replaceAll("0", "").length);

/** Set bits among the first `n` of a bitmap. */
function countSetBits(bits: Uint8Array, n: number): number {
  let count = 0;
  const whole = n >> 3;
  for (let i = 0; i < whole; i++) count += BITS_IN_BYTE[bits[i]];
  for (let i = whole << 3; i < n; i++) count += (bits[i >> 3] >> (i & 7)) & 1;
  return count;
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

/** Bytes of values checksummed together (64 KiB): a run verifies a few blocks of each file, not all of them. */
const BLOCK_BYTES = 1 << 16;

/**
 * Writes one column of a part, batch by batch, to a temp file next to `path`; `commit` adds the header
 * and renames it into place, `abort` removes it. Holds the validity bitmap (rows/8 bytes) in memory.
 */
export class ColumnFileWriter {
  private readonly temp: string;
  private readonly fd: number;
  private readonly validity: Uint8Array;
  private readonly valuesOffset: number;
  private readonly blocks: string[] = [];
  private readonly pending: Uint8Array;
  private pendingBytes = 0;
  private written = 0;
  private rowsIn = 0;
  private nulls = 0;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly key: PartKey,
    private readonly column: string,
    private readonly type: string,
    private readonly encoding: ColumnFileHeader["encoding"],
    private readonly rows: number,
    private readonly rowGroupRows: number[],
  ) {
    const width = elementBytes(type);
    if (width === null) throw new Error(`column ${column}: format ${type} cannot be cached`);
    this.validity = new Uint8Array(roundUp(Math.max(1, rows), 8) / 8);
    // Room for the header: its checksums grow with the file, the rest is bounded by the key's path.
    const blocks = Math.ceil((rows * width) / BLOCK_BYTES) + 1;
    const headerRoom = roundUp(
      PREFIX + 1024 + 3 * key.path.length + column.length + 20 * blocks + 12 * rowGroupRows.length,
      ALIGN,
    );
    this.valuesOffset = headerRoom + roundUp(this.validity.byteLength, ALIGN);
    this.pending = new Uint8Array(BLOCK_BYTES);
    this.temp = tempPathFor(path);
    this.fd = openSync(this.temp, "w");
  }

  /** Appends `n` rows: their values (`n` of them, in this column's type) and validity (bit i of `valid`, null = all valid). */
  append(values: CValues, valid: Uint8Array | null, n: number): void {
    if (this.rowsIn + n > this.rows)
      throw new Error(`column ${this.column}: more rows than the ${this.rows} announced`);
    const at = this.rowsIn;
    if ((at & 7) === 0) {
      const whole = n >> 3;
      if (valid === null) this.validity.fill(0xff, at >> 3, (at >> 3) + whole);
      else this.validity.set(valid.subarray(0, whole), at >> 3);
      for (let i = whole << 3; i < n; i++)
        if (valid === null || (valid[i >> 3] >> (i & 7)) & 1) this.validity[(at + i) >> 3] |= 1 << ((at + i) & 7);
    } else {
      for (let i = 0; i < n; i++)
        if (valid === null || (valid[i >> 3] >> (i & 7)) & 1) this.validity[(at + i) >> 3] |= 1 << ((at + i) & 7);
    }
    if (valid !== null) this.nulls += n - countSetBits(valid, n);
    this.rowsIn += n;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, n * values.BYTES_PER_ELEMENT);
    // Whole blocks go out straight from the caller's memory (each checksummed as it is written); only
    // a block split across two appends is assembled in `pending`, so the values are not copied twice.
    let from = 0;
    if (this.pendingBytes > 0) {
      const take = Math.min(BLOCK_BYTES - this.pendingBytes, bytes.byteLength);
      this.pending.set(bytes.subarray(0, take), this.pendingBytes);
      this.pendingBytes += take;
      from = take;
      if (this.pendingBytes === BLOCK_BYTES) this.flushPending();
    }
    const whole = Math.floor((bytes.byteLength - from) / BLOCK_BYTES) * BLOCK_BYTES;
    if (whole > 0) this.writeBlocks(bytes.subarray(from, from + whole));
    from += whole;
    if (from < bytes.byteLength) {
      this.pending.set(bytes.subarray(from), this.pendingBytes);
      this.pendingBytes += bytes.byteLength - from;
    }
  }

  /** Checksums `bytes` block by block and writes them at the end of the values written so far. */
  private writeBlocks(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.byteLength; at += BLOCK_BYTES)
      this.blocks.push(checksumHex(bytes.subarray(at, Math.min(at + BLOCK_BYTES, bytes.byteLength))));
    for (let at = 0; at < bytes.byteLength; )
      at += writeSync(this.fd, bytes, at, bytes.byteLength - at, this.valuesOffset + this.written + at);
    this.written += bytes.byteLength;
  }

  private flushPending(): void {
    if (this.pendingBytes > 0) this.writeBlocks(this.pending.subarray(0, this.pendingBytes));
    this.pendingBytes = 0;
  }

  /** Writes the header and the end mark and renames the file into place; returns its bytes. */
  commit(): number {
    if (this.rowsIn !== this.rows)
      throw new Error(`column ${this.column}: ${this.rowsIn} rows written of ${this.rows}`);
    this.flushPending();
    const validityOffset = this.valuesOffset - roundUp(this.validity.byteLength, ALIGN);
    const validityBytes = (this.rows + 7) >> 3;
    const fileBytes = this.valuesOffset + roundUp(this.written, 8) + COLUMN_FILE_END.length;
    const header: ColumnFileHeader = {
      format: "tickpack-column-cache",
      version: COLUMN_FILE_VERSION,
      key: this.key,
      column: this.column,
      type: this.type,
      encoding: this.encoding,
      rows: this.rows,
      rowGroupRows: this.rowGroupRows,
      nullCount: this.nulls,
      validity:
        this.nulls === 0
          ? null
          : {
              offset: validityOffset,
              bytes: validityBytes,
              checksum: checksumHex(this.validity.subarray(0, validityBytes)),
            },
      values: { offset: this.valuesOffset, bytes: this.written, blockBytes: BLOCK_BYTES, blocks: this.blocks },
      fileBytes,
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    if (PREFIX + json.byteLength > validityOffset)
      throw new Error(`column ${this.column}: cache header outgrew its room`);
    const prefix = new Uint8Array(PREFIX);
    prefix.set(new TextEncoder().encode(COLUMN_FILE_MAGIC));
    new DataView(prefix.buffer).setUint32(8, json.byteLength, true);
    new DataView(prefix.buffer).setUint32(12, fnv1a(json), true);
    writeSync(this.fd, prefix, 0, PREFIX, 0);
    writeSync(this.fd, json, 0, json.byteLength, PREFIX);
    if (header.validity) writeSync(this.fd, this.validity, 0, validityBytes, validityOffset);
    writeSync(
      this.fd,
      new TextEncoder().encode(COLUMN_FILE_END),
      0,
      COLUMN_FILE_END.length,
      fileBytes - COLUMN_FILE_END.length,
    );
    // No fsync: syncing gigabytes would cost the cold run more than the cache saves, and a file torn
    // by a power loss fails its size, end-mark or block checks (docs/cache.md says what they cover).
    closeSync(this.fd);
    this.closed = true;
    renameSync(this.temp, this.path);
    return fileBytes;
  }

  /** Drops the temp file (a failed or abandoned fill). */
  abort(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    rmSync(this.temp, { force: true });
  }
}

/** A cached column mapped into memory (read-only): its views are valid until `unmap()`. */
export interface MappedColumn {
  header: ColumnFileHeader;
  values: CValues;
  validity: Uint8Array | null;
  unmap(): void;
}

/** Why a cache file was not served (it is then dropped and rebuilt). */
export class ColumnFileProblem extends Error {
  /** `unreadable`: the file could not be opened or mapped at all (missing, no permission): nothing to drop. */
  constructor(
    message: string,
    readonly unreadable = false,
  ) {
    super(message);
  }
}

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** Index of the value blocks a read verifies: the first, the last and `sampled` others chosen at random. */
function blocksToVerify(count: number, sampled: number): number[] {
  const picks = new Set<number>([0, count - 1]);
  for (let i = 0; i < sampled && picks.size < count; i++) picks.add(Math.floor(Math.random() * count));
  return [...picks].filter((b) => b >= 0);
}

/**
 * Maps the cache file at `path` and checks it against `key` and `column`: magic, header checksum,
 * version, size, end mark, section bounds, the validity checksum and the checksums of the first,
 * the last and one random value block (all of them with `verifyAll`). Throws ColumnFileProblem.
 */
export function mapColumnFile(path: string, key: PartKey, column: string, verifyAll = false): MappedColumn {
  let file: FileMapping;
  try {
    if (statSync(path).size < PREFIX + COLUMN_FILE_END.length) throw new ColumnFileProblem("shorter than a header");
    file = mapFileReadOnly(path);
  } catch (e) {
    if (e instanceof ColumnFileProblem) throw e;
    throw new ColumnFileProblem(`cannot map: ${(e as Error).message}`, true);
  }
  try {
    return checkedColumn(file, key, column, verifyAll);
  } catch (e) {
    file.unmap();
    throw e;
  }
}

function checkedColumn(file: FileMapping, key: PartKey, column: string, verifyAll: boolean): MappedColumn {
  const mapping = file.bytes;
  if (ascii(mapping.subarray(0, 8)) !== COLUMN_FILE_MAGIC)
    throw new ColumnFileProblem("not a tickpack cache file (magic)");
  const view = new DataView(mapping.buffer, mapping.byteOffset, mapping.byteLength);
  const jsonBytes = view.getUint32(8, true);
  if (PREFIX + jsonBytes > mapping.byteLength) throw new ColumnFileProblem("header runs past the end");
  const json = mapping.subarray(PREFIX, PREFIX + jsonBytes);
  if (fnv1a(json) !== view.getUint32(12, true)) throw new ColumnFileProblem("header checksum mismatch");
  let header: ColumnFileHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(json));
  } catch {
    throw new ColumnFileProblem("header is not JSON");
  }
  if (header.format !== "tickpack-column-cache" || header.version !== COLUMN_FILE_VERSION)
    throw new ColumnFileProblem(`format ${header.format} version ${header.version}`);
  const k = header.key;
  if (k.path !== key.path || k.bytes !== key.bytes || k.mtimeNs !== key.mtimeNs || k.footer !== key.footer)
    throw new ColumnFileProblem("stale: the part file changed");
  if (header.column !== column) throw new ColumnFileProblem(`holds column ${header.column}`);
  if (!Array.isArray(header.rowGroupRows) || header.rowGroupRows.reduce((a, n) => a + n, 0) !== header.rows)
    throw new ColumnFileProblem("row groups do not add up to the rows");
  if (header.fileBytes !== mapping.byteLength)
    throw new ColumnFileProblem(`size ${mapping.byteLength} bytes, header says ${header.fileBytes}`);
  if (ascii(mapping.subarray(mapping.byteLength - COLUMN_FILE_END.length)) !== COLUMN_FILE_END)
    throw new ColumnFileProblem("no end mark (truncated?)");
  const Ctor = valuesCtorOf(header.type);
  const width = elementBytes(header.type);
  const v = header.values;
  if (
    !Ctor ||
    !width ||
    v.bytes !== header.rows * width ||
    v.offset % ALIGN !== 0 ||
    v.offset + v.bytes > mapping.byteLength - COLUMN_FILE_END.length
  )
    throw new ColumnFileProblem("values section out of bounds");
  if (v.blocks.length !== Math.ceil(v.bytes / v.blockBytes))
    throw new ColumnFileProblem("block checksums do not cover the values");
  for (const b of verifyAll ? v.blocks.map((_, i) => i) : blocksToVerify(v.blocks.length, 1)) {
    const from = v.offset + b * v.blockBytes;
    if (checksumHex(mapping.subarray(from, Math.min(from + v.blockBytes, v.offset + v.bytes))) !== v.blocks[b])
      throw new ColumnFileProblem(`values block ${b} checksum mismatch`);
  }
  let validity: Uint8Array | null = null;
  if (header.validity) {
    const s = header.validity;
    if (s.bytes !== (header.rows + 7) >> 3 || s.offset + s.bytes > v.offset)
      throw new ColumnFileProblem("validity section out of bounds");
    validity = mapping.subarray(s.offset, s.offset + s.bytes);
    if (checksumHex(validity) !== s.checksum) throw new ColumnFileProblem("validity checksum mismatch");
  }
  return {
    header,
    values: new Ctor(mapping.buffer as ArrayBuffer, mapping.byteOffset + v.offset, header.rows),
    validity,
    unmap: file.unmap,
  };
}

/**
 * Whether `path` is a regular file (not a link to one) that begins with a column file's header: the
 * magic, a JSON header matching its checksum, and this format's name. That proves the cache wrote it,
 * whatever became of the rest (stale, truncated, another version); nothing else may be evicted.
 */
export function isColumnFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    const prefix = new Uint8Array(PREFIX);
    if (!st.isFile() || readSync(fd, prefix, 0, PREFIX, 0) !== PREFIX) return false;
    if (ascii(prefix.subarray(0, 8)) !== COLUMN_FILE_MAGIC) return false;
    const view = new DataView(prefix.buffer);
    const jsonBytes = view.getUint32(8, true);
    if (jsonBytes > st.size - PREFIX) return false;
    const json = new Uint8Array(jsonBytes);
    if (readSync(fd, json, 0, jsonBytes, PREFIX) !== jsonBytes || fnv1a(json) !== view.getUint32(12, true))
      return false;
    return JSON.parse(new TextDecoder().decode(json))?.format === "tickpack-column-cache";
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
