/** Crash-safe file replacement: write a temp file in the same folder, fsync it, rename it, fsync the folder. */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

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
