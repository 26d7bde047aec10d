import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { cleanupTempDirs, genFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(180_000);
afterAll(cleanupTempDirs);

const ROOT = join(import.meta.dir, "..", "..");
const CRONTAB = readFileSync(join(ROOT, "examples", "crontab"), "utf8");

/** The crontab's variables and its one job's command, as cron reads them (`\%` is a literal `%`). */
function parseCrontab(text: string): { env: Record<string, string>; command: string } {
  const env: Record<string, string> = {};
  let command = "";
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const assignment = /^([A-Z_]+)=(.*)$/.exec(line);
    if (assignment) env[assignment[1]] = assignment[2];
    else command = line.trim().split(/\s+/).slice(5).join(" ").replaceAll("\\%", "%");
  }
  return { env, command };
}

/** Runs the job like cron: /bin/sh, no terminal, only cron's environment (no HOME niceties, PATH=/usr/bin:/bin). */
function runLikeCron(command: string, vars: Record<string, string>) {
  const p = Bun.spawnSync(["/bin/sh", "-c", command], {
    cwd: "/",
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: "/usr/bin:/bin", LOGNAME: "root", ...vars },
  });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

describe("running from cron", () => {
  test("the README's crontab job works as written, and the next night catches up only what is new", async () => {
    expect(readmeShowsCrontab()).toBe(true);
    const { env, command } = parseCrontab(CRONTAB);
    expect(Object.keys(env).sort()).toEqual(["BUN", "SHELL", "TICKPACK", "TICKS"]);
    const ticks = tempDir("cron");
    const vars = { ...env, TICKPACK: ROOT, BUN: process.execPath, TICKS: ticks };
    mkdirSync(join(ticks, "logs"), { recursive: true });
    const day1 = join(ticks, "raw", "2025-11-17");
    await genFixture(day1, { days: 1 });
    copyFileSync(join(day1, "expiry_calendar.csv"), join(ticks, "expiry_calendar.csv"));

    const first = runLikeCron(command, vars);
    expect(first.out).toBe(""); // everything goes to the logs
    expect(first.code).toBe(0);
    const repacks = () =>
      readFileSync(join(ticks, "logs", "repack.jsonl"), "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
    const benches = () =>
      readFileSync(join(ticks, "logs", "bench.jsonl"), "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
    expect(repacks()[0].files_failed).toBe(0);
    expect(repacks()[0].rows_out).toBeGreaterThan(0);
    expect(benches()[0].rows).toBe(repacks()[0].rows_out);
    const log = readFileSync(join(ticks, "logs", "tickpack.log"), "utf8");
    expect(log).toMatch(/^=== \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z nightly$/m);
    expect(log).toContain("repack: ");

    // The next night: a new day's folder arrives; only it is packed.
    const day2 = join(ticks, "raw", "2025-11-18");
    await genFixture(day2, { days: 1, start: parseIsoDate("2025-11-18") });
    const second = runLikeCron(command, vars);
    expect(second.code).toBe(0);
    expect(repacks()).toHaveLength(2);
    expect(repacks()[1].files_skipped).toBe(repacks()[0].files_in);
    expect(benches()[1].rows).toBe(repacks()[0].rows_out + repacks()[1].rows_out);
  });
});

/** The README shows the crontab exactly as examples/crontab holds it. */
function readmeShowsCrontab(): boolean {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  return readme.includes(CRONTAB.trimEnd());
}
