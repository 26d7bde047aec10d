/** The column cache's checksum of a byte range (lib/cache/checksum.c, built once per thread with TinyCC). */
import { cc, ptr } from "bun:ffi";
import { join } from "node:path";

let lib: { symbols: { tp_checksum: (p: number, n: number) => bigint } } | null = null;

function compiled() {
  return (lib ??= cc({
    source: join(import.meta.dir, "checksum.c"),
    symbols: { tp_checksum: { args: ["ptr", "i64"], returns: "u64" } },
  }) as never);
}

/** Checksum of `bytes` (any length), as 16 hex digits. */
export function checksumHex(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) return "0000000000000000";
  return compiled().symbols.tp_checksum(ptr(bytes), bytes.byteLength).toString(16).padStart(16, "0");
}
