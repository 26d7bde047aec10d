/**
 * The C helpers of lib/ (a footer walk, key scans, report sums): each a single C file built once per
 * thread with bun:ffi's TinyCC on first use, beside a TypeScript reference that runs where it cannot
 * be built. Native because loops over every byte or row, left in JS, were compiled by the optimising
 * JIT mid-run in each worker, at a cost a short run felt (measured; docs/bench.md).
 */
import { cc, type FFIFunction, type Library } from "bun:ffi";

/** A function returning the library built from `source` with `symbols` (once per thread), or null where TinyCC cannot build it. */
export function builtOnce<Fns extends Record<string, FFIFunction>>(
  source: string,
  symbols: Fns,
  library?: string[],
): () => Library<Fns> | null {
  let built: Library<Fns> | null | undefined;
  return () => {
    if (built === undefined) {
      try {
        built = cc({ source, symbols, ...(library ? { library } : {}) });
      } catch {
        built = null;
      }
    }
    return built;
  };
}
