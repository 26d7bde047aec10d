/**
 * The bench read path: only the segment key and a kernel's declared columns of a packed
 * partition, one row group at a time, handed to the kernel as views on parquet-wasm's memory
 * (no copy where a column is stored in the type the kernel declared it with) and freed right after.
 */
import * as arrow from "apache-arrow";
import { columnAs, stableOptCode, type KernelBatch, type KernelRun, type LoadedKernel } from "../../kernel/strategy-kernel.ts";
import { openPartitionSnapshot } from "../packed/snapshot.ts";
import { closeParquet, openParquet, withRows } from "../parquet/io.ts";

/** Columns the driver reads for every kernel: the segment key. */
export const KEY_COLUMNS = ["expiry", "opt_type", "strike"] as const;

/** A packed file that bench cannot use (missing column, wrong type). */
export class StrategyInputError extends Error {}

/** Columns read for a kernel, in read order (the projection the reader asks parquet-wasm for). */
export function projectedColumns(kernel: LoadedKernel, withTs: boolean): string[] {
  const cols: string[] = [...KEY_COLUMNS];
  for (const c of [...kernel.columns, ...(withTs ? ["timestamp"] : [])]) if (!cols.includes(c)) cols.push(c);
  return cols;
}

/** Arrow validity bitmap at bit offset 0, or null when the chunk has no nulls. */
function bitmapOf(d: arrow.Data): Uint8Array | null {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return null;
  if (d.offset === 0) return d.nullBitmap;
  // parquet-wasm batches start at offset 0; realign anything else rather than misread it.
  const out = new Uint8Array((d.length + 7) >> 3);
  for (let i = 0; i < d.length; i++) if ((d.nullBitmap[(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1) out[i >> 3] |= 1 << (i & 7);
  return out;
}

type NumericValues = Float64Array | Float32Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** A numeric chunk's values as Arrow holds them (a view, no copy). */
function numericValues(d: arrow.Data, file: string, name: string): NumericValues {
  const v = d.values as unknown;
  // A dictionary column's values are its codes, and a bool's are bits: neither is the number.
  if (!arrow.DataType.isDictionary(d.type) && !arrow.DataType.isBool(d.type) && (
    v instanceof Float64Array || v instanceof Float32Array || v instanceof BigInt64Array || v instanceof BigUint64Array || v instanceof Int32Array ||
    v instanceof Uint32Array || v instanceof Int16Array || v instanceof Uint16Array || v instanceof Int8Array || v instanceof Uint8Array
  )) {
    return v.subarray(0, d.length) as NumericValues;
  }
  throw new StrategyInputError(`${file}: column ${name} has unsupported type ${d.type}`);
}

function typed<T extends Int32Array | Float32Array>(d: arrow.Data, Ctor: { new (n: number): T; name: string }): T {
  const v = d.values as unknown as ArrayLike<number>;
  if ((v as object).constructor === Ctor) return (v as unknown as T).subarray(0, d.length) as T;
  const out = new Ctor(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(v[i]);
  return out;
}

/** A driver batch from one Arrow record batch. */
function kernelBatch(b: arrow.RecordBatch, file: string, kernel: LoadedKernel, withTs: boolean): KernelBatch {
  const data = (name: string) => b.getChild(name)!.data[0];
  const opt = data("opt_type");
  let optCodes: Int32Array;
  let optMap: Int32Array;
  if (arrow.DataType.isDictionary(opt.type)) {
    optCodes = typed(opt, Int32Array);
    // A batch can carry its own dictionary: map its codes to stable ones, never per row in JS.
    optMap = Int32Array.from((opt.dictionary!.toArray() as (string | null)[]).map(stableOptCode));
  } else {
    optCodes = Int32Array.from(b.getChild("opt_type")!.toArray() as (string | null)[], (s) => stableOptCode(s));
    optMap = Int32Array.from([0, 1, 2]);
  }
  const ts = withTs ? numericValues(data("timestamp"), file, "timestamp") : null;
  return {
    length: b.numRows,
    expiry: typed(data("expiry"), Int32Array),
    expiryValid: bitmapOf(data("expiry")),
    opt: optCodes,
    optValid: bitmapOf(opt),
    optMap,
    strike: typed(data("strike"), Float32Array),
    strikeValid: bitmapOf(data("strike")),
    // Each column in the type the kernel declared: as stored (a view), or converted once per batch.
    columns: kernel.columns.map((name, k) => {
      const d = data(name);
      const valid = bitmapOf(d);
      const values = columnAs(numericValues(d, file, name), valid, kernel.columnTypes[k]);
      if (typeof values === "string") throw new StrategyInputError(`${file}: column ${name} (${d.type}) does not fit the kernel's ${kernel.columnTypes[k]}: ${values}`);
      return { values, valid };
    }),
    ts: ts instanceof BigInt64Array ? ts : null,
  };
}

/**
 * Runs a partition's parts, in order, through the kernel as one sequence; returns the columns read.
 * The parts are opened together as one snapshot: a repack committing meanwhile is seen whole or not at all.
 */
export async function runPartition(parts: string[], run: KernelRun, kernel: LoadedKernel, withTs: boolean): Promise<string[]> {
  const columns = projectedColumns(kernel, withTs);
  const snapshot = openPartitionSnapshot(parts);
  try {
    for (const { path, fd } of snapshot.parts) {
      const source = await openParquet(path, fd).catch((e: Error) => {
        throw new StrategyInputError(`${path}: ${e.message}`);
      });
      try {
        const present = new Set(source.fields.map((f) => f.name));
        const missing = columns.filter((c) => !present.has(c));
        if (missing.length > 0) throw new StrategyInputError(`${path}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
        for (let g = 0; g < source.rowGroupRows.length; g++) {
          await withRows(source, columns, { rowGroups: [g] }, (table) => {
            for (const b of table.batches) run.run(kernelBatch(b, path, kernel, withTs));
          });
        }
      } finally {
        closeParquet(source);
      }
    }
  } finally {
    snapshot.close();
  }
  run.endPartition();
  return columns;
}
