/**
 * The column-chunk decoders the tests compare: the TypeScript reference, and the native decoder's
 * builds (TinyCC, and gcc where installed) once lib/parquet/native/page-decoder.ts is in the tree.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ChunkDesc, DecodedChunk, RowWindow } from "../../lib/parquet/native/chunk-desc.ts";
import { decodeChunk } from "../../lib/parquet/native/page-decoder-reference.ts";

/** A decoder of the contract's shape. */
export type DecodeChunk = (chunk: Uint8Array, desc: ChunkDesc, window: RowWindow) => DecodedChunk;

/** The native decoder's module. */
export const NATIVE_MODULE = join(import.meta.dir, "../../lib/parquet/native/page-decoder.ts");
/** Whether the native decoder is in this tree (until it is, only the reference is tested). */
export const nativeExists = existsSync(NATIVE_MODULE);
/** The compilers the native decoder is built with here. */
export const NATIVE_COMPILERS = ["tcc", ...(Bun.which("gcc") ? ["gcc"] : [])];

/** What the native module's loadPageDecoder returns (decoder contract). */
export interface LoadedNativeDecoder {
  native: boolean;
  compiler: string;
  decodeChunk(chunk: Uint8Array, desc: ChunkDesc, window: RowWindow, slot?: number): DecodedChunk;
}

/** The native decoder built with `compiler`. */
export async function loadNativeDecoder(compiler: string): Promise<LoadedNativeDecoder> {
  const { loadPageDecoder } = (await import(NATIVE_MODULE)) as {
    loadPageDecoder: (cc?: string) => LoadedNativeDecoder;
  };
  return loadPageDecoder(compiler);
}

/** The reference and, when the native decoder is here, its builds, by name; `native` is checked to be true. */
export async function chunkDecoders(compilers = NATIVE_COMPILERS): Promise<[string, DecodeChunk][]> {
  const out: [string, DecodeChunk][] = [["reference", decodeChunk]];
  if (!nativeExists) return out;
  for (const cc of compilers) {
    const d = await loadNativeDecoder(cc);
    if (d.native !== true || d.compiler !== cc)
      throw new Error(`the ${cc} build of the native decoder did not load natively`);
    out.push([`native (${cc})`, (c, desc, w) => d.decodeChunk(c, desc, w)]);
  }
  return out;
}
