import { describe, expect, test } from "bun:test";
import { WorkerCrashError, WorkerPool, WorkerTaskError } from "../../lib/workers/pool.ts";
import type { ProbeTask } from "./probe-worker.ts";

const PROBE = new URL("./probe-worker.ts", import.meta.url).href;
type Probe = { echo: number; worker: number; loadedAt: number; startedAt: number; endedAt: number };

/** A pool of the probe with two tasks in flight per worker. */
const pipelined = (workers: number, recycleWasmBytes?: number) =>
  new WorkerPool<ProbeTask, Probe>(PROBE, workers, recycleWasmBytes, undefined, { tasksPerWorker: 2 });

describe("tasks posted ahead to a busy worker (tasksPerWorker)", () => {
  test("a worker runs them one at a time, in order, each once", async () => {
    const pool = pipelined(1);
    try {
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map((echo) => pool.run({ echo, sleepMs: 15 })));
      expect(results.map((r) => r.echo)).toEqual([1, 2, 3, 4, 5, 6]);
      for (let k = 1; k < results.length; k++)
        expect(results[k].startedAt).toBeGreaterThanOrEqual(results[k - 1].endedAt);
    } finally {
      pool.close();
    }
  });

  test("the last tasks go to whichever worker frees first, not behind a long one", async () => {
    const pool = pipelined(2);
    try {
      const [slow, fast, last] = await Promise.all([
        pool.run({ echo: 1, sleepMs: 600 }),
        pool.run({ echo: 2, sleepMs: 1 }),
        pool.run({ echo: 3, sleepMs: 1 }),
      ]);
      expect(last.worker).toBe(fast.worker);
      expect(last.worker).not.toBe(slow.worker);
      expect(last.endedAt).toBeLessThan(slow.endedAt);
    } finally {
      pool.close();
    }
  });

  test("a worker that dies fails only the task it ran; the one posted behind it runs on its replacement", async () => {
    const pool = pipelined(1);
    try {
      const first = pool.run({ echo: 0, sleepMs: 1 });
      // Four waiting at once, so that the one after the crash is posted ahead to the same worker.
      const runs = [
        pool.run({ echo: 1, crash: true }),
        pool.run({ echo: 2 }),
        pool.run({ echo: 3 }),
        pool.run({ echo: 4 }),
      ];
      const before = await first;
      const died = await runs[0].catch((e) => e);
      expect(died).toBeInstanceOf(WorkerCrashError);
      const after = await Promise.all(runs.slice(1));
      expect(after.map((r) => r.echo)).toEqual([2, 3, 4]);
      for (const r of after) expect(r.worker).not.toBe(before.worker);
    } finally {
      pool.close();
    }
  });

  test("a worker past the wasm limit finishes what it was posted, then is replaced", async () => {
    const pool = pipelined(1, 1000);
    try {
      const first = pool.run({ echo: 0, sleepMs: 1 });
      const runs = [1, 2, 3, 4].map((echo) => pool.run({ echo, sleepMs: 5, wasmBytes: echo === 1 ? 5000 : undefined }));
      const before = await first;
      const [over, behind, ...rest] = await Promise.all(runs);
      expect(over.worker).toBe(before.worker);
      // Posted before the limit was seen: it runs on the same worker, and nothing after it does.
      expect(behind.worker).toBe(before.worker);
      for (const r of rest) expect(r.worker).not.toBe(before.worker);
    } finally {
      pool.close();
    }
  });

  test("a result that cannot be posted fails its task with a reason; the worker goes on", async () => {
    const pool = pipelined(1);
    try {
      const [before, bad, after] = await Promise.allSettled([
        pool.run({ echo: 1 }),
        pool.run({ echo: 2, unclonable: true }),
        pool.run({ echo: 3 }),
      ]);
      expect(bad.status).toBe("rejected");
      const reason = (bad as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(WorkerTaskError);
      expect(String(reason.message)).toContain("could not be posted");
      expect(before.status === "fulfilled" && after.status === "fulfilled").toBe(true);
      const [a, b] = [before, after].map((r) => (r as PromiseFulfilledResult<Probe>).value);
      expect(b.worker).toBe(a.worker);
    } finally {
      pool.close();
    }
  });

  test("without it a worker is posted one task at a time", async () => {
    const pool = new WorkerPool<ProbeTask, Probe>(PROBE, 2);
    try {
      const [slow, , last] = await Promise.all([
        pool.run({ echo: 1, sleepMs: 400 }),
        pool.run({ echo: 2, sleepMs: 1 }),
        pool.run({ echo: 3, sleepMs: 1 }),
      ]);
      expect(last.worker).not.toBe(slow.worker);
    } finally {
      pool.close();
    }
  });
});
