/**
 * Decoded column values as comparable text, so that a decoder's output can be compared with
 * parquet-wasm's, DuckDB's and another decoder's: exactly (floats by bit pattern, NaN payloads
 * included) or loosely (floats as JavaScript numbers, which keep -0 but not a NaN's payload).
 */
import { PhysicalType, type DecodedChunk } from "../../lib/parquet/native/chunk-desc.ts";
import { isValidAt, type CColumn } from "../../lib/parquet/c-data.ts";
import type { Cell } from "./random-parquet.ts";

const hex = (v: number | bigint) => v.toString(16);

/** A float's text: NaN for any NaN, -0 apart from 0. */
const looseFloat = (x: number) => (Number.isNaN(x) ? "NaN" : Object.is(x, -0) ? "-0" : String(x));

/** Row `i` of a decoded window exactly: null, or its value (floats as bits, strings through the dictionary). */
export function exactCell(d: DecodedChunk, type: number, i: number): string | null {
  if (!isValidAt(d.validity, i)) return null;
  const v = d.values;
  switch (type) {
    case PhysicalType.BOOLEAN:
      return v[i] === 1 ? "true" : v[i] === 0 ? "false" : `bad boolean ${v[i]}`;
    case PhysicalType.FLOAT:
      return `f:${hex(new Uint32Array(v.buffer, v.byteOffset, d.length)[i])}`;
    case PhysicalType.DOUBLE:
      return `d:${hex(new BigUint64Array(v.buffer, v.byteOffset, d.length)[i])}`;
    case PhysicalType.BYTE_ARRAY: {
      const s = d.dictionary?.[v[i] as number];
      return s === undefined ? `code ${v[i]} outside the dictionary` : JSON.stringify(s);
    }
    default:
      return String(v[i]);
  }
}

/** Row `i` of a decoded window loosely (floats as numbers). */
export function looseCell(d: DecodedChunk, type: number, i: number): string | null {
  if (type === PhysicalType.FLOAT || type === PhysicalType.DOUBLE) {
    if (!isValidAt(d.validity, i)) return null;
    return looseFloat(d.values[i] as number);
  }
  return exactCell(d, type, i);
}

/** A DuckDB cell loosely, as looseCell writes a decoded one. */
export function looseDuckCell(c: Cell): string | null {
  if (c === null) return null;
  if (typeof c === "number" && !Number.isInteger(c)) return looseFloat(c);
  if (typeof c === "number") return Object.is(c, -0) ? "-0" : String(c);
  if (typeof c === "string") return JSON.stringify(c);
  return String(c);
}

/** Row `i` of a parquet-wasm column view exactly (not for booleans: views carry no boolean values). */
export function exactWasmCell(c: CColumn, type: number, i: number): string | null {
  if (!isValidAt(c.validity, i)) return null;
  if (c.dictionary) return JSON.stringify(c.dictionary[c.values![i] as number]);
  if (c.strings) return JSON.stringify(c.strings[i]);
  const v = c.values!;
  if (type === PhysicalType.FLOAT) return `f:${hex(new Uint32Array(v.buffer, v.byteOffset, c.length)[i])}`;
  if (type === PhysicalType.DOUBLE) return `d:${hex(new BigUint64Array(v.buffer, v.byteOffset, c.length)[i])}`;
  return String(v[i]);
}

/** The first few rows where two lists of cells differ, as text for a failure message. */
export function cellDifferences(label: string, got: (string | null)[], want: (string | null)[], limit = 5): string[] {
  const out: string[] = [];
  if (got.length !== want.length) out.push(`${label}: ${got.length} rows, expected ${want.length}`);
  for (let i = 0; i < Math.min(got.length, want.length) && out.length < limit; i++)
    if (got[i] !== want[i]) out.push(`${label}: row ${i}: ${got[i]} ≠ ${want[i]}`);
  return out;
}

/** The raw bytes of a values array. */
const bytesOf = (v: DecodedChunk["values"]) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/**
 * How two decodes of one window differ, exactly: length, null count, validity bytes, the values'
 * array type, every value (a null row's slot is 0 in both) and strings through each one's dictionary.
 */
export function decodedDifferences(a: DecodedChunk, b: DecodedChunk, type: number, limit = 5): string[] {
  const out: string[] = [];
  if (a.length !== b.length) return [`length ${a.length} ≠ ${b.length}`];
  if (a.nullCount !== b.nullCount) out.push(`nullCount ${a.nullCount} ≠ ${b.nullCount}`);
  if ((a.validity === null) !== (b.validity === null))
    out.push(`validity ${a.validity === null ? "null" : "bitmap"} ≠ ${b.validity === null ? "null" : "bitmap"}`);
  else if (a.validity && b.validity && bytesOf(a.validity).join() !== bytesOf(b.validity).join())
    out.push("validity bitmaps differ");
  if (a.values.constructor !== b.values.constructor || a.values.length !== b.values.length)
    return [
      ...out,
      `values ${a.values.constructor.name}(${a.values.length}) ≠ ${b.values.constructor.name}(${b.values.length})`,
    ];
  if ((a.dictionary === null) !== (b.dictionary === null)) out.push("one has a dictionary, the other not");
  const width = a.values.BYTES_PER_ELEMENT;
  const ab = bytesOf(a.values);
  const bb = bytesOf(b.values);
  for (let i = 0; i < a.length && out.length < limit; i++) {
    const valid = isValidAt(a.validity, i);
    if (type === PhysicalType.BYTE_ARRAY && valid) {
      const [x, y] = [exactCell(a, type, i), exactCell(b, type, i)];
      if (x !== y) out.push(`row ${i}: ${x} ≠ ${y}`);
      continue;
    }
    for (let k = 0; k < width; k++)
      if (ab[i * width + k] !== bb[i * width + k]) {
        out.push(
          `row ${i}${valid ? "" : " (null)"}: ${exactCell(a, type, i) ?? a.values[i]} ≠ ${exactCell(b, type, i) ?? b.values[i]}`,
        );
        break;
      }
  }
  return out;
}
