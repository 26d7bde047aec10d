/** Conversion between apache-arrow Data chunks and tickpack Columns, with the type coercions of SPEC §2–3. */
import * as arrow from "apache-arrow";
import { allocValues, type Column, type ColumnKind } from "./column-batch.ts";
import { IST_OFFSET_NS } from "../ist-time.ts";

/** A column's Arrow type cannot be read as the kind tickpack needs. */
export class ColumnTypeError extends Error {}

const NS_PER_UNIT = [1_000_000_000n, 1_000_000n, 1_000n, 1n]; // arrow TimeUnit SECOND..NANOSECOND

/**
 * dst[i] = src[i] × mul − shift (int64), for mul ≤ 1e6 (ms, µs), reading and writing the int64s as
 * int32 word pairs with exact double arithmetic: three BigInt operations per value would dominate
 * reading raw files. Values beyond ±2^53 (never real timestamps) take the BigInt path.
 */
export function scaleInt64(src: BigInt64Array, dst: BigInt64Array, at: number, n: number, mul: number, shift: number): void {
  const sw = new Int32Array(src.buffer, src.byteOffset, n * 2);
  const dw = new Int32Array(dst.buffer, dst.byteOffset + at * 8, n * 2);
  const TWO24 = 16777216;
  const TWO32 = 4294967296;
  for (let i = 0; i < n; i++) {
    const hi = sw[2 * i + 1];
    if (hi >= 2097152 || hi < -2097152) {
      dst[at + i] = BigInt.asIntN(64, src[i] * BigInt(mul) - BigInt(shift));
      continue;
    }
    const v = hi * TWO32 + (sw[2 * i] >>> 0); // exact: |v| < 2^53
    const vHi = Math.floor(v / TWO24);
    const a = vHi * mul; // < 2^49
    const aHi = Math.floor(a / 256);
    const c = (a - aHi * 256) * TWO24 + (v - vHi * TWO24) * mul - shift; // |c| < 2^47
    const carry = Math.floor(c / TWO32);
    dw[2 * i] = (c - carry * TWO32) | 0;
    dw[2 * i + 1] = (aHi + carry) | 0;
  }
}

/** Validity bytes of a chunk, or null when it has no nulls. */
function validityOf(data: arrow.Data): Uint8Array | null {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return null;
  const bits = data.nullBitmap;
  const out = new Uint8Array(data.length);
  const off = data.offset;
  for (let i = 0; i < data.length; i++) {
    const b = off + i;
    out[i] = (bits[b >> 3] >> (b & 7)) & 1;
  }
  return out;
}

/** Strings of a Utf8 chunk as dictionary codes; consecutive equal strings are decoded once. */
function utf8ToCodes(data: arrow.Data, codes: Int32Array, at: number, dictionary: string[], codeOf: Map<string, number>): void {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const bytes = data.values as Uint8Array;
  const decoder = new TextDecoder();
  let prevStart = -1;
  let prevEnd = -1;
  let prevCode = 0;
  for (let i = 0; i < data.length; i++) {
    const s = Number(offsets[data.offset + i]);
    const e = Number(offsets[data.offset + i + 1]);
    if (prevStart >= 0 && e - s === prevEnd - prevStart) {
      let same = true;
      for (let k = 0; k < e - s; k++) if (bytes[s + k] !== bytes[prevStart + k]) { same = false; break; }
      if (same) { codes[at + i] = prevCode; prevStart = s; prevEnd = e; continue; }
    }
    const str = decoder.decode(bytes.subarray(s, e));
    let code = codeOf.get(str);
    if (code === undefined) {
      code = dictionary.length;
      dictionary.push(str);
      codeOf.set(str, code);
    }
    codes[at + i] = prevCode = code;
    prevStart = s;
    prevEnd = e;
  }
}

