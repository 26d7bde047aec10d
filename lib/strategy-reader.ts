/**
 * The bench read path: only the strategy's columns of a packed partition, one row group at a
 * time, handed to the kernel as views on parquet-wasm's memory (no copy) and freed right after.
 */
import * as arrow from "apache-arrow";
import { stableOptCode, type EmaCrossKernel, type StrategyBatch } from "../kernel/ema_cross.ts";
import { closeParquet, openParquet, withRows } from "./parquet-io.ts";

/** Columns ema_cross reads (SPEC §4); `timestamp` is added for a trade log. */
export const STRATEGY_COLUMNS = ["expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume"] as const;

/** A packed file that bench cannot use (missing column, wrong type). */
export class StrategyInputError extends Error {}

/** Arrow validity bitmap at bit offset 0, or null when the chunk has no nulls. */
function bitmapOf(d: arrow.Data): Uint8Array | null {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return null;
  if (d.offset === 0) return d.nullBitmap;
  // parquet-wasm batches start at offset 0; realign anything else rather than misread it.
  const out = new Uint8Array((d.length + 7) >> 3);
  for (let i = 0; i < d.length; i++) if ((d.nullBitmap[(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** The values of a chunk as `T`, zero-copy when the type already matches. */
function valuesAs<T extends Int32Array | Float32Array | Float64Array | BigInt64Array>(d: arrow.Data, make: { from(a: ArrayLike<never>): T; name: string }, file: string, name: string): T {
  const v = d.values as unknown;
  if ((v as object).constructor.name === make.name) return (v as T).subarray(0, d.length) as T;
  if (!(ArrayBuffer.isView(v))) throw new StrategyInputError(`${file}: column ${name} has unsupported type ${d.type}`);
  const src = v as unknown as ArrayLike<number | bigint>;
  const n = d.length;
  const out = new (make as unknown as new (n: number) => T)(n);
  for (let i = 0; i < n; i++) (out as unknown as (number | bigint)[])[i] = make.name === "BigInt64Array" ? BigInt(src[i]) : Number(src[i]);
  return out;
}

/** A kernel batch from one Arrow record batch of the strategy columns. */
function strategyBatch(b: arrow.RecordBatch, file: string, withTs: boolean): StrategyBatch {
  const data = (name: string) => b.getChild(name)!.data[0];
  const opt = data("opt_type");
  let optCodes: Int32Array;
  let optMap: Int32Array;
  if (arrow.DataType.isDictionary(opt.type)) {
    optCodes = valuesAs(opt, Int32Array, file, "opt_type");
    // A batch can carry its own dictionary: map its codes to stable ones, never per row in JS.
    optMap = Int32Array.from((opt.dictionary!.toArray() as (string | null)[]).map(stableOptCode));
  } else {
    const strings = b.getChild("opt_type")!.toArray() as (string | null)[];
    optCodes = Int32Array.from(strings, (s) => stableOptCode(s));
    optMap = Int32Array.from([0, 1, 2]);
  }
  const ts = withTs ? data("timestamp") : null;
  return {
    length: b.numRows,
    expiry: valuesAs(data("expiry"), Int32Array, file, "expiry"),
    expiryValid: bitmapOf(data("expiry")),
    opt: optCodes,
    optValid: bitmapOf(opt),
    optMap,
    strike: valuesAs(data("strike"), Float32Array, file, "strike"),
    strikeValid: bitmapOf(data("strike")),
    price: valuesAs(data("price"), Float64Array, file, "price"),
    priceValid: bitmapOf(data("price")),
    bp0: valuesAs(data("bp0"), Float64Array, file, "bp0"),
    bp0Valid: bitmapOf(data("bp0")),
    sp0: valuesAs(data("sp0"), Float64Array, file, "sp0"),
    sp0Valid: bitmapOf(data("sp0")),
    volume: valuesAs(data("volume"), BigInt64Array, file, "volume"),
    volumeValid: bitmapOf(data("volume")),
    ts: ts ? valuesAs(ts, BigInt64Array, file, "timestamp") : null,
  };
}

/** Runs a partition's parts, in order, through the kernel as one sequence; returns the columns read per file. */
export async function runPartition(parts: string[], kernel: EmaCrossKernel, withTs: boolean): Promise<string[]> {
  const columns: string[] = [...STRATEGY_COLUMNS, ...(withTs ? ["timestamp"] : [])];
  for (const path of parts) {
    const source = await openParquet(path).catch((e: Error) => {
      throw new StrategyInputError(`${path}: ${e.message}`);
    });
    try {
      const present = new Set(source.fields.map((f) => f.name));
      const missing = columns.filter((c) => !present.has(c));
      if (missing.length > 0) throw new StrategyInputError(`${path}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
      for (let g = 0; g < source.rowGroupRows.length; g++) {
        await withRows(source, columns, { rowGroups: [g] }, (table) => {
          for (const b of table.batches) kernel.run(strategyBatch(b, path, withTs));
        });
      }
    } finally {
      closeParquet(source);
    }
  }
  kernel.endPartition();
  return columns;
}
