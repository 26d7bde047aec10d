/**
 * `repack`: raw per-contract files → sorted date/underlying partitions (docs/formats.md).
 * Pass 1 indexes which IST days each raw row group covers (timestamp + name-checked columns only);
 * pass 2 builds each partition from just those row groups, merged with what is already packed.
 * Memory is bounded by one partition per worker, never by the data set.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import {
  CalendarConflictError,
  CalendarError,
  parseExpiryCalendar,
  resolveExpiry,
  type ExpiryCalendar,
} from "../raw/calendar.ts";
import { keepCalendar, keptCalendarPath } from "../packed/kept-calendar.ts";
import { parseContractName } from "../raw/contract-name.ts";
import { formatEpochDays, type EpochDays } from "../ist-time.ts";
import { isConsumed, ManifestError, readManifest, writeManifest, type Manifest } from "../packed/manifest.ts";
import { listPartFiles, partFileName, partitionDir, STATE_DIR, type Layout } from "../packed/layout.ts";
import { compareContractKeys, contractKeyOf, type ContractKey } from "../packed/contract-key.ts";
import type { KeyRange } from "../packed/part-cursor.ts";
import { stitchSegments } from "../packed/part-writer.ts";
import { readFileMetaDataAt, rowGroupRowsOf } from "../parquet/stitch.ts";
import { commitParts, recoveredCommits, type RecoveredCommits, type Recovery } from "../packed/writer.ts";
import { lockOutputForWriting, OutputLockError, type HeldOutput } from "../packed/writer-lock.ts";
import type { ProgressListener } from "../progress.ts";
import type { RawFileIndex, ResolvedContract } from "../raw/file.ts";
import { listRawInputs, type RawInput, type RawListing } from "../raw/inputs.ts";
import type { IndexTask, PackResult, PackTask, PartitionSourcePlan, RejectTask } from "./tasks.ts";
import { REJECT_REASONS, type RejectReason } from "../raw/file.ts";
import { rejectedDir, removeRejectedRows, renameParquetNamedRejectedFiles } from "../packed/rejected.ts";
import { WorkerCrashError, WorkerPool } from "../workers/pool.ts";
import { errorMessage, fsReason } from "../error-message.ts";
import { compileParquetWasmModule } from "../parquet/wasm.ts";

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
  /** Take the output lock even when another host's run holds it (`--break-lock`). */
  breakLock?: boolean;
}

/** One input that failed, and why. */
export interface FileError {
  file: string;
  error: string;
}

/** What a repack run did (its `--json` fields). */
export interface RepackSummary {
  files_in: number;
  files_skipped: number;
  files_failed: number;
  rows_in: number;
  rows_out: number;
  duplicates_dropped: number;
  rows_without_timestamp: number;
  /** Rows not packed, by reason (docs/formats.md#rejected-rows), kept under `_tickpack/rejected/`; null_timestamp equals rows_without_timestamp. */
  rows_rejected: Record<RejectReason, number>;
  partitions_written: number;
  bytes_in: number;
  bytes_out: number;
  elapsed_s: number;
  rows_per_s: number;
  layout: Layout;
  /** Commits an interrupted run left: finished, or rolled back (their new files lost before any rename; their inputs are packed again). */
  recovered: RecoveredCommits;
  /** Raw inputs not recorded as consumed because a partition they feed could not be merged (its part is named in errors): retried next run. */
  inputs_deferred: number;
  /** Hidden entries (names starting with a dot) under the raw folders, skipped. */
  hidden_skipped: number;
  /** Links under the raw folders that lead nowhere (dangling or looping), skipped. */
  links_skipped: number;
  /** Workers started (never more than there are tasks). */
  workers: number;
  errors: FileError[];
}

/** A problem with the command's inputs that stops the run before it starts (exit 2). */
export class RepackUsageError extends Error {}

/** A condition that stops the run before it starts (exit 1): lock held, output not writable. */
export class RepackFatalError extends Error {}

/** The layout of partitions already under `out`, if any. */
function existingLayout(out: string): Layout | null {
  const names = readdirSync(out);
  if (names.some((n) => n.startsWith("date="))) return "hive";
  if (names.some((n) => /^\d{4}-\d{2}-\d{2}$/.test(n))) return "seed";
  return null;
}

