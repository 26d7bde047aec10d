/**
 * Checking packed partitions against docs/formats.md: readable, required columns, sort order (opt_type
 * compared by its string, never its dictionary code), row-group size, statistics, ZSTD, footer
 * metadata, rows of the folder's date and underlying. Decodes every column of every row group, one
 * row group at a time, so a corrupt page anywhere is found here and not by a later merge.
 */
import * as arrow from "apache-arrow";
import { columnFromArrow } from "../parquet/arrow-columns.ts";
import type { Column, ColumnBatch } from "../parquet/column-batch.ts";
import { formatEpochDays, istDaysOfTimestamps, NULL_DAY, parseIsoDate, type EpochDays } from "../ist-time.ts";
import { extraColumnsOf } from "./reader.ts";
import type { PackedPartition } from "./layout.ts";
import { readColumnChunkFacts } from "../parquet/footer.ts";
import { openPartitionSnapshot } from "./snapshot.ts";
import { PACKED_COLUMNS, PACKED_KINDS, PACKED_SORT_ORDER, PACKED_UNCOMPRESSED_COLUMNS } from "./schema.ts";
import { closeParquet, compressionCodecs, openParquet, withRows, type ParquetSource } from "../parquet/io.ts";
import { comparePackedKeys, sortKeyAt, type PackedSortKey } from "./sort-order.ts";

/** One thing wrong with one file. */
export interface FileIssue {
  file: string;
  problem: string;
  /** A rewrite can fix it (every row kept). */
  fixable: boolean;
}

/** The verdict on one partition. */
export interface PartitionCheck {
  partition: PackedPartition;
  rows: number;
  issues: FileIssue[];
}

/** Columns without which a file cannot be repaired. */
export const REQUIRED_PACKED_COLUMNS = ["timestamp", "expiry", "opt_type", "strike", "price", "volume", "bp0", "sp0"];

function formatKey(k: PackedSortKey): string {
  return `(expiry ${k.expiry}, ${k.optType}, strike ${k.strike}, ts ${k.timestamp})`;
}

/** Footer-level checks of one open file. */
function footerIssues(path: string, source: ParquetSource, rowGroupLimit: number): FileIssue[] {
  const issues: FileIssue[] = [];
  const names = new Set(source.fields.map((f) => f.name));
  const missingRequired = REQUIRED_PACKED_COLUMNS.filter((c) => !names.has(c));
  if (missingRequired.length)
    issues.push({ file: path, problem: `missing required columns ${missingRequired.join(", ")}`, fixable: false });
  const missing = PACKED_COLUMNS.map((c) => c.name).filter((c) => !names.has(c) && !missingRequired.includes(c));
  if (missing.length) issues.push({ file: path, problem: `missing columns ${missing.join(", ")}`, fixable: true });
  const ts = source.fields.find((f) => f.name === "timestamp");
  if (ts && !(arrow.DataType.isTimestamp(ts.type) && ts.type.unit === arrow.TimeUnit.NANOSECOND && ts.type.timezone)) {
    issues.push({ file: path, problem: `timestamp is ${ts.type}, not Timestamp(ns, UTC)`, fixable: true });
  }
  const big = source.rowGroupRows.findIndex((r) => r > rowGroupLimit);
  if (big >= 0)
    issues.push({
      file: path,
      problem: `row group ${big} has ${source.rowGroupRows[big]} rows (limit ${rowGroupLimit})`,
      fixable: true,
    });
  // Columns that packed files store uncompressed may also be ZSTD: files written before that choice stay valid.
  const wrongCodecs = new Set<string>();
  for (const [column, codecs] of compressionCodecs(source))
    for (const c of codecs)
      if (c !== "ZSTD" && !(c === "UNCOMPRESSED" && PACKED_UNCOMPRESSED_COLUMNS.includes(column))) wrongCodecs.add(c);
  if (wrongCodecs.size)
    issues.push({ file: path, problem: `compression ${[...wrongCodecs].join("/")}, not ZSTD`, fixable: true });
  const facts = readColumnChunkFacts(path, source.fd ?? undefined);
  const noStats = facts.flatMap((rg, g) => rg.filter((c) => !c.hasStatistics).map((c) => `${c.path} (row group ${g})`));
  if (noStats.length)
    issues.push({
      file: path,
      problem: `no statistics for ${noStats.slice(0, 3).join(", ")}${noStats.length > 3 ? ` and ${noStats.length - 3} more` : ""}`,
      fixable: true,
    });
  if (source.keyValueMetadata.get("tickpack.sort") !== PACKED_SORT_ORDER)
    issues.push({ file: path, problem: "footer metadata tickpack.sort missing", fixable: true });
  return issues;
}

/** The IST day a folder's date names, or NaN when it names none (every dated row then differs from it). */
function folderDay(date: string): EpochDays {
  try {
    return parseIsoDate(date);
  } catch {
    return NaN;
  }
}

