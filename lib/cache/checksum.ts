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

/** The plain TypeScript reference of checksumHex (tp_checksum: little-endian 64-bit words, arithmetic mod 2^64). */
export function checksumReference(bytes: Uint8Array): string {
  const n = bytes.byteLength;
  if (n === 0) return "0000000000000000";
  const u64 = (x: bigint) => BigInt.asUintN(64, x);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  const word = (i: number) => view.getBigUint64(8 * i, true);
  const words = Math.floor(n / 8);
  let a = 0x9e3779b97f4a7c15n;
  let b = 0n;
  let c = 0n;
  let d = 0n;
  let i = 0;
  for (; i + 4 <= words; i += 4) {
    a = u64(a + word(i));
    b ^= word(i + 1);
    c = u64(c + word(i + 2));
    d ^= word(i + 3);
  }
  for (; i < words; i++) a = u64(a + word(i));
  let tail = 0n;
  for (let k = n - 1; k >= 8 * words; k--) tail = (tail << 8n) | BigInt(bytes[k]);
  a = u64(a + (tail ^ BigInt(n)));
  const sum = a ^ u64(b * 0xff51afd7ed558ccdn) ^ u64((c << 17n) | (c >> 47n)) ^ u64(d * 0xc4ceb9fe1a85ec53n);
  return sum.toString(16).padStart(16, "0");
}
