/**
 * The contract part of the packed sort order, (expiry, opt_type, strike): packed files are
 * contract-major, raw files hold one contract each, so a partition can be built contract by contract.
 * Nulls sort first (as mergePartition sorts them).
 */
import type { ColumnBatch } from "../parquet/column-batch.ts";
import type { EpochDays } from "../ist-time.ts";

/** A contract's sort key; -Infinity stands for a null expiry or strike, "" for a null opt_type. */
export interface ContractKey {
  expiry: EpochDays;
  optType: string;
  /** Strike as packed (float32). */
  strike: number;
}

/** CE sorts before PE; anything else after both, by string; a null first. */
function optTypeRank(s: string): number {
  return s === "" ? -1 : s === "CE" ? 0 : s === "PE" ? 1 : 2;
}

/** Orders contract keys as packed files are sorted. */
export function compareContractKeys(a: ContractKey, b: ContractKey): number {
  return (
    a.expiry - b.expiry ||
    optTypeRank(a.optType) - optTypeRank(b.optType) ||
    (a.optType < b.optType ? -1 : a.optType > b.optType ? 1 : 0) ||
    a.strike - b.strike
  );
}

/** The key of a raw file's contract, as its rows are packed (strike narrowed to float32). */
export function contractKeyOf(contract: { expiry: EpochDays; optType: string; strike: number }): ContractKey {
  return { expiry: contract.expiry, optType: contract.optType, strike: Math.fround(contract.strike) };
}

/** Reads row keys of a batch with packed `expiry`, `opt_type` and `strike` columns. */
export function rowKeyReader(batch: ColumnBatch): { key(i: number): ContractKey; same(i: number, j: number): boolean } {
  const e = batch.columns.get("expiry")!;
  const o = batch.columns.get("opt_type")!;
  const k = batch.columns.get("strike")!;
  const ev = e.values as Int32Array;
  const ov = o.values as Int32Array;
  const kv = k.values as Float32Array;
  const dict = o.dictionary ?? [];
  const expiry = (i: number) => (e.valid && e.valid[i] === 0 ? -Infinity : ev[i]);
  const opt = (i: number) => (o.valid && o.valid[i] === 0 ? "" : dict[ov[i]]);
  const strike = (i: number) => (k.valid && k.valid[i] === 0 ? -Infinity : kv[i]);
  return {
    key: (i) => ({ expiry: expiry(i), optType: opt(i), strike: strike(i) }),
    same: (i, j) => expiry(i) === expiry(j) && strike(i) === strike(j) && opt(i) === opt(j),
  };
}
