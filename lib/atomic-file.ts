/** Crash-safe file replacement: write a temp file in the same folder, fsync it, rename it, fsync the folder. */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Marker in the names of temp files, so a later run can recognise and remove abandoned ones. */
export const TEMP_MARKER = ".tmp-";

/** A fresh temp path beside `finalPath` (hidden, never matched as a data file). */
export function tempPathFor(finalPath: string): string {
  const rand = Math.random().toString(36).slice(2, 10);
  return join(dirname(finalPath), `.${basename(finalPath)}${TEMP_MARKER}${process.pid}-${rand}`);
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
  writeFileSynced(temp, bytes);
  renameSync(temp, path);
  fsyncDir(dirname(path));
}
