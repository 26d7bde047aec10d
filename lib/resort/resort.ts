/** `resort`: check, and unless asked only to check, repair the packed partitions under a folder. */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { FileIssue, PartitionCheck } from "../packed/check.ts";
import { listPackedPartitions, STATE_DIR } from "../packed/layout.ts";
import { stateRootOf } from "../packed/commit-lock.ts";
import { recoveredCommits, type RecoveredCommits, type Recovery } from "../packed/writer.ts";
import { lockOutputForWriting, OutputLockError, type HeldOutput } from "../packed/writer-lock.ts";
import type { ProgressListener } from "../progress.ts";
import type { CheckTask, RepairResult, RepairTask } from "./tasks.ts";
import { WorkerPool } from "../workers/pool.ts";
import { compileParquetWasmModule } from "../parquet/wasm.ts";

/** Options of a resort run. */
export interface ResortOptions {
  dir: string;
  /** Only check: change nothing. */
  check: boolean;
  /** Say what would be rewritten; change nothing. */
  dryRun: boolean;
  workers: number;
  rowGroupSize: number;
  partRows: number;
  /** Take the writer lock even when another host's run holds it (`--break-lock`). */
  breakLock?: boolean;
}

/** A condition that stops a repair before it starts (exit 1): lock held, folder not writable, an unfinishable commit. */
export class ResortFatalError extends Error {}

/** What a resort run found and did (its `--json` fields plus the per-file problems). */
export interface ResortSummary {
  files: number;
  /** Files that passed every check. */
  sorted: number;
  /** Files rewritten (or, with --dry-run, that would be). */
  resorted: number;
  /** Files that cannot be read or repaired: reported, left in place. */
  failed: number;
  problems: FileIssue[];
  errors: { file: string; error: string }[];
  rewritten: string[];
  /** Commits an interrupted run left: finished, or rolled back (their new files lost before any rename; the partition kept its old version). */
  recovered: RecoveredCommits;
  elapsed_s: number;
}

/** Runs resort over every packed partition under `options.dir`. */
export async function resort(options: ResortOptions, onProgress?: ProgressListener): Promise<ResortSummary> {
  const t0 = performance.now();
  const repairing = !options.check && !options.dryRun;
  // Inside a repack output, its lock and journals are the ones that count.
  const root = stateRootOf(options.dir) ?? options.dir;
  let release = () => {};
  let recovery: Recovery = { finished: 0, rolledBack: 0 };
  if (repairing) ({ release, recovery } = takeOutput(root, options.breakLock === true));
  const partitions = listPackedPartitions(options.dir);
  const pool = new WorkerPool<CheckTask | RepairTask, unknown>(
    new URL("./worker.ts", import.meta.url).href,
    Math.max(1, Math.min(options.workers, partitions.length)),
    undefined,
    compileParquetWasmModule,
  );
  const summary: ResortSummary = {
    files: 0,
    sorted: 0,
    resorted: 0,
    failed: 0,
    problems: [],
    errors: [],
    rewritten: [],
    recovered: recoveredCommits(recovery),
    elapsed_s: 0,
  };
  let done = 0;
  let rows = 0;
  try {
    await Promise.all(
      partitions.map(async (partition) => {
        summary.files += partition.parts.length;
        let check: PartitionCheck;
        try {
          check = (await pool.run({ kind: "check", partition, rowGroupLimit: options.rowGroupSize })) as PartitionCheck;
        } catch (e) {
          // A worker that died on a corrupt page: the partition is reported, not touched.
          check = {
            partition,
            rows: 0,
            issues: partition.parts.map((file) => ({
              file,
              problem: `cannot be read: ${(e as Error).message}`,
              fixable: false,
            })),
          };
        }
        summary.problems.push(...check.issues);
        const broken = new Set(check.issues.filter((i) => !i.fixable).map((i) => i.file));
        const needsRewrite = check.issues.length > 0 && broken.size === 0;
        summary.failed += broken.size;
        for (const i of check.issues.filter((x) => !x.fixable)) summary.errors.push({ file: i.file, error: i.problem });
        if (!needsRewrite) summary.sorted += partition.parts.length - new Set(check.issues.map((i) => i.file)).size;
        else if (!repairing) summary.resorted += partition.parts.length;
        else {
          try {
            const r = (await pool.run({
              kind: "repair",
              partition,
              root,
              rowGroupSize: options.rowGroupSize,
              partRows: options.partRows,
            })) as RepairResult;
            summary.resorted += partition.parts.length;
            summary.rewritten.push(...r.parts);
          } catch (e) {
            summary.failed += partition.parts.length;
            for (const file of partition.parts)
              summary.errors.push({ file, error: `repair failed, left as it was: ${(e as Error).message}` });
          }
        }
        rows += check.rows;
        onProgress?.({
          phase: options.check ? "check" : "resort",
          done: ++done,
          total: partitions.length,
          rows,
          elapsedS: (performance.now() - t0) / 1000,
        });
      }),
    );
  } finally {
    pool.close();
    release();
  }
  if (repairing && root === options.dir) removeStateIfOnlyOurs(root);
  const byFile = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  summary.problems.sort(byFile);
  summary.errors.sort(byFile);
  summary.rewritten.sort();
  summary.elapsed_s = (performance.now() - t0) / 1000;
  return summary;
}

/** Takes the folder for writing (lockOutputForWriting); ResortFatalError with one line when it cannot. */
function takeOutput(root: string, breakLock: boolean): HeldOutput {
  try {
    return lockOutputForWriting(root, breakLock);
  } catch (e) {
    if (e instanceof OutputLockError) throw new ResortFatalError(e.message);
    throw e;
  }
}

/** Removes the state folder a repair made for its lock and journals, if it holds nothing else (a repack output keeps its own). */
function removeStateIfOnlyOurs(root: string): void {
  const state = join(root, STATE_DIR);
  const journal = join(state, "journal");
  if (existsSync(journal) && readdirSync(journal).length === 0) rmSync(journal, { recursive: true });
  const left = existsSync(state) ? readdirSync(state).filter((n) => n !== "commit.lock") : ["?"];
  if (left.length === 0) rmSync(state, { recursive: true, force: true });
}
