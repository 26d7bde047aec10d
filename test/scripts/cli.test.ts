import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { printable } from "../../scripts/cli/command.ts";
import { join } from "node:path";
import { cleanupTempDirs, genFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);

const ROOT = join(import.meta.dir, "..", "..");

function run(script: string, args: string[]) {
  const p = Bun.spawnSync([process.execPath, join(ROOT, "scripts", script), ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

let raw: string;
beforeAll(async () => {
  raw = tempDir("cli-raw");
  await genFixture(raw);
});
afterAll(cleanupTempDirs);

describe("command lines", () => {
  test("--help exits 0, unknown flags and missing paths exit 2", () => {
    for (const script of ["gen.ts", "repack.ts"]) {
      const help = run(script, ["--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("Usage: bun run");
      const bad = run(script, ["--no-such-flag"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("no-such-flag");
    }
    expect(run("gen.ts", []).code).toBe(2);
    expect(run("repack.ts", ["/nonexistent/raw", "--out", tempDir("x")]).stderr).toContain(
      "/nonexistent/raw: raw folder does not exist",
    );
    expect(run("repack.ts", ["/nonexistent/raw", "--out", tempDir("x")]).code).toBe(2);
    expect(run("repack.ts", [raw, "--out", tempDir("x"), "--layout", "flat"]).code).toBe(2);
  });

  test("gen --json: the same seed gives byte-identical files", () => {
    const a = tempDir("gen-a");
    const b = tempDir("gen-b");
    const args = ["--days", "1", "--strikes", "1", "--tick-prob", "0.05", "--json", "--underlyings", "NIFTY,M&M"];
    const ra = run("gen.ts", ["--out", a, ...args]);
    const rb = run("gen.ts", ["--out", b, ...args]);
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    const summary = JSON.parse(ra.stdout);
    for (const k of ["files", "rows", "bytes", "elapsed_s"]) expect(typeof summary[k]).toBe("number");
    expect(summary.rows).toBeGreaterThan(1000);
    const files = (d: string) =>
      readdirSync(d, { recursive: true })
        .map(String)
        .filter((f) => statSync(join(d, f)).isFile())
        .sort();
    expect(files(a)).toEqual(files(b));
    expect(files(a)).toContain(
      join(
        "M&M",
        files(a)
          .find((f) => f.startsWith("M&M/"))!
          .slice(4),
      ),
    );
    for (const f of files(a)) expect(Bun.hash(readFileSync(join(a, f)))).toBe(Bun.hash(readFileSync(join(b, f))));
  });

  test("repack --json has its documented fields; bad inputs exit 1", async () => {
    const out = tempDir("cli-out");
    const r = run("repack.ts", [raw, "--out", out, "--json", "--workers", "1"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const k of [
      "files_in",
      "files_failed",
      "rows_in",
      "rows_out",
      "duplicates_dropped",
      "partitions_written",
      "bytes_in",
      "bytes_out",
      "elapsed_s",
      "rows_per_s",
      "errors",
    ])
      expect(s).toHaveProperty(k);
    expect(r.stderr).toContain("repack: ");
    const badDir = tempDir("cli-bad");
    await Bun.write(join(badDir, "garbage.parquet"), "nope");
    const b = run("repack.ts", [raw, badDir, "--out", out, "--json"]);
    expect(b.code).toBe(1);
    expect(JSON.parse(b.stdout).errors[0].file).toContain("garbage.parquet");
    expect(b.stderr).toContain("garbage.parquet: not a contract file name");
  });
});

describe("gen edges", () => {
  test("an underlying listed twice is generated once: the files reported are the files written", () => {
    const out = tempDir("gen-dup");
    const r = run("gen.ts", [
      "--out",
      out,
      "--days",
      "1",
      "--strikes",
      "0",
      "--tick-prob",
      "0.01",
      "--underlyings",
      "BANKNIFTY,banknifty",
      "--json",
      "--workers",
      "64",
    ]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    const written = readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".parquet"));
    expect(s.files).toBe(written.length);
    expect(s.workers).toBeLessThanOrEqual(written.length);
  });

  test("a start outside 2000–2099 or an --out that is a file: usage error, one line, exit 2", () => {
    const early = run("gen.ts", ["--out", tempDir("gen-1999"), "--start", "1999-12-27", "--days", "1"]);
    expect(early.code).toBe(2);
    expect(early.stderr).toBe("--start: 1999-12-27 is outside 2000–2099 (contract names carry two-digit years)\n");
    const file = join(tempDir("gen-file"), "a-file");
    writeFileSync(file, "x");
    const r = run("gen.ts", ["--out", file, "--days", "1", "--strikes", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`gen: --out ${file}: is a file, not a folder\n`);
  });

  test("printable: control characters in names are escaped, so an error stays one line", () => {
    expect(printable("/raw/NIFTY\n25NOV\u001b[2J.parquet: bad\tname")).toBe(
      "/raw/NIFTY\\n25NOV\\u001b[2J.parquet: bad\\tname",
    );
    expect(printable("plain – ünïcode ok")).toBe("plain – ünïcode ok");
  });

  test("a raw file with a line break in its name is one error line in repack's summary", async () => {
    const dir = tempDir("cli-newline");
    writeFileSync(join(dir, "NIFTY25NOV\n24500CE.parquet"), "not parquet");
    const r = run("repack.ts", [
      dir,
      raw,
      "--out",
      tempDir("cli-newline-out"),
      "--calendar",
      join(raw, "expiry_calendar.csv"),
    ]);
    expect(r.code).toBe(1);
    const errorLines = r.stderr.split("\n").filter((l) => l.includes("error:"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain("NIFTY25NOV\\n24500CE.parquet");
  });
});

// Crash safety is tested deterministically where it matters, at each step of a commit:
// test/packed/commit.test.ts (repack) and test/resort/resort.test.ts (resort).
