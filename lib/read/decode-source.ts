/** Where a part that is not served from the column cache is decoded: every decode of a part goes through here. */
import { errorMessage } from "../error-message.ts";
import { StrategyInputError } from "./input-error.ts";
import type { PartSource } from "./part-source.ts";
import { openWasmSource } from "./wasm-source.ts";

/**
 * A decoding source of the part at `path` (open as `fd`, left open) that holds every one of
 * `columns`; throws StrategyInputError naming the file when it cannot be opened or lacks a column.
 * `beforeDecode` resolves once parquet-wasm may be used (a warm run never waits for it).
 */
export async function openDecodeSource(
  path: string,
  fd: number,
  columns: readonly string[],
  beforeDecode?: () => Promise<void>,
): Promise<PartSource> {
  await beforeDecode?.();
  const source = await openWasmSource(path, fd).catch((e: unknown) => {
    throw new StrategyInputError(`${path}: ${errorMessage(e)}`);
  });
  const present = new Set(source.columns.map((f) => f.name));
  const missing = columns.filter((c) => !present.has(c));
  if (missing.length > 0) {
    source.close();
    throw new StrategyInputError(`${path}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  }
  return source;
}
