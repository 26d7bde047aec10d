/** Worker module: runs the tasks the parent posts, one at a time, and replies with the result or the error. */
import { runBenchTask, type BenchTask } from "./bench-tasks.ts";
import { errorMessage } from "./error-message.ts";
import { runGenTask, type GenTask } from "./gen-tasks.ts";
import { wasmMemoryBytes } from "./parquet-io.ts";
import { runIndexTask, runPackTask, type IndexTask, type PackTask } from "./repack-tasks.ts";
import { runCheckTask, runRepairTask, type CheckTask, type RepairTask } from "./resort-tasks.ts";
import type { WorkerReply } from "./worker-pool.ts";

/** Every task kind a tickpack worker runs. */
export type WorkerTask = IndexTask | PackTask | GenTask | BenchTask | CheckTask | RepairTask;

declare const self: Worker;

async function run(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case "index":
      return runIndexTask(task);
    case "pack":
      return runPackTask(task);
    case "gen":
      return runGenTask(task);
    case "bench":
      return runBenchTask(task);
    case "check":
      return runCheckTask(task);
    case "repair":
      return runRepairTask(task);
  }
}

self.onmessage = async (ev: MessageEvent<{ id: number; task: WorkerTask }>) => {
  const { id, task } = ev.data;
  let reply: WorkerReply<unknown>;
  try {
    reply = { id, ok: true, result: await run(task), wasmBytes: wasmMemoryBytes() };
  } catch (e) {
    reply = { id, ok: false, error: errorMessage(e), wasmBytes: wasmMemoryBytes() };
  }
  self.postMessage(reply);
  // A pack, repair or gen task leaves hundreds of MB of dead typed arrays: collect now rather than
  // when the next task's allocations push RSS to twice a partition (measured: 13.8 → 7.8 GiB peak).
  // Bench and check tasks allocate little, and a full collection per partition costs them ~30%.
  if (task.kind === "pack" || task.kind === "repair" || task.kind === "gen") Bun.gc(true);
};
