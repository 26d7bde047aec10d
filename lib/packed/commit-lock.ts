/**
 * The commit lock of an output folder (`_tickpack/commit.lock`, flock(2)): a writer holds it exclusively
 * only while it renames a commit's files into place; a reader holds it shared only while it lists a
 * partition's parts and opens them. An open file keeps its bytes when a rename replaces its path, so a
 * reader then reads the version it opened, old or new, never a mix. The kernel drops a dead process's
 * flock, so a crash never leaves the lock held.
 */
import { dlopen } from "bun:ffi";
import { closeSync, existsSync, openSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { STATE_DIR } from "./layout.ts";
import { LIBC_NAME } from "../libc.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_UN = 8;

let flockSymbol: ((fd: number, operation: number) => number) | null = null;

function flock(fd: number, operation: number): void {
  if (!flockSymbol) {
    flockSymbol = dlopen(LIBC_NAME, { flock: { args: ["i32", "i32"], returns: "i32" } }).symbols.flock as (
      fd: number,
      operation: number,
    ) => number;
  }
  // -1 is EINTR (a signal while waiting) or a bad fd: retry a few times, then give up loudly.
  for (let attempt = 0; attempt < 100; attempt++) if (flockSymbol(fd, operation) === 0) return;
  throw new Error(`flock(${operation}) failed on fd ${fd}`);
}

/** Path of the commit lock of an output folder. */
export function commitLockPath(root: string): string {
  return join(root, STATE_DIR, "commit.lock");
}

/** The nearest folder at or above `dir` that holds tickpack's state folder (an output root), or null. */
export function stateRootOf(dir: string): string | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, STATE_DIR))) return d;
    if (dirname(d) === d) return null;
  }
}

/** Runs `body` holding a flock of kind `operation` on `fd`, then closes `fd`. */
function underFlock<T>(fd: number, operation: number, body: () => T): T {
  try {
    flock(fd, operation);
    try {
      return body();
    } finally {
      flock(fd, LOCK_UN);
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs `commit` holding the commit lock of `root` exclusively (creating the lock file). */
export function withExclusiveCommitLock<T>(root: string, commit: () => T): T {
  return underFlock(openSync(commitLockPath(root), "a"), LOCK_EX, commit);
}

/**
 * Runs `read` holding the commit lock of `root` shared. Where no lock can be had (no state folder, or a
 * read-only one without a lock file) no tickpack writer can be committing there, and `read` runs as is.
 */
export function withSharedCommitLock<T>(root: string | null, read: () => T): T {
  const fd = root === null ? null : openLockFile(commitLockPath(root));
  return fd === null ? read() : underFlock(fd, LOCK_SH, read);
}

/** The lock file opened for reading (created if missing and the folder is writable), or null. */
function openLockFile(path: string): number | null {
  try {
    return openSync(path, "r");
  } catch {
    try {
      return openSync(path, "a");
    } catch {
      return null;
    }
  }
}
