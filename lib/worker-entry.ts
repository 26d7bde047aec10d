/** Worker module: runs the tasks the parent posts, one at a time, and replies with the result or the error. */
import { runBenchTask, type BenchTask } from "./bench-tasks.ts";
import { runGenTask, type GenTask } from "./gen-tasks.ts";
import { wasmMemoryBytes } from "./parquet-io.ts";
import { runIndexTask, runPackTask, type IndexTask, type PackTask } from "./repack-tasks.ts";
import type { WorkerReply } from "./worker-pool.ts";

/** Every task kind a tickpack worker runs. */
export type WorkerTask = IndexTask | PackTask | GenTask | BenchTask;

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
  }
}

self.onmessage = async (ev: MessageEvent<{ id: number; task: WorkerTask }>) => {
  const { id, task } = ev.data;
  let reply: WorkerReply<unknown>;
  try {
    reply = { id, ok: true, result: await run(task), wasmBytes: wasmMemoryBytes() };
  } catch (e) {
    reply = { id, ok: false, error: e instanceof Error ? e.message : String(e), wasmBytes: wasmMemoryBytes() };
  }
  self.postMessage(reply);
};
