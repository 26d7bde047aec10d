/** repack's worker module: indexes one raw file, packs one partition or keeps one file's rejected rows per task. */
import { useParquetWasmModule, wasmMemoryBytes } from "../parquet/wasm.ts";
import { serveTasks } from "../workers/serve.ts";
import { runIndexTask, runPackTask, runRejectTask, type IndexTask, type PackTask, type RejectTask } from "./tasks.ts";

serveTasks<IndexTask | PackTask | RejectTask>({
  run: (task) =>
    task.kind === "index" ? runIndexTask(task) : task.kind === "reject" ? runRejectTask(task) : runPackTask(task),
  wasmBytes: wasmMemoryBytes,
  init: (module) => useParquetWasmModule(module as WebAssembly.Module),
  collectAfter: (task) => task.kind === "pack",
});
