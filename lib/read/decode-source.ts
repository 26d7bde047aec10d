/** Where a part that is not served from the column cache is decoded: every decode of a part goes through here. */
import type { KernelCompiler } from "../../kernel/strategy-kernel.ts";
import { errorMessage } from "../error-message.ts";
import { adoptChunkIndexWalk, buildChunkIndexWalk } from "../parquet/native/chunk-index.ts";
import { loadPageDecoder, pageDecoderEntry, type PageDecoder } from "../parquet/native/page-decoder.ts";
import { loadZstd } from "../parquet/native/zstd.ts";
import { StrategyInputError } from "./input-error.ts";
import { openNativeSource } from "./native-source.ts";
import type { PartSource } from "./part-source.ts";

/** Which decoder reads parts: tickpack's own C decoder where a part allows it (else parquet-wasm), or parquet-wasm for every part. */
export type DecoderChoice = "native" | "wasm";
export const DECODER_CHOICES: readonly DecoderChoice[] = ["native", "wasm"];

/** How parts are decoded. */
export interface DecodeSettings {
  /** Default "native". */
  decoder?: DecoderChoice;
  /** The native decoder's compiler (the run's --cc; default tcc). */
  compiler?: KernelCompiler;
  /**
   * The decoder's build in another thread of this process (pageDecoderEntry), so that this thread
   * builds none; null: that build failed (parquet-wasm decodes); absent: built here on first use.
   */
  decoderEntry?: number | null;
  /** Resolves once parquet-wasm may be used: awaited only before a part goes to parquet-wasm. */
  beforeDecode?: () => Promise<void>;
}

/** The native decoder of this thread, or null where it cannot be built (then every part goes to parquet-wasm). */
export function nativeDecoder(compiler: KernelCompiler, entry?: number | null): PageDecoder | null {
  if (entry === null) return null;
  if (!builds.has(compiler)) {
    try {
      builds.set(compiler, loadPageDecoder(compiler, entry));
    } catch {
      builds.set(compiler, null); // tried once per thread
    }
  }
  return builds.get(compiler) ?? null;
}
const builds = new Map<KernelCompiler, PageDecoder | null>();

/**
 * Builds what this thread's native reads need besides the decoder (the footer's chunk-index walk,
 * libzstd opened), ahead of the first part: ~5 ms a worker otherwise pays on its first task.
 */
export function prepareNativeRead(chunkIndexWalk: number | null = null): void {
  if (chunkIndexWalk !== null) adoptChunkIndexWalk(chunkIndexWalk);
  else buildChunkIndexWalk();
  loadZstd();
}

/** The native decoder's build for other threads of this process (pageDecoderEntry), or null where it cannot be built. */
export function nativeDecoderEntry(compiler: KernelCompiler): number | null {
  try {
    return pageDecoderEntry(compiler);
  } catch {
    return null;
  }
}

function checkColumns(source: PartSource, path: string, columns: readonly string[]): PartSource {
  const present = new Set(source.columns.map((f) => f.name));
  const missing = columns.filter((c) => !present.has(c));
  if (missing.length > 0) {
    source.close();
    throw new StrategyInputError(`${path}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  }
  return source;
}

/**
 * A decoding source of the part at `path` (open as `fd`, left open) that holds every one of
 * `columns`; throws StrategyInputError naming the file when it cannot be opened or lacks a column.
 * The native source where the part is one tickpack wrote in encodings its decoder reads; else parquet-wasm.
 * Of `coded`, the native source gives dictionary-coded chunks as runs of codes or codes
 * (CColumn.codeRuns, codeValues).
 */
export async function openDecodeSource(
  path: string,
  fd: number,
  columns: readonly string[],
  settings: DecodeSettings = {},
  coded: readonly string[] = [],
): Promise<PartSource> {
  if ((settings.decoder ?? "native") === "native") {
    const decoder = nativeDecoder(settings.compiler ?? "tcc", settings.decoderEntry);
    const native = decoder && openNativeSource(path, fd, columns, decoder, coded);
    if (native) return checkColumns(native, path, columns);
  }
  await settings.beforeDecode?.();
  // Loaded with the first part the native decoder cannot read: a run over tickpack's own files never imports it.
  const { openWasmSource } = await import("./wasm-source.ts");
  const source = await openWasmSource(path, fd).catch((e: unknown) => {
    throw new StrategyInputError(`${path}: ${errorMessage(e)}`);
  });
  return checkColumns(source, path, columns);
}
