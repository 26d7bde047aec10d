import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { privateKernelCache } from "../helpers/kernel-cache.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..", "..");
const GCC = Bun.which("gcc");
const kernelBuilds = privateKernelCache();

let packed: string;
let out: string;
beforeAll(async () => {
  packed = await packedFixture("cc", { days: 1 });
  out = tempDir("cc-out");
});
afterAll(cleanupTempDirs);

const bench = (args: string[], env: Record<string, string> = {}) => runScript("bench.ts", args, undefined, env);

describe("bench --cc", () => {
  test("an unknown compiler, or one that is not installed, is a usage error naming it", () => {
    const bad = bench([packed, "--cc", "icc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--cc: expected one of tcc, gcc, clang, got "icc"');
    const absent = (["clang", "gcc"] as const).find((c) => !Bun.which(c));
    if (!absent) return; // both installed: nothing missing to name
    const r = bench([packed, "--cc", absent]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`bench: --cc ${absent}: ${absent} is not installed (not found on PATH)`);
    expect(r.stdout).toBe("");
  });

  test.skipIf(!GCC)(
    `--cc gcc and --cc tcc: the same totals (PnL bit for bit) and the same trade log, built-in and --kernel, leaving nothing in TMPDIR${GCC ? "" : " (skipped: no gcc on PATH)"}`,
    () => {
      const runs = [
        ["--grid", "fast=3,5;slow=13,21;max_spread=0.0005,0.01"],
        ["--kernel", join(ROOT, "examples", "mid_reversion.c"), "--grid", "lookback=5,20;band=0.0005,0.002"],
      ];
      for (const [i, extra] of runs.entries()) {
        const got: { summary: { grid: unknown[]; trades: number; pnl: number; rows: number }; trades: string }[] = [];
        for (const cc of ["tcc", "gcc"]) {
          const tmp = tempDir("cc-tmpdir");
          const file = join(out, `${i}-${cc}.csv`);
          const r = bench([packed, "--workers", "2", "--cc", cc, "--json", "--trades", file, ...extra], {
            TMPDIR: tmp,
          });
          expect({ cc, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ cc, code: 0, stderr: "" });
          expect(readdirSync(tmp).filter((n) => n.startsWith("tickpack-") || n.startsWith("cc"))).toEqual([]);
          got.push({ summary: JSON.parse(r.stdout), trades: readFileSync(file, "utf8") });
        }
        const [tcc, gcc] = got;
        expect(kernelBuilds().length).toBe(i + 1); // bench built it: no earlier run's build was opened
        expect(tcc.summary.trades).toBeGreaterThan(0);
        expect(gcc.summary.grid).toEqual(tcc.summary.grid);
        expect([gcc.summary.rows, gcc.summary.trades, gcc.summary.pnl]).toEqual([
          tcc.summary.rows,
          tcc.summary.trades,
          tcc.summary.pnl,
        ]);
        expect(gcc.trades).toBe(tcc.trades);
      }
    },
  );

  test("a kernel whose tickpack_params() names a parameter twice is a usage error naming the file (exit 2)", () => {
    const k = join(out, "params-twice.c");
    writeFileSync(
      k,
      readFileSync(join(ROOT, "examples", "mid_reversion.c"), "utf8").replace(
        '"lookback=50,band=0.002"',
        '"lookback=50,band=0.002,lookback=20"',
      ),
    );
    const r = bench([packed, "--kernel", k]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`bench: ${k}: tickpack_params() declares lookback twice`);
    expect(r.stdout).toBe("");
  });

  test("a kernel that crashes its run leaves no build folder of its process in TMPDIR (another worker may have been compiling)", () => {
    // The crash itself leaves one behind, named as the child's builds are, standing in for a racing worker's.
    const k = join(out, "crash-leftover.c");
    writeFileSync(
      k,
      `#include "tickpack.h"
int snprintf(char *s, unsigned long n, const char *f, ...);
char *getenv(const char *name);
int getpid(void);
int mkdir(const char *path, unsigned mode);
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return ""; }
int tickpack_state_size(void) { return 0; }
void tickpack_segment_start(const double *p, double *s) {}
void tickpack_run(const double *p, double *s, tp_rows_t *r) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tickpack-kernel-%d-left", getenv("TMPDIR"), getpid());
  mkdir(path, 0700);
  r->nvalid = *(volatile int *)0;
}
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`,
    );
    const tmp = tempDir("cc-crash-tmpdir");
    const r = bench([packed, "--workers", "2", "--kernel", k], { TMPDIR: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`kernel ${k} crashed the run`);
    expect(readdirSync(tmp).filter((n) => n.startsWith("tickpack-"))).toEqual([]);
  });
});
