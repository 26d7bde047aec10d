import type { CodeRuns } from "./code-runs.ts";

/**
 * What the native column-chunk decoder (page-decoder.c, page-decoder.ts) and its TypeScript reference
 * (page-decoder-reference.ts) take and give: one contract, two implementations compared by the tests.
 */

/** Parquet physical types (parquet.thrift Type). */
export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
/** Parquet compression codecs the native path decodes (parquet.thrift CompressionCodec). */
export const Codec = { UNCOMPRESSED: 0, ZSTD: 6 } as const;

/** One column chunk to decode: what its ColumnMetaData and SchemaElement say. */
export interface ChunkDesc {
  /** For error messages only. */
  file: string;
  /** For error messages only. */
  column: string;
  /** PhysicalType; INT96 / FIXED_LEN_BYTE_ARRAY are not supported. */
  physicalType: number;
  /** 0: REQUIRED column (no definition levels), 1: OPTIONAL flat column. */
  maxDef: 0 | 1;
  /** Codec. */
  codec: number;
  /** ColumnMetaData.num_values = rows of the chunk (flat column). */
  numValues: number;
}

/** Rows [start, start + count) of the chunk. */
export interface RowWindow {
  start: number;
  count: number;
}

/** Why `window` is not a window of the chunk `desc` describes, or null when it is. */
export function windowProblem(desc: ChunkDesc, window: RowWindow): string | null {
  const { start, count } = window;
  const ok =
    Number.isSafeInteger(start) &&
    Number.isSafeInteger(count) &&
    start >= 0 &&
    count >= 0 &&
    start + count <= desc.numValues;
  return ok ? null : `rows [${start}, ${start + count}) outside the chunk's ${desc.numValues} rows`;
}

/** A decoded window of one chunk. */
export interface DecodedChunk {
  /** = window.count */
  length: number;
  /**
   * Values, a null row's slot is 0 (0n / 0 / false):
   * BOOLEAN → Uint8Array (0/1), INT32 → Int32Array, INT64 → BigInt64Array, FLOAT → Float32Array,
   * DOUBLE → Float64Array, BYTE_ARRAY → Int32Array of codes into `dictionary`.
   */
  values: Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
  /** Arrow validity bitmap (LSB first, bit i = row i of the window valid), null when no row is null. */
  validity: Uint8Array | null;
  nullCount: number;
  /**
   * BYTE_ARRAY only: strings (UTF-8 decoded) the codes point at; null otherwise. Codes are compared
   * through it (dictionary[code]), never as numbers, so the two implementations may number differently.
   */
  dictionary: string[] | null;
  /**
   * Asked for as codes (INT32, INT64, FLOAT, DOUBLE): `values` is then an Int32Array of codes and this
   * holds what they index (row i's value is dictionaryValues[values[i]], a null row's code is 0);
   * null otherwise. Codes, too, are compared through it, never as numbers.
   */
  dictionaryValues?: Int32Array | BigInt64Array | Float32Array | Float64Array | null;
  /**
   * Asked for as runs, and given so: `values` is empty, `dictionaryValues` null, and row i's code is
   * read from these runs (code-runs.ts), which point into the chunk's own bytes, its dictionary too;
   * null otherwise.
   */
  codeRuns?: CodeRuns | null;
}

/** A chunk that cannot be decoded: garbled, truncated, or using something unsupported. Message: `${file}: column ${column}: <reason>`. */
export class ChunkDecodeError extends Error {
  override name = ChunkDecodeError.name;
}
