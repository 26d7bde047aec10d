/**
 * JavaScriptCore's optimising compiler threads ("JITWorker"), moved to Linux's SCHED_IDLE class: they
 * then run only on a core nothing else wants. A pool that fills every core with workers whose hot
 * loops are C (bench) gains nothing from those compiles (DFG off, its workers' CPU time did not
 * change), and lost a core's share to them: they compile each worker's JavaScript again, and took
 * 60 ms of 2 cores' ~1.2 s in a 2-worker run (each thread's schedstat in /proc, measured).
 */
import { dlopen } from "bun:ffi";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { LIBC_NAME } from "../libc.ts";

/** The thread name JavaScriptCore gives its compiler threads (Linux truncates names to 15 bytes). */
export const COMPILER_THREAD_NAME = "JITWorker";
/** Linux's SCHED_IDLE policy (sched.h). */
export const SCHED_IDLE = 5;

type SetScheduler = (tid: number, policy: number, param: Int32Array) => number;
let setScheduler: SetScheduler | null | undefined;

function loadSetScheduler(): SetScheduler | null {
  if (setScheduler !== undefined) return setScheduler;
  setScheduler = null;
  if (process.platform !== "linux") return null;
  try {
    const lib = dlopen(LIBC_NAME, { sched_setscheduler: { args: ["i32", "i32", "ptr"], returns: "i32" } });
    setScheduler = lib.symbols.sched_setscheduler as unknown as SetScheduler;
  } catch {
    // not glibc: the threads keep their class
  }
  return setScheduler;
}

/** Linux's count of this process's threads, from /proc/self/task's link count (2 + threads): one stat, no listing. */
function threadCount(): number | null {
  try {
    return statSync("/proc/self/task").nlink - 2;
  } catch {
    return null;
  }
}

/** The thread count at the last scan, and whether the call after it scans again (a thread may be named after it is counted). */
let scannedAt: number | null = null;
let scanAgain = false;

/**
 * Moves this process's compiler threads to SCHED_IDLE (a thread may lower its own process's threads
 * without privileges; moving one twice changes nothing); returns how many it moved. Elsewhere than Linux, or where
 * /proc cannot be read, nothing is moved. JavaScriptCore starts its compiler threads with the first
 * function it optimises: call this once the process has run a while (threads started later keep
 * the normal class), and again as it runs. A call looks at the threads only when their count changed
 * since the last look (and once more after that: a new thread takes its name after it starts), so
 * that frequent calls cost a stat each (a look at 14 threads: ~0.13 ms, 41 looks took a bench run's
 * main thread 5–6 ms, measured). A thread that ends as another starts between two calls leaves the
 * count as it was: the new one is moved at the next change.
 */
export function idleCompilerThreads(): number {
  const set = loadSetScheduler();
  if (!set) return 0;
  const count = threadCount();
  if (count !== null && count === scannedAt && !scanAgain) return 0;
  scanAgain = count !== scannedAt;
  scannedAt = count;
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return 0;
  }
  // sched_param: its priority must be 0 for SCHED_IDLE.
  const param = new Int32Array(2);
  let n = 0;
  for (const t of tids) {
    let name: string;
    try {
      name = readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim();
    } catch {
      continue; // the thread has ended
    }
    if (name !== COMPILER_THREAD_NAME) continue;
    if (set(Number(t), SCHED_IDLE, param) === 0) n++;
  }
  return n;
}
