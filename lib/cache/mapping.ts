/**
 * Read-only memory maps of cache files, unmapped when the caller is done. Not `Bun.mmap`: it opens
 * the file read-write and maps it writable and shared, so a kernel writing through a column pointer
 * (C can) would change the cache on disk, and a cache the user cannot write could not be read; its
 * maps also live until garbage collection. Here: PROT_READ, MAP_PRIVATE (a stray write faults), and
 * an explicit unmap once a partition is done, so a run holds the maps of one partition per worker.
 */
import { dlopen, toArrayBuffer, type Pointer } from "bun:ffi";
import { closeSync, fstatSync, openSync } from "node:fs";
import { LIBC_NAME } from "../libc.ts";

/** A mapped file: its bytes, valid until `unmap()` (after which touching them crashes the process). */
export interface FileMapping {
  bytes: Uint8Array;
  unmap(): void;
}

const PROT_READ = 1;
const MAP_PRIVATE = 2;
const MAP_FAILED = 2n ** 64n - 1n;

type Libc = {
  mmap(addr: null, len: number, prot: number, flags: number, fd: number, off: number): Pointer | null;
  munmap(addr: Pointer, len: number): number;
};
let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    libc = dlopen(LIBC_NAME, {
      mmap: { args: ["ptr", "u64", "i32", "i32", "i32", "i64"], returns: "ptr" },
      munmap: { args: ["ptr", "u64"], returns: "i32" },
    }).symbols as unknown as Libc;
  } catch {
    libc = null; // another libc (musl): Bun.mmap below
  }
  return libc;
}

/** Maps the whole file at `path` read-only; throws with the system's reason when it cannot. */
export function mapFileReadOnly(path: string): FileMapping {
  if (!loadLibc()) {
    const bytes = Bun.mmap(path, { shared: false });
    return { bytes, unmap() {} };
  }
  const fd = openSync(path, "r");
  try {
    return mapOpenFileReadOnly(fd, path);
  } finally {
    closeSync(fd); // the map keeps the file
  }
}

/**
 * Maps the whole file open as `fd` read-only (the descriptor stays the caller's): the bytes of the
 * file that descriptor names, even if `path` (for messages) has been replaced since.
 */
export function mapOpenFileReadOnly(fd: number, path: string): FileMapping {
  const c = loadLibc();
  if (!c) {
    const bytes = Bun.mmap(path, { shared: false });
    return { bytes, unmap() {} };
  }
  const size = fstatSync(fd).size;
  if (size === 0) return { bytes: new Uint8Array(0), unmap() {} };
  const addr = c.mmap(null, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr === null || BigInt(addr) === MAP_FAILED) throw new Error(`mmap failed for ${path}`);
  let mapped = true;
  return {
    bytes: new Uint8Array(toArrayBuffer(addr, 0, size)),
    unmap() {
      if (mapped) c.munmap(addr, size);
      mapped = false;
    },
  };
}
