/**
 * The column-chunk decoder in plain TypeScript: the reference the native decoder (page-decoder.c) is
 * compared with, written for clarity, one value at a time. Every rule and bound of the shared
 * contract (chunk-desc.ts) is here; a garbled chunk is a ChunkDecodeError, never a wrong value
 * that the bounds could have caught. Floats are carried as their bit patterns: reading one through
 * a JavaScript number may rewrite a NaN's payload.
 */
import {
  ChunkDecodeError,
  Codec,
  PhysicalType,
  type ChunkDesc,
  type DecodedChunk,
  type RowWindow,
  windowProblem,
} from "./chunk-desc.ts";

/** Throws the ChunkDecodeError of the chunk being decoded. */
type Fail = (reason: string) => never;

const PageType = { DATA_PAGE: 0, INDEX_PAGE: 1, DICTIONARY_PAGE: 2, DATA_PAGE_V2: 3 } as const;
const Encoding = { PLAIN: 0, PLAIN_DICTIONARY: 2, DELTA_BINARY_PACKED: 5, RLE_DICTIONARY: 8 } as const;
/** The levels' encoding (RLE / bit-packed hybrid). */
const RLE = 3;
const ENCODING_NAMES = [
  "PLAIN",
  "GROUP_VAR_INT",
  "PLAIN_DICTIONARY",
  "RLE",
  "BIT_PACKED",
  "DELTA_BINARY_PACKED",
  "DELTA_LENGTH_BYTE_ARRAY",
  "DELTA_BYTE_ARRAY",
  "RLE_DICTIONARY",
  "BYTE_STREAM_SPLIT",
];
const CODEC_NAMES = ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"];
const TYPE_NAMES = ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"];
const nameOf = (names: string[], n: number) => names[n] ?? String(n);

/** Thrift compact wire types (1/2 are the two booleans). */
const Wire = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
};
const MAX_VARINT_BYTES = 10;
const MAX_NESTING = 32;

/**
 * A Thrift compact reader over one page header, bounded: a varint of more than 10 bytes, a value
 * running past the chunk or a nesting deeper than 32 is an error. Integers are bigints (an i64 needs 64 bits).
 */
class HeaderCursor {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly fail: Fail,
  ) {}

  byte(): number {
    if (this.pos >= this.bytes.length) this.fail("page header runs past the end of the chunk");
    return this.bytes[this.pos++];
  }

  /** An unsigned varint of 64 bits at most (a 10th byte carries only bit 63). */
  varint(): bigint {
    let v = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.byte();
      if (i === MAX_VARINT_BYTES - 1 && (b & 0x7e) !== 0) this.fail("Thrift varint past 64 bits in a page header");
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return v;
    }
    return this.fail("Thrift varint longer than 10 bytes in a page header");
  }

  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  /** An i32 field's value (an i16/i32/i64 wire value outside int32 is an error). */
  i32(what: string): number {
    const v = this.zigzag();
    if (v < -2147483648n || v > 2147483647n) this.fail(`${what} ${v} out of range`);
    return Number(v);
  }

  /** Skips one value of wire type `type` (a bool inside a list or map is one byte). */
  skip(type: number, depth: number, inContainer: boolean): void {
    if (depth > MAX_NESTING) this.fail(`page header nested deeper than ${MAX_NESTING}`);
    switch (type) {
      case Wire.TRUE:
      case Wire.FALSE:
        if (inContainer) this.byte();
        return;
      case Wire.BYTE:
        this.byte();
        return;
      case Wire.I16:
      case Wire.I32:
      case Wire.I64:
        this.varint();
        return;
      case Wire.DOUBLE:
        this.advance(8n);
        return;
      case Wire.BINARY:
        this.advance(this.varint());
        return;
      case Wire.LIST:
      case Wire.SET: {
        const h = this.byte();
        const size = h >> 4 === 15 ? this.varint() : BigInt(h >> 4);
        // Every element takes at least one byte, so the chunk's bytes bound this loop.
        for (let i = 0n; i < size; i++) this.skip(this.elementType(h & 15), depth + 1, true);
        return;
      }
      case Wire.MAP: {
        const size = this.varint();
        if (size === 0n) return;
        const kv = this.byte();
        for (let i = 0n; i < size; i++) {
          this.skip(this.elementType(kv >> 4), depth + 1, true);
          this.skip(this.elementType(kv & 15), depth + 1, true);
        }
        return;
      }
      case Wire.STRUCT:
        this.struct(depth + 1, () => false);
        return;
      default:
        this.fail(`unknown Thrift type ${type} in a page header`);
    }
  }

  private elementType(t: number): number {
    if (t < Wire.TRUE || t > Wire.STRUCT) this.fail(`unknown Thrift type ${t} in a page header`);
    return t;
  }

  private advance(n: bigint): void {
    if (n > BigInt(this.bytes.length - this.pos)) this.fail("page header runs past the end of the chunk");
    this.pos += Number(n);
  }

  /** Walks one struct at nesting `depth` (1: the page header): `onField` reads a field and returns true, or false to skip it. */
  struct(depth: number, onField: (id: number, type: number) => boolean): void {
    if (depth > MAX_NESTING) this.fail(`page header nested deeper than ${MAX_NESTING}`);
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return;
      const delta = h >> 4;
      id = delta === 0 ? this.i32("Thrift field id") : id + delta;
      const type = h & 15;
      if (!onField(id, type)) this.skip(type, depth, false);
    }
  }
}