/** Where a row lies that does not belong to the partition's folder, or null. Compares day numbers and dictionary codes: it runs on every row. */
function misplacedRow(batch: ColumnBatch, partition: PackedPartition, firstRow: number): string | null {
  const date = batch.columns.get("date");
  const underlying = batch.columns.get("underlying");
  const ts = batch.columns.get("timestamp")!;
  const days = istDaysOfTimestamps(ts.values as BigInt64Array, ts.valid);
  const wantDay = partition.date === null ? null : folderDay(partition.date);
  const dates = date?.values as Int32Array | undefined;
  const codes = underlying?.values as Int32Array | undefined;
  const names = underlying?.dictionary ?? [];
  const wantCode = partition.underlying === null ? -1 : names.indexOf(partition.underlying);
  for (let i = 0; i < batch.length; i++) {
    if (wantDay !== null) {
      if (dates && (date!.valid === null || date!.valid[i] === 1) && dates[i] !== wantDay)
        return `row ${firstRow + i} has date ${formatEpochDays(dates[i])}`;
      if (days[i] !== NULL_DAY && days[i] !== wantDay)
        return `row ${firstRow + i} has a timestamp on IST day ${formatEpochDays(days[i])}`;
    }
    if (
      partition.underlying !== null &&
      codes &&
      (underlying!.valid === null || underlying!.valid[i] === 1) &&
      codes[i] !== wantCode &&
      names[codes[i]] !== partition.underlying
    ) {
      return `row ${firstRow + i} has underlying ${names[codes[i]]}`;
    }
  }
  return null;
}

/** Checks a partition's parts as one sequence; never modifies anything. */
export async function checkPartition(partition: PackedPartition, rowGroupLimit: number): Promise<PartitionCheck> {
  const issues: FileIssue[] = [];
  let rows = 0;
  let prev: PackedSortKey | null = null;
  let unsorted = false;
  const folder = `${partition.date ?? "?"}/${partition.underlying ?? "?"}`;
  // Parts holding columns tickpack does not write: a rewrite would drop them.
  const extras = new Map<string, string[]>();
  // One version of every part, even while a repack commits into the partition.
  const snapshot = openPartitionSnapshot(partition.parts);
  try {
    for (const { path, fd } of snapshot.parts) {
      let source: ParquetSource;
      try {
        source = await openParquet(path, fd);
      } catch (e) {
        issues.push({ file: path, problem: `cannot be read: ${(e as Error).message}`, fixable: false });
        continue;
      }
      try {
        const fileIssues = footerIssues(path, source, rowGroupLimit);
        issues.push(...fileIssues);
        if (fileIssues.some((i) => !i.fixable)) continue;
        const extra = extraColumnsOf(source);
        if (extra.length) extras.set(path, extra);
        for (const key of ["date", "underlying"] as const) {
          const meta = source.keyValueMetadata.get(`tickpack.${key}`);
          const want = partition[key];
          if (meta !== undefined && want !== null && meta !== want)
            issues.push({
              file: path,
              problem: `belongs to another partition: footer metadata says ${key} ${meta}, the folder is ${folder}`,
              fixable: false,
            });
        }
        const known = source.fields.map((f) => f.name).filter((n) => PACKED_KINDS.has(n));
        let row = 0;
        let misplaced: string | null = null;
        for (let g = 0; g < source.rowGroupRows.length; g++) {
          // Every column is decoded (extra ones too) and converted as a merge would convert it.
          const batch = await withRows(
            source,
            source.fields.map((f) => f.name),
            { rowGroups: [g] },
            (t): ColumnBatch => {
              const columns = new Map<string, Column>();
              for (const name of known)
                columns.set(name, columnFromArrow(name, t.getChild(name)!.data, PACKED_KINDS.get(name)!));
              return { length: t.numRows, columns };
            },
          );
          for (let i = 0; i < batch.length && !unsorted; i++) {
            const cur = sortKeyAt(batch, i);
            if (prev && comparePackedKeys(prev, cur) > 0) {
              unsorted = true;
              issues.push({
                file: path,
                problem: `not sorted: row ${row + i} ${formatKey(cur)} sorts before the row above it ${formatKey(prev)}`,
                fixable: true,
              });
            }
            prev = cur;
          }
          misplaced ??= misplacedRow(batch, partition, row);
          row += batch.length;
        }
        if (misplaced !== null)
          issues.push({
            file: path,
            problem: `belongs to another partition: ${misplaced}, the folder is ${folder}`,
            fixable: false,
          });
        rows += source.numRows;
      } catch (e) {
        issues.push({ file: path, problem: `cannot be read: ${(e as Error).message}`, fixable: false });
      } finally {
        closeParquet(source);
      }
    }
  } finally {
    snapshot.close();
  }
  // A sorted part with extra columns is fine to read; one that needs a rewrite is left as it is.
  if (extras.size > 0 && issues.some((i) => i.fixable)) {
    for (const [file, cols] of extras)
      issues.push({
        file,
        problem: `needs a rewrite, but has columns tickpack does not write (${cols.join(", ")}) that a rewrite would drop: left as it is`,
        fixable: false,
      });
  }
  return { partition, rows, issues };
}
