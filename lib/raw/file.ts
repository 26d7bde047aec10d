/** Reading raw per-contract files: the day index (pass 1) and one day's rows in packed form (pass 2). */
import * as arrow from "apache-arrow";
import { closeSync, openSync } from "node:fs";
import { fsReason } from "../error-message.ts";
import {
  ColumnTypeError,
  columnFromArrow,
  epochUnitOfChunks,
  EpochUnitError,
  isPlainInt64,
  type EpochUnit,
} from "../parquet/arrow-columns.ts";
import {
  concatBatches,
  constantColumn,
  nullColumn,
  takeBatch,
  type Column,
  type ColumnBatch,
} from "../parquet/column-batch.ts";
import type { ContractName } from "./contract-name.ts";
import { istDaysOfTimestamps, NULL_DAY, type EpochDays } from "../ist-time.ts";
import { RAW_COLUMNS, REQUIRED_RAW_COLUMNS } from "./schema.ts";
import { withRows, type ParquetSource } from "../parquet/io.ts";
import type { RowSelection } from "../parquet/source.ts";

/** A raw file that breaks docs/formats.md#raw-input (missing column, disagreeing name, bad opt_type …). */
export class RawFileError extends Error {}

/**
 * Throws RawFileError naming the reason (permission denied, …) when the file cannot be opened for
 * reading: parquet-wasm would report an unreadable file as a wasm trap ("Unreachable").
 */
export function checkReadable(path: string, open: (path: string, flags: string) => number = openSync): void {
  let fd: number;
  try {
    fd = open(path, "r");
  } catch (e) {
    throw new RawFileError(`cannot open for reading: ${fsReason(e)}`);
  }
  closeSync(fd);
}

/** A contract as repack knows it: its name plus the resolved expiry. */
export interface ResolvedContract extends ContractName {
  expiry: EpochDays;
}

/** Where one IST day's rows lie in a raw file. */
export interface DaySpan {
  day: EpochDays;
  rows: number;
  /** First and last file row (0-based) on that day; rows between may belong to other days. */
  firstRow: number;
  lastRow: number;
}

/** Units of the file's time columns stored as plain INT64 (told by magnitude in pass 1, used in pass 2). */
export type Int64TimeUnits = Partial<Record<"timestamp" | "lastTradeTime", EpochUnit>>;

/** Why a row is not packed (docs/formats.md#rejected-rows): no timestamp, an instant before 2000, or an IST day after its contract's expiry. */
export type RejectReason = "null_timestamp" | "before_2000" | "after_expiry";

/** Every reject reason, in the order summaries list them. */
export const REJECT_REASONS: readonly RejectReason[] = ["null_timestamp", "before_2000", "after_expiry"];

/** The first IST day a row may fall on: earlier instants are the feed's placeholders (epoch zero). */
export const FIRST_PLAUSIBLE_DAY: EpochDays = 10_957; // 2000-01-01

/** Which rows of a raw file fall on which IST days. */
export interface RawFileIndex {
  rows: number;
  /** Rows whose timestamp is null: they belong to no day and are not packed. */
  nullTimestamps: number;
  days: DaySpan[];
  int64Units: Int64TimeUnits;
  /** File rows (0-based, ascending) rejected, by reason; only reasons with rows appear. */
  rejected: Partial<Record<RejectReason, number[]>>;
}

/** The reject reason of a row on IST day `day` (NULL_DAY for a null timestamp) of a contract expiring on `expiry`, or null when it is packed. */
export function rejectReasonOf(day: EpochDays, expiry: EpochDays | undefined): RejectReason | null {
  if (day === NULL_DAY) return "null_timestamp";
  if (day < FIRST_PLAUSIBLE_DAY) return "before_2000";
  if (expiry !== undefined && day > expiry) return "after_expiry";
  return null;
}

const NAME_CHECKED = ["strike", "opt_type", "year", "month"];

function columnChunks(table: arrow.Table, name: string): readonly arrow.Data[] {
  return table.getChild(name)?.data ?? [];
}

