/** bench's worker module: runs a kernel's parameter sets over one partition per task. */
import { useParquetWasmModule, wasmMemoryBytes } from "../parquet/wasm.ts";
import { serveTasks } from "../workers/serve.ts";
import { prepareBenchWorker, runBenchTask, type BenchTask, type BenchWorkerPrepare } from "./tasks.ts";

serveTasks<BenchTask>({
  run: runBenchTask,
  wasmBytes: wasmMemoryBytes,
  init: (module) => useParquetWasmModule(module as WebAssembly.Module),
  prepare: (value) => prepareBenchWorker(value as BenchWorkerPrepare),
  collectAfter: () => false,
});
