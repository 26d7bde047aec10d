/** The worker side of the pool: runs the tasks the parent posts, one at a time in the order posted, and replies with the result or the error. */
import { errorMessage } from "../error-message.ts";
import type { WorkerReply } from "./pool.ts";

declare const self: Worker;

/** How a command's worker module runs its tasks. */
export interface TaskHandler<T> {
  /** Runs one task; what it returns (or throws) is posted back. */
  run(task: T): unknown;
  /** Bytes of wasm memory this thread holds, sent with every reply so the pool can recycle the worker. */
  wasmBytes(): number;
  /**
   * Whether to force a full collection after a task. A pack, repair or gen task leaves hundreds of
   * MB of dead typed arrays: collecting now rather than when the next task's allocations push RSS to
   * twice a partition measured 13.8 → 7.8 GiB peak. Bench and check tasks allocate little, and a
   * full collection per partition costs them ~30%.
   */
  collectAfter(task: T): boolean;
  /** Receives the pool's `init` value, posted before any task. */
  init?(value: unknown): void;
  /** Receives the pool's `prepare` value, posted as the worker starts (before `init`); what it throws is ignored (the task meets it again). */
  prepare?(value: unknown): void;
}

/** Asks the pool for its `init` value (a pool started with `lazyInit` computes it only when asked); the `init` handler receives it. */
export function requestInit(): void {
  self.postMessage({ wantInit: true });
}

/** Serves the tasks posted to this worker with `handler`, until the pool terminates it. */
export function serveTasks<T>(handler: TaskHandler<T>): void {
  // A task posted while another runs waits its turn (`init` and `prepare` do not: a task may await `init`).
  let turn: Promise<void> = Promise.resolve();
  self.onmessage = (ev: MessageEvent<{ id: number; task: T } | { init: unknown } | { prepare: unknown }>) => {
    if ("prepare" in ev.data) {
      try {
        handler.prepare?.(ev.data.prepare);
      } catch {
        // the first task reports it
      }
      return;
    }
    if ("init" in ev.data) {
      handler.init?.(ev.data.init);
      return;
    }
    const { id, task } = ev.data;
    turn = turn.then(async () => {
      let reply: WorkerReply<unknown>;
      try {
        reply = { id, ok: true, result: await handler.run(task), wasmBytes: handler.wasmBytes() };
      } catch (e) {
        const errorName = e instanceof Error ? e.name : "Error";
        reply = { id, ok: false, error: errorMessage(e), errorName, wasmBytes: handler.wasmBytes() };
      }
      try {
        self.postMessage(reply);
      } catch (e) {
        // A result that cannot be posted (not cloneable) fails its task, not the worker.
        const error = `the task's result could not be posted: ${errorMessage(e)}`;
        self.postMessage({ id, ok: false, error, errorName: "Error", wasmBytes: handler.wasmBytes() });
      }
      if (handler.collectAfter(task)) Bun.gc(true);
    });
  };
}
