/** Conversion between apache-arrow Data chunks and tickpack Columns, with the type coercions of docs/formats.md. */
import * as arrow from "apache-arrow";
import { allocValues, type Column, type ColumnKind } from "./column-batch.ts";
import { IST_OFFSET_NS } from "../ist-time.ts";

/** A column's Arrow type cannot be read as the kind tickpack needs. */
export class ColumnTypeError extends Error {}

const NS_PER_UNIT = [1_000_000_000n, 1_000_000n, 1_000n, 1n]; // arrow TimeUnit SECOND..NANOSECOND

/** Units an INT64 epoch column may be in (plain INT64 carries none: it is told by the magnitude). */
export type EpochUnit = "s" | "ms" | "us" | "ns";

const EPOCH_UNITS: readonly EpochUnit[] = ["s", "ms", "us", "ns"];
const UNIT_NS: Record<EpochUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };
const UNIT_LABEL: Record<EpochUnit, string> = {
  s: "seconds",
  ms: "milliseconds",
  us: "microseconds",
  ns: "nanoseconds",
};
// 2000-01-01 and 2100-01-01 in epoch seconds: the four units' ranges do not overlap.
const EPOCH_2000_S = 946_684_800;
const EPOCH_2100_S = 4_102_444_800;

/** The unit whose 2000–2100 range holds an epoch value, or null when none does (0, small, negative, huge). */
export function epochUnitOfValue(v: number): EpochUnit | null {
  for (let u = 0, scale = 1; u < 4; u++, scale *= 1000)
    if (v >= EPOCH_2000_S * scale && v < EPOCH_2100_S * scale) return EPOCH_UNITS[u];
  return null;
}

/** An INT64 epoch column's unit cannot be told, or differs between its values. */
export class EpochUnitError extends Error {}

/**
 * The unit of a plain INT64 epoch column, told by the magnitude of its values: those between 2000
 * and 2100 in exactly one of s / ms / µs / ns decide it and must all agree; 0 (the feed's
 * placeholder) and nulls say nothing. `known` is what earlier rows of the same file decided.
 * Throws EpochUnitError naming the row (`firstRow` + index) when units disagree, or when nonzero
 * values exist and none decides. Returns null when nothing decides (every value 0 or null).
 */
export function detectEpochUnit(
  name: string,
  values: BigInt64Array,
  valid: Uint8Array | null,
  known: EpochUnit | null,
  firstRow = 0,
): EpochUnit | null {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  let unit = known;
  let undecided = -1;
  for (let i = 0; i < values.length; i++) {
    if (valid && valid[i] === 0) continue;
    const hi = words[2 * i + 1];
    const lo = words[2 * i];
    if (hi === 0 && lo === 0) continue;
    const u = epochUnitOfValue(hi * 4294967296 + (lo >>> 0));
    if (u === null) {
      if (undecided < 0) undecided = i;
      continue;
    }
    if (unit === null) unit = u;
    else if (u !== unit) {
      throw new EpochUnitError(
        `column ${name}: INT64 epoch values in more than one unit (${UNIT_LABEL[unit]} before, ${UNIT_LABEL[u]} at row ${firstRow + i}: ${values[i]})`,
      );
    }
  }
  if (unit === null && undecided >= 0) {
    throw new EpochUnitError(
      `column ${name}: cannot tell the unit of INT64 epoch value ${values[undecided]} at row ${firstRow + undecided} (not a time between 2000 and 2100 in seconds, milliseconds, microseconds or nanoseconds)`,
    );
  }
  return unit;
}

/**
 * detectEpochUnit over an Arrow column's chunks, read in place (no copy): the unit they decide,
 * consistent with `known`, or null when every value is 0 or null. Rows in errors count from `firstRow`.
 */
export function epochUnitOfChunks(
  name: string,
  chunks: readonly arrow.Data[],
  known: EpochUnit | null,
  firstRow = 0,
): EpochUnit | null {
  let unit = known;
  let at = firstRow;
  for (const d of chunks) {
    if (!isPlainInt64(d.type)) throw new ColumnTypeError(`column ${name}: expected INT64 epochs, found ${d.type}`);
    unit = detectEpochUnit(name, (d.values as BigInt64Array).subarray(0, d.length), validityOf(d), unit, at);
    at += d.length;
  }
  return unit;
}

/** `src` (epoch values in `unit`) as epoch ns in `dst` from row `at`, minus `shift` ns. */
function scaleToNs(src: BigInt64Array, dst: BigInt64Array, at: number, n: number, mul: bigint, shift: bigint): void {
  if (mul === 1n && shift === 0n) dst.set(src.subarray(0, n), at);
  else if (mul <= 1_000_000n) scaleInt64(src, dst, at, n, Number(mul), Number(shift));
  else for (let i = 0; i < n; i++) dst[at + i] = BigInt.asIntN(64, src[i] * mul - shift);
}

