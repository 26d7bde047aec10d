import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  addressSpaceLimit,
  addressSpaceShortageMessage,
  FDS_PER_WORKER,
  FDS_RESERVED,
  isAddressSpaceShortage,
  isOutOfFileDescriptors,
  outOfFileDescriptorsMessage,
  workersWithinFileLimit,
} from "../../lib/runtime-limits.ts";
import { limitCauseLines } from "../../scripts/cli/command.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(120_000);

const ROOT = join(import.meta.dir, "..", "..");
// 12 underlyings × 2 days: more partitions than the workers a 64-descriptor limit allows.
const UNDERLYINGS = ["AA", "BB", "CC", "DD", "EE", "FF", "GG", "HH", "II", "JJ", "KK", "LL"];

let raw: string;
let packed: string;
beforeAll(async () => {
  raw = tempDir("limits-raw");
  await genFixture(raw, { underlyings: UNDERLYINGS, strikesEachSide: 0, tickProb: 0.01 });
  packed = tempDir("limits-packed");
  await repackFixture([raw], packed);
});
afterAll(cleanupTempDirs);

/** `bun scripts/SCRIPT args` under the shell limit `ulimit` (e.g. "-n 64"). */
function runLimited(ulimit: string, script: string, args: string[]) {
  const p = Bun.spawnSync(
    ["bash", "-c", `ulimit ${ulimit} && exec "$0" "$@"`, process.execPath, join(ROOT, "scripts", script), ...args],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  );
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** No stack trace, no Bun error page, no file blamed for what the process's limit did. */
function expectNoBlame(stderr: string) {
  expect(stderr).not.toContain("    at ");
  expect(stderr).not.toContain("bun ran out of file descriptors");
  expect(stderr).not.toMatch(/\.parquet: /);
}

describe("a virtual memory limit too small for Bun's JIT (ulimit -v 2000000)", () => {
  const expectJitError = (r: { code: number | null; stderr: string; stdout: string }, command: string) => {
    expect(r.code).toBe(1);
    expectNoBlame(r.stderr);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith(`${command}: the virtual memory limit is too low (ulimit -v 2000000`);
    expect(lines[0]).toContain("ulimit -v unlimited");
    expect(r.stdout).toBe("");
  };

  test("repack: one error naming the limit; no output folder state, no lock left", () => {
    const out = join(tempDir("limits-v-repack"), "out");
    expectJitError(runLimited("-v 2000000", "repack.ts", [raw, "--out", out, "--json"]), "repack");
    expect(existsSync(join(out, "_tickpack", "lock"))).toBe(false);
  });

  test("bench (built-in kernel and --kernel): one error naming the limit, not a partition", () => {
    expectJitError(runLimited("-v 2000000", "bench.ts", [packed, "--json"]), "bench");
    const kernel = join(ROOT, "examples", "mid_reversion.c");
    expectJitError(runLimited("-v 2000000", "bench.ts", [packed, "--kernel", kernel, "--json"]), "bench");
  });

  test("resort --check: one error naming the limit, not every file unreadable", () => {
    expectJitError(runLimited("-v 2000000", "resort.ts", [packed, "--check", "--json"]), "resort");
  });
});

describe("an open-file limit too small for the workers asked for (ulimit -n 64)", () => {
  const allowed = Math.floor((64 - FDS_RESERVED) / FDS_PER_WORKER);

  test("the worker count is lowered to what the limit allows, with a note; too low a limit for one is an error", () => {
    expect(workersWithinFileLimit(4, 64)).toEqual({ workers: 4 });
    expect(workersWithinFileLimit(24, null)).toEqual({ workers: 24 });
    const lowered = workersWithinFileLimit(24, 64);
    expect(lowered.workers).toBe(allowed);
    expect(lowered.lowered).toContain("ulimit -n 64");
    const none = workersWithinFileLimit(2, FDS_RESERVED + FDS_PER_WORKER - 1);
    expect(none.workers).toBe(0);
    expect(none.problem).toContain("too few file descriptors");
  });

  test("errors that are the process out of descriptors are named as such in a summary", () => {
    const emfile = "cannot open: EMFILE: too many open files, open '/raw/A.parquet'";
    expect(isOutOfFileDescriptors(emfile)).toBe(true);
    expect(isOutOfFileDescriptors("ENFILE: file table overflow")).toBe(true);
    expect(isOutOfFileDescriptors("not a contract file name")).toBe(false);
    expect(limitCauseLines(4, ["not a contract file name"])).toEqual([]);
    expect(limitCauseLines(4, [emfile, "x", emfile])).toEqual([
      `  cause of 2 of these errors: ${outOfFileDescriptorsMessage(4)}`,
    ]);
    // A wasm trap or a thread that cannot start is put down to the address space only under a ulimit -v.
    const trap = "Unreachable code should not be executed (evaluating 'wasm.writeParquet(ptr0, ptr1)')";
    expect(isAddressSpaceShortage(trap)).toBe(true);
    expect(isAddressSpaceShortage("TypeError: Failed to spawn worker thread")).toBe(true);
    expect(addressSpaceShortageMessage(8, null)).toBeNull();
    expect(addressSpaceShortageMessage(8, 2_600_000 * 1024)).toContain("ulimit -v 2600000");
    if (addressSpaceLimit() === null) expect(limitCauseLines(4, [trap])).toEqual([]); // no ulimit -v: the error is what it says
    expect(outOfFileDescriptorsMessage(4, 64)).toContain(
      `ulimit -n is 64, 4 workers need about ${FDS_RESERVED + 4 * FDS_PER_WORKER}`,
    );
  });

  for (const workers of ["24", "64"])
    for (const kernel of [[], ["--kernel", join(ROOT, "examples", "mid_reversion.c")]])
      test(`bench --workers ${workers}${kernel.length ? " --kernel" : ""}: runs on fewer workers, says so, blames no partition`, () => {
        const cache = join(tempDir("limits-n-cache"), "cache");
        const r = runLimited("-n 64", "bench.ts", [
          packed,
          "--workers",
          workers,
          "--cache",
          cache,
          "--json",
          ...kernel,
        ]);
        expectNoBlame(r.stderr);
        expect(r.code).toBe(0);
        expect(r.stderr).toContain(`bench: note: ${workers} workers lowered to ${allowed}`);
        expect(r.stderr.split("lowered to")).toHaveLength(2); // said once, by the parent of a kernel child
        const s = JSON.parse(r.stdout);
        expect(s.partitions).toBe(24);
        expect(s.workers).toBe(allowed);
      });

  test("repack --workers 64: runs on fewer workers, leaves no lock; a limit too low for one worker is one error", () => {
    const out = tempDir("limits-n-repack");
    const r = runLimited("-n 64", "repack.ts", [raw, "--out", out, "--workers", "64", "--json"]);
    expectNoBlame(r.stderr);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`repack: note: 64 workers lowered to ${allowed}`);
    expect(JSON.parse(r.stdout).partitions_written).toBe(24);
    expect(existsSync(join(out, "_tickpack", "lock"))).toBe(false);
    const low = runLimited("-n 20", "repack.ts", [raw, "--out", tempDir("limits-n-low"), "--workers", "2"]);
    expect(low.code).toBe(1);
    expect(low.stderr.trim()).toStartWith("repack: too few file descriptors: ulimit -n is 20");
  });

  test("resort --check --workers 64: runs on fewer workers", () => {
    const r = runLimited("-n 64", "resort.ts", [packed, "--check", "--workers", "64"]);
    expectNoBlame(r.stderr);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("resort: note: 64 workers lowered to");
  });
});