/** Throws RawFileError when a non-null value of a name-derived column disagrees with the file name. */
/** Every raw column of `table` as a batch, a missing one as nulls; INT64 times in their file's `units`. */
function rawBatchOf(table: arrow.Table, present: ReadonlySet<string>, units: Int64TimeUnits): ColumnBatch {
  const columns = new Map<string, Column>();
  for (const spec of RAW_COLUMNS) {
    const unit = units[spec.name as keyof Int64TimeUnits] ?? "ns";
    columns.set(
      spec.name,
      present.has(spec.name)
        ? columnFromArrow(spec.name, columnChunks(table, spec.name), spec.kind, { int64Unit: unit })
        : nullColumn(spec.kind, table.numRows),
    );
  }
  return { length: table.numRows, columns };
}

function checkAgainstName(table: arrow.Table, contract: ContractName, firstRow: number): void {
  const names = new Set(table.schema.fields.map((f) => f.name));
  if (names.has("opt_type")) {
    const c = columnFromArrow("opt_type", columnChunks(table, "opt_type"), "dict");
    const dict = c.dictionary!;
    const codes = c.values as Int32Array;
    for (let i = 0; i < codes.length; i++) {
      if (c.valid && c.valid[i] === 0) continue;
      const v = dict[codes[i]];
      if (v !== "CE" && v !== "PE")
        throw new RawFileError(`unknown opt_type ${JSON.stringify(v)} at row ${firstRow + i} (expected CE or PE)`);
      if (v !== contract.optType)
        throw new RawFileError(
          `file name says opt_type ${contract.optType}, column opt_type says ${v} (row ${firstRow + i})`,
        );
    }
  }
  const numeric: [string, number, (v: number) => boolean][] = [
    ["strike", contract.strike, (v) => Math.abs(v - contract.strike) <= 1e-6 * Math.max(1, Math.abs(contract.strike))],
    ["year", contract.year, (v) => v === contract.year || v === contract.year - 2000],
    ["month", contract.month, (v) => v === contract.month],
  ];
  for (const [name, expected, agrees] of numeric) {
    if (!names.has(name)) continue;
    const c = columnFromArrow(name, columnChunks(table, name), "f64");
    const values = c.values as Float64Array;
    for (let i = 0; i < values.length; i++) {
      if (c.valid && c.valid[i] === 0) continue;
      if (!agrees(values[i]))
        throw new RawFileError(
          `file name says ${name} ${expected}, column ${name} says ${values[i]} (row ${firstRow + i})`,
        );
    }
  }
}

const TIME_COLUMNS = ["timestamp", "lastTradeTime"] as const;

/** Throws RawFileError when a present column's type cannot be packed as its kind (caught here, not after some of the file's days are packed). */
function checkColumnTypes(source: ParquetSource): void {
  const kinds = new Map(RAW_COLUMNS.map((c) => [c.name, c.kind]));
  for (const field of source.fields) {
    const kind = kinds.get(field.name);
    if (!kind) continue;
    const t = field.type;
    const ok =
      kind === "dict"
        ? arrow.DataType.isUtf8(t) ||
          arrow.DataType.isLargeUtf8(t) ||
          (arrow.DataType.isDictionary(t) &&
            (arrow.DataType.isUtf8(t.dictionary) || arrow.DataType.isLargeUtf8(t.dictionary)))
        : kind === "ts_ns"
          ? arrow.DataType.isTimestamp(t) || isPlainInt64(t)
          : arrow.DataType.isInt(t) || arrow.DataType.isFloat(t);
    if (!ok)
      throw new RawFileError(
        `column ${field.name}: expected ${kind === "dict" ? "strings" : kind === "ts_ns" ? "a timestamp or INT64 epoch" : "a number"}, found ${t}`,
      );
  }
}

/**
 * Pass 1: checks a raw file against its name and indexes the IST days of its rows, one row group at
 * a time; rows to reject (null or pre-2000 timestamp, a day after `contract.expiry` when given) are
 * listed by reason instead of being placed on a day.
 */
