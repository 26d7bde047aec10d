import { describe, expect, test } from "bun:test";
import { preparePrestarted, prestartWorkers, WorkerCrashError, WorkerPool } from "../../lib/workers/pool.ts";
import { prestartCount } from "../../scripts/cli/bench-prestart.ts";
import { CHILD_ENV } from "../../lib/bench/child.ts";

const PROBE = new URL("./probe-worker.ts", import.meta.url).href;
const BROKEN = new URL("./broken-worker.ts", import.meta.url).href;
type Probe = { echo: number; worker: number; loadedAt: number; prepared: unknown[] };

describe("workers started ahead of their pool", () => {
  test("the pool takes them, with what they were asked to prepare before it and again by it", async () => {
    prestartWorkers(PROBE, 1);
    prestartWorkers(PROBE, 1); // already there: no second one
    preparePrestarted(PROBE, "early");
    await Bun.sleep(300); // loaded well before the pool exists
    const poolAt = performance.timeOrigin + performance.now();
    const pool = new WorkerPool<{ echo: number }, Probe>(PROBE, 1, undefined, undefined, { prepare: "pool" });
    try {
      const r = await pool.run({ echo: 7 });
      expect(r.echo).toBe(7);
      expect(r.loadedAt).toBeLessThan(poolAt);
      expect(r.prepared).toEqual(["early", "pool"]);
      // A second pool of the module finds none left over: its worker starts with it.
      const again = new WorkerPool<{ echo: number }, Probe>(PROBE, 1);
      const at = performance.timeOrigin + performance.now();
      const fresh = await again.run({ echo: 1 });
      again.close();
      expect(fresh.loadedAt).toBeGreaterThan(at - 1);
      expect(fresh.prepared).toEqual([]);
    } finally {
      pool.close();
    }
  });

  test("a pool smaller than what was prestarted ends the rest, and runs on the one it took", async () => {
    prestartWorkers(PROBE, 3);
    const pool = new WorkerPool<{ echo: number }, Probe>(PROBE, 1);
    try {
      const results = await Promise.all([1, 2, 3].map((echo) => pool.run({ echo })));
      expect(results.map((r) => r.echo)).toEqual([1, 2, 3]);
      expect(new Set(results.map((r) => r.worker)).size).toBe(1);
    } finally {
      pool.close();
    }
  });

  test("a prestarted worker whose module failed to load is replaced; a task then fails, never hangs", async () => {
    prestartWorkers(BROKEN, 1);
    await Bun.sleep(200);
    const pool = new WorkerPool<{ echo: number }, Probe>(BROKEN, 1);
    try {
      const error = await pool.run({ echo: 1 }).catch((e) => e);
      expect(error).toBeInstanceOf(WorkerCrashError);
      expect(String(error.message)).toContain("broken-worker.ts");
    } finally {
      pool.close();
    }
  });
});

describe("how many bench workers the entry starts early", () => {
  const cores = navigator.hardwareConcurrency || 2;
  test("what --workers asks, up to one per core", () => {
    expect(prestartCount(["data"], {})).toBe(cores);
    expect(prestartCount(["data", "--workers", "1"], {})).toBe(1);
    expect(prestartCount(["--workers=1", "data"], {})).toBe(1);
    expect(prestartCount(["data", "--workers", String(cores + 5)], {})).toBe(cores);
  });
  test("none for help, a bad count, or the parent that supervises a --kernel or --timeout run", () => {
    expect(prestartCount(["--help"], {})).toBe(0);
    expect(prestartCount(["-h"], {})).toBe(0);
    expect(prestartCount(["data", "--workers", "x"], {})).toBe(0);
    expect(prestartCount(["data", "--workers", "0"], {})).toBe(0);
    expect(prestartCount(["data", "--kernel", "k.c"], {})).toBe(0);
    expect(prestartCount(["data", "--timeout=5"], {})).toBe(0);
    // The supervised child runs the bench: it starts its own.
    expect(prestartCount(["data", "--kernel", "k.c", "--workers", "1"], { [CHILD_ENV]: "1" })).toBe(1);
  });
});
