/**
 * Thrift compact protocol, read and written losslessly: every value keeps its wire type, so a
 * Parquet footer (or page index) can be read, have a few fields changed (offsets moved), and be
 * written back byte-compatible for every field this code never looks at.
 */

/** Compact-protocol type ids (1/2 are the two booleans; in lists a bool is type 1 with a byte value). */
export const T = {
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
} as const;

/** A list or set: its element type and items. */
export interface TList {
  elem: number;
  items: TValue[];
}

/** A map: key and value types and its entries. */
export interface TMap {
  key: number;
  val: number;
  entries: [TValue, TValue][];
}

/** A struct: field id → its wire type and value, in the order read. */
export type TStruct = Map<number, TField>;

/** One struct field. */
export interface TField {
  type: number;
  value: TValue;
}

/** A decoded value: booleans, numbers (byte/i16/i32/double), bigint (i64), bytes, lists, maps, structs. */
export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;

/** Reads compact-protocol values from a buffer. */
export class CompactDecoder {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error("Thrift data ends early");
    return this.buf[this.pos++];
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  private zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  /** One value of wire type `type` (a bool inside a list or map is one byte). */
  value(type: number, inContainer = false): TValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return inContainer ? this.byte() === 1 : type === T.TRUE;
      case T.BYTE:
        return (this.byte() << 24) >> 24;
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const n = Number(this.varint());
        if (this.pos + n > this.buf.length) throw new Error("Thrift data ends early");
        const out = this.buf.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case T.LIST:
      case T.SET: {
        const h = this.byte();
        const size = h >> 4 === 15 ? Number(this.varint()) : h >> 4;
        const elem = h & 15;
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elem, true));
        return { elem, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return { key: 0, val: 0, entries: [] };
        const kv = this.byte();
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(kv >> 4, true), this.value(kv & 15, true)]);
        return { key: kv >> 4, val: kv & 15, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new Error(`unknown Thrift type ${type}`);
    }
  }

  /** One struct (up to and including its stop byte). */
  struct(): TStruct {
    const out: TStruct = new Map();
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const delta = h >> 4;
      id = delta === 0 ? Number(this.zigzag()) : id + delta;
      const type = h & 15;
      out.set(id, { type, value: this.value(type) });
    }
  }
}

/**
 * Reads compact-protocol values in place without building them: for a few fields out of a large
 * struct (a footer's statistics among 64 columns × N row groups), ~10× faster than CompactDecoder.
 * Integers come back as numbers (exact to 2^53: row counts, offsets, ids).
 */
export class CompactCursor {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error("Thrift data ends early");
    return this.buf[this.pos++];
  }

  private varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
  }

  /** An i8 value (one byte, two's complement). */
  byteValue(): number {
    return (this.byte() << 24) >> 24;
  }

  /** An i16, i32 or i64 value as a number. */
  int(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  /** A binary or string value, as a view on the buffer (no copy). */
  binary(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new Error("Thrift data ends early");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A list or set header: its element type and size (the elements follow). */
  list(): { elem: number; size: number } {
    const h = this.byte();
    return { elem: h & 15, size: h >> 4 === 15 ? this.varint() : h >> 4 };
  }

  /** Skips one value of wire type `type`. */
  skip(type: number, inContainer = false): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        if (inContainer) this.byte();
        return;
      case T.BYTE:
        this.byte();
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.varint();
        return;
      case T.DOUBLE:
        this.pos += 8;
        return;
      case T.BINARY: {
        const n = this.varint(); // read before `pos +=` takes pos: the length's own bytes move it
        this.pos += n;
        return;
      }
      case T.LIST:
      case T.SET: {
        const { elem, size } = this.list();
        for (let i = 0; i < size; i++) this.skip(elem, true);
        return;
      }
      case T.MAP: {
        const size = this.varint();
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kv >> 4, true);
          this.skip(kv & 15, true);
        }
        return;
      }
      case T.STRUCT:
        this.struct(() => false);
        return;
      default:
        throw new Error(`unknown Thrift type ${type}`);
    }
  }

  /**
   * Walks one struct (through its stop byte): `onField(id, type)` reads the field's value and returns
   * true, or returns false to have it skipped.
   */
  struct(onField: (id: number, type: number) => boolean): void {
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return;
      const delta = h >> 4;
      id = delta === 0 ? this.int() : id + delta;
      const type = h & 15;
      if (!onField(id, type)) this.skip(type);
    }
  }
}

