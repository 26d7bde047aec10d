/** gen's worker module: writes one contract's raw file per task. */
import { useParquetWasmModule, wasmMemoryBytes } from "../parquet/wasm.ts";
import { serveTasks } from "../workers/serve.ts";
import { runGenTask, type GenTask } from "./tasks.ts";

serveTasks<GenTask>({
  run: runGenTask,
  wasmBytes: wasmMemoryBytes,
  init: (module) => useParquetWasmModule(module as WebAssembly.Module),
  collectAfter: () => true,
});
