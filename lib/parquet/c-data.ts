import { type CodeRuns, codesOfRuns, dictionaryCopy } from "./native/code-runs.ts";

/**
 * Arrow C Data Interface structs in a wasm32 memory, read as typed-array views without apache-arrow:
 * the few formats a strategy reads (integers, floats, dates, timestamps, string dictionaries).
 * Layout (wasm32: pointers are 4 bytes, int64 fields 8-aligned):
 *   ArrowSchema: format@0 name@4 metadata@8 flags@16 n_children@24 children@32 dictionary@36
 *   ArrowArray:  length@0 null_count@8 offset@16 n_buffers@24 n_children@32 buffers@40 children@44 dictionary@48
 */

/** A field of a C schema: its name, format string and, for a dictionary, the values' format. */
export interface CField {
  name: string;
  /** C Data Interface format: `i` int32, `g` float64, `tdD` date32, `tsn:` timestamp ns, … */
  format: string;
  /** Format of a dictionary's values (`u` utf8), or null for a plain column. */
  dictionaryFormat: string | null;
}

/** Typed arrays a column's values can be viewed as. */
export type CValues =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** One column of one batch, as views on the memory (valid until the batch is released). */
export interface CColumn {
  field: CField;
  length: number;
  nullCount: number;
  /** Validity bitmap at bit offset 0, or null when no value is null. */
  validity: Uint8Array | null;
  /** Values (dictionary codes for a dictionary column); null for a format without a fixed-width view (bool, strings). */
  values: CValues | null;
  /** A dictionary column's values, decoded. */
  dictionary: (string | null)[] | null;
  /** A plain string column's values, decoded. */
  strings: (string | null)[] | null;
  /**
   * A fixed-width column read as codes (the native decoder's, where asked): `values` holds int32
   * codes and row i's value is codeValues[values[i]] (a null row's code is 0). Absent: values are the values.
   */
  codeValues?: CValues | null;
  /** Codes given as runs (lib/parquet/native/code-runs.ts) instead of `values` (then null), with their dictionary: valid while the batch is. */
  codeRuns?: CodeRuns | null;
}

/** `c` with its values in place of its codes (itself when it has none); null rows hold 0. */
export function expandCodes(c: CColumn): CColumn {
  const runs = c.codeRuns;
  const ctor = valuesCtorOf(c.field.format);
  const d = runs && ctor ? dictionaryCopy(runs, ctor) : c.codeValues;
  const codes = runs ? codesOfRuns(runs.records, c.length) : c.values;
  if (!d || !codes) return c;
  const out = new (d.constructor as new (n: number) => CValues)(c.length);
  const o = out as unknown as { [i: number]: number | bigint };
  const v = d as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < c.length; i++) {
    if (!isValidAt(c.validity, i)) continue; // typed arrays start at 0
    const code = codes[i] as number;
    if (!(code >= 0 && code < d.length))
      throw new RangeError(`column ${c.field.name}: dictionary index ${code} ≥ dictionary size ${d.length}`);
    o[i] = v[code];
  }
  return { ...c, values: out, codeValues: null, codeRuns: null };
}

/** A typed-array constructor that views a fixed-width format. */
export type ValuesCtor = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): CValues;
  BYTES_PER_ELEMENT: number;
};

/** Fixed-width formats and the typed array that views them. */
const FIXED: Record<string, ValuesCtor> = {
  c: Int8Array,
  C: Uint8Array,
  s: Int16Array,
  S: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  f: Float32Array,
  g: Float64Array,
  tdD: Int32Array,
  tdm: BigInt64Array,
};

/** The typed array that views a fixed-width format (timestamps and durations are int64), or null. */
export function valuesCtorOf(format: string): ValuesCtor | null {
  if (format.startsWith("ts") || format.startsWith("tD")) return BigInt64Array;
  return FIXED[format] ?? null;
}

/** Whether row `i` is valid in an Arrow validity bitmap (null: every row is). */
export function isValidAt(bits: Uint8Array | null, i: number): boolean {
  return bits === null || ((bits[i >> 3] >> (i & 7)) & 1) === 1;
}

/** Bits [start, start + n) of an Arrow validity bitmap: a view when byte-aligned, else a shifted copy (bits past n cleared). */
export function sliceBits(bits: Uint8Array | null, start: number, n: number): Uint8Array | null {
  if (!bits) return null;
  const first = start >> 3;
  const shift = start & 7;
  if (shift === 0) return bits.subarray(first, first + ((n + 7) >> 3));
  const out = new Uint8Array((n + 7) >> 3);
  for (let j = 0; j < out.length; j++)
    out[j] = ((bits[first + j] >> shift) | ((bits[first + j + 1] ?? 0) << (8 - shift))) & 0xff;
  if (n & 7) out[out.length - 1] &= (1 << (n & 7)) - 1;
  return out;
}