/**
 * dst[i] = src[i] × mul − shift (int64), for mul ≤ 1e6 (ms, µs), reading and writing the int64s as
 * int32 word pairs with exact double arithmetic: three BigInt operations per value would dominate
 * reading raw files. Values beyond ±2^53 (never real timestamps) take the BigInt path.
 */
export function scaleInt64(
  src: BigInt64Array,
  dst: BigInt64Array,
  at: number,
  n: number,
  mul: number,
  shift: number,
): void {
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
function utf8ToCodes(
  data: arrow.Data,
  codes: Int32Array,
  at: number,
  dictionary: string[],
  codeOf: Map<string, number>,
): void {
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
      for (let k = 0; k < e - s; k++)
        if (bytes[s + k] !== bytes[prevStart + k]) {
          same = false;
          break;
        }
      if (same) {
        codes[at + i] = prevCode;
        prevStart = s;
        prevEnd = e;
        continue;
      }
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
function copyChunk(
  name: string,
  data: arrow.Data,
  kind: ColumnKind,
  out: Column,
  at: number,
  codeOf: Map<string, number>,
  int64Unit: EpochUnit,
): void {
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
    if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) {
      utf8ToCodes(data, codes, at, out.dictionary!, codeOf);
      return;
    }
    throw new ColumnTypeError(`column ${name}: expected strings, found ${t}`);
  }
  if (kind === "ts_ns") {
    const d = dst as BigInt64Array;
    if (arrow.DataType.isTimestamp(t)) {
      // A naive timestamp is IST wall-clock time; an adjusted one is UTC.
      scaleToNs(
        (data.values as unknown as BigInt64Array).subarray(0, n),
        d,
        at,
        n,
        NS_PER_UNIT[t.unit],
        t.timezone ? 0n : IST_OFFSET_NS,
      );
      return;
    }
    if (isPlainInt64(t)) {
      // Plain INT64 epochs are UTC, in the unit the caller determined for the whole file.
      scaleToNs((data.values as BigInt64Array).subarray(0, n), d, at, n, UNIT_NS[int64Unit], 0n);
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

/** Whether an Arrow type is a plain 64-bit integer (an epoch without a declared unit when read as a timestamp). */
export function isPlainInt64(t: arrow.DataType): boolean {
  return arrow.DataType.isInt(t) && t.bitWidth === 64;
}

/** Options of columnFromArrow. */
export interface ColumnReadOptions {
  /**
   * For a ts_ns column stored as plain INT64: the unit of its values (decided for the whole file
   * by the caller). Left out: told from these chunks' values (detectEpochUnit), ns when they are
   * all 0 or null.
   */
  int64Unit?: EpochUnit;
}

/** One Column of `kind` from an Arrow column's chunks; `name` is for errors. */
export function columnFromArrow(
  name: string,
  chunks: readonly arrow.Data[],
  kind: ColumnKind,
  options: ColumnReadOptions = {},
): Column {
  let int64Unit = options.int64Unit;
  if (kind === "ts_ns" && int64Unit === undefined && chunks.some((d) => isPlainInt64(d.type))) {
    int64Unit =
      epochUnitOfChunks(
        name,
        chunks.filter((d) => isPlainInt64(d.type)),
        null,
      ) ?? "ns";
  }
  const length = chunks.reduce((a, d) => a + d.length, 0);
  const out: Column = {
    kind,
    values: allocValues(kind, length),
    valid: null,
    dictionary: kind === "dict" ? [] : undefined,
  };
  const codeOf = new Map<string, number>();
  let at = 0;
  for (const data of chunks) {
    copyChunk(name, data, kind, out, at, codeOf, int64Unit ?? "ns");
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
  return {
    strings,
    type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
    vector: arrow.vectorFromArray(strings, new arrow.Utf8()),
  };
}

/** An Arrow Data chunk holding a Column (values shared, validity and booleans bit-packed). */
export function columnToArrow(col: Column, length: number, dict?: SharedDictionary): arrow.Data {
  let nullCount = 0;
  if (col.valid) for (let i = 0; i < length; i++) nullCount += col.valid[i] ^ 1;
  const nullBitmap = nullCount > 0 ? packBits(col.valid!.subarray(0, length)) : undefined;
  if (col.kind === "dict") {
    const d = dict ?? sharedDictionary(col.dictionary ?? []);
    return arrow.makeData({
      type: d.type,
      length,
      nullCount,
      nullBitmap,
      data: col.values as Int32Array,
      dictionary: d.vector,
    });
  }
  const values = col.kind === "bool" ? packBits(col.values as Uint8Array) : col.values;
  return arrow.makeData({ type: arrowTypeOf(col.kind), length, nullCount, nullBitmap, data: values } as never);
}