function loadCalendar(path: string): ExpiryCalendar {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    // Only ENOENT is "not found": existsSync would say absent for a calendar in a folder the user may not enter.
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new RepackUsageError(`${path}: expiry calendar not found (pass --calendar)`);
    throw new RepackUsageError(`${path}: cannot read the expiry calendar: ${fsReason(e)}`);
  }
  try {
    return parseExpiryCalendar(text, path);
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

/** What the run can start from: the calendar (and its file) and the layout to write, checked before anything is locked. */
interface RunSetup {
  calendar: ExpiryCalendar;
  calendarPath: string;
  layout: Layout;
}

/** Inputs that failed, each with its first reason; a failed input is left out of every partition still to pack. */
type FailedInputs = Map<string, string>;

function recordFailure(failed: FailedInputs, file: string, error: string): void {
  if (!failed.has(file)) failed.set(file, error);
}

/** Running totals of pass 2. */
interface PackTotals {
  rowsOut: number;
  rowsNew: number;
  duplicates: number;
  bytesOut: number;
  partitions: number;
}

/** What pass 2 keeps track of across partitions. */
interface PackState {
  failed: FailedInputs;
  /** Inputs of partitions left as they were through no fault of theirs: not recorded, not failed. */
  deferred: Set<string>;
  /** Per input: the days (and rows) already committed, to account exactly for an input that fails later. */
  packed: Map<string, { day: EpochDays; rows: number }[]>;
  totals: PackTotals;
}

type RepackPool = WorkerPool<IndexTask | PackTask | RejectTask, unknown>;

/** A pool no bigger than the work: started on first use, grown (replaced) only when a later step has more tasks. */
class LazyPool {
  private pool: RepackPool | null = null;
  private size = 0;
  /** Most workers started at once. */
  peak = 0;
  constructor(private readonly maxWorkers: number) {}

  /** The pool to run `tasks` tasks on. */
  for(tasks: number): RepackPool {
    const want = Math.max(1, Math.min(this.maxWorkers, tasks));
    if (this.pool && this.size >= want) return this.pool;
    this.pool?.close();
    this.pool = new WorkerPool(new URL("./worker.ts", import.meta.url).href, want, undefined, compileParquetWasmModule);
    this.size = want;
    this.peak = Math.max(this.peak, want);
    return this.pool;
  }

  close(): void {
    this.pool?.close();
  }
}

/** Runs repack; throws RepackUsageError / RepackFatalError before doing anything when it cannot start. */
export async function repack(options: RepackOptions, onProgress?: ProgressListener): Promise<RepackSummary> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const { calendar, calendarPath, layout } = setUpRun(options);
  const { release, recovery } = takeOutput(options.out, options.breakLock === true);
  const pools = new LazyPool(options.workers);
  try {
    keepCalendarWithData(options.out, calendar, calendarPath);
    renameRejectedFiles(options.out);
    const manifestPath = join(options.out, STATE_DIR, "manifest.json");
    const manifest = loadManifest(manifestPath);
    const listing = listRawInputs(options.rawDirs, options.out);
    const inputs = listing.inputs;
    const fresh = inputs.filter((f) => !isConsumed(manifest, f.path, f));
    const failed: FailedInputs = new Map();
    for (const p of listing.problems) recordFailure(failed, p.path, p.error);
    const named = nameInputs(fresh, calendar, failed);
    const indexed =
      named.length === 0
        ? []
        : await indexInputs(pools.for(named.length), named, failed, (done) =>
            onProgress?.({ phase: "index", done, total: named.length, rows: 0, elapsedS: elapsed() }),
          );
    const plans = planPartitions(indexed);
    const state: PackState = {
      failed,
      deferred: new Set(),
      packed: new Map(),
      totals: { rowsOut: 0, rowsNew: 0, duplicates: 0, bytesOut: 0, partitions: 0 },
    };
    if (plans.length > 0)
      await packPartitions(pools, plans, options, layout, state, (done, rows) =>
        onProgress?.({ phase: "pack", done, total: plans.length, rows, elapsedS: elapsed() }),
      );
    await keepRejectedRows(pools, options.out, indexed, state);
    const consumed = recordConsumed(manifestPath, manifest, indexed, state);
    return summarise({
      inputs: inputs.length,
      fresh: fresh.length,
      consumed,
      state,
      layout,
      recovery,
      listing,
      workers: pools.peak,
      seconds: elapsed(),
    });
  } finally {
    pools.close();
    release();
  }
}