function cString(mem: Uint8Array, at: number): string {
  if (at === 0) return "";
  let end = at;
  while (mem[end] !== 0) end++;
  return new TextDecoder().decode(mem.subarray(at, end));
}

/** The top-level fields of a struct schema (a record batch's schema) at `addr`. */
export function readCSchema(memory: ArrayBuffer, addr: number): CField[] {
  const view = new DataView(memory);
  const bytes = new Uint8Array(memory);
  const n = Number(view.getBigInt64(addr + 24, true));
  const children = view.getUint32(addr + 32, true);
  const fields: CField[] = [];
  for (let i = 0; i < n; i++) {
    const child = view.getUint32(children + 4 * i, true);
    const dict = view.getUint32(child + 36, true);
    fields.push({
      name: cString(bytes, view.getUint32(child + 4, true)),
      format: cString(bytes, view.getUint32(child, true)),
      dictionaryFormat: dict === 0 ? null : cString(bytes, view.getUint32(dict, true)),
    });
  }
  return fields;
}

/** A view of `length` elements at `at`, copied only when the address is not aligned for the type. */
function viewAt(memory: ArrayBuffer, Ctor: ValuesCtor, at: number, length: number): CValues {
  if (at % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(memory, at, length);
  const copy = memory.slice(at, at + length * Ctor.BYTES_PER_ELEMENT);
  return new Ctor(copy, 0, length);
}

const isStringFormat = (format: string) => format === "u" || format === "U";

function readStrings(memory: ArrayBuffer, view: DataView, addr: number, format: string): (string | null)[] {
  const length = Number(view.getBigInt64(addr, true));
  const nullCount = Number(view.getBigInt64(addr + 8, true));
  const offset = Number(view.getBigInt64(addr + 16, true));
  const buffers = view.getUint32(addr + 40, true);
  const bytes = new Uint8Array(memory);
  const validAt = view.getUint32(buffers, true);
  const offsetsAt = view.getUint32(buffers + 4, true);
  const dataAt = view.getUint32(buffers + 8, true);
  const large = format === "U";
  if (!isStringFormat(format)) throw new Error(`string values of format ${JSON.stringify(format)} are not supported`);
  const decoder = new TextDecoder();
  const out: (string | null)[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const j = offset + i;
    if (nullCount > 0 && validAt !== 0 && ((bytes[validAt + (j >> 3)] >> (j & 7)) & 1) === 0) {
      out[i] = null;
      continue;
    }
    const start = large ? Number(view.getBigInt64(offsetsAt + 8 * j, true)) : view.getInt32(offsetsAt + 4 * j, true);
    const end = large
      ? Number(view.getBigInt64(offsetsAt + 8 * j + 8, true))
      : view.getInt32(offsetsAt + 4 * j + 4, true);
    out[i] = decoder.decode(bytes.subarray(dataAt + start, dataAt + end));
  }
  return out;
}

/** The columns of the struct array (a record batch) at `addr`, with `fields` from its schema. */
export function readCBatch(
  memory: ArrayBuffer,
  addr: number,
  fields: readonly CField[],
): { length: number; columns: CColumn[] } {
  const view = new DataView(memory);
  const bytes = new Uint8Array(memory);
  const length = Number(view.getBigInt64(addr, true));
  const children = view.getUint32(addr + 44, true);
  const columns = fields.map((field, k): CColumn => {
    const child = view.getUint32(children + 4 * k, true);
    const n = Number(view.getBigInt64(child, true));
    const nullCount = Number(view.getBigInt64(child + 8, true));
    const offset = Number(view.getBigInt64(child + 16, true));
    const buffers = view.getUint32(child + 40, true);
    const validAt = view.getUint32(buffers, true);
    // null_count -1 means "not computed": keep the bitmap then.
    // Realigned to bit 0 when the array has an offset (arrow-rs batches start at 0: the rare case).
    const validity = nullCount !== 0 && validAt !== 0 ? sliceBits(bytes.subarray(validAt), offset, n) : null;
    const Ctor = valuesCtorOf(field.format);
    const values = Ctor
      ? viewAt(memory, Ctor, view.getUint32(buffers + 4, true) + offset * Ctor.BYTES_PER_ELEMENT, n)
      : null;
    const dictAt = view.getUint32(child + 48, true);
    const dictionary =
      field.dictionaryFormat !== null && dictAt !== 0
        ? readStrings(memory, view, dictAt, field.dictionaryFormat)
        : null;
    const strings =
      field.dictionaryFormat === null && isStringFormat(field.format)
        ? readStrings(memory, view, child, field.format)
        : null;
    return { field, length: n, nullCount, validity, values, dictionary, strings };
  });
  return { length, columns };
}
