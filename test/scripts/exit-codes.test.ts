/**
 * Every command's exit codes as a shell sees them (README, Commands): --help exits 0 with the usage on
 * stdout; bad usage (unknown flag, a flag without its value, a bad number, a missing or wrong
 * path) exits 2 with one message on stderr, no stack trace, nothing on stdout and nothing written.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);
afterAll(cleanupTempDirs);

const COMMANDS = ["gen", "repack", "resort", "bench"] as const;

describe("--help", () => {
  for (const command of COMMANDS)
    test(`${command} --help and -h exit 0 and print the usage on stdout`, () => {
      for (const flag of ["--help", "-h"]) {
        const r = runScript(`${command}.ts`, [flag]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(r.stdout).toStartWith(`Usage: bun run ${command} `);
        expect(r.stdout).toContain("--json");
      }
    });
});

describe("bad usage exits 2", () => {
  /** Runs `command args` in an empty folder `cwd`; expects exit 2, `message` on stderr, and nothing written. */
  function expectUsageError(
    command: (typeof COMMANDS)[number],
    args: (dir: string) => string[],
    message: string | ((dir: string) => string),
  ) {
    const dir = tempDir(`usage-${command}`);
    const r = runScript(`${command}.ts`, args(dir), dir);
    expect({ args: args(dir), code: r.code, stdout: r.stdout }).toEqual({ args: args(dir), code: 2, stdout: "" });
    expect(r.stderr).toContain(typeof message === "string" ? message : message(dir));
    expect(r.stderr).not.toContain("    at ");
    expect(readdirSync(dir)).toEqual([]);
  }

  test("gen: unknown flag, missing value, bad numbers, no --out", () => {
    expectUsageError("gen", (d) => ["--out", join(d, "o"), "--no-such-flag"], "--no-such-flag");
    expectUsageError("gen", () => ["--out"], "'--out <value>' argument missing");
    expectUsageError(
      "gen",
      (d) => ["--out", join(d, "o"), "--days", "abc"],
      '--days: expected an integer ≥ 1, got "abc"',
    );
    expectUsageError("gen", (d) => ["--out", join(d, "o"), "--days", "0"], '--days: expected an integer ≥ 1, got "0"');
    expectUsageError(
      "gen",
      (d) => ["--out", join(d, "o"), "--tick-prob", "1.5"],
      '--tick-prob: expected a number in [0.0001, 1], got "1.5"',
    );
    expectUsageError("gen", (d) => ["--out", join(d, "o"), "--start", "2025-13-01"], "--start:");
    expectUsageError("gen", () => ["--days", "1"], "--out DIR is required");
    expectUsageError("gen", (d) => ["--out", join(d, "o"), "stray"], "stray");
  });

  test("repack: unknown flag, missing value, bad numbers, bad layout, no RAW_DIR or --out, a raw folder that does not exist", () => {
    const raw = tempDir("usage-raw");
    expectUsageError("repack", (d) => [raw, "--out", join(d, "o"), "--no-such-flag"], "--no-such-flag");
    expectUsageError("repack", () => [raw, "--out"], "'--out <value>' argument missing");
    expectUsageError(
      "repack",
      (d) => [raw, "--out", join(d, "o"), "--workers", "0"],
      '--workers: expected an integer ≥ 1, got "0"',
    );
    expectUsageError(
      "repack",
      (d) => [raw, "--out", join(d, "o"), "--row-group-size", "1e3x"],
      '--row-group-size: expected an integer ≥ 1, got "1e3x"',
    );
    expectUsageError(
      "repack",
      (d) => [raw, "--out", join(d, "o"), "--part-rows=-5"],
      '--part-rows: expected an integer ≥ 1, got "-5"',
    );
    expectUsageError("repack", (d) => [raw, "--out", join(d, "o"), "--layout", "flat"], "--layout");
    expectUsageError("repack", (d) => ["--out", join(d, "o")], "at least one RAW_DIR is required");
    expectUsageError("repack", () => [raw], "--out DIR is required");
    expectUsageError(
      "repack",
      (d) => [join(d, "missing"), "--out", join(d, "o")],
      (d) => `${join(d, "missing")}: raw folder does not exist`,
    );
  });

  test("resort: unknown flag, missing value, bad numbers, no DIR, two DIRs, a DIR that does not exist", () => {
    expectUsageError("resort", (d) => [d, "--no-such-flag"], "--no-such-flag");
    expectUsageError("resort", (d) => [d, "--workers"], "'--workers <value>' argument missing");
    expectUsageError("resort", (d) => [d, "--workers", "abc"], '--workers: expected an integer ≥ 1, got "abc"');
    expectUsageError(
      "resort",
      (d) => [d, "--row-group-size", "0"],
      '--row-group-size: expected an integer ≥ 1, got "0"',
    );
    expectUsageError("resort", (d) => [d, "--part-rows", "2.5"], '--part-rows: expected an integer ≥ 1, got "2.5"');
    expectUsageError("resort", () => [], "exactly one DIR is required");
    expectUsageError("resort", (d) => [d, d], "exactly one DIR is required");
    expectUsageError(
      "resort",
      (d) => [join(d, "missing")],
      (d) => `resort: ${join(d, "missing")}: not a folder`,
    );
  });

  test("bench: unknown flag, missing value, bad numbers, a DIR that does not exist, two DIRs", () => {
    expectUsageError("bench", (d) => [d, "--no-such-flag"], "--no-such-flag");
    expectUsageError("bench", (d) => [d, "--workers"], "'--workers <value>' argument missing");
    expectUsageError("bench", (d) => [d, "--workers", "0"], '--workers: expected an integer ≥ 1, got "0"');
    expectUsageError("bench", (d) => [d, "--fast", "abc"], '--fast: expected an integer in [1, 1000000000], got "abc"');
    expectUsageError("bench", (d) => [d, "--max-spread=-1"], "--max-spread:");
    expectUsageError("bench", (d) => [d, "--min-volume", ""], "--min-volume:");
    expectUsageError("bench", (d) => [d, "--timeout", "0"], '--timeout: expected a number of seconds > 0, got "0"');
    expectUsageError(
      "bench",
      (d) => [d, "--cache-max-gb", "x"],
      '--cache-max-gb: expected a number of GiB >= 0, got "x"',
    );
    expectUsageError(
      "bench",
      (d) => [join(d, "missing")],
      (d) => `bench: ${join(d, "missing")}: not a folder`,
    );
    expectUsageError("bench", (d) => [d, d], "at most one DIR");
  });
});

test("a usage error of gen creates no --out folder", () => {
  const out = join(tempDir("usage-gen-out"), "o");
  const r = runScript("gen.ts", ["--out", out, "--strikes=-1"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`--strikes: expected an integer ≥ 0, got "-1"`);
  expect(existsSync(out)).toBe(false);
});
