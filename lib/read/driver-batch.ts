/**
 * The driver's batches built from column views: the segment key (expiry, opt_type, strike) and a
 * kernel's declared columns, each a view where stored in the type the kernel asks for, else
 * converted once per batch. No apache-arrow here: the views are C Data Interface structs read
 * directly (lib/parquet/c-data.ts), which spares every worker the import (~31 ms) and every batch
 * its Arrow objects.
 */
import { asFloat64, columnAs, QUOTE_COLUMNS, type KernelBatch } from "../../kernel/kernel-batch.ts";
import type { LoadedKernel } from "../../kernel/strategy-kernel.ts";
import type { KeyRunColumns } from "./key-scan.ts";
import { type CColumn, type CField, type CValues, expandCodes } from "../parquet/c-data.ts";
import type { CodeRuns } from "../parquet/native/code-runs.ts";
import { OPT_OTHER, stableOptCode } from "../packed/opt-type.ts";
import { StrategyInputError } from "./input-error.ts";
import type { ColumnViews } from "./part-source.ts";

/** Columns the driver reads for every kernel: the segment key. */
export const KEY_COLUMNS = ["expiry", "opt_type", "strike"] as const;

/** What a run reads beyond the key and the kernel's columns: trade times (a trade log, the report), quotes (--fill touch). */
export interface ReadExtras {
  ts: boolean;
  quotes: boolean;
}

/** Columns read for a kernel, in read order (the projection a source is asked for). */
export function projectedColumns(kernel: LoadedKernel, extras: ReadExtras): string[] {
  const cols: string[] = [...KEY_COLUMNS];
  const more = [...kernel.columns, ...(extras.ts ? ["timestamp"] : []), ...(extras.quotes ? QUOTE_COLUMNS : [])];
  for (const c of more) if (!cols.includes(c)) cols.push(c);
  return cols;
}

/** A numeric column's values as stored (a view, no copy); dictionary codes and bits are not the numbers. */
function numericValues(c: CColumn, file: string, name: string): CValues {
  if (c.values && c.field.dictionaryFormat === null) return c.values;
  throw new StrategyInputError(`${file}: column ${name} has unsupported type ${describeFormat(c.field)}`);
}

const describeFormat = (f: CField) =>
  f.dictionaryFormat === null ? `format ${f.format}` : `dictionary<${f.format}, ${f.dictionaryFormat}>`;

/** A column's values as `Ctor` (a view when stored so, else converted). */
export function typedValues<T extends Int32Array | Float32Array>(
  c: CColumn,
  Ctor: { new (n: number): T; name: string },
  file: string,
  name: string,
): T {
  const v = c.values;
  if (!v) throw new StrategyInputError(`${file}: column ${name} has unsupported type ${describeFormat(c.field)}`);
  if (v.constructor === Ctor) return v as T;
  const out = new Ctor(c.length);
  for (let i = 0; i < c.length; i++) out[i] = Number(v[i]);
  return out;
}

/** The segment key of one batch of column views (`columns` names the views, in order). */
export function keyBatch(b: ColumnViews, columns: readonly string[], file: string): KeyRunColumns {
  const col = (name: string) => b.columns[columns.indexOf(name)];
  const opt = col("opt_type");
  let optCodes: Int32Array;
  let optMap: Int32Array;
  if (opt.dictionary) {
    optCodes = typedValues(opt, Int32Array, file, "opt_type");
    // A batch can carry its own dictionary: map its codes to stable ones, never per row in JS.
    optMap = Int32Array.from(opt.dictionary.map(stableOptCode));
  } else if (opt.strings) {
    optCodes = Int32Array.from(opt.strings, stableOptCode);
    optMap = Int32Array.from([0, 1, 2]);
  } else {
    throw new StrategyInputError(`${file}: column opt_type has unsupported type ${describeFormat(opt.field)}`);
  }
  const expiry = col("expiry");
  const strike = col("strike");
  return {
    length: b.length,
    expiry: typedValues(expiry, Int32Array, file, "expiry"),
    expiryValid: expiry.validity,
    opt: optCodes,
    optValid: opt.validity,
    optMap,
    strike: typedValues(strike, Float32Array, file, "strike"),
    strikeValid: strike.validity,
  };
}

/** Whose batches are built: the part's file (for errors), the kernel and what the run reads beyond it. */
export interface BatchTarget {
  file: string;
  kernel: LoadedKernel;
  extras: ReadExtras;
}

/** A driver batch (the segment key, the kernel's columns, timestamps and quotes where the run reads them) from one batch of column views, in projectedColumns order. */
export function kernelBatch(
  b: ColumnViews,
  columns: readonly string[],
  { file, kernel, extras }: BatchTarget,
): KernelBatch {
  const keys = keyBatch(b, columns, file);
  const col = (name: string) => b.columns[columns.indexOf(name)];
  const ts = extras.ts ? timestamps(col("timestamp"), file) : null;
  // Quotes as float64: a view where stored so (packed files), else converted once per batch.
  const quote = (name: string) => asFloat64(numericValues(col(name), file, name) as Parameters<typeof asFloat64>[0]);
  const quotes = extras.quotes
    ? { bid: quote("bp0"), bidValid: col("bp0").validity, ask: quote("sp0"), askValid: col("sp0").validity }
    : null;
  return {
    ...keys,
    // Each column in the type the kernel declared: as stored (a view), or converted once per batch.
    columns: kernel.columns.map((name, k) => {
      const c = col(name);
      const values = columnAs(numericValues(c, file, name), c.validity, kernel.columnTypes[k]);
      if (typeof values === "string")
        throw new StrategyInputError(
          `${file}: column ${name} (${describeFormat(c.field)}) does not fit the kernel's ${kernel.columnTypes[k]}: ${values}`,
        );
      return { values, valid: c.validity };
    }),
    ts: ts?.values instanceof BigInt64Array ? ts.values : null,
    tsCodes: ts?.codes ?? null,
    tsRuns: ts?.runs ?? null,
    quotes,
  };
}

/**
 * A batch's timestamps: as runs of codes or codes into their values where read so and null-free (the
 * driver looks them up at trades only), else the values.
 */
function timestamps(
  c: CColumn,
  file: string,
): { values: CValues | null; codes: Int32Array | null; runs: CodeRuns | null } {
  if (c.validity === null) {
    if (c.codeRuns?.valueBytes === 8) return { values: null, codes: null, runs: c.codeRuns };
    if (c.codeValues instanceof BigInt64Array && c.values instanceof Int32Array)
      return { values: c.codeValues, codes: c.values, runs: null };
  }
  return { values: numericValues(expandCodes(c), file, "timestamp"), codes: null, runs: null };
}

/** opt_type's codes in a batch as the stable codes the cache keeps. */
export function stableOptCodes(batch: KeyRunColumns): Int32Array {
  const out = new Int32Array(batch.length);
  const map = batch.optMap;
  for (let i = 0; i < batch.length; i++) out[i] = map[batch.opt[i]] ?? OPT_OTHER;
  return out;
}
