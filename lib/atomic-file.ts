/** Crash-safe file replacement: write a temp file in the same folder, fsync it, rename it, fsync the folder. */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { errorMessage } from "./error-message.ts";

// Temp files are named `.<final name>.tmp-<pid>-<random>`.
const TEMP_MARKER = ".tmp-";

// The whole name is matched, never a substring: `notes/analysis.tmp-v2.csv` is a user's file.
const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-([a-z0-9]{1,8})$/;

/** A fresh temp path beside `finalPath` (hidden, never matched as a data file). */
export function tempPathFor(finalPath: string): string {
  const rand = Math.random().toString(36).slice(2, 10) || "0";
  return join(dirname(finalPath), `.${basename(finalPath)}${TEMP_MARKER}${process.pid}-${rand}`);
}

/** Whether a file name is one of tickpack's temp files (made by `tempPathFor`). */
export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** Whether a process with this pid runs on this host (EPERM: it runs as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether a file name is a temp file (`tempPathFor`) of a process no longer running, or of this one. */
export function isAbandonedTempFileName(name: string): boolean {
  const m = TEMP_NAME.exec(name);
  return m !== null && (Number(m[2]) === process.pid || !processAlive(Number(m[2])));
}

/**
 * Removes the temp files that dead tickpack processes left directly in `dir` (not below it); returns
 * how many. A live process's temp (a concurrent bench writing its trade log) is never touched: the pid
 * is part of the name.
 */
export function removeAbandonedTempFiles(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (!isAbandonedTempFileName(name)) continue;
    rmSync(path, { force: true });
    removed++;
  }
  return removed;
}

/** Writes bytes to `path` (truncating it) and fsyncs the file. */
export function writeFileSynced(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, "w");
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Fsyncs a folder so that renames and unlinks in it survive a crash. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `bytes` atomically: readers see the old file or the new one, never a mix. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temp = tempPathFor(path);
  try {
    writeFileSynced(temp, bytes);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}

/** Why `path` cannot take an output file by its shape (a folder, a missing parent), or null when it can. */
export function outputPathProblem(path: string): string | null {
  if (path === "") return "empty path";
  if (/[\\/]$/.test(path) || (existsSync(path) && statSync(path).isDirectory())) return "is a folder";
  const parent = dirname(resolve(path));
  if (!existsSync(parent)) return `folder ${parent} does not exist`;
  if (!statSync(parent).isDirectory()) return `${parent} is not a folder`;
  return null;
}

/** Why a file could not be created in `folder` (the error of creating it). */
export function createFailure(folder: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code ? `cannot write in folder ${folder} (${code})` : errorMessage(e);
}

/**
 * Why an output file (written through a temp file beside it, then renamed) cannot be written at
 * `path`, or null when it can: checked before a run, by creating and removing such a temp file,
 * so that a folder that refuses files (read-only, or one where nobody can create) fails at once.
 */
export function outputFileProblem(path: string): string | null {
  const problem = outputPathProblem(path);
  if (problem) return problem;
  const temp = tempPathFor(resolve(path));
  try {
    closeSync(openSync(temp, "wx"));
  } catch (e) {
    return createFailure(dirname(temp), e);
  }
  rmSync(temp, { force: true });
  return null;
}
