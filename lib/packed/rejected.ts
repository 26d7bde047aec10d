/**
 * Rows repack does not pack (docs/formats.md#rejected-rows) kept under `<out>/_tickpack/rejected/`:
 * one Parquet file per raw input, named by the input's path, so that a rerun that reads the input
 * again (after a crash before the manifest was written, or a changed file) replaces that file instead
 * of adding a second copy: packed + rejected + exact duplicates = input stays true on disk.
 *
 * The files are named `*.rejected`, not `*.parquet`: the globs users read the packed layout with
 * (three levels of `*` ending in `.parquet`, or `**` then `*.parquet`) would reach them and fail on
 * their schema.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { fsyncDir, writeFileAtomic } from "../atomic-file.ts";
import type { ColumnBatch, ColumnSpec } from "../parquet/column-batch.ts";
import { constantColumn } from "../parquet/column-batch.ts";
import { encodeParquet } from "../parquet/io.ts";
import { hashString } from "../random.ts";
import { RAW_COLUMNS } from "../raw/schema.ts";
import { STATE_DIR } from "./layout.ts";
import { TICKPACK_VERSION } from "./schema.ts";

/** Columns of a rejected-rows file: the raw columns (packed kinds, values as delivered), the input's path and the reason. */
export const REJECTED_COLUMNS: readonly ColumnSpec[] = [
  ...RAW_COLUMNS,
  { name: "source_file", kind: "dict" },
  { name: "reason", kind: "dict" },
];

/** Name ending of a rejected-row file (Parquet inside). */
export const REJECTED_SUFFIX = ".rejected";

/** The folder of rejected-row files under an output root. */
export function rejectedDir(out: string): string {
  return join(out, STATE_DIR, "rejected");
}

/** The rejected-row file of one raw input: its base name plus a hash of its whole path (two folders may hold the same name). */
export function rejectedFileFor(out: string, inputPath: string): string {
  const stem = basename(inputPath)
    .replace(/\.parquet$/i, "")
    .replace(/[^A-Za-z0-9&._-]/g, "_");
  return join(rejectedDir(out), `${stem}-${hashString(inputPath).toString(16).padStart(8, "0")}${REJECTED_SUFFIX}`);
}

/**
 * Renames the rejected-row files of an output written by an earlier tickpack (`<name>.parquet`, the
 * same name otherwise) to `<name>.rejected`, so that the globs stop reaching them and a rerun that
 * reads their input again replaces them; returns how many. Run under the output's lock.
 */
export function renameParquetNamedRejectedFiles(out: string): number {
  const dir = rejectedDir(out);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const old = names.filter((n) => !n.startsWith(".") && /\.parquet$/i.test(n));
  // Only an earlier tickpack writes the old name, so an old file is never older than a new one beside it.
  for (const n of old) renameSync(join(dir, n), join(dir, n.replace(/\.parquet$/i, REJECTED_SUFFIX)));
  if (old.length > 0) fsyncDir(dir);
  return old.length;
}

/** Writes (atomically, replacing an earlier version) the rejected rows of `inputPath`: raw columns plus `reason`, as read by readRejectedRows. */
export function writeRejectedRows(out: string, inputPath: string, rows: ColumnBatch): { path: string; bytes: number } {
  mkdirSync(rejectedDir(out), { recursive: true });
  rows.columns.set("source_file", constantColumn("dict", rows.length, inputPath));
  const bytes = encodeParquet([rows], REJECTED_COLUMNS, {
    rowGroupSize: Math.max(1, rows.length),
    metadata: new Map([
      ["tickpack.version", TICKPACK_VERSION],
      ["tickpack.rejected_rows", String(rows.length)],
    ]),
  });
  const path = rejectedFileFor(out, inputPath);
  writeFileAtomic(path, bytes);
  return { path, bytes: bytes.length };
}

/** Removes an input's rejected-row file left by an earlier version of it that had rejects (the new version has none). */
export function removeRejectedRows(out: string, inputPath: string): void {
  const path = rejectedFileFor(out, inputPath);
  if (!existsSync(path)) return;
  rmSync(path, { force: true });
  fsyncDir(rejectedDir(out));
}
