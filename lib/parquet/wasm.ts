/**
 * parquet-wasm's instance in this thread: compiled once, instantiated on first use. Kept apart from
 * the Arrow-based readers and writers so that a thread that only needs the wasm (bench's workers,
 * the parent compiling the module for a pool) does not pay for importing apache-arrow (~31 ms).
 */
import { readFileSync } from "node:fs";
import type * as PW from "parquet-wasm/esm";

let instantiated = false;
// The bindings module is loaded on first use: importing it costs ~10–25 ms, which a thread that only
// decodes natively (or serves from the cache) never needs to pay.
let bindings: typeof PW | null = null;
const pw = (): typeof PW => (bindings ??= require("parquet-wasm/esm") as typeof PW);
let compiledModule: WebAssembly.Module | null = null;

const wasmBytes = () => readFileSync(require.resolve("parquet-wasm/esm/parquet_wasm_bg.wasm"));

/**
 * parquet-wasm's compiled module (~55 ms to compile), compiled once per thread. A pool compiles it in
 * the parent and posts it to every worker, which then instantiates it in ~5 ms instead of compiling
 * its own, and the workers share the compiled code.
 */
export function parquetWasmModule(): WebAssembly.Module {
  return (compiledModule ??= new WebAssembly.Module(wasmBytes()));
}

let compiling: Promise<WebAssembly.Module> | null = null;

/**
 * parquet-wasm's module compiled off this thread (WebAssembly.compile), for a pool to post to its
 * workers; one compile per process however often it is asked for, so a command can start it early.
 */
export function compileParquetWasmModule(): Promise<WebAssembly.Module> {
  return (compiling ??= WebAssembly.compile(wasmBytes()));
}

/** Instantiates parquet-wasm in this thread from a module compiled elsewhere; before any other use, or it has no effect. */
export function useParquetWasmModule(module: WebAssembly.Module): void {
  if (instantiated) return;
  compiledModule = module;
  parquetWasm();
}

/** parquet-wasm's bindings, instantiated on first use (from the posted module, or one compiled here). */
export function parquetWasm(): typeof PW {
  if (!instantiated) {
    pw().initSync({ module: parquetWasmModule() });
    instantiated = true;
  }
  return pw();
}

/** Bytes of wasm linear memory in use by this thread's parquet-wasm (it only grows). */
export function wasmMemoryBytes(): number {
  return instantiated ? pw().wasmMemory().buffer.byteLength : 0;
}
