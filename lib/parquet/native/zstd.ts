/**
 * The system's libzstd, opened with bun:ffi for the native page decoder: the addresses of the few
 * functions it calls through pointers (the C needs no zstd header, and TinyCC no library to link).
 * `TICKPACK_LIBZSTD` names the library to open instead of the usual names (`none`: act as if there
 * were none, so tests and users can check the path taken without it).
 */
import { dlopen, type Library, type Pointer } from "bun:ffi";

/** Addresses of libzstd's functions the decoder calls, and the library they came from. */
export interface ZstdFunctions {
  /** The name or path that was opened. */
  library: string;
  createDCtx: Pointer;
  freeDCtx: Pointer;
  decompressDCtx: Pointer;
  isError: Pointer;
  getErrorName: Pointer;
}

const SYMBOLS = {
  ZSTD_createDCtx: { args: [], returns: "ptr" },
  ZSTD_freeDCtx: { args: ["ptr"], returns: "u64" },
  ZSTD_decompressDCtx: { args: ["ptr", "ptr", "u64", "ptr", "u64"], returns: "u64" },
  ZSTD_isError: { args: ["u64"], returns: "u32" },
  ZSTD_getErrorName: { args: ["u64"], returns: "cstring" },
} as const;

/** The names tried, in order, unless TICKPACK_LIBZSTD says otherwise. */
export function libzstdCandidates(): string[] {
  const named = process.env.TICKPACK_LIBZSTD;
  if (named === "none") return [];
  if (named) return [named];
  return process.platform === "darwin"
    ? ["libzstd.1.dylib", "/opt/homebrew/lib/libzstd.1.dylib", "/usr/local/lib/libzstd.1.dylib"]
    : ["libzstd.so.1", "libzstd.so"];
}

/** A bun:ffi function's native address (bun-types does not declare `.ptr`). */
function addressOf(fn: unknown): Pointer {
  const address = (fn as { ptr?: Pointer }).ptr;
  if (!address) throw new Error("bun:ffi gave no address");
  return address;
}

// Kept open for the thread's life: the decoder holds the addresses.
let opened: { lib: Library<typeof SYMBOLS>; fns: ZstdFunctions } | null | undefined;

/** libzstd's functions (opened once per thread), or null when no candidate opens. */
export function loadZstd(): ZstdFunctions | null {
  if (opened !== undefined) return opened?.fns ?? null;
  opened = null;
  for (const name of libzstdCandidates()) {
    try {
      const lib = dlopen(name, SYMBOLS);
      const s = lib.symbols;
      const fns: ZstdFunctions = {
        library: name,
        createDCtx: addressOf(s.ZSTD_createDCtx),
        freeDCtx: addressOf(s.ZSTD_freeDCtx),
        decompressDCtx: addressOf(s.ZSTD_decompressDCtx),
        isError: addressOf(s.ZSTD_isError),
        getErrorName: addressOf(s.ZSTD_getErrorName),
      };
      opened = { lib, fns };
      break;
    } catch {
      // not there (or not libzstd): the next name
    }
  }
  return opened?.fns ?? null;
}
