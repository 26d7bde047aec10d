/**
 * The column-chunk decoders the tests compare: the TypeScript reference, and the native decoder's
 * builds (TinyCC, and gcc where installed).
 */
import type { ChunkDesc, DecodedChunk, RowWindow } from "../../lib/parquet/native/chunk-desc.ts";
import { loadPageDecoder, type PageDecoder } from "../../lib/parquet/native/page-decoder.ts";
import { decodeChunk } from "../../lib/parquet/native/page-decoder-reference.ts";
import type { KernelCompiler } from "../../kernel/strategy-kernel.ts";

/** A decoder of the contract's shape. */
export type DecodeChunk = (chunk: Uint8Array, desc: ChunkDesc, window: RowWindow) => DecodedChunk;

/** The compilers the native decoder is built with here. */
export const NATIVE_COMPILERS: KernelCompiler[] = ["tcc", ...(Bun.which("gcc") ? (["gcc"] as const) : [])];

/** The native decoder built with `compiler`. */
export async function loadNativeDecoder(compiler: KernelCompiler): Promise<PageDecoder> {
  return loadPageDecoder(compiler);
}

/** The reference and the native decoder's builds, by name; `native` is checked to be true. */
export async function chunkDecoders(compilers = NATIVE_COMPILERS): Promise<[string, DecodeChunk][]> {
  const out: [string, DecodeChunk][] = [["reference", decodeChunk]];
  for (const cc of compilers) {
    const d = await loadNativeDecoder(cc);
    if (d.native !== true || d.compiler !== cc)
      throw new Error(`the ${cc} build of the native decoder did not load natively`);
    out.push([`native (${cc})`, (c, desc, w) => d.decodeChunk(c, desc, w)]);
  }
  return out;
}
