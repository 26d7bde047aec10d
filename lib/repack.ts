/**
 * `repack`: raw per-contract files → sorted date/underlying partitions (SPEC §3).
 * Pass 1 indexes which IST days each raw row group covers (timestamp + name-checked columns only);
 * pass 2 builds each partition from just those row groups, merged with what is already packed.
 * Memory is bounded by one partition per worker, never by the data set.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CalendarError, parseExpiryCalendar, resolveExpiry, type ExpiryCalendar } from "./calendar.ts";
import { parseContractName } from "./contract-name.ts";
import { formatEpochDays, type EpochDays } from "./ist-time.ts";
import { isConsumed, readManifest, writeManifest } from "./manifest.ts";
import { listPartFiles, partitionDir, STATE_DIR, type Layout } from "./packed-layout.ts";
import { recoverInterruptedWrites } from "./partition-writer.ts";
import type { ProgressListener } from "./progress.ts";
import type { RawFileIndex, ResolvedContract } from "./raw-file.ts";
import { listRawInputs, type RawInput } from "./raw-inputs.ts";
import type { IndexTask, PackResult, PackTask, PartitionSourcePlan } from "./repack-tasks.ts";
import { acquireLock } from "./run-lock.ts";
import { WorkerCrashError, WorkerPool } from "./worker-pool.ts";
import { errorMessage } from "./error-message.ts";

/** Options of a repack run. */
export interface RepackOptions {
  rawDirs: string[];
  out: string;
  /** Defaults to `expiry_calendar.csv` in the first raw folder. */
  calendarPath?: string;
  workers: number;
  /** Defaults to the layout already in `out`, else `seed`. */
  layout?: Layout;
  rowGroupSize: number;
  partRows: number;
}

/** One input that failed, and why. */
export interface FileError {
  file: string;
  error: string;
}

/** What a repack run did (the SPEC §5 JSON fields plus a few). */
export interface RepackSummary {
  files_in: number;
  files_skipped: number;
  files_failed: number;
  rows_in: number;
  rows_out: number;
  duplicates_dropped: number;
  rows_without_timestamp: number;
  partitions_written: number;
  bytes_in: number;
  bytes_out: number;
  elapsed_s: number;
  rows_per_s: number;
  layout: Layout;
  interrupted_writes_finished: number;
  errors: FileError[];
}

/** A problem with the command's inputs that stops the run before it starts (exit 2). */
export class RepackUsageError extends Error {}

/** A condition that stops the run before it starts (exit 1): lock held, output not writable. */
export class RepackFatalError extends Error {}

/** Default rows per part file: keeps a worker's wasm memory under ~2 GiB while writing. */
export const DEFAULT_PART_ROWS = 2_000_000;


/** The layout of partitions already under `out`, if any. */
function existingLayout(out: string): Layout | null {
  const names = readdirSync(out);
  if (names.some((n) => n.startsWith("date="))) return "hive";
  if (names.some((n) => /^\d{4}-\d{2}-\d{2}$/.test(n))) return "seed";
  return null;
}

function loadCalendar(path: string): ExpiryCalendar {
  if (!existsSync(path)) throw new RepackUsageError(`${path}: expiry calendar not found (pass --calendar)`);
  try {
    return parseExpiryCalendar(readFileSync(path, "utf8"), path);
  } catch (e) {
    if (e instanceof CalendarError) throw new RepackUsageError(e.message);
    throw new RepackUsageError(`${path}: ${errorMessage(e)}`);
  }
}

function prepareOutput(out: string): void {
  try {
    mkdirSync(join(out, STATE_DIR), { recursive: true });
  } catch (e) {
    throw new RepackFatalError(`${out}: output folder is not writable (${errorMessage(e)})`);
  }
}

interface IndexedInput {
  input: RawInput;
  contract: ResolvedContract;
  index: RawFileIndex;
}

