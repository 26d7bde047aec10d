/**
 * The batch contract between the read path and a compiled kernel's driver: what one batch of a
 * partition holds, and the conversions that put a column in the type a kernel declared.
 */
import type { ColumnType } from "./column-types.ts";
import type { CodeRuns } from "../lib/parquet/native/code-runs.ts";

/** Batch columns the driver reads: the segment key, the kernel's columns in declared order, timestamps. */
export interface KernelBatch {
  length: number;
  expiry: Int32Array;
  expiryValid: Uint8Array | null;
  /** opt_type dictionary codes and this batch's code → stable code map (lib/packed/opt-type.ts). */
  opt: Int32Array;
  optValid: Uint8Array | null;
  optMap: Int32Array;
  strike: Float32Array;
  strikeValid: Uint8Array | null;
  /** One per declared column: values in its declared type (see columnAs) and Arrow validity bitmap. */
  columns: { values: ColumnValues; valid: Uint8Array | null }[];
  /** Epoch ns; needed for a trade log and the report's sums. With tsCodes, the values the codes index. */
  ts: BigInt64Array | null;
  /** Row i's timestamp is ts[tsCodes[i]] (a dictionary-coded column read as codes); absent or null: ts[i]. */
  tsCodes?: Int32Array | null;
  /**
   * Or (ts then null) row i's timestamp is the value, in the runs' dictionary, of row i + tsRow0's
   * code in these runs (lib/parquet/native/code-runs.ts; codes checked as they are read).
   */
  tsRuns?: CodeRuns | null;
  tsRow0?: number;
  /** bp0 and sp0 as float64, with their bitmaps: needed with --fill touch (SPEC §7). */
  quotes?: Quotes | null;
}

/** A batch's best bid and ask (bp0, sp0) as float64, with their bitmaps. */
export interface Quotes {
  bid: Float64Array;
  bidValid: Uint8Array | null;
  ask: Float64Array;
  askValid: Uint8Array | null;
}

/** Columns --fill touch reads, whatever the kernel declares. */
export const QUOTE_COLUMNS = ["bp0", "sp0"] as const;

/** Values of a column in one of the types a kernel can declare. */
export type ColumnValues = Float64Array | BigInt64Array | Int32Array | Float32Array | Int16Array;
/** Values as Arrow hands them over (any numeric array). */
type SourceValues = ColumnValues | Uint8Array | Int8Array | Uint16Array | Uint32Array | BigUint64Array;

export const COLUMN_CTOR: Record<ColumnType, { new (n: number): ColumnValues; name: string }> = {
  f64: Float64Array,
  i64: BigInt64Array,
  i32: Int32Array,
  f32: Float32Array,
  i16: Int16Array,
};
const INT_RANGE: Partial<Record<ColumnType, [number, number]>> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  i16: [-32768, 32767],
};

/**
 * A numeric column as float64, as kernels read a plain `name`: float64 is passed as it is (no copy);
 * int64 goes through int32 word pairs (reading BigInt64Array elements allocates), others via from().
 */
export function asFloat64(values: SourceValues): Float64Array {
  if (values instanceof Float64Array) return values;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    const out = new Float64Array(values.length);
    const signed = values instanceof BigInt64Array;
    for (let i = 0; i < out.length; i++)
      out[i] = (signed ? words[2 * i + 1] : words[2 * i + 1] >>> 0) * 4294967296 + (words[2 * i] >>> 0);
    return out;
  }
  return Float64Array.from(values);
}

/**
 * A column in the type a kernel declared: the same array when it is stored in that type (no copy),
 * else converted once — float64 from anything; an integer or float32 type only where every non-null
 * value fits it exactly (a kernel asking for int64 never sees a truncated 1.5). Returns a one-line
 * problem instead when a value does not fit.
 */
export function columnAs(values: SourceValues, valid: Uint8Array | null, type: ColumnType): ColumnValues | string {
  if (values.constructor === COLUMN_CTOR[type]) return values as ColumnValues;
  if (type === "f64") return asFloat64(values);
  const n = values.length;
  const ok = (i: number) => !valid || ((valid[i >> 3] >> (i & 7)) & 1) === 1;
  if (type === "i64" && values instanceof BigUint64Array) {
    for (let i = 0; i < n; i++)
      if (ok(i) && values[i] > 9223372036854775807n) return `value ${values[i]} at row ${i} does not fit int64`;
    return new BigInt64Array(values.buffer, values.byteOffset, n);
  }
  const wide = asFloat64(values); // exact for every source but 64-bit integers beyond 2^53, which no narrower type holds anyway
  if (type === "i64") {
    const out = new BigInt64Array(n);
    const words = new Int32Array(out.buffer);
    for (let i = 0; i < n; i++) {
      if (!ok(i)) continue;
      const v = wide[i];
      if (!Number.isSafeInteger(v)) return `value ${v} at row ${i} is not an integer that int64 holds exactly`;
      words[2 * i] = (v % 4294967296) | 0;
      words[2 * i + 1] = Math.floor(v / 4294967296);
    }
    return out;
  }
  const out = new COLUMN_CTOR[type](n) as Int32Array | Float32Array | Int16Array;
  const range = INT_RANGE[type];
  for (let i = 0; i < n; i++) {
    if (!ok(i)) continue;
    const v = wide[i];
    if (range ? !(Number.isInteger(v) && v >= range[0] && v <= range[1]) : Math.fround(v) !== v && !Number.isNaN(v))
      return `value ${v} at row ${i} does not fit ${type} exactly`;
    out[i] = v;
  }
  return out;
}
