/**
 * The bench read path: only the segment key and a kernel's declared columns of a packed
 * partition, one row group at a time, handed to the kernel as views on parquet-wasm's memory
 * (no copy where a column is stored in the type the kernel declared it with) and freed right after.
 * No apache-arrow here: the C Data Interface structs are read directly (lib/parquet/c-data.ts), which
 * spares every worker the import (~31 ms) and every batch its Arrow objects.
 */
import { columnAs, stableOptCode, type KernelBatch, type KernelRun, type LoadedKernel } from "../../kernel/strategy-kernel.ts";
import { openPartitionSnapshot } from "../packed/snapshot.ts";
import { PartCache, type CacheSettings, type CacheStats } from "./cached-columns.ts";
import type { CColumn, CField, CValues } from "../parquet/c-data.ts";
import { closeParquetFile, openParquetFile, withColumnViews, type ColumnViews } from "../parquet/source.ts";

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

/** A numeric column's values as stored (a view, no copy); dictionary codes and bits are not the numbers. */
function numericValues(c: CColumn, file: string, name: string): CValues {
  if (c.values && c.field.dictionaryFormat === null) return c.values;
  throw new StrategyInputError(`${file}: column ${name} has unsupported type ${describeFormat(c.field)}`);
}

const describeFormat = (f: CField) => (f.dictionaryFormat === null ? `format ${f.format}` : `dictionary<${f.format}, ${f.dictionaryFormat}>`);

/** A column's values as `Ctor` (a view when stored so, else converted). */
function typed<T extends Int32Array | Float32Array>(c: CColumn, Ctor: { new (n: number): T; name: string }, file: string, name: string): T {
  const v = c.values;
  if (!v) throw new StrategyInputError(`${file}: column ${name} has unsupported type ${describeFormat(c.field)}`);
  if (v.constructor === Ctor) return v as T;
  const out = new Ctor(c.length);
  for (let i = 0; i < c.length; i++) out[i] = Number(v[i]);
  return out;
}

/** A driver batch from one batch of column views, in projectedColumns order. */
function kernelBatch(b: ColumnViews, columns: string[], file: string, kernel: LoadedKernel, withTs: boolean): KernelBatch {
  const col = (name: string) => b.columns[columns.indexOf(name)];
  const opt = col("opt_type");
  let optCodes: Int32Array;
  let optMap: Int32Array;
  if (opt.dictionary) {
    optCodes = typed(opt, Int32Array, file, "opt_type");
    // A batch can carry its own dictionary: map its codes to stable ones, never per row in JS.
    optMap = Int32Array.from(opt.dictionary.map(stableOptCode));
  } else if (opt.strings) {
    optCodes = Int32Array.from(opt.strings, stableOptCode);
    optMap = Int32Array.from([0, 1, 2]);
  } else {
    throw new StrategyInputError(`${file}: column opt_type has unsupported type ${describeFormat(opt.field)}`);
  }
  const ts = withTs ? numericValues(col("timestamp"), file, "timestamp") : null;
  const expiry = col("expiry");
  const strike = col("strike");
  return {
    length: b.length,
    expiry: typed(expiry, Int32Array, file, "expiry"),
    expiryValid: expiry.validity,
    opt: optCodes,
    optValid: opt.validity,
    optMap,
    strike: typed(strike, Float32Array, file, "strike"),
    strikeValid: strike.validity,
    // Each column in the type the kernel declared: as stored (a view), or converted once per batch.
    columns: kernel.columns.map((name, k) => {
      const c = col(name);
      const values = columnAs(numericValues(c, file, name), c.validity, kernel.columnTypes[k]);
      if (typeof values === "string") throw new StrategyInputError(`${file}: column ${name} (${describeFormat(c.field)}) does not fit the kernel's ${kernel.columnTypes[k]}: ${values}`);
      return { values, valid: c.validity };
    }),
    ts: ts instanceof BigInt64Array ? ts : null,
  };
}

/** opt_type's codes in a batch as the stable codes the cache keeps (CE=0, PE=1, other=2). */
function stableOptCodes(batch: KernelBatch): Int32Array {
  const out = new Int32Array(batch.length);
  const map = batch.optMap;
  for (let i = 0; i < batch.length; i++) out[i] = map[batch.opt[i]] ?? 2;
  return out;
}

/** How a partition run reads: through the column cache or not, and what to await before decoding Parquet. */
export interface ReadSettings {
  cache: CacheSettings | null;
  /** Resolves once parquet-wasm may be used (a warm run never waits for it). */
  beforeDecode?: () => Promise<void>;
}

/** Decodes one part through the kernel, writing the columns the cache lacks on the way. */
async function decodePart(path: string, fd: number, columns: string[], run: KernelRun, kernel: LoadedKernel, withTs: boolean, settings: ReadSettings, cache: PartCache | null): Promise<void> {
  await settings.beforeDecode?.();
  const source = await openParquetFile(path, fd).catch((e: Error) => {
    throw new StrategyInputError(`${path}: ${e.message}`);
  });
  try {
    const present = new Map(source.columns.map((f) => [f.name, f]));
    const missing = columns.filter((c) => !present.has(c));
    if (missing.length > 0) throw new StrategyInputError(`${path}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    cache?.startFill(columns.map((c) => present.get(c)!), source.numRows);
    for (let g = 0; g < source.rowGroupRows.length; g++) {
      await withColumnViews(source, columns, { rowGroups: [g] }, (batches) => {
        for (const b of batches) {
          const kb = kernelBatch(b, columns, path, kernel, withTs);
          run.run(kb);
          cache?.append(b, columns, () => stableOptCodes(kb));
        }
      });
    }
    cache?.commitFill();
  } catch (e) {
    cache?.abortFill();
    throw e;
  } finally {
    closeParquetFile(source);
  }
}

/**
 * Runs a partition's parts, in order, through the kernel as one sequence; returns the columns read.
 * The parts are opened together as one snapshot: a repack committing meanwhile is seen whole or not at all.
 * With a cache, a part whose columns are all cached is served from the cache files; any other part
 * is decoded and its missing columns are written to the cache on the way.
 */
export async function runPartition(parts: string[], run: KernelRun, kernel: LoadedKernel, withTs: boolean, settings: ReadSettings, stats: CacheStats): Promise<string[]> {
  const columns = projectedColumns(kernel, withTs);
  const snapshot = openPartitionSnapshot(parts);
  try {
    for (const { path, fd } of snapshot.parts) {
      const cache = settings.cache ? new PartCache(path, fd, settings.cache, columns, stats) : null;
      try {
        if (cache?.complete(columns)) run.run(kernelBatch(cache.views(columns), columns, path, kernel, withTs));
        else await decodePart(path, fd, columns, run, kernel, withTs, settings, cache);
      } finally {
        // The kernel keeps no pointer into a batch once it has run it (state and trades are copies).
        cache?.release();
      }
    }
  } finally {
    snapshot.close();
  }
  run.endPartition();
  return columns;
}