/** The manifest, or RepackFatalError (exit 1, nothing done) when it is corrupt or unreadable. */
function loadManifest(path: string): Manifest {
  try {
    return readManifest(path);
  } catch (e) {
    if (e instanceof ManifestError) throw new RepackFatalError(e.message);
    throw e;
  }
}

/** Gives an earlier tickpack's rejected-row files their current name, or RepackFatalError naming the folder. */
function renameRejectedFiles(out: string): void {
  try {
    renameParquetNamedRejectedFiles(out);
  } catch (e) {
    throw new RepackFatalError(`${rejectedDir(out)}: cannot rename its rejected-row files (${errorMessage(e)})`);
  }
}

/** Checks the raw folders, loads the calendar, makes the output folder and settles the layout. */
function setUpRun(options: RepackOptions): RunSetup {
  for (const dir of options.rawDirs) {
    if (!existsSync(dir)) throw new RepackUsageError(`${dir}: raw folder does not exist`);
    if (!statSync(dir).isDirectory()) throw new RepackUsageError(`${dir}: not a folder`);
  }
  checkOutputApart(options.out, options.rawDirs);
  const calendarPath = options.calendarPath ?? join(options.rawDirs[0], "expiry_calendar.csv");
  const calendar = loadCalendar(calendarPath);
  prepareOutput(options.out);
  const found = existingLayout(options.out);
  if (options.layout && found && options.layout !== found) {
    throw new RepackUsageError(
      `${options.out}: holds ${found}-layout partitions; repacking into it with --layout ${options.layout} would split partitions`,
    );
  }
  return { calendar, calendarPath, layout: options.layout ?? found ?? "seed" };
}

/**
 * Merges the run's calendar into the one kept with the packed data (lib/packed/kept-calendar.ts),
 * before any partition is written, so that every packed contract's expiry (and lot size, where the
 * calendar gives one) is there for bench. A conflict with the kept calendar is a usage error
 * (exit 2, nothing written); a kept calendar that is corrupt or cannot be written stops the run (exit 1).
 */
function keepCalendarWithData(out: string, calendar: ExpiryCalendar, calendarPath: string): void {
  try {
    keepCalendar(out, calendar, calendarPath);
  } catch (e) {
    if (e instanceof CalendarConflictError)
      throw new RepackUsageError(
        `${e.message}: the calendar disagrees with the one kept from earlier runs on this output; correct one of them`,
      );
    if (e instanceof CalendarError)
      throw new RepackFatalError(
        `${e.message} (the calendar kept from earlier runs on this output: correct it, or move it away to keep this run's alone)`,
      );
    throw new RepackFatalError(`${keptCalendarPath(out)}: cannot write the kept calendar: ${fsReason(e)}`);
  }
}

/** `path` with links resolved, for a path that may not exist yet (its nearest existing ancestor resolved). */
function realPathOf(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(realPathOf(parent), basename(abs));
}

/** The output must not be, or lie inside, a raw folder, nor hold one: one side would hide the other (0 files in, or packed files read as raw). */
function checkOutputApart(out: string, rawDirs: string[]): void {
  const o = realPathOf(out);
  const within = (a: string, b: string) => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
  for (const dir of rawDirs) {
    const r = realPathOf(dir);
    if (within(o, r))
      throw new RepackUsageError(
        `--out ${out}: ${o === r ? "is the raw folder" : "is inside the raw folder"} ${dir}; write the packed output elsewhere`,
      );
    if (within(r, o))
      throw new RepackUsageError(`--out ${out}: holds the raw folder ${dir}; write the packed output elsewhere`);
  }
}

/** Takes the output folder for writing (its lock, then what a crashed run left half-committed). */
function takeOutput(out: string, breakLock: boolean): HeldOutput {
  try {
    return lockOutputForWriting(out, breakLock);
  } catch (e) {
    if (e instanceof OutputLockError) throw new RepackFatalError(e.message);
    throw e;
  }
}

/** Inputs whose file name parses and whose expiry the calendar knows (no need to open a file whose contract cannot be placed). */
function nameInputs(
  fresh: RawInput[],
  calendar: ExpiryCalendar,
  failed: FailedInputs,
): { input: RawInput; contract: ResolvedContract }[] {
  const named: { input: RawInput; contract: ResolvedContract }[] = [];
  for (const input of fresh) {
    try {
      const name = parseContractName(input.path);
      named.push({ input, contract: { ...name, expiry: resolveExpiry(calendar, name) } });
    } catch (e) {
      recordFailure(failed, input.path, errorMessage(e));
    }
  }
  return named;
}

