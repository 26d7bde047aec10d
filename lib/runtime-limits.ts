/**
 * The process limits a command must fit: open files (each worker thread holds some) and address
 * space (Bun's JIT, which bun:ffi needs, reserves its memory up front; each worker's wasm memory
 * grows in it). Checked before a run, they are one clear error or a smaller pool, and the errors
 * they still cause are told apart, not a partition blamed for the process's limit.
 */
import { dlopen } from "bun:ffi";
import { readFileSync } from "node:fs";
import { LIBC_NAME } from "./libc.ts";

/**
 * Descriptors one worker needs, with room to spare: 2 Bun's own per thread, plus what a task holds
 * open at once (its parquet file, the cache's column files, TinyCC's nested headers while it
 * compiles). Measured: 64 descriptors ran 8 bench workers and failed with 12.
 */
export const FDS_PER_WORKER = 8;
/** Descriptors the main thread needs beside its workers: stdio, pipes, locks, output files, Bun's own. */
export const FDS_RESERVED = 16;

/** The soft limit on the line of /proc/self/limits that starts with `name`, or null when unlimited or unknown (not Linux). */
function softLimit(name: string): number | null {
  let text: string;
  try {
    text = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return null;
  }
  const soft = text
    .split("\n")
    .find((l) => l.startsWith(name))
    ?.slice(name.length)
    .trim()
    .split(/\s+/)[0];
  const n = Number(soft);
  return soft === undefined || soft === "unlimited" || !Number.isFinite(n) ? null : n;
}

/** The open-file limit (`ulimit -n`), or null when unlimited or unknown. */
export function openFileLimit(): number | null {
  return softLimit("Max open files");
}

/** The address-space limit in bytes (`ulimit -v`, which counts KiB), or null when unlimited or unknown. */
export function addressSpaceLimit(): number | null {
  return softLimit("Max address space");
}

/** Workers an open-file limit allows (at least 0), or null when there is no limit. */
export function workersAllowedByFileLimit(limit: number | null): number | null {
  return limit === null ? null : Math.max(0, Math.floor((limit - FDS_RESERVED) / FDS_PER_WORKER));
}

/** The `ulimit -n` that `workers` workers need. */
export function fileLimitNeeded(workers: number): number {
  return FDS_RESERVED + workers * FDS_PER_WORKER;
}

/** The worker count to run, and why it is lower than asked when the open-file limit cannot hold that many. */
export interface WorkerCount {
  workers: number;
  /** Set when `workers` is below the count asked for. */
  lowered?: string;
  /** Set when not even one worker fits. */
  problem?: string;
}

/** `requested` workers, lowered to what the open-file limit `limit` allows. */
export function workersWithinFileLimit(requested: number, limit: number | null = openFileLimit()): WorkerCount {
  const allowed = workersAllowedByFileLimit(limit);
  if (allowed === null || requested <= allowed) return { workers: requested };
  const why = `the open-file limit (ulimit -n ${limit}) allows ${allowed}, each needs about ${FDS_PER_WORKER} file descriptors`;
  if (allowed === 0)
    return {
      workers: 0,
      problem: `too few file descriptors: ulimit -n is ${limit}, one worker needs about ${fileLimitNeeded(1)} (ulimit -n ${fileLimitNeeded(requested)} for ${requested} workers)`,
    };
  return {
    workers: allowed,
    lowered: `${requested} workers lowered to ${allowed}: ${why} (ulimit -n ${fileLimitNeeded(requested)} runs ${requested})`,
  };
}

/** Whether an error message is the process running out of file descriptors (EMFILE, ENFILE). */
export function isOutOfFileDescriptors(message: string): boolean {
  return /\bE[MN]FILE\b|too many open files/i.test(message);
}

/** The message of a run that ran out of file descriptors: names the limit instead of the file it was opening. */
export function outOfFileDescriptorsMessage(workers: number, limit: number | null = openFileLimit()): string {
  return `too few file descriptors: ulimit -n is ${limit ?? "unknown"}, ${workers} workers need about ${fileLimitNeeded(workers)}; raise it (ulimit -n ${fileLimitNeeded(workers)}) or use fewer --workers`;
}

/** Whether an error message is one a tight address space causes: a wasm trap where its memory could not grow, a thread that could not start. */
export function isAddressSpaceShortage(message: string): boolean {
  return /Unreachable code should not be executed|out of memory|Failed to spawn worker thread|no worker thread could be started/i.test(
    message,
  );
}

/** The likely cause of such errors when an address-space limit is set, or null when none is (the errors are then what they say). */
export function addressSpaceShortageMessage(
  workers: number,
  limit: number | null = addressSpaceLimit(),
): string | null {
  if (limit === null) return null;
  return `the virtual memory limit (ulimit -v ${Math.floor(limit / 1024)}, ${(limit / 2 ** 30).toFixed(1)} GiB) is likely too low for ${workers} workers, each of which grows its own wasm memory; raise it (ulimit -v unlimited) or use fewer --workers`;
}

/**
 * Why Bun's JIT is unavailable (bun:ffi, which runs the kernels and the C helpers, needs it), naming
 * the address-space limit when one is set; null when it is available. JavaScriptCore turns the JIT
 * off when it cannot reserve its executable memory, and then every bun:ffi call fails.
 */
export function jitUnavailableProblem(): string | null {
  try {
    dlopen(LIBC_NAME, {
      getpid: { args: [], returns: "i32" },
    }).close();
    return null;
  } catch (e) {
    if (!/requires the JIT/i.test((e as Error).message)) return null;
  }
  const limit = addressSpaceLimit();
  if (limit === null) return "Bun's JIT is off (is BUN_JSC_useJIT set?): tickpack's native code (bun:ffi) needs it";
  return `the virtual memory limit is too low (ulimit -v ${Math.floor(limit / 1024)}, ${(limit / 2 ** 30).toFixed(1)} GiB): Bun then turns its JIT off, which tickpack's native code (bun:ffi) needs; raise it to unlimited (ulimit -v unlimited) or at least 4 GiB (ulimit -v ${4 * 2 ** 20}), more with many workers`;
}