/** Copies one chunk into `out` at row `at`, coerced to `kind`; throws ColumnTypeError when it cannot. */
function copyChunk(name: string, data: arrow.Data, kind: ColumnKind, out: Column, at: number, codeOf: Map<string, number>): void {
  const t = data.type;
  const n = data.length;
  const dst = out.values;
  if (kind === "dict") {
    const codes = dst as Int32Array;
    if (arrow.DataType.isDictionary(t)) {
      const dict = (data.dictionary!.toArray() as (string | null)[]).map((s) => s ?? "");
      const remap = dict.map((s) => {
        let code = codeOf.get(s);
        if (code === undefined) {
          code = out.dictionary!.length;
          out.dictionary!.push(s);
          codeOf.set(s, code);
        }
        return code;
      });
      const src = data.values as unknown as ArrayLike<number>;
      for (let i = 0; i < n; i++) codes[at + i] = remap[src[i]] ?? 0;
      return;
    }
    if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) return utf8ToCodes(data, codes, at, out.dictionary!, codeOf);
    throw new ColumnTypeError(`column ${name}: expected strings, found ${t}`);
  }
  if (kind === "ts_ns") {
    const d = dst as BigInt64Array;
    if (arrow.DataType.isTimestamp(t)) {
      const src = (data.values as unknown as BigInt64Array).subarray(0, n);
      const mul = NS_PER_UNIT[t.unit];
      // A naive timestamp is IST wall-clock time; an adjusted one is UTC.
      const shift = t.timezone ? 0n : IST_OFFSET_NS;
      if (mul === 1n && shift === 0n) d.set(src, at);
      else if (mul <= 1_000_000n) scaleInt64(src, d, at, n, Number(mul), Number(shift));
      else for (let i = 0; i < n; i++) d[at + i] = BigInt.asIntN(64, src[i] * mul - shift);
      return;
    }
    if (arrow.DataType.isInt(t) && t.bitWidth === 64) {
      d.set(data.values as BigInt64Array, at);
      return;
    }
    throw new ColumnTypeError(`column ${name}: expected a timestamp or INT64 epoch ns, found ${t}`);
  }
  if (kind === "bool") {
    if (!arrow.DataType.isBool(t)) throw new ColumnTypeError(`column ${name}: expected booleans, found ${t}`);
    const bits = data.values as Uint8Array;
    const d = dst as Uint8Array;
    for (let i = 0; i < n; i++) {
      const b = data.offset + i;
      d[at + i] = (bits[b >> 3] >> (b & 7)) & 1;
    }
    return;
  }
  if (kind === "date32") {
    if (arrow.DataType.isDate(t) && t.unit === arrow.DateUnit.DAY) {
      (dst as Int32Array).set(data.values as Int32Array, at);
      return;
    }
    if (arrow.DataType.isDate(t)) {
      const src = data.values as unknown as ArrayLike<bigint | number>;
      for (let i = 0; i < n; i++) (dst as Int32Array)[at + i] = Math.floor(Number(src[i]) / 86_400_000);
      return;
    }
    throw new ColumnTypeError(`column ${name}: expected a date, found ${t}`);
  }
  if (!arrow.DataType.isInt(t) && !arrow.DataType.isFloat(t)) {
    throw new ColumnTypeError(`column ${name}: expected a number, found ${t}`);
  }
  const src = data.values as unknown as ArrayLike<number | bigint>;
  if (kind === "i64") {
    const d = dst as BigInt64Array;
    if (src instanceof BigInt64Array) d.set(src.subarray(0, n), at);
    else if (src instanceof BigUint64Array) for (let i = 0; i < n; i++) d[at + i] = BigInt.asIntN(64, src[i]);
    else for (let i = 0; i < n; i++) d[at + i] = BigInt(Math.round(src[i] as number) || 0);
    return;
  }
  // f64 / f32 / i16: plain numbers.
  const d = dst as Float64Array | Float32Array | Int16Array;
  if (typeof src[0] === "bigint") for (let i = 0; i < n; i++) d[at + i] = Number(src[i]);
  else if (d.constructor === src.constructor) d.set(src as ArrayLike<number>, at);
  else for (let i = 0; i < n; i++) d[at + i] = src[i] as number;
}

/** One Column of `kind` from an Arrow column's chunks; `name` is for errors. */
export function columnFromArrow(name: string, chunks: readonly arrow.Data[], kind: ColumnKind): Column {
  const length = chunks.reduce((a, d) => a + d.length, 0);
  const out: Column = { kind, values: allocValues(kind, length), valid: null, dictionary: kind === "dict" ? [] : undefined };
  const codeOf = new Map<string, number>();
  let at = 0;
  for (const data of chunks) {
    copyChunk(name, data, kind, out, at, codeOf);
    const v = validityOf(data);
    if (v) {
      if (!out.valid) out.valid = new Uint8Array(length).fill(1);
      out.valid.set(v, at);
    } else if (out.valid) out.valid.fill(1, at, at + data.length);
    at += data.length;
  }
  return out;
}

function packBits(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array((bytes.length + 7) >> 3);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** An Arrow validity bitmap and null count from validity bytes (1 = valid). */
export function packValidity(valid: Uint8Array): { nullBitmap: Uint8Array; nullCount: number } {
  let nullCount = 0;
  for (let i = 0; i < valid.length; i++) nullCount += valid[i] ? 0 : 1;
  return { nullBitmap: packBits(valid), nullCount };
}

/** The Arrow type a kind is written as. */
export function arrowTypeOf(kind: ColumnKind): arrow.DataType {
  switch (kind) {
    case "ts_ns":
      return new arrow.TimestampNanosecond("UTC");
    case "i64":
      return new arrow.Int64();
    case "f64":
      return new arrow.Float64();
    case "f32":
      return new arrow.Float32();
    case "i16":
      return new arrow.Int16();
    case "date32":
      return new arrow.DateDay();
    case "bool":
      return new arrow.Bool();
    case "dict":
      return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  }
}

/** A dict column's Arrow type and dictionary, shared by every chunk of one file so it is written once. */
export interface SharedDictionary {
  strings: string[];
  type: arrow.Dictionary<arrow.Utf8, arrow.Int32>;
  vector: arrow.Vector<arrow.Utf8>;
}

/** Arrow type and dictionary vector for a dict column's strings. */
export function sharedDictionary(strings: string[]): SharedDictionary {
  return { strings, type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), vector: arrow.vectorFromArray(strings, new arrow.Utf8()) };
}

/** An Arrow Data chunk holding a Column (values shared, validity and booleans bit-packed). */
export function columnToArrow(col: Column, length: number, dict?: SharedDictionary): arrow.Data {
  let nullCount = 0;
  if (col.valid) for (let i = 0; i < length; i++) nullCount += col.valid[i] ^ 1;
  const nullBitmap = nullCount > 0 ? packBits(col.valid!.subarray(0, length)) : undefined;
  if (col.kind === "dict") {
    const d = dict ?? sharedDictionary(col.dictionary ?? []);
    return arrow.makeData({ type: d.type, length, nullCount, nullBitmap, data: col.values as Int32Array, dictionary: d.vector });
  }
  const values = col.kind === "bool" ? packBits(col.values as Uint8Array) : col.values;
  return arrow.makeData({ type: arrowTypeOf(col.kind), length, nullCount, nullBitmap, data: values } as never);
}