interface DataPageFacts {
  numValues: number;
  encoding: number;
  /** DataPageHeader's definition_level_encoding (field 3), null where absent (and in the other headers). */
  defLevelEncoding: number | null;
}

interface DataPageV2Facts extends DataPageFacts {
  numNulls: number;
  numRows: number;
  defLevelsBytes: number;
  repLevelsBytes: number;
  isCompressed: boolean;
}

/** The fields of a PageHeader the decoder uses. */
interface PageHeader {
  type: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Offset in the chunk of the page's body. */
  bodyStart: number;
  dataPage: DataPageFacts | null;
  dictionaryPage: DataPageFacts | null;
  dataPageV2: DataPageV2Facts | null;
}

function expectWire(fail: Fail, what: string, id: number, type: number, ...wanted: number[]): void {
  if (!wanted.includes(type)) fail(`${what} field ${id} has Thrift type ${type}`);
}

/** A non-negative i32 header value. */
function count(c: HeaderCursor, fail: Fail, what: string): number {
  const v = c.i32(what);
  if (v < 0) fail(`negative ${what} ${v}`);
  return v;
}

/** DataPageHeader (1 num_values, 2 encoding, 3 definition_level_encoding) or DictionaryPageHeader (1 num_values, 2 encoding). */
function readDataPageFacts(c: HeaderCursor, fail: Fail, what: string): DataPageFacts {
  let numValues: number | null = null;
  let encoding: number | null = null;
  let defLevelEncoding: number | null = null;
  const dataPage = what === "DataPageHeader";
  c.struct(2, (id, type) => {
    if (id !== 1 && id !== 2 && !(dataPage && id === 3)) return false;
    expectWire(fail, what, id, type, Wire.I32);
    if (id === 1) numValues = count(c, fail, "num_values");
    else if (id === 2) encoding = c.i32("encoding");
    else defLevelEncoding = c.i32("definition_level_encoding");
    return true;
  });
  if (numValues === null || encoding === null) fail(`${what} lacks num_values or encoding`);
  return { numValues: numValues!, encoding: encoding!, defLevelEncoding };
}

/** DataPageHeaderV2: 1 num_values, 2 num_nulls, 3 num_rows, 4 encoding, 5/6 level byte lengths, 7 is_compressed. */
function readDataPageV2Facts(c: HeaderCursor, fail: Fail): DataPageV2Facts {
  const ints: (number | null)[] = [null, null, null, null, null, null, null];
  let isCompressed = true;
  const names = [
    "",
    "num_values",
    "num_nulls",
    "num_rows",
    "encoding",
    "definition_levels_byte_length",
    "repetition_levels_byte_length",
  ];
  c.struct(2, (id, type) => {
    if (id >= 1 && id <= 6) {
      expectWire(fail, "DataPageHeaderV2", id, type, Wire.I32);
      ints[id] = id === 4 ? c.i32("encoding") : count(c, fail, names[id]);
      return true;
    }
    if (id === 7) {
      expectWire(fail, "DataPageHeaderV2", id, type, Wire.TRUE, Wire.FALSE);
      isCompressed = type === Wire.TRUE;
      return true;
    }
    return false;
  });
  for (let id = 1; id <= 6; id++) if (ints[id] === null) fail(`DataPageHeaderV2 lacks ${names[id]}`);
  return {
    numValues: ints[1]!,
    numNulls: ints[2]!,
    numRows: ints[3]!,
    encoding: ints[4]!,
    defLevelEncoding: null,
    defLevelsBytes: ints[5]!,
    repLevelsBytes: ints[6]!,
    isCompressed,
  };
}

