import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const PROBE = join(import.meta.dir, "compiler-threads-probe.ts");

describe.skipIf(process.platform !== "linux")("idleCompilerThreads", () => {
  test("moves every compiler thread, and only them, to SCHED_IDLE", () => {
    const p = Bun.spawnSync([process.execPath, PROBE], { stdout: "pipe", stderr: "pipe" });
    expect(p.stderr.toString()).toBe("");
    const r = JSON.parse(p.stdout.toString());
    const compilers = r.after.filter((t: { compiler: boolean }) => t.compiler);
    expect(compilers.length).toBeGreaterThan(0);
    expect(r.moved).toBe(compilers.length);
    // Moving one twice changes nothing, and is counted again (the call after a look looks once more).
    expect(r.again).toBe(compilers.length);
    // With as many threads as at the last look, a call moves none; a thread more, and it looks again.
    expect(r.unchanged).toBe(0);
    expect(r.afterStart).toBe(compilers.length);
    for (const t of r.before) expect(t.policy).toBe(0);
    for (const t of r.after) expect(t.policy).toBe(t.compiler ? r.idle : 0);
  });
});