/** Pass 1: the IST days each input's rows cover, in input order (folder, then path). */
async function indexInputs(
  pool: RepackPool,
  named: { input: RawInput; contract: ResolvedContract }[],
  failed: FailedInputs,
  onDone: (done: number) => void,
): Promise<IndexedInput[]> {
  let done = 0;
  const indexed: IndexedInput[] = [];
  await Promise.all(
    named.map(async ({ input, contract }) => {
      try {
        const index = (await pool.run({ kind: "index", path: input.path, contract })) as RawFileIndex;
        indexed.push({ input, contract, index });
      } catch (e) {
        recordFailure(failed, input.path, errorMessage(e));
      }
      onDone(++done);
    }),
  );
  return indexed.sort((a, b) => a.input.folder - b.input.folder || (a.input.path < b.input.path ? -1 : 1));
}

/** The partitions the indexed inputs touch, each with its sources in input order, biggest first so the pool ends evenly. */
function planPartitions(indexed: IndexedInput[]): PartitionPlan[] {
  const plans = new Map<string, PartitionPlan>();
  for (const { input, contract, index } of indexed) {
    for (const span of index.days) {
      const key = `${span.day}|${contract.underlying}`;
      let plan = plans.get(key);
      if (!plan) plans.set(key, (plan = { day: span.day, underlying: contract.underlying, sources: [] }));
      plan.sources.push({ path: input.path, contract, span, units: index.int64Units });
    }
  }
  return [...plans.values()].sort((a, b) => sourceRows(b) - sourceRows(a));
}

function sourceRows(plan: PartitionPlan): number {
  return plan.sources.reduce((a, s) => a + s.span.rows, 0);
}

/** Pass 2: builds and commits every partition; a source that fails is recorded and its partition packed without it. */
async function packPartitions(
  pools: LazyPool,
  plans: PartitionPlan[],
  options: RepackOptions,
  layout: Layout,
  state: PackState,
  onDone: (done: number, rows: number) => void,
): Promise<void> {
  let done = 0;
  const slicing = slicesPerPlan(plans, options.workers, options.rowGroupSize);
  const pool = pools.for(slicing.reduce((a, n) => a + n, 0));
  await Promise.all(
    plans.map(async (plan, i) => {
      await packPartition(pool, plan, options, layout, state, slicing[i]);
      onDone(++done, state.totals.rowsNew);
    }),
  );
}

/**
 * How many workers share each partition: with fewer partitions than twice the workers (the nightly
 * run packs one day: a partition or two), a big partition is split into contract ranges so that
 * every core has work; otherwise one worker per partition (no stitching cost).
 */
function slicesPerPlan(plans: PartitionPlan[], workers: number, rowGroupSize: number): number[] {
  if (workers < 2 || plans.length >= 2 * workers) return plans.map(() => 1);
  const total = plans.reduce((a, p) => a + sourceRows(p), 0);
  const target = total / (2 * workers);
  // A slice holds whole contracts and at least a row group's worth of rows: never more slices than
  // contracts (so never more tasks than raw files), nor slices that would end in tiny row groups.
  const contracts = (p: PartitionPlan) => new Set(p.sources.map((s) => JSON.stringify(contractKeyOf(s.contract)))).size;
  return plans.map((p) =>
    Math.max(
      1,
      Math.min(2 * workers, contracts(p), Math.floor(sourceRows(p) / rowGroupSize), Math.round(sourceRows(p) / target)),
    ),
  );
}