/** The page header at `pos`: 1 type, 2 uncompressed_page_size, 3 compressed_page_size, 5/7/8 the type's header; others skipped. */
function readPageHeader(chunk: Uint8Array, pos: number, fail: Fail): PageHeader {
  const c = new HeaderCursor(chunk, pos, fail);
  const ints: (number | null)[] = [null, null, null, null];
  let dataPage: DataPageFacts | null = null;
  let dictionaryPage: DataPageFacts | null = null;
  let dataPageV2: DataPageV2Facts | null = null;
  c.struct(1, (id, type) => {
    if (id >= 1 && id <= 3) {
      expectWire(fail, "PageHeader", id, type, Wire.I32);
      ints[id] =
        id === 1 ? c.i32("page type") : count(c, fail, id === 2 ? "uncompressed_page_size" : "compressed_page_size");
      return true;
    }
    if (id === 5 || id === 7 || id === 8) {
      expectWire(fail, "PageHeader", id, type, Wire.STRUCT);
      if (id === 5) dataPage = readDataPageFacts(c, fail, "DataPageHeader");
      else if (id === 7) dictionaryPage = readDataPageFacts(c, fail, "DictionaryPageHeader");
      else dataPageV2 = readDataPageV2Facts(c, fail);
      return true;
    }
    return false;
  });
  if (ints[1] === null || ints[2] === null || ints[3] === null) fail("page header lacks its type or sizes");
  return {
    type: ints[1]!,
    uncompressedSize: ints[2]!,
    compressedSize: ints[3]!,
    bodyStart: c.pos,
    dataPage,
    dictionaryPage,
    dataPageV2,
  };
}

/** A zstd frame's content size from its header, or null when the frame does not say (RFC 8878 §3.1.1.1). */
function zstdContentSize(frame: Uint8Array): number | null {
  if (frame.length < 5 || frame[0] !== 0x28 || frame[1] !== 0xb5 || frame[2] !== 0x2f || frame[3] !== 0xfd) return null;
  const fhd = frame[4];
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return null;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3];
  if (at + fcsBytes > frame.length) return null;
  let size = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + frame[at + i];
  return fcsBytes === 2 ? size + 256 : size;
}

