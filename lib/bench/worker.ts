/** bench's worker module: runs a kernel's parameter sets over one partition per task. */
import { useParquetWasmModule, wasmMemoryBytes } from "../parquet/io.ts";
import { serveTasks } from "../workers/serve.ts";
import { runBenchTask, type BenchTask } from "./tasks.ts";

serveTasks<BenchTask>({
  run: runBenchTask,
  wasmBytes: wasmMemoryBytes,
  init: (module) => useParquetWasmModule(module as WebAssembly.Module),
  collectAfter: () => false,
});
