/**
 * The contract part of the packed sort order, (expiry, opt_type, strike): packed files are
 * contract-major, raw files hold one contract each, so a partition can be built contract by contract.
 * The one definition of that order: merges sort by it, checks (sort-order.ts) test against it. Nulls
 * sort first, a NaN strike last.
 */
import type { ColumnBatch } from "../parquet/column-batch.ts";
import type { EpochDays } from "../ist-time.ts";
import { stableOptCode } from "./opt-type.ts";
import { storedStrike } from "./strike.ts";

/** A contract's sort key; -Infinity stands for a null expiry or strike, "" for a null opt_type. */
export interface ContractKey {
  expiry: EpochDays;
  optType: string;
  /** Strike as packed (float32). */
  strike: number;
}

/** opt_type's rank: a null first, then its stable code (CE, PE, anything else after both). */
function optTypeRank(s: string): number {
  return s === "" ? -1 : stableOptCode(s);
}

/** Ascending, -Infinity (a null) first, NaN last and equal to itself: a total order, so sorts and checks agree. */
function compareKeyNumbers(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  const xNaN = Number.isNaN(x);
  return xNaN === Number.isNaN(y) ? 0 : xNaN ? 1 : -1;
}

/** A contract key whose nulls may also be null (as sort-order.ts reads rows). */
export interface NullableContractKey {
  expiry: number | null;
  optType: string | null;
  strike: number | null;
}

/** Orders contract keys as packed files are sorted (opt_types of one rank by string). */
export function compareContractKeys(a: NullableContractKey, b: NullableContractKey): number {
  const ao = a.optType ?? "";
  const bo = b.optType ?? "";
  return (
    compareKeyNumbers(a.expiry ?? -Infinity, b.expiry ?? -Infinity) ||
    optTypeRank(ao) - optTypeRank(bo) ||
    (ao < bo ? -1 : ao > bo ? 1 : 0) ||
    compareKeyNumbers(a.strike ?? -Infinity, b.strike ?? -Infinity)
  );
}

/** The key of a raw file's contract, as its rows are packed (strike narrowed to float32). */
export function contractKeyOf(contract: { expiry: EpochDays; optType: string; strike: number }): ContractKey {
  return { expiry: contract.expiry, optType: contract.optType, strike: storedStrike(contract.strike) };
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