export async function indexRawFile(
  source: ParquetSource,
  contract: ContractName & { expiry?: EpochDays },
): Promise<RawFileIndex> {
  const present = new Set(source.fields.map((f) => f.name));
  const missing = REQUIRED_RAW_COLUMNS.filter((c) => !present.has(c));
  if (missing.length > 0)
    throw new RawFileError(`missing required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  checkColumnTypes(source);
  const int64Time = TIME_COLUMNS.filter((c) => source.fields.some((f) => f.name === c && isPlainInt64(f.type)));
  const spans = new Map<EpochDays, DaySpan>();
  const rejected: Partial<Record<RejectReason, number[]>> = {};
  let nullTimestamps = 0;
  let base = 0;
  try {
    // The unit of an INT64 time column is decided by the first nonzero values and checked on every
    // later row. A row group that decides nothing holds only 0 and nulls, which convert alike in any unit.
    const units: Int64TimeUnits = {};
    // lastTradeTime only when INT64: its unit is checked across the whole file too.
    const columns = [
      "timestamp",
      ...int64Time.filter((c) => c !== "timestamp"),
      ...NAME_CHECKED.filter((c) => present.has(c)),
    ];
    for (let g = 0; g < source.rowGroupRows.length; g++) {
      const days = await withRows(source, columns, { rowGroups: [g] }, (table) => {
        checkAgainstName(table, contract, base);
        for (const name of int64Time)
          units[name] = epochUnitOfChunks(name, columnChunks(table, name), units[name] ?? null, base) ?? undefined;
        const ts = columnFromArrow("timestamp", columnChunks(table, "timestamp"), "ts_ns", {
          int64Unit: units.timestamp ?? "ns",
        });
        return istDaysOfTimestamps(ts.values as BigInt64Array, ts.valid);
      });
      let span: DaySpan | undefined;
      for (let i = 0; i < days.length; i++) {
        const day = days[i];
        const reason = rejectReasonOf(day, contract.expiry);
        if (reason !== null) {
          if (reason === "null_timestamp") nullTimestamps++;
          (rejected[reason] ??= []).push(base + i);
          continue;
        }
        if (span?.day !== day) {
          span = spans.get(day);
          if (!span) spans.set(day, (span = { day, rows: 0, firstRow: base + i, lastRow: base + i }));
        }
        span.rows++;
        span.lastRow = base + i;
      }
      base += days.length;
    }
    return {
      rows: source.numRows,
      nullTimestamps,
      days: [...spans.values()].sort((a, b) => a.day - b.day),
      int64Units: units,
      rejected,
    };
  } catch (e) {
    if (e instanceof EpochUnitError || e instanceof ColumnTypeError) throw new RawFileError(e.message);
    throw e;
  }
}

/** The row groups and offset/limit that cover file rows [firstRow, lastRow]. */
export function selectionOf(rowGroupRows: number[], firstRow: number, lastRow: number): RowSelection {
  const rowGroups: number[] = [];
  let start = 0;
  let offset = 0;
  for (let g = 0; g < rowGroupRows.length; g++) {
    const end = start + rowGroupRows[g];
    if (end > firstRow && start <= lastRow) {
      if (rowGroups.length === 0) offset = firstRow - start;
      rowGroups.push(g);
    }
    start = end;
  }
  return { rowGroups, offset, limit: lastRow - firstRow + 1 };
}

/** Pass 2: the rows of one IST day of a raw file, in the packed schema (vol_delta left 0); `units` from pass 1. */
export async function readRawDay(
  source: ParquetSource,
  contract: ResolvedContract,
  span: DaySpan,
  units: Int64TimeUnits,
): Promise<ColumnBatch> {
  const present = new Set(source.fields.map((f) => f.name));
  const wanted = RAW_COLUMNS.filter((c) => present.has(c.name));
  const selection = selectionOf(source.rowGroupRows, span.firstRow, span.lastRow);
  const batch = await withRows(
    source,
    wanted.map((c) => c.name),
    selection,
    (table) => rawBatchOf(table, present, units),
  );
  const changeper = batch.columns.get("changeper")!.values as Float64Array;
  for (let i = 0; i < batch.length; i++) changeper[i] = Math.round(changeper[i] * 100) / 100;
  // The file name is the authority for the contract key (validated in pass 1): fill its nulls.
  fillNulls(batch.columns.get("opt_type")!, contract.optType);
  fillNulls(batch.columns.get("strike")!, contract.strike);

  let day = batch;
  if (span.rows !== batch.length) {
    // Other days' rows (out-of-order neighbours) inside the span are dropped here; a span of
    // exactly span.rows rows holds that day's rows only (pass 1 counted them).
    const ts = batch.columns.get("timestamp")!;
    const days = istDaysOfTimestamps(ts.values as BigInt64Array, ts.valid);
    const keep = new Int32Array(span.rows);
    let k = 0;
    for (let i = 0; i < days.length; i++) if (days[i] === span.day) keep[k++] = i;
    day = takeBatch(batch, keep.subarray(0, k));
  }
  const n = day.length;
  const monthly = contract.expiryType === "monthly";
  day.columns.set("date", constantColumn("date32", n, span.day));
  day.columns.set("underlying", constantColumn("dict", n, contract.underlying));
  day.columns.set("expiry", constantColumn("date32", n, contract.expiry));
  day.columns.set("expiry_type", constantColumn("dict", n, contract.expiryType));
  day.columns.set("is_monthly", constantColumn("bool", n, monthly ? 1 : 0));
  day.columns.set("is_weekly", constantColumn("bool", n, monthly ? 0 : 1));
  day.columns.set("vol_delta", constantColumn("i64", n, 0n));
  return day;
}

/** Writes `value` under every null of a column and marks those rows valid. */
function fillNulls(col: Column, value: string | number): void {
  if (!col.valid) return;
  let code = 0;
  if (col.kind === "dict") {
    code = col.dictionary!.indexOf(value as string);
    if (code < 0) code = col.dictionary!.push(value as string) - 1;
  }
  const v = col.values as Int32Array | Float32Array;
  for (let i = 0; i < col.valid.length; i++) {
    if (col.valid[i] === 0) {
      v[i] = col.kind === "dict" ? code : (value as number);
      col.valid[i] = 1;
    }
  }
  col.valid = null;
}

/**
 * Rejected rows of a raw file (from pass 1), in file order, as the raw columns in their packed kinds
 * (nothing filled from the name: they are kept as delivered) plus `reason`. Decodes only the row
 * groups that hold them, one at a time.
 */
export async function readRejectedRows(
  source: ParquetSource,
  rejected: RawFileIndex["rejected"],
  units: Int64TimeUnits,
): Promise<ColumnBatch> {
  const rows: { row: number; reason: number }[] = [];
  REJECT_REASONS.forEach((r, code) => {
    for (const row of rejected[r] ?? []) rows.push({ row, reason: code });
  });
  rows.sort((a, b) => a.row - b.row);
  const present = new Set(source.fields.map((f) => f.name));
  const wanted = RAW_COLUMNS.filter((c) => present.has(c.name)).map((c) => c.name);
  const pieces: ColumnBatch[] = [];
  let groupStart = 0;
  let k = 0;
  for (let g = 0; g < source.rowGroupRows.length && k < rows.length; g++) {
    const groupEnd = groupStart + source.rowGroupRows[g];
    const local: number[] = [];
    const reasons: number[] = [];
    for (; k < rows.length && rows[k].row < groupEnd; k++) {
      local.push(rows[k].row - groupStart);
      reasons.push(rows[k].reason);
    }
    if (local.length > 0) {
      const picked = await withRows(source, wanted, { rowGroups: [g] }, (table) =>
        takeBatch(rawBatchOf(table, present, units), Int32Array.from(local)),
      );
      picked.columns.set("reason", {
        kind: "dict",
        values: Int32Array.from(reasons),
        valid: null,
        dictionary: [...REJECT_REASONS],
      });
      pieces.push(picked);
    }
    groupStart = groupEnd;
  }
  const kinds = new Map([...RAW_COLUMNS.map((c) => [c.name, c.kind] as const), ["reason", "dict" as const]]);
  return concatBatches(kinds, pieces);
}
