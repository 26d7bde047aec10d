/**
 * Runs of dictionary codes: how the native decoder (page-decoder.c, form "runs") gives a
 * dictionary-coded column nobody needs row by row, and how the driver (kernel/driver.c: tpd_ts_at,
 * and tpd_sum_apply's loops) reads a row's code from them without unpacking the rest. This is the
 * TypeScript reference of that read. A run record is 4 int64:
 * - ROW: the batch row where the run starts (records are in row order; a run lasts to the next's ROW);
 * - WIDTH: its codes' bit width, or 0 when one code holds for the whole run;
 * - AT: that code, or the address of the run's bit-packed bytes (LSB first, WIDTH bits a code);
 * - INDEX: the index there of row ROW's code.
 * Codes read from bit-packed bytes are not checked by the decoder: the reader checks each against the
 * dictionary's size.
 */
import { toArrayBuffer } from "bun:ffi";

export const CODE_RUN = { ROW: 0, WIDTH: 1, AT: 2, INDEX: 3, SIZE: 4 } as const;

/** A column's window as runs of codes, and the dictionary they index, left where the decoder found it. */
export interface CodeRuns {
  /** Run records (CODE_RUN), valid while the chunk they point into is. */
  records: BigInt64Array;
  /** The address of the dictionary's values (any alignment: the driver reads them in place), and how many. */
  dictionaryAt: number;
  entries: number;
  /** Bytes of one dictionary value. */
  valueBytes: number;
}

/** A copy of the dictionary's values, aligned, viewed by `Ctor`. */
export function dictionaryCopy<T>(runs: CodeRuns, Ctor: new (buffer: ArrayBuffer, at: number, n: number) => T): T {
  const bytes = runs.entries * runs.valueBytes;
  const copy = new ArrayBuffer(bytes);
  if (bytes > 0) new Uint8Array(copy).set(new Uint8Array(toArrayBuffer(runs.dictionaryAt as never, 0, bytes)));
  return new Ctor(copy, 0, runs.entries);
}

/** Which record holds `row` (the last whose ROW ≤ row), or -1 before the first. */
export function codeRunOf(runs: BigInt64Array, row: number): number {
  let lo = 0;
  let hi = runs.length / CODE_RUN.SIZE - 1;
  if (hi < 0 || Number(runs[CODE_RUN.ROW]) > row) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (Number(runs[mid * CODE_RUN.SIZE + CODE_RUN.ROW]) <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The bytes holding codes [0, index + 1) of width `width` at `address`. */
function packedBytes(address: bigint, index: number, width: number): Uint8Array {
  return new Uint8Array(toArrayBuffer(Number(address) as never, 0, Math.ceil(((index + 1) * width) / 8)));
}

/** Code `index` of width `width` in bit-packed bytes (LSB first). */
function codeIn(bytes: Uint8Array, index: number, width: number): number {
  let code = 0;
  for (let b = 0; b < width; b++) {
    const bit = index * width + b;
    code += ((bytes[bit >> 3] >> (bit & 7)) & 1) * 2 ** b;
  }
  return code;
}

/** Row `row`'s code (rows before the first run have none: -1). */
export function codeAt(runs: BigInt64Array, row: number): number {
  const k = codeRunOf(runs, row);
  if (k < 0) return -1;
  const r = k * CODE_RUN.SIZE;
  const width = Number(runs[r + CODE_RUN.WIDTH]);
  if (width === 0) return Number(runs[r + CODE_RUN.AT]);
  const index = Number(runs[r + CODE_RUN.INDEX]) + row - Number(runs[r + CODE_RUN.ROW]);
  return codeIn(packedBytes(runs[r + CODE_RUN.AT], index, width), index, width);
}

/** Codes of rows [0, length), one per row (each run's bytes viewed once). */
export function codesOfRuns(runs: BigInt64Array, length: number): Int32Array {
  const out = new Int32Array(length).fill(-1);
  const n = runs.length / CODE_RUN.SIZE;
  for (let k = 0; k < n; k++) {
    const r = k * CODE_RUN.SIZE;
    const row = Number(runs[r + CODE_RUN.ROW]);
    const end = k + 1 < n ? Number(runs[r + CODE_RUN.SIZE + CODE_RUN.ROW]) : length;
    const width = Number(runs[r + CODE_RUN.WIDTH]);
    if (width === 0) {
      out.fill(Number(runs[r + CODE_RUN.AT]), row, end);
      continue;
    }
    const first = Number(runs[r + CODE_RUN.INDEX]);
    const bytes = packedBytes(runs[r + CODE_RUN.AT], first + end - row - 1, width);
    for (let i = row; i < end; i++) out[i] = codeIn(bytes, first + i - row, width);
  }
  return out;
}