/** Contract ranges that split a partition's raw sources into `count` shares of about equal rows (the first and last open-ended). */
function sliceRanges(sources: PartitionSourcePlan[], count: number): KeyRange[] {
  const byKey = new Map<string, { key: ContractKey; rows: number }>();
  for (const s of sources) {
    const key = contractKeyOf(s.contract);
    const id = `${key.expiry}|${key.optType}|${key.strike}`;
    const e = byKey.get(id);
    if (e) e.rows += s.span.rows;
    else byKey.set(id, { key, rows: s.span.rows });
  }
  const keys = [...byKey.values()].sort((a, b) => compareContractKeys(a.key, b.key));
  const total = keys.reduce((a, k) => a + k.rows, 0);
  const cuts: ContractKey[] = [];
  let acc = 0;
  for (let i = 0; i < keys.length && cuts.length < count - 1; i++) {
    if (i > 0 && acc >= (total * (cuts.length + 1)) / count) cuts.push(keys[i].key);
    acc += keys[i].rows;
  }
  return Array.from({ length: cuts.length + 1 }, (_, i) => ({
    lo: i === 0 ? null : cuts[i - 1],
    hi: i === cuts.length ? null : cuts[i],
  }));
}

/** Rows of the existing parts (from their footers), or null when one cannot be read (the pack task then names it). */
function existingRows(parts: string[]): number | null {
  try {
    return parts.reduce((a, p) => a + rowGroupRowsOf(readFileMetaDataAt(p)).rows, 0);
  } catch {
    return null;
  }
}

/**
 * Runs a partition's pack as `count` slice tasks (contract ranges) on the pool and stitches their
 * segments, in key order, into the one part, which is then committed. Falls back to one task when
 * the output would be split into parts anyway, or the existing parts turn out not contract-major.
 */
async function runSliced(pool: RepackPool, task: PackTask, count: number): Promise<PackResult> {
  const before = existingRows(task.existingParts);
  const rows = task.sources.reduce((a, s) => a + s.span.rows, 0) + (before ?? 0);
  const ranges = count > 1 && before !== null && rows <= task.partRows ? sliceRanges(task.sources, count) : [];
  if (ranges.length < 2) return (await pool.run(task)) as PackResult;
  const inRange = (r: KeyRange, k: ContractKey) =>
    (!r.lo || compareContractKeys(k, r.lo) >= 0) && (!r.hi || compareContractKeys(k, r.hi) < 0);
  const settled = await Promise.allSettled(
    ranges.map(
      (slice) =>
        pool.run({
          ...task,
          slice,
          sources: task.sources.filter((s) => inRange(slice, contractKeyOf(s.contract))),
        }) as Promise<PackResult>,
    ),
  );
  const segments = settled.flatMap((r) =>
    r.status === "fulfilled" && r.value.ok && r.value.segment ? [r.value.segment] : [],
  );
  const failure = settled.find((r) => r.status === "rejected" || !r.value.ok);
  if (failure) {
    for (const seg of segments) rmSync(seg, { force: true });
    if (failure.status === "rejected") throw failure.reason;
    const result = failure.value as Exclude<PackResult, { ok: true }>;
    return "unsorted" in result ? ((await pool.run(task)) as PackResult) : result;
  }
  const results = settled.map((r) => (r as PromiseFulfilledResult<PackResult & { ok: true }>).value);
  const final = join(task.dir, partFileName(task.layout, task.underlying, 0));
  const part = stitchSegments(segments, final, task.rowGroupSize, {
    date: formatEpochDays(task.day),
    underlying: task.underlying,
  });
  commitParts(task.out, [part], task.existingParts);
  const sum = (f: (r: PackResult & { ok: true }) => number) => results.reduce((a, r) => a + f(r), 0);
  return {
    ok: true,
    rowsBefore: sum((r) => r.rowsBefore),
    rowsNew: sum((r) => r.rowsNew),
    rowsAfter: sum((r) => r.rowsAfter),
    duplicatesDropped: sum((r) => r.duplicatesDropped),
    bytes: part.bytes,
    parts: [final],
  };
}

