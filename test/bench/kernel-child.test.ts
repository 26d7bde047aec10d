import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);
const BENCH = join(import.meta.dir, "..", "..", "scripts", "bench.ts");

let packed: string;
let kernels: string;
beforeAll(async () => {
  packed = await packedFixture("child", { days: 1 });
  kernels = tempDir("child-kernels");
});
afterAll(cleanupTempDirs);

/** A kernel whose tickpack_run body is `row` (once per run of rows); each file gets its own name so that its processes can be found. */
function kernel(name: string, row: string, includes = ""): string {
  const path = join(kernels, name);
  writeFileSync(
    path,
    `#include "tickpack.h"
${includes}
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return ""; }
int tickpack_state_size(void) { return 0; }
void tickpack_segment_start(const double *p, double *s) {}
void tickpack_run(const double *p, double *s, tp_rows_t *r) { ${row} }
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`,
  );
  return path;
}

/** Pids of live processes whose command line mentions `needle`. */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const state = readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]?.[0];
      if (state === "Z") continue; // a zombie is dead, only not yet reaped
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function until(cond: () => boolean, seconds: number): Promise<boolean> {
  for (let waited = 0; waited < seconds * 1000; waited += 50) {
    if (cond()) return true;
    await Bun.sleep(50);
  }
  return cond();
}

const bench = (args: string[], env: Record<string, string> = {}) => runScript("bench.ts", args, undefined, env);

const LOOP = "volatile int x = 1; while (x) {}";

describe("bench --kernel runs in a child that cannot outlive it or end silently", () => {
  test("a kernel that calls exit(0) is an error naming the kernel (exit 1), not a silent success", () => {
    const k = kernel("exit0.c", "exit(0);", "#include <stdlib.h>");
    const r = bench([packed, "--kernel", k, "--workers", "1", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(k);
    expect(r.stderr).toContain("ended without a result");
  });

  test("--timeout kills a kernel that loops forever: exit 1 naming the kernel and the timeout; nothing left running", async () => {
    const k = kernel("loop-timeout.c", LOOP);
    const r = bench([packed, "--kernel", k, "--workers", "1", "--timeout", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(k);
    expect(r.stderr).toContain("1 s");
    expect(r.stderr).not.toContain("    at ");
    expect(await until(() => processesWith(k).length === 0, 5)).toBe(true);
  });

  test("--timeout is validated", () => {
    for (const bad of ["0", "-1", "x", ""]) expect(bench([packed, "--timeout", bad]).code).toBe(2);
  });

  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGHUP", 129],
  ] as const) {
    test(`${signal} to bench ends the kernel child too (exit ${code})`, async () => {
      const k = kernel(`loop-${signal}.c`, LOOP);
      const p = Bun.spawn([process.execPath, BENCH, packed, "--kernel", k, "--workers", "1"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        // Parent and child both carry the kernel path on their command lines.
        expect(await until(() => processesWith(k).length >= 2, 20)).toBe(true);
        await Bun.sleep(300); // let the child reach the kernel
        p.kill(signal);
        expect(await p.exited).toBe(code);
        expect(await until(() => processesWith(k).length === 0, 5)).toBe(true);
      } finally {
        for (const pid of processesWith(k)) process.kill(pid, "SIGKILL");
      }
    });
  }

  test("a kernel child whose parent is killed (SIGKILL) notices and ends", async () => {
    const k = kernel("loop-orphan.c", LOOP);
    const p = Bun.spawn([process.execPath, BENCH, packed, "--kernel", k, "--workers", "1"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      expect(await until(() => processesWith(k).length >= 2, 20)).toBe(true);
      await Bun.sleep(300);
      p.kill("SIGKILL");
      await p.exited;
      expect(await until(() => processesWith(k).length === 0, 10)).toBe(true);
    } finally {
      for (const pid of processesWith(k)) process.kill(pid, "SIGKILL");
    }
  });
});

describe("bench leaves no temp folders behind", () => {
  test("a bench run (built-in kernel, and --kernel in a child) leaves nothing in TMPDIR", () => {
    for (const extra of [[], ["--kernel", join(import.meta.dir, "..", "..", "examples", "mid_reversion.c")]]) {
      const tmp = tempDir("child-tmpdir");
      const r = bench([packed, "--workers", "2", ...extra], { TMPDIR: tmp });
      expect(r.code).toBe(0);
      // bun-cc-* is Bun's own TinyCC header cache (one, reused); tickpack's must all be gone.
      expect(readdirSync(tmp).filter((n) => n.startsWith("tickpack-"))).toEqual([]);
    }
  });

  test("bench never starts more workers than partitions", () => {
    const r = bench([packed, "--workers", "16", "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.workers).toBe(s.partitions);
    expect(s.partitions).toBeLessThan(16);
    expect(existsSync(packed)).toBe(true);
  });
});
