/**
 * Read-only memory maps of cache files, unmapped when the caller is done. Not `Bun.mmap`: it opens
 * the file read-write and maps it writable and shared, so a kernel writing through a column pointer
 * (C can) would change the cache on disk, and a cache the user cannot write could not be read; its
 * maps also live until garbage collection. Here: PROT_READ, MAP_PRIVATE (a stray write faults), and
 * an explicit unmap once a partition is done, so a run holds the maps of one partition per worker.
 */
import { dlopen, ptr, toArrayBuffer, type Pointer } from "bun:ffi";
import { closeSync, fstatSync, openSync } from "node:fs";
import { LIBC_NAME } from "../libc.ts";

/**
 * A mapped file, valid until `unmap()` (after which touching its bytes crashes the process). Its
 * address and size serve C readers without a JavaScript view: JavaScriptCore counts a view's
 * whole length as memory just allocated, and a run mapping a 50 MB part a partition set off a
 * collection in its worker nearly every partition (measured with BUN_JSC_logGC=1).
 */
export interface FileMapping {
  /** The map's first byte (0 for an empty file). */
  address: number;
  size: number;
  /** The whole file as bytes (made on first use; the collector counts all of it). */
  readonly bytes: Uint8Array;
  /** Bytes [start, end) of the file: only they are counted. */
  view(start: number, end: number): Uint8Array;
  unmap(): void;
}

/** Throws unless [start, end) lies within a file of `size` bytes. */
function checkRange(path: string, start: number, end: number, size: number): void {
  if (!(start >= 0 && start <= end && end <= size)) throw new RangeError(`${path}: bytes ${start}..${end} of ${size}`);
}

/** A mapping over bytes JavaScript holds already (Bun.mmap's, an empty file's). */
function mappingOfBytes(path: string, bytes: Uint8Array, unmap: () => void): FileMapping {
  return {
    address: bytes.length > 0 ? Number(ptr(bytes)) : 0,
    size: bytes.length,
    bytes,
    view(start, end) {
      checkRange(path, start, end, bytes.length);
      return bytes.subarray(start, end);
    },
    unmap,
  };
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
  if (!loadLibc()) return mappingOfBytes(path, Bun.mmap(path, { shared: false }), () => {});
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
  if (!c) return mappingOfBytes(path, Bun.mmap(path, { shared: false }), () => {});
  const size = fstatSync(fd).size;
  if (size === 0) return mappingOfBytes(path, new Uint8Array(0), () => {});
  const addr = c.mmap(null, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr === null || BigInt(addr) === MAP_FAILED) throw new Error(`mmap failed for ${path}`);
  let mapped = true;
  let whole: Uint8Array | null = null;
  const view = (start: number, end: number) => {
    checkRange(path, start, end, size);
    // toArrayBuffer gives no view of nothing.
    return end === start ? new Uint8Array(0) : new Uint8Array(toArrayBuffer(addr, start, end - start));
  };
  return {
    address: Number(addr),
    size,
    get bytes() {
      whole ??= view(0, size);
      return whole;
    },
    view,
    unmap() {
      if (mapped) c.munmap(addr, size);
      mapped = false;
    },
  };
}