/** Writes compact-protocol values into a growing buffer. */
export class CompactEncoder {
  private buf = new Uint8Array(1024);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
  }

  private varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    for (;;) {
      if (x < 0x80n) {
        this.byte(Number(x));
        return;
      }
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
  }

  private zigzag(v: bigint, bits: 32 | 64): void {
    this.varint(bits === 64 ? BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)) : BigInt.asUintN(32, (v << 1n) ^ (v >> 31n)));
  }

  /** One value of wire type `type`. */
  value(type: number, v: TValue, inContainer = false): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        if (inContainer) this.byte(v ? 1 : 0);
        return; // a struct field's bool lives in its header
      case T.BYTE:
        this.byte(v as number);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(v as number), 32);
        return;
      case T.I64:
        this.zigzag(typeof v === "bigint" ? v : BigInt(v as number), 64);
        return;
      case T.DOUBLE: {
        this.ensure(8);
        new DataView(this.buf.buffer, this.len, 8).setFloat64(0, v as number, true);
        this.len += 8;
        return;
      }
      case T.BINARY: {
        const b = v as Uint8Array;
        this.varint(BigInt(b.length));
        this.ensure(b.length);
        this.buf.set(b, this.len);
        this.len += b.length;
        return;
      }
      case T.LIST:
      case T.SET: {
        const l = v as TList;
        if (l.items.length < 15) this.byte((l.items.length << 4) | l.elem);
        else {
          this.byte(0xf0 | l.elem);
          this.varint(BigInt(l.items.length));
        }
        for (const item of l.items) this.value(l.elem, item, true);
        return;
      }
      case T.MAP: {
        const m = v as TMap;
        this.varint(BigInt(m.entries.length));
        if (m.entries.length === 0) return;
        this.byte((m.key << 4) | m.val);
        for (const [k, x] of m.entries) {
          this.value(m.key, k, true);
          this.value(m.val, x, true);
        }
        return;
      }
      case T.STRUCT:
        this.struct(v as TStruct);
        return;
      default:
        throw new Error(`unknown Thrift type ${type}`);
    }
  }

  /** One struct, fields in ascending id order (as the spec's writers emit them), then the stop byte. */
  struct(s: TStruct): void {
    let last = 0;
    for (const id of [...s.keys()].sort((a, b) => a - b)) {
      const f = s.get(id)!;
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag(BigInt(id), 32);
      }
      this.value(type, f.value);
      last = id;
    }
    this.byte(0);
  }

  /** The bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A struct's field value (undefined when absent). */
export function field<V extends TValue>(s: TStruct, id: number): V | undefined {
  return s.get(id)?.value as V | undefined;
}

/** Sets an i64 field. */
export function setI64(s: TStruct, id: number, v: bigint): void {
  s.set(id, { type: T.I64, value: v });
}

/** Sets an i32 field. */
export function setI32(s: TStruct, id: number, v: number): void {
  s.set(id, { type: T.I32, value: v });
}

/** Decodes one struct from the start of `bytes`. */
export function decodeStruct(bytes: Uint8Array): TStruct {
  return new CompactDecoder(bytes).struct();
}

/** Encodes one struct. */
export function encodeStruct(s: TStruct): Uint8Array {
  const e = new CompactEncoder();
  e.struct(s);
  return e.bytes();
}
