/** bench's worker module: runs a kernel's parameter sets over one partition per task. */
import { useParquetWasmModule, wasmMemoryBytes } from "../parquet/wasm.ts";
import { requestInit, serveTasks } from "../workers/serve.ts";
import { prepareBenchWorker, runBenchTask, type BenchTask, type BenchWorkerPrepare } from "./tasks.ts";

// parquet-wasm's module comes from the pool, and only once a task has a part to decode: a run served
// from the column cache never waits for (or compiles) it.
let arrived: () => void;
const wasmArrived = new Promise<void>((resolve) => (arrived = resolve));
let requested = false;
const beforeDecode = () => {
  if (!requested) requestInit();
  requested = true;
  return wasmArrived;
};

serveTasks<BenchTask>({
  run: (task) => runBenchTask(task, beforeDecode),
  wasmBytes: wasmMemoryBytes,
  init: (module) => {
    if (module) useParquetWasmModule(module as WebAssembly.Module);
    arrived();
  },
  prepare: (value) => prepareBenchWorker(value as BenchWorkerPrepare),
  collectAfter: () => false,
});