interface PartitionPlan {
  day: EpochDays;
  underlying: string;
  sources: PartitionSourcePlan[];
}

/** Runs repack; throws RepackUsageError / RepackFatalError before doing anything when it cannot start. */
export async function repack(options: RepackOptions, onProgress?: ProgressListener): Promise<RepackSummary> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  for (const dir of options.rawDirs) {
    if (!existsSync(dir)) throw new RepackUsageError(`${dir}: raw folder does not exist`);
    if (!statSync(dir).isDirectory()) throw new RepackUsageError(`${dir}: not a folder`);
  }
  const calendar = loadCalendar(options.calendarPath ?? join(options.rawDirs[0], "expiry_calendar.csv"));
  prepareOutput(options.out);
  const found = existingLayout(options.out);
  if (options.layout && found && options.layout !== found) {
    throw new RepackUsageError(`${options.out}: holds ${found}-layout partitions; repacking into it with --layout ${options.layout} would split partitions`);
  }
  const layout = options.layout ?? found ?? "seed";
  let release: () => void;
  try {
    release = acquireLock(join(options.out, STATE_DIR, "lock"));
  } catch (e) {
    throw new RepackFatalError(errorMessage(e));
  }
  const pool = new WorkerPool<IndexTask | PackTask, unknown>(new URL("./worker-entry.ts", import.meta.url).href, options.workers);
  try {
    const finished = recoverInterruptedWrites(options.out);
    const manifestPath = join(options.out, STATE_DIR, "manifest.json");
    const manifest = readManifest(manifestPath);
    const inputs = listRawInputs(options.rawDirs, options.out);
    const fresh = inputs.filter((f) => !isConsumed(manifest, f.path, f));
    const errors = new Map<string, string>();
    const fail = (file: string, error: string) => {
      if (!errors.has(file)) errors.set(file, error);
    };

    // Names and the calendar first: no need to open a file whose contract cannot be placed.
    const named: { input: RawInput; contract: ResolvedContract }[] = [];
    for (const input of fresh) {
      try {
        const name = parseContractName(input.path);
        named.push({ input, contract: { ...name, expiry: resolveExpiry(calendar, name) } });
      } catch (e) {
        fail(input.path, errorMessage(e));
      }
    }

    // Pass 1.
    let indexedCount = 0;
    const indexed: IndexedInput[] = [];
    await Promise.all(
      named.map(async ({ input, contract }) => {
        try {
          const index = (await pool.run({ kind: "index", path: input.path, contract })) as RawFileIndex;
          indexed.push({ input, contract, index });
        } catch (e) {
          fail(input.path, errorMessage(e));
        }
        onProgress?.({ phase: "index", done: ++indexedCount, total: named.length, rows: 0, elapsedS: elapsed() });
      }),
    );
    indexed.sort((a, b) => a.input.folder - b.input.folder || (a.input.path < b.input.path ? -1 : 1));

    // Partitions, each with its sources in input order.
    const plans = new Map<string, PartitionPlan>();
    for (const { input, contract, index } of indexed) {
      for (const span of index.days) {
        const key = `${span.day}|${contract.underlying}`;
        let plan = plans.get(key);
        if (!plan) plans.set(key, (plan = { day: span.day, underlying: contract.underlying, sources: [] }));
        plan.sources.push({ path: input.path, contract, span });
      }
    }

    // Pass 2: biggest partitions first, so the pool ends evenly.
    const ordered = [...plans.values()].sort((a, b) => total(b) - total(a));
    let packed = 0;
    let rowsDone = 0;
    const totals = { rowsOut: 0, duplicates: 0, bytesOut: 0, partitions: 0 };
    const packOne = async (plan: PartitionPlan): Promise<void> => {
      const sources = plan.sources.filter((s) => !errors.has(s.path));
      if (sources.length === 0) return;
      const dir = partitionDir(options.out, layout, formatEpochDays(plan.day), plan.underlying);
      const task: PackTask = {
        kind: "pack",
        out: options.out,
        dir,
        layout,
        rowGroupSize: options.rowGroupSize,
        partRows: options.partRows,
        day: plan.day,
        underlying: plan.underlying,
        existingParts: listPartFiles(dir, layout, plan.underlying),
        sources,
      };
      let result: PackResult;
      try {
        result = (await pool.run(task)) as PackResult;
      } catch (e) {
        if (!(e instanceof WorkerCrashError)) {
          // Not a source's fault (e.g. the output disk is full): the partition stays as it was.
          for (const s of sources) fail(s.path, `packing ${dir} failed, partition left as it was: ${errorMessage(e)}`);
          return;
        }
        // The worker died (a wasm trap on corrupt data): read each source alone, writing nothing,
        // to find the culprit; then pack the partition without it.
        if (sources.length === 1) {
          fail(sources[0].path, `reading rows of ${formatEpochDays(plan.day)} crashed the reader: ${errorMessage(e)}`);
          return;
        }
        const before = errors.size;
        for (const s of sources) {
          const probe = (await pool.run({ ...task, existingParts: [], sources: [s], probe: true }).catch((pe: unknown) => {
            fail(s.path, `reading rows of ${formatEpochDays(plan.day)} crashed the reader: ${errorMessage(pe)}`);
            return null;
          })) as PackResult | null;
          if (probe && !probe.ok && "failedSource" in probe) fail(probe.failedSource, probe.error);
        }
        if (errors.size === before) {
          // No single source is to blame (e.g. the partition is too big for wasm memory).
          for (const s of sources) fail(s.path, `packing ${dir} crashed the worker, partition left as it was: ${errorMessage(e)}`);
          return;
        }
        return packOne(plan);
      }
      if (!result.ok) {
        if ("failedSource" in result) {
          fail(result.failedSource, result.error);
          return packOne(plan);
        }
        for (const s of sources) fail(s.path, `partition ${result.failedPartition}: ${result.error}`);
        return;
      }
      totals.rowsOut += result.rowsAfter - result.rowsBefore;
      totals.duplicates += result.duplicatesDropped;
      totals.bytesOut += result.bytes;
      totals.partitions++;
      rowsDone += result.rowsNew;
    };
    await Promise.all(
      ordered.map(async (plan) => {
        await packOne(plan);
        onProgress?.({ phase: "pack", done: ++packed, total: ordered.length, rows: rowsDone, elapsedS: elapsed() });
      }),
    );

    // Only files that were packed in full are recorded, so a failed one is retried next run.
    const consumed = indexed.filter((f) => !errors.has(f.input.path));
    for (const { input } of consumed) manifest.files[input.path] = { size: input.size, mtimeMs: input.mtimeMs };
    writeManifest(manifestPath, manifest);

    const rowsIn = consumed.reduce((a, f) => a + f.index.rows, 0);
    const seconds = elapsed();
    return {
      files_in: fresh.length,
      files_skipped: inputs.length - fresh.length,
      files_failed: errors.size,
      rows_in: rowsIn,
      rows_out: totals.rowsOut,
      duplicates_dropped: totals.duplicates,
      rows_without_timestamp: consumed.reduce((a, f) => a + f.index.nullTimestamps, 0),
      partitions_written: totals.partitions,
      bytes_in: consumed.reduce((a, f) => a + f.input.size, 0),
      bytes_out: totals.bytesOut,
      elapsed_s: seconds,
      rows_per_s: seconds > 0 ? rowsIn / seconds : 0,
      layout,
      interrupted_writes_finished: finished,
      errors: [...errors].map(([file, error]) => ({ file, error })).sort((a, b) => (a.file < b.file ? -1 : 1)),
    };
  } finally {
    pool.close();
    release();
  }
}

function total(plan: PartitionPlan): number {
  return plan.sources.reduce((a, s) => a + s.span.rows, 0);
}