/** Packs one partition from its sources that have not failed (sliced over `slices` workers), adding what it wrote to the totals. */
async function packPartition(
  pool: RepackPool,
  plan: PartitionPlan,
  options: RepackOptions,
  layout: Layout,
  state: PackState,
  slices = 1,
): Promise<void> {
  const { failed, totals } = state;
  const sources = plan.sources.filter((s) => !failed.has(s.path));
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
    result = await runSliced(pool, task, slices);
  } catch (e) {
    if (!(e instanceof WorkerCrashError)) {
      // Not a source's fault (e.g. the output disk is full): the partition stays as it was.
      for (const s of sources)
        recordFailure(failed, s.path, `packing ${dir} failed, partition left as it was: ${errorMessage(e)}`);
      return;
    }
    // The existing parts are read first: a part that traps the reader is the culprit, not the raw files.
    const part = await findCrashingPart(pool, task);
    if (part) return blockPartition(state, task, part.path, part.error);
    if (await findCrashingSources(pool, task, e, failed))
      return packPartition(pool, plan, options, layout, state, slices);
    return;
  }
  if (!result.ok) {
    if ("failedSource" in result) {
      recordFailure(failed, result.failedSource, result.error);
      return packPartition(pool, plan, options, layout, state, slices);
    }
    if ("unsorted" in result) throw new Error(`${dir}: unsorted parts reported by a whole-partition task`);
    return blockPartition(state, task, result.failedPartition, result.error);
  }
  totals.rowsOut += result.rowsAfter - result.rowsBefore;
  totals.duplicates += result.duplicatesDropped;
  totals.bytesOut += result.bytes;
  totals.partitions++;
  totals.rowsNew += result.rowsNew;
  for (const s of sources) {
    let days = state.packed.get(s.path);
    if (!days) state.packed.set(s.path, (days = []));
    days.push({ day: plan.day, rows: s.span.rows });
  }
}

/**
 * An existing part cannot be merged (corrupt, or columns a rewrite would drop): the partition is
 * left as it was, the error names the part, and its raw inputs are neither failed nor recorded,
 * so that they are packed by the first run after the part is repaired.
 */
function blockPartition(state: PackState, task: PackTask, part: string, error: string): void {
  const n = task.sources.length;
  recordFailure(
    state.failed,
    part,
    `${error}; partition ${formatEpochDays(task.day)}/${task.underlying} left as it was, its ${n} raw input${n === 1 ? "" : "s"} not recorded (retried once this part is repaired)`,
  );
  for (const s of task.sources) state.deferred.add(s.path);
}

/** After a crash: reads each existing part alone, writing nothing; the first that traps (or fails) is returned. */
async function findCrashingPart(pool: RepackPool, task: PackTask): Promise<{ path: string; error: string } | null> {
  for (const part of task.existingParts) {
    const probe = (await pool.run({ ...task, existingParts: [part], sources: [], probe: true }).catch((e: unknown) => ({
      ok: false,
      failedPartition: part,
      error: `existing packed file cannot be read, left in place: reading it crashed the reader: ${errorMessage(e)}`,
    }))) as PackResult;
    if (!probe.ok && "failedPartition" in probe) return { path: probe.failedPartition, error: probe.error };
  }
  return null;
}

/**
 * After a pack task killed its worker (a wasm trap on corrupt data), reads each source alone,
 * writing nothing, to find the culprit. Returns whether one was found (the partition can then be
 * packed without it); otherwise every source is failed and the partition stays as it was.
 */
async function findCrashingSources(
  pool: RepackPool,
  task: PackTask,
  crash: WorkerCrashError,
  failed: FailedInputs,
): Promise<boolean> {
  const day = formatEpochDays(task.day);
  if (task.sources.length === 1) {
    recordFailure(failed, task.sources[0].path, `reading rows of ${day} crashed the reader: ${errorMessage(crash)}`);
    return false;
  }
  const before = failed.size;
  for (const s of task.sources) {
    const probe = (await pool.run({ ...task, existingParts: [], sources: [s], probe: true }).catch((pe: unknown) => {
      recordFailure(failed, s.path, `reading rows of ${day} crashed the reader: ${errorMessage(pe)}`);
      return null;
    })) as PackResult | null;
    if (probe && !probe.ok && "failedSource" in probe) recordFailure(failed, probe.failedSource, probe.error);
  }
  if (failed.size > before) return true;
  // No single source is to blame (e.g. the partition is too big for wasm memory).
  for (const s of task.sources)
    recordFailure(
      failed,
      s.path,
      `packing ${task.dir} crashed the worker, partition left as it was: ${errorMessage(crash)}`,
    );
  return false;
}

/**
 * Writes the rejected rows of every input about to be recorded as consumed to its file under
 * `_tickpack/rejected/` (replacing the one an earlier read of the same path left, so a rerun after a
 * crash never keeps them twice), and removes that file for an input that now has none. Done before
 * the manifest: an input whose rejected rows could not be kept is failed and retried next run.
 */
