/**
 * What the command and the bench pool need of chain kernels without loading their driver
 * (kernel/chain-kernel.ts, ~4 ms of imports a run of a per-contract kernel never needs): the ABI a
 * kernel file is written against, the built-in chain kernel's path, a chain run's order error.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Path of the built-in short_straddle kernel (SPEC §6.1). */
export const SHORT_STRADDLE_SOURCE = join(import.meta.dir, "short_straddle.c");

/** The ABI a kernel source is written against: a chain kernel includes tickpack_chain.h. */
export type KernelAbi = "contract" | "chain";

/** The ABI of the kernel at `path`, by the header it includes (a file that cannot be read is left to the compiler). */
export function kernelAbiOf(path: string): KernelAbi {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return "contract";
  }
  return /^\s*#\s*include\s*[<"]tickpack_chain\.h[">]/m.test(text) ? "chain" : "contract";
}

/** A bad order or a refused column: the run stops; `bench` names the kernel and the instant. */
export class ChainOrderError extends Error {
  override name = ChainOrderError.name;
}
