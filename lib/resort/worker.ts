/** resort's worker module: checks or repairs one partition per task. */
import { useParquetWasmModule, wasmMemoryBytes } from "../parquet/wasm.ts";
import { serveTasks } from "../workers/serve.ts";
import { runCheckTask, runRepairTask, type CheckTask, type RepairTask } from "./tasks.ts";

serveTasks<CheckTask | RepairTask>({
  run: (task) => (task.kind === "check" ? runCheckTask(task) : runRepairTask(task)),
  wasmBytes: wasmMemoryBytes,
  init: (module) => useParquetWasmModule(module as WebAssembly.Module),
  collectAfter: (task) => task.kind === "repair",
});