async function keepRejectedRows(
  pools: LazyPool,
  out: string,
  indexed: IndexedInput[],
  state: PackState,
): Promise<void> {
  const pending = indexed.filter((f) => !state.failed.has(f.input.path) && !state.deferred.has(f.input.path));
  const withRejects = pending.filter((f) => Object.keys(f.index.rejected).length > 0);
  for (const f of pending) if (Object.keys(f.index.rejected).length === 0) removeRejectedRows(out, f.input.path);
  if (withRejects.length === 0) return;
  const pool = pools.for(withRejects.length);
  await Promise.all(
    withRejects.map(async ({ input, index }) => {
      try {
        await pool.run({ kind: "reject", out, path: input.path, units: index.int64Units, rejected: index.rejected });
      } catch (e) {
        recordFailure(
          state.failed,
          input.path,
          `keeping its ${rejectedCount(index)} rejected rows failed: ${errorMessage(e)}`,
        );
      }
    }),
  );
}

function rejectedCount(index: RawFileIndex): number {
  return Object.values(index.rejected).reduce((a, rows) => a + (rows?.length ?? 0), 0);
}

/**
 * Records the inputs packed in full in the manifest (a failed or deferred one is retried next
 * run); returns them. The partitions are already committed: a manifest that cannot be written is
 * reported as an error (exit 1), and the next run re-reads these inputs, dropping their rows as
 * exact duplicates.
 */
function recordConsumed(
  manifestPath: string,
  manifest: Manifest,
  indexed: IndexedInput[],
  state: PackState,
): IndexedInput[] {
  const consumed = indexed.filter((f) => !state.failed.has(f.input.path) && !state.deferred.has(f.input.path));
  if (consumed.length === 0) return consumed;
  for (const { input } of consumed) manifest.files[input.path] = { size: input.size, mtimeMs: input.mtimeMs };
  try {
    writeManifest(manifestPath, manifest);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    recordFailure(
      state.failed,
      manifestPath,
      `${e.message.replace(`${manifestPath}: `, "")}; the packed partitions are complete, and the next run re-reads these ${consumed.length} inputs (their rows come back as exact duplicates and are dropped)`,
    );
  }
  return consumed;
}

/** The run's summary (its `--json` fields) from what each step reported. */
function summarise(run: {
  inputs: number;
  fresh: number;
  consumed: IndexedInput[];
  state: PackState;
  layout: Layout;
  recovery: Recovery;
  listing: RawListing;
  workers: number;
  seconds: number;
}): RepackSummary {
  const { consumed, state, seconds } = run;
  const { totals, failed } = state;
  const nullTimestamps = consumed.reduce((a, f) => a + f.index.nullTimestamps, 0);
  const rejected = Object.fromEntries(
    REJECT_REASONS.map((r) => [r, consumed.reduce((a, f) => a + (f.index.rejected[r]?.length ?? 0), 0)]),
  ) as Record<RejectReason, number>;
  // Rows read into committed partitions, plus the consumed inputs' rejected rows: exact even when an
  // input fails after some of its days were committed (those rows are in rows_out).
  const rowsIn = totals.rowsNew + REJECT_REASONS.reduce((a, r) => a + rejected[r], 0);
  const errors = [...failed].map(([file, error]) => {
    const packed = state.packed.get(file);
    if (!packed) return { file, error };
    const days = packed.map((d) => `${formatEpochDays(d.day)} (${d.rows} rows)`).join(", ");
    return {
      file,
      error: `${error}; its rows of ${days} were packed before it failed, and come back as exact duplicates when it is retried`,
    };
  });
  return {
    files_in: run.fresh,
    files_skipped: run.inputs - run.fresh,
    files_failed: failed.size,
    rows_in: rowsIn,
    rows_out: totals.rowsOut,
    duplicates_dropped: totals.duplicates,
    rows_without_timestamp: nullTimestamps,
    rows_rejected: rejected,
    partitions_written: totals.partitions,
    bytes_in: consumed.reduce((a, f) => a + f.input.size, 0),
    bytes_out: totals.bytesOut,
    elapsed_s: seconds,
    rows_per_s: seconds > 0 ? rowsIn / seconds : 0,
    layout: run.layout,
    recovered: recoveredCommits(run.recovery),
    inputs_deferred: state.deferred.size,
    hidden_skipped: run.listing.hiddenSkipped,
    links_skipped: run.listing.linksSkipped,
    workers: run.workers,
    errors: errors.sort((a, b) => (a.file < b.file ? -1 : 1)),
  };
}
