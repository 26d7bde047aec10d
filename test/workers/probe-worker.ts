/**
 * A pool worker for the pool's tests: replies when its module loaded, what `prepare` values it
 * received and when it ran the task; a task may ask it to take its time, to report wasm memory, or
 * to die while running it.
 */
import { threadId } from "node:worker_threads";
import { serveTasks } from "../../lib/workers/serve.ts";

const loadedAt = performance.timeOrigin + performance.now();
// Which worker answered: two workers can load at the same instant to the clock's last digit (seen), so
// tests tell workers apart by this, not by loadedAt.
const worker = threadId;
const prepared: unknown[] = [];
let wasm = 0;

export interface ProbeTask {
  echo: number;
  sleepMs?: number;
  /** Bytes of wasm memory to report from this task on. */
  wasmBytes?: number;
  /** Die (an uncaught error) instead of answering. */
  crash?: boolean;
  /** Answer with what cannot be posted (a function). */
  unclonable?: boolean;
}

serveTasks<ProbeTask>({
  run: async (task) => {
    const startedAt = performance.timeOrigin + performance.now();
    if (task.crash)
      return new Promise(() =>
        setTimeout(() => {
          throw new Error("the probe died");
        }, 0),
      );
    if (task.sleepMs) await Bun.sleep(task.sleepMs);
    if (task.wasmBytes !== undefined) wasm = task.wasmBytes;
    if (task.unclonable) return { echo: task.echo, f: () => 1 };
    return {
      echo: task.echo,
      worker,
      loadedAt,
      prepared,
      startedAt,
      endedAt: performance.timeOrigin + performance.now(),
    };
  },
  wasmBytes: () => wasm,
  collectAfter: () => false,
  prepare: (value) => prepared.push(value),
});
