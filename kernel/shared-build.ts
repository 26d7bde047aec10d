/**
 * A build's functions handed to another thread of the same process, which then calls them instead of
 * compiling its own. The thread that built them keeps the build referenced for the process's life
 * (its per-thread cache of loaded kernels), so the code stays mapped. A worker compiling its own
 * kernel took ~22 ms before its first task (measured, beside the main thread's compile of the same
 * one); linking the addresses takes well under a millisecond.
 */
import { type ConvertFns, type FFIFunction, linkSymbols, type Pointer } from "bun:ffi";

/** A build's exported functions as bun:ffi declares them. */
export type BuildSymbols = Record<string, Omit<FFIFunction, "ptr">>;

/** Each function's address in this process, by name (plain numbers: they cross postMessage). */
export type BuildAddresses<S extends BuildSymbols> = { [K in keyof S]: number };

/** The addresses of `symbols`' functions (`decls` names them); throws where a build gave none. */
export function addressesOf<S extends BuildSymbols>(symbols: ConvertFns<S>, decls: S): BuildAddresses<S> {
  const out = {} as BuildAddresses<S>;
  for (const name of Object.keys(decls) as (keyof S & string)[]) {
    const at = Number((symbols[name] as unknown as { ptr: number }).ptr);
    if (!(at > 0)) throw new Error(`the build gave no address for ${name}`);
    out[name] = at;
  }
  return out;
}

/** Callable functions at `at`, declared as `decls` (another thread's build, still loaded). */
export function linkAddresses<S extends BuildSymbols>(decls: S, at: BuildAddresses<S>): ConvertFns<S> {
  const withPtr = {} as Record<string, FFIFunction>;
  for (const name of Object.keys(decls)) withPtr[name] = { ...decls[name], ptr: at[name] as unknown as Pointer };
  return linkSymbols(withPtr).symbols as unknown as ConvertFns<S>;
}