/** A page's (or v2 page's values') bytes as stored, made `size` bytes long by the codec. */
function decompress(stored: Uint8Array, size: number, codec: number, fail: Fail): Uint8Array {
  if (codec === Codec.UNCOMPRESSED) {
    if (stored.length !== size) fail(`page holds ${stored.length} bytes, its header says ${size} uncompressed`);
    return stored;
  }
  // Checked before decompressing: a garbled frame header must not make zstd allocate what it claims.
  const claimed = zstdContentSize(stored);
  if (claimed !== null && claimed !== size) fail(`zstd frame of ${claimed} bytes, the page header says ${size}`);
  let out: Uint8Array;
  try {
    out = Bun.zstdDecompressSync(stored);
  } catch (e) {
    return fail(`zstd: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (out.length !== size) fail(`zstd gave ${out.length} bytes, the page header says ${size}`);
  return out;
}

/** A little-endian unsigned integer of `width` bits (≤ 32) at bit `bit` of `bytes`, LSB first (bytes past the end read as 0: callers check bounds). */
function readBits(bytes: Uint8Array, bit: number, width: number): number {
  let v = 0;
  let got = 0;
  while (got < width) {
    const at = bit + got;
    const shift = at & 7;
    const take = Math.min(8 - shift, width - got);
    const part = (bytes[at >> 3] >> shift) & ((1 << take) - 1);
    v += part * 2 ** got;
    got += take;
  }
  return v;
}

/** As readBits, for widths up to 64. */
function readBits64(bytes: Uint8Array, bit: number, width: number): bigint {
  if (width <= 32) return BigInt(readBits(bytes, bit, width));
  return BigInt(readBits(bytes, bit, 32)) | (BigInt(readBits(bytes, bit + 32, width - 32)) << 32n);
}

/** An unsigned LEB128 varint in page data: 10 bytes and 64 bits at most. */
function dataVarint(bytes: Uint8Array, at: { pos: number }, fail: Fail, what: string): bigint {
  let v = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (at.pos >= bytes.length) fail(`${what} runs past the end of its page`);
    const b = bytes[at.pos++];
    if (i === MAX_VARINT_BYTES - 1 && (b & 0x7e) !== 0) fail(`varint past 64 bits in ${what}`);
    v |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return v;
  }
  return fail(`varint longer than 10 bytes in ${what}`);
}

/** Values of a page, read in order: raw values (see RawValue) or, for BYTE_ARRAY, codes into the chunk's strings. */
interface ValueSource {
  next(): RawValue;
  skip(n: number): void;
}

/**
 * One value as the decoder carries it: BOOLEAN 0/1, INT32 a number, INT64 a signed bigint, FLOAT its
 * bits as an unsigned number, DOUBLE its bits as an unsigned bigint, BYTE_ARRAY a code into the strings.
 */
type RawValue = number | bigint;

/**
 * The RLE / bit-packed hybrid (definition levels, dictionary indices) holding `total` values: a run
 * past those values or past the bytes is an error. Bit-packed runs are skipped by arithmetic.
 */
class RleHybrid {
  private readonly at = { pos: 0 };
  private notStarted: number;
  private runLeft = 0;
  private rle = false;
  private rleValue = 0;
  private bit = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly width: number,
    total: number,
    /** A value ≥ this is an error (a definition level above 1, a dictionary index past the dictionary). */
    private readonly limit: number,
    private readonly what: string,
    private readonly fail: Fail,
  ) {
    this.notStarted = total;
  }

  private nextRun(): void {
    const header = dataVarint(this.bytes, this.at, this.fail, this.what);
    const n = header >> 1n;
    if ((header & 1n) === 1n) {
      // Bit-packed groups of 8: the last may be padding past the page's values, never a whole group.
      if (n * 8n > BigInt(this.notStarted) + 7n)
        this.fail(`${this.what}: bit-packed run of ${n * 8n} values, only ${this.notStarted} left in the page`);
      const bytes = Number(n) * this.width;
      if (bytes > this.bytes.length - this.at.pos) this.fail(`${this.what}: bit-packed run runs past its bytes`);
      this.rle = false;
      this.bit = this.at.pos * 8;
      this.at.pos += bytes;
      this.runLeft = Math.min(Number(n) * 8, this.notStarted);
    } else {
      if (n > BigInt(this.notStarted))
        this.fail(`${this.what}: RLE run of ${n} values, only ${this.notStarted} left in the page`);
      const valueBytes = (this.width + 7) >> 3;
      if (valueBytes > this.bytes.length - this.at.pos) this.fail(`${this.what}: RLE run runs past its bytes`);
      let v = 0;
      for (let i = valueBytes - 1; i >= 0; i--) v = v * 256 + this.bytes[this.at.pos + i];
      this.at.pos += valueBytes;
      this.rle = true;
      this.rleValue = v;
      this.runLeft = Number(n);
    }
    this.notStarted -= this.runLeft;
  }

  next(): number {
    while (this.runLeft === 0) this.nextRun();
    this.runLeft--;
    let v: number;
    if (this.rle) v = this.rleValue;
    else {
      v = readBits(this.bytes, this.bit, this.width);
      this.bit += this.width;
    }
    if (v >= this.limit) this.fail(`${this.what}: value ${v} out of range (< ${this.limit})`);
    return v;
  }

  skip(n: number): void {
    while (n > 0) {
      while (this.runLeft === 0) this.nextRun();
      const k = Math.min(n, this.runLeft);
      if (!this.rle) this.bit += k * this.width;
      this.runLeft -= k;
      n -= k;
    }
  }
}

/** PLAIN values of one physical type; BYTE_ARRAY strings are appended to `strings` and returned as their codes. */
class PlainValues implements ValueSource {
  private pos = 0;
  private bit = 0;
  private readonly view: DataView;

  /** `values`: how many the page says it holds (a fixed-width page must hold them all; strings are checked as read). */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly type: number,
    values: number,
    private readonly strings: string[],
    private readonly fail: Fail,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const width = type === PhysicalType.INT64 || type === PhysicalType.DOUBLE ? 8 : 4;
    if (type === PhysicalType.BOOLEAN && Math.ceil(values / 8) > bytes.length)
      fail(`PLAIN: ${values} booleans in ${bytes.length} bytes`);
    if (type !== PhysicalType.BOOLEAN && type !== PhysicalType.BYTE_ARRAY && values * width > bytes.length)
      fail(`PLAIN: ${values} values in ${bytes.length} bytes`);
  }

  private take(n: number): number {
    if (n > this.bytes.length - this.pos) this.fail("PLAIN values run past the end of their page");
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** A BYTE_ARRAY value's bytes (4-byte little-endian length, then the bytes). */
  private byteArray(): Uint8Array {
    const n = this.view.getUint32(this.take(4), true);
    if (n > this.bytes.length - this.pos) this.fail(`PLAIN BYTE_ARRAY of ${n} bytes runs past the end of its page`);
    return this.bytes.subarray(this.take(n), this.pos);
  }

  next(): RawValue {
    switch (this.type) {
      case PhysicalType.BOOLEAN: {
        if (this.bit >> 3 >= this.bytes.length) this.fail("PLAIN BOOLEAN values run past the end of their page");
        const v = (this.bytes[this.bit >> 3] >> (this.bit & 7)) & 1;
        this.bit++;
        return v;
      }
      case PhysicalType.INT32:
        return this.view.getInt32(this.take(4), true);
      case PhysicalType.FLOAT:
        return this.view.getUint32(this.take(4), true);
      case PhysicalType.INT64:
        return this.view.getBigInt64(this.take(8), true);
      case PhysicalType.DOUBLE:
        return this.view.getBigUint64(this.take(8), true);
      default:
        this.strings.push(utf8.decode(this.byteArray()));
        return this.strings.length - 1;
    }
  }

  skip(n: number): void {
    switch (this.type) {
      case PhysicalType.BOOLEAN:
        if ((this.bit + n + 7) >> 3 > this.bytes.length)
          this.fail("PLAIN BOOLEAN values run past the end of their page");
        this.bit += n;
        return;
      case PhysicalType.INT32:
      case PhysicalType.FLOAT:
        this.take(4 * n);
        return;
      case PhysicalType.INT64:
      case PhysicalType.DOUBLE:
        this.take(8 * n);
        return;
      default:
        for (let i = 0; i < n; i++) this.byteArray();
    }
  }
}

const utf8 = new TextDecoder();

/** A dictionary page's values, in order (BYTE_ARRAY: codes 0…n-1 into the chunk's strings). */
interface Dictionary {
  values: RawValue[];
}

/** Dictionary indices (1 byte bit width ≤ 32, then the RLE hybrid) mapped through the dictionary. */
class DictionaryValues implements ValueSource {
  private readonly indices: RleHybrid;

  constructor(
    bytes: Uint8Array,
    total: number,
    private readonly dictionary: Dictionary,
    fail: Fail,
  ) {
    if (bytes.length < 1) fail("dictionary-encoded page without its bit width");
    const width = bytes[0];
    if (width > 32) fail(`dictionary index bit width ${width} > 32`);
    this.indices = new RleHybrid(bytes.subarray(1), width, total, dictionary.values.length, "dictionary indices", fail);
  }

  next(): RawValue {
    return this.dictionary.values[this.indices.next()];
  }

  skip(n: number): void {
    this.indices.skip(n);
  }
}

/**
 * DELTA_BINARY_PACKED INT32 / INT64 values: a header (block size, a multiple of 128; miniblocks per
 * block, each a multiple of 32 values; total count; first value), then blocks of a min delta, the
 * miniblocks' bit widths and their bit-packed deltas. Sums wrap in the type's width.
 */
class DeltaValues implements ValueSource {
  private readonly at = { pos: 0 };
  private readonly bits: bigint;
  private readonly maxWidth: number;
  private readonly perMiniblock: number;
  private readonly miniblocks: number;
  /** Values the caller reads (those before and in the window): the last miniblock read may stop short. */
  private readonly toRead: number;
  private returned = 0;
  private current: bigint;
  private minDelta = 0n;
  private widths: number[] = [];
  /** Miniblock being read (index into widths; = miniblocks when a new block is due), its bit offset and values left. */
  private miniblock = 0;
  private bit = 0;
  private leftInMiniblock = 0;

  /** `values`: how many the page holds (its header must say as much); `needed`: how many will be read. */
  constructor(
    private readonly bytes: Uint8Array,
    type: number,
    values: number,
    needed: number,
    private readonly fail: Fail,
  ) {
    this.bits = type === PhysicalType.INT32 ? 32n : 64n;
    this.maxWidth = Number(this.bits);
    const blockSize = dataVarint(bytes, this.at, fail, "DELTA_BINARY_PACKED header");
    const miniblocks = dataVarint(bytes, this.at, fail, "DELTA_BINARY_PACKED header");
    const total = dataVarint(bytes, this.at, fail, "DELTA_BINARY_PACKED header");
    const first = dataVarint(bytes, this.at, fail, "DELTA_BINARY_PACKED header");
    if (blockSize === 0n || blockSize % 128n !== 0n || blockSize > 1n << 24n)
      fail(`DELTA_BINARY_PACKED block size ${blockSize} out of range (a multiple of 128, at most 2^24)`);
    if (miniblocks === 0n || blockSize % miniblocks !== 0n || (blockSize / miniblocks) % 32n !== 0n)
      fail(`DELTA_BINARY_PACKED: ${miniblocks} miniblocks do not divide a block of ${blockSize} into multiples of 32`);
    if (total !== BigInt(values)) fail(`DELTA_BINARY_PACKED page holds ${total} values, its levels say ${values}`);
    this.perMiniblock = Number(blockSize / miniblocks);
    this.miniblocks = Number(miniblocks);
    this.miniblock = this.miniblocks;
    this.toRead = needed;
    this.current = this.wrap((first >> 1n) ^ -(first & 1n));
  }

  private wrap(v: bigint): bigint {
    return BigInt.asIntN(this.maxWidth, v);
  }

  private nextMiniblock(): void {
    if (this.miniblock + 1 >= this.miniblocks) {
      const z = dataVarint(this.bytes, this.at, this.fail, "DELTA_BINARY_PACKED block");
      this.minDelta = (z >> 1n) ^ -(z & 1n);
      if (this.miniblocks > this.bytes.length - this.at.pos)
        this.fail("DELTA_BINARY_PACKED bit widths run past the end of their page");
      this.widths = Array.from(this.bytes.subarray(this.at.pos, this.at.pos + this.miniblocks));
      this.at.pos += this.miniblocks;
      this.miniblock = 0;
    } else this.miniblock++;
    const width = this.widths[this.miniblock];
    if (width > this.maxWidth) this.fail(`DELTA_BINARY_PACKED bit width ${width} > ${this.maxWidth}`);
    // A miniblock is padded to its full size, but the page's last one may stop at the byte of the last value read from it.
    const full = (this.perMiniblock * width) / 8;
    const read = Math.min(this.perMiniblock, this.toRead - this.returned + 1);
    const left = this.bytes.length - this.at.pos;
    if (Math.ceil((read * width) / 8) > left) this.fail("DELTA_BINARY_PACKED miniblock runs past the end of its page");
    this.bit = this.at.pos * 8;
    this.at.pos += Math.min(full, left);
    this.leftInMiniblock = this.perMiniblock;
  }

  next(): RawValue {
    if (this.returned >= this.toRead) throw new Error("DeltaValues read past the values it was asked for");
    if (this.returned++ > 0) {
      if (this.leftInMiniblock === 0) this.nextMiniblock();
      const width = this.widths[this.miniblock];
      const packed = readBits64(this.bytes, this.bit, width);
      this.bit += width;
      this.leftInMiniblock--;
      this.current = this.wrap(this.current + this.minDelta + packed);
    }
    return this.bits === 32n ? Number(this.current) : this.current;
  }

  skip(n: number): void {
    for (let i = 0; i < n; i++) this.next();
  }
}

/** The decoded window being filled: values (float bits written through an unsigned view), validity, null count. */
class Output {
  readonly values: DecodedChunk["values"];
  private readonly slots: Uint8Array | Int32Array | BigInt64Array | Uint32Array | BigUint64Array;
  readonly validity: Uint8Array;
  nullCount = 0;

  constructor(
    type: number,
    readonly length: number,
  ) {
    switch (type) {
      case PhysicalType.BOOLEAN:
        this.slots = this.values = new Uint8Array(length);
        break;
      case PhysicalType.INT32:
      case PhysicalType.BYTE_ARRAY:
        this.slots = this.values = new Int32Array(length);
        break;
      case PhysicalType.INT64:
        this.slots = this.values = new BigInt64Array(length);
        break;
      case PhysicalType.FLOAT:
        this.values = new Float32Array(length);
        this.slots = new Uint32Array(this.values.buffer);
        break;
      default:
        this.values = new Float64Array(length);
        this.slots = new BigUint64Array(this.values.buffer);
    }
    this.validity = new Uint8Array((length + 7) >> 3);
    for (let i = 0; i < length; i++) this.validity[i >> 3] |= 1 << (i & 7);
  }

  set(i: number, v: RawValue): void {
    (this.slots as { [k: number]: RawValue })[i] = v;
  }

  setNull(i: number): void {
    this.validity[i >> 3] &= ~(1 << (i & 7));
    this.nullCount++;
  }
}

/** What a page needs of the chunk being decoded. */
interface ChunkState {
  desc: ChunkDesc;
  fail: Fail;
  dictionary: Dictionary | null;
  strings: string[];
  out: Output;
}

function decodeDictionaryPage(s: ChunkState, h: PageHeader, body: Uint8Array): Dictionary {
  const facts = h.dictionaryPage ?? s.fail("dictionary page without a DictionaryPageHeader");
  if (facts.encoding !== Encoding.PLAIN && facts.encoding !== Encoding.PLAIN_DICTIONARY)
    s.fail(`unsupported dictionary page encoding ${nameOf(ENCODING_NAMES, facts.encoding)}`);
  const bytes = decompress(body, h.uncompressedSize, s.desc.codec, s.fail);
  const plain = new PlainValues(bytes, s.desc.physicalType, facts.numValues, s.strings, s.fail);
  const values: RawValue[] = [];
  for (let i = 0; i < facts.numValues; i++) values.push(plain.next());
  return { values };
}

/** Whether a data page's value encoding is decodable for the chunk's type (an error naming it if not). */
function checkEncoding(s: ChunkState, encoding: number): void {
  const t = s.desc.physicalType;
  const ok =
    encoding === Encoding.PLAIN ||
    encoding === Encoding.PLAIN_DICTIONARY ||
    encoding === Encoding.RLE_DICTIONARY ||
    (encoding === Encoding.DELTA_BINARY_PACKED && (t === PhysicalType.INT32 || t === PhysicalType.INT64));
  if (!ok) s.fail(`unsupported encoding ${nameOf(ENCODING_NAMES, encoding)} for ${nameOf(TYPE_NAMES, t)}`);
  if ((encoding === Encoding.PLAIN_DICTIONARY || encoding === Encoding.RLE_DICTIONARY) && s.dictionary === null)
    s.fail("dictionary-encoded data page without a dictionary page before it");
}

/** A data page's definition levels (one per row, 0 null / 1 valid) and its values' bytes, decompressed. */
function levelsAndValues(
  s: ChunkState,
  h: PageHeader,
  body: Uint8Array,
  rows: number,
): { levels: Uint8Array | null; values: Uint8Array } {
  const { maxDef, codec } = s.desc;
  const levelsOf = (bytes: Uint8Array) => {
    const rle = new RleHybrid(bytes, 1, rows, 2, "definition levels", s.fail);
    const levels = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) levels[i] = rle.next();
    return levels;
  };
  if (h.dataPage) {
    const page = decompress(body, h.uncompressedSize, codec, s.fail);
    if (maxDef === 0) return { levels: null, values: page };
    if (h.dataPage.defLevelEncoding !== RLE)
      s.fail(`unsupported definition level encoding ${nameOf(ENCODING_NAMES, h.dataPage.defLevelEncoding ?? -1)}`);
    if (page.length < 4) s.fail("data page too short for its definition levels' length");
    const n = new DataView(page.buffer, page.byteOffset, 4).getUint32(0, true);
    if (n > page.length - 4) s.fail(`definition levels of ${n} bytes run past the end of their page`);
    return { levels: levelsOf(page.subarray(4, 4 + n)), values: page.subarray(4 + n) };
  }
  const v2 = h.dataPageV2!;
  if (v2.repLevelsBytes !== 0) s.fail("repetition levels in a data page (only flat columns are supported)");
  if (maxDef === 0 && v2.defLevelsBytes !== 0) s.fail("definition levels in a data page of a REQUIRED column");
  if (v2.defLevelsBytes > body.length)
    s.fail(`definition levels of ${v2.defLevelsBytes} bytes run past the end of their page`);
  const levels = maxDef === 1 ? levelsOf(body.subarray(0, v2.defLevelsBytes)) : null;
  const size = h.uncompressedSize - v2.defLevelsBytes;
  if (size < 0) s.fail(`uncompressed_page_size ${h.uncompressedSize} smaller than the page's levels`);
  const stored = body.subarray(v2.defLevelsBytes);
  const values = v2.isCompressed
    ? decompress(stored, size, codec, s.fail)
    : decompress(stored, size, Codec.UNCOMPRESSED, s.fail);
  let nulls = 0;
  if (levels) for (const l of levels) nulls += 1 - l;
  if (nulls !== v2.numNulls) s.fail(`DataPageHeaderV2 says ${v2.numNulls} nulls, its levels ${nulls}`);
  return { levels, values };
}

/** Decodes rows [from, to) of a data page of `rows` rows into the output from row `outAt`. */
function decodeDataPage(
  s: ChunkState,
  h: PageHeader,
  body: Uint8Array,
  rows: number,
  from: number,
  to: number,
  outAt: number,
): void {
  const { levels, values } = levelsAndValues(s, h, body, rows);
  const valid = (r: number) => levels === null || levels[r] === 1;
  // Values of the rows before the window, in it, and of the whole page (the page-level checks use it).
  let before = 0;
  let inWindow = 0;
  let all = 0;
  for (let r = 0; r < rows; r++) {
    if (!valid(r)) continue;
    all++;
    if (r < from) before++;
    else if (r < to) inWindow++;
  }
  const encoding = (h.dataPage ?? h.dataPageV2)!.encoding;
  const type = s.desc.physicalType;
  const source: ValueSource =
    encoding === Encoding.PLAIN
      ? new PlainValues(values, type, all, s.strings, s.fail)
      : encoding === Encoding.DELTA_BINARY_PACKED
        ? new DeltaValues(values, type, all, before + inWindow, s.fail)
        : new DictionaryValues(values, all, s.dictionary!, s.fail);
  source.skip(before);
  for (let r = from; r < to; r++) {
    if (valid(r)) s.out.set(outAt + r - from, source.next());
    else s.out.setNull(outAt + r - from);
  }
}

function checkDesc(desc: ChunkDesc, window: RowWindow, fail: Fail): void {
  const t = desc.physicalType;
  if (![0, 1, 2, 4, 5, 6].includes(t)) fail(`unsupported physical type ${nameOf(TYPE_NAMES, t)}`);
  if (desc.maxDef !== 0 && desc.maxDef !== 1) fail(`unsupported definition level ${desc.maxDef}`);
  if (desc.codec !== Codec.UNCOMPRESSED && desc.codec !== Codec.ZSTD)
    fail(`unsupported codec ${nameOf(CODEC_NAMES, desc.codec)}`);
  if (!Number.isSafeInteger(desc.numValues) || desc.numValues < 0) fail(`bad num_values ${desc.numValues}`);
  const outside = windowProblem(desc, window);
  if (outside) fail(outside);
}

/**
 * Rows [window.start, window.start + window.count) of the column chunk `chunk` (its bytes from the
 * first page to the end of the last). Pages wholly outside the window are not decompressed; every
 * page header is read, and the pages' rows must add up to desc.numValues. With `asCodes`, a
 * fixed-width column's rows come as codes into a dictionary of the window's values (row i's code is
 * i, a null row's 0): what the codes contract promises, without a coder of its own.
 */
export function decodeChunk(chunk: Uint8Array, desc: ChunkDesc, window: RowWindow, asCodes = false): DecodedChunk {
  const fail: Fail = (reason) => {
    throw new ChunkDecodeError(`${desc.file}: column ${desc.column}: ${reason}`);
  };
  checkDesc(desc, window, fail);
  const s: ChunkState = { desc, fail, dictionary: null, strings: [], out: new Output(desc.physicalType, window.count) };
  const end = window.start + window.count;
  let rows = 0;
  let sawDataPage = false;
  let pos = 0;
  while (pos < chunk.length) {
    const h = readPageHeader(chunk, pos, fail);
    if (h.compressedSize > chunk.length - h.bodyStart)
      fail(`page of ${h.compressedSize} bytes runs past the end of the chunk`);
    const body = chunk.subarray(h.bodyStart, h.bodyStart + h.compressedSize);
    pos = h.bodyStart + h.compressedSize;
    if (h.type === PageType.INDEX_PAGE) continue;
    if (h.type === PageType.DICTIONARY_PAGE) {
      if (s.dictionary) fail("a second dictionary page");
      if (sawDataPage) fail("a dictionary page after data pages");
      s.dictionary = decodeDictionaryPage(s, h, body);
      continue;
    }
    if (h.type !== PageType.DATA_PAGE && h.type !== PageType.DATA_PAGE_V2) fail(`unsupported page type ${h.type}`);
    const facts = h.type === PageType.DATA_PAGE ? h.dataPage : h.dataPageV2;
    if (!facts) fail(`data page of type ${h.type} without its header`);
    if (h.type === PageType.DATA_PAGE) h.dataPageV2 = null;
    else h.dataPage = null;
    sawDataPage = true;
    // Every data page's sizes, in the window or not: one stored as is holds the bytes it says (a
    // header garbled to fit a truncated chunk otherwise passes when its rows are skipped).
    const storedAsIs = desc.codec === Codec.UNCOMPRESSED || (h.dataPageV2 !== null && !h.dataPageV2.isCompressed);
    if (storedAsIs && h.compressedSize !== h.uncompressedSize)
      fail(`page holds ${h.compressedSize} bytes, its header says ${h.uncompressedSize} uncompressed`);
    const pageRows = h.dataPageV2 ? h.dataPageV2.numRows : facts!.numValues;
    if (pageRows > desc.numValues - rows) fail(`pages hold more rows than the chunk's ${desc.numValues}`);
    checkEncoding(s, facts!.encoding);
    const first = rows;
    rows += pageRows;
    const from = Math.max(first, window.start);
    const to = Math.min(rows, end);
    if (from < to) decodeDataPage(s, h, body, pageRows, from - first, to - first, from - window.start);
  }
  if (rows !== desc.numValues) fail(`pages hold ${rows} rows, the chunk ${desc.numValues}`);
  const { out } = s;
  const codes = asCodes && desc.physicalType !== PhysicalType.BOOLEAN && desc.physicalType !== PhysicalType.BYTE_ARRAY;
  return {
    length: window.count,
    values: codes
      ? Int32Array.from({ length: window.count }, (_, i) => ((out.validity[i >> 3] >> (i & 7)) & 1 ? i : 0))
      : out.values,
    dictionaryValues: codes ? (out.values as Int32Array | BigInt64Array | Float32Array | Float64Array) : null,
    validity: out.nullCount > 0 ? out.validity : null,
    nullCount: out.nullCount,
    dictionary: desc.physicalType === PhysicalType.BYTE_ARRAY ? s.strings : null,
  };
}
