/** repack's worker module: indexes one raw file or packs one partition per task. */
import { useParquetWasmModule, wasmMemoryBytes } from "../parquet/io.ts";
import { serveTasks } from "../workers/serve.ts";
import { runIndexTask, runPackTask, type IndexTask, type PackTask } from "./tasks.ts";

serveTasks<IndexTask | PackTask>({
  run: (task) => (task.kind === "index" ? runIndexTask(task) : runPackTask(task)),
  wasmBytes: wasmMemoryBytes,
  init: (module) => useParquetWasmModule(module as WebAssembly.Module),
  collectAfter: (task) => task.kind === "pack",
});
