import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..", "..");

let packed: string;
let dir: string;
beforeAll(async () => {
  packed = await packedFixture("args", { days: 1, underlyings: ["NIFTY"] });
  dir = tempDir("args");
});
afterAll(cleanupTempDirs);

const bench = (args: string[]) => runScript("bench.ts", args);

/** A usage error: exit 2, one line on stderr containing every `parts`, no stack trace, nothing on stdout. */
function expectUsage(args: string[], ...parts: string[]) {
  const r = bench([packed, ...args]);
  expect({ args, code: r.code }).toEqual({ args, code: 2 });
  for (const p of parts) expect(r.stderr).toContain(p);
  expect(r.stderr).not.toContain("    at ");
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stdout).toBe("");
}

function gridFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("bench: grid values get the checks the flags have", () => {
  test("ema_cross grid values out of the flags' bounds are usage errors naming the flag and parameter", () => {
    expectUsage(["--grid", "fast=0"], "--grid", "fast");
    expectUsage(["--grid", "fast=3,-1"], "--grid", "fast");
    expectUsage(["--grid", "fast=2.5"], "--grid", "fast");
    expectUsage(["--grid", "slow=-3"], "--grid", "slow");
    expectUsage(["--grid", "max_spread=-5"], "--grid", "max_spread");
    expectUsage(["--grid", "min_volume=-1"], "--grid", "min_volume");
    expectUsage(["--grid-file", gridFile("zero.json", '{"fast": [0, 5]}')], "--grid-file", "zero.json", "fast");
    expectUsage(
      ["--grid-file", gridFile("neg.json", '[{"max_spread": -0.1}]')],
      "--grid-file",
      "neg.json",
      "max_spread",
    );
  });

  test("the flags keep their bounds too", () => {
    expectUsage(["--fast", "0"], "--fast");
    expectUsage(["--slow", "1.5"], "--slow");
    expectUsage(["--max-spread=-5"], "--max-spread");
    expectUsage(["--min-volume=-1"], "--min-volume");
    expectUsage(["--fast", ""], "--fast");
  });

  test("an empty grid (--grid '', an empty file, [], {}, an axis with no values) is a usage error naming the flag", () => {
    expectUsage(["--grid", ""], "--grid");
    expectUsage(["--grid", " ; "], "--grid");
    expectUsage(["--grid-file", gridFile("empty.json", "")], "--grid-file", "empty.json", "empty");
    expectUsage(["--grid-file", gridFile("list.json", "[]")], "--grid-file", "list.json");
    expectUsage(["--grid-file", gridFile("object.json", "{}")], "--grid-file", "object.json");
    expectUsage(["--grid-file", gridFile("axis.json", '{"fast": []}')], "--grid-file", "axis.json", "fast");
  });

  test("--grid-file pointing at a folder, or at nothing, is a one-line usage error", () => {
    const folder = join(dir, "a-folder");
    mkdirSync(folder, { recursive: true });
    expectUsage(["--grid-file", folder], "--grid-file", folder, "is a folder");
    expectUsage(["--grid-file", join(dir, "missing.json")], "--grid-file", "missing.json", "does not exist");
  });

  test("a user kernel's grid values are checked after it compiles (finite numbers); edge values of ema_cross run", () => {
    const ok = bench([packed, "--grid", "fast=1;slow=1;max_spread=0;min_volume=0", "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).params).toEqual({ fast: 1, slow: 1, max_spread: 0, min_volume: 0 });
    const example = join(ROOT, "examples", "mid_reversion.c");
    const r = bench([packed, "--kernel", example, "--grid-file", gridFile("inf.json", '{"lookback": [1e999]}')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lookback");
  });
});

describe("bench: --trades and --report are checked before the run", () => {
  test("a folder that refuses new files, even to root (/proc), or a path under a regular file: one-line usage error", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    for (const flag of ["--trades", "--report"]) {
      expectUsage(
        [flag, "/proc/tickpack-out.html"],
        `bench: ${flag} /proc/tickpack-out.html: cannot write in folder /proc`,
      );
      expectUsage([flag, join(file, "out.html")], `${file} is not a folder`);
      expectUsage([flag, join(file, "sub", "out.html")], "does not exist");
    }
  });
});
