/**
 * A partition as the chain driver streams it (kernel/chain-kernel.ts's ChainPartition): each part's
 * runs of one contract, found by the native key scan over the mapped key columns (no per-row
 * JavaScript), the contract table they make, sorted as the file is, and the filters' selection of
 * contracts. Rows with a null key take no part; neither do contracts the filters leave out.
 */
import type { ChainPart, ChainPartition } from "../../kernel/chain-kernel.ts";
import type { ColumnValues } from "../../kernel/kernel-batch.ts";
import { isValidAt } from "../parquet/c-data.ts";
import type { ColumnViews } from "../parquet/source.ts";
import { keyBatch } from "../read/driver-batch.ts";
import { StrategyInputError } from "../read/input-error.ts";
import { keyRunStarts } from "../read/key-scan.ts";
import type { SegmentSelector } from "../read/filters.ts";
import { OPT_OTHER } from "../packed/opt-type.ts";

/** A contract key: expiry (epoch days), stable opt_type code, strike. */
export interface ContractKey {
  expiry: number;
  opt: number;
  strike: number;
}

/** Orders contracts as the file sorts them (expiry, opt_type, strike; a NaN strike last). */
export function compareContracts(a: ContractKey, b: ContractKey): number {
  if (a.expiry !== b.expiry) return a.expiry - b.expiry;
  if (a.opt !== b.opt) return a.opt - b.opt;
  if (Number.isNaN(a.strike) || Number.isNaN(b.strike))
    return Number(Number.isNaN(a.strike)) - Number(Number.isNaN(b.strike));
  return a.strike - b.strike;
}

const keyText = (k: ContractKey) => `${k.expiry}|${k.opt}|${Number.isNaN(k.strike) ? "NaN" : k.strike}`;

/** What a partition stream holds beyond the driver's input: the rows it carries. */
export interface PartitionStream extends ChainPartition {
  /** Rows of the selected contracts (every row of the partition when nothing is filtered), null keys included only then. */
  rows: number;
}

/**
 * The stream of a partition whose parts' columns are `views` (each named by `columns`), for a
 * kernel reading `declared`; `sel` selects contracts (null: all). `openNs` is 09:15 IST of its day.
 * With `quotes`, each part carries its bp0 and sp0 for --fill touch.
 */
export function partitionStream(
  views: readonly ColumnViews[],
  columns: readonly string[],
  declared: readonly string[],
  paths: readonly string[],
  sel: SegmentSelector | null,
  openNs: bigint,
  quotes = false,
): PartitionStream {
  const at = (name: string) => columns.indexOf(name);
  const found: { part: number; start: number; end: number; key: ContractKey }[] = [];
  const parts: ChainPart[] = [];
  let rows = 0;
  views.forEach((v, q) => {
    const col = (name: string) => v.columns[at(name)];
    const numeric = (name: string): ColumnValues => {
      const values = col(name).values;
      if (!values) throw new StrategyInputError(`${paths[q]}: column ${name} is not numeric`);
      return values as ColumnValues;
    };
    const float64 = (values: (name: string) => ColumnValues, name: string, part: number) => {
      const v = values(name);
      if (!(v instanceof Float64Array)) throw new StrategyInputError(`${paths[part]}: column ${name} is not float64`);
      return { values: v, valid: col(name).validity };
    };
    const ts = numeric("timestamp");
    const price = numeric("price");
    if (!(ts instanceof BigInt64Array)) throw new StrategyInputError(`${paths[q]}: column timestamp is not int64`);
    if (!(price instanceof Float64Array)) throw new StrategyInputError(`${paths[q]}: column price is not float64`);
    parts.push({
      length: v.length,
      ts: { values: ts, valid: col("timestamp").validity },
      price: { values: price, valid: col("price").validity },
      columns: declared.map((name) => ({ values: numeric(name), valid: col(name).validity })),
      quotes: quotes ? { bid: float64(numeric, "bp0", q), ask: float64(numeric, "sp0", q) } : null,
    });
    const keys = keyBatch(v, columns, paths[q]);
    const starts = Array.from(keyRunStarts(keys));
    if (!sel) rows += v.length;
    for (let r = 0; r + 1 < starts.length; r++) {
      const i = starts[r];
      if (!isValidAt(keys.expiryValid, i) || !isValidAt(keys.optValid, i) || !isValidAt(keys.strikeValid, i)) continue;
      const key = { expiry: keys.expiry[i], opt: keys.optMap[keys.opt[i]] ?? OPT_OTHER, strike: keys.strike[i] };
      if (sel && !sel.selects(key.expiry, key.opt, key.strike)) continue;
      if (sel) rows += starts[r + 1] - i;
      found.push({ part: q, start: i, end: starts[r + 1], key });
    }
  });
  const byKey = new Map<string, ContractKey>();
  for (const f of found) if (!byKey.has(keyText(f.key))) byKey.set(keyText(f.key), f.key);
  const contracts = [...byKey.values()].sort(compareContracts);
  const index = new Map(contracts.map((c, i) => [keyText(c), i]));
  return {
    parts,
    runs: found.map((f) => ({ part: f.part, start: f.start, end: f.end, contract: index.get(keyText(f.key))! })),
    contracts,
    openNs,
    rows,
  };
}
