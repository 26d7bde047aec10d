import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { cleanupTempDirs, genFixture, packedRows, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { benchTradesByPartition, runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(240_000);

// Small parts so that one commit renames several files.
const PACK_FLAGS = ["--part-rows", "9000", "--row-group-size", "1000"];
const PACK_OPTS = { partRows: 9000, rowGroupSize: 1000, workers: 1 };

let rawOld: string;
let rawNew: string;
let clean: Map<string, string[]>;
let cleanTrades: Map<string, string[]>;

/** A folder holding rawOld packed, as the crashed runs start from. */
async function packedOld(label: string): Promise<string> {
  const out = join(tempDir(label), "packed");
  await repackFixture([rawOld], out, PACK_OPTS);
  return out;
}

function journals(out: string): string[] {
  const dir = join(out, "_tickpack", "journal");
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(".json") && !n.startsWith(".")) : [];
}

function tempFiles(out: string): string[] {
  return readdirSync(out, { recursive: true })
    .map(String)
    .filter((f) => /\.tmp-\d+-/.test(basename(f)));
}

/** repack rawNew into `out` from its parent folder with relative paths, killed at commit step `step`. */
function crashAt(out: string, step: number) {
  const cwd = dirname(out);
  cpSync(rawNew, join(cwd, "raw-new"), { recursive: true });
  const p = Bun.spawnSync(
    [
      process.execPath,
      join(import.meta.dir, "..", "..", "scripts", "repack.ts"),
      "raw-new",
      "--out",
      basename(out),
      "--workers",
      "1",
      ...PACK_FLAGS,
    ],
    {
      cwd,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, TICKPACK_TEST_KILL_AT_COMMIT_STEP: String(step) },
    },
  );
  return { code: p.exitCode, signal: p.signalCode };
}

beforeAll(async () => {
  rawOld = tempDir("commit-raw-old");
  rawNew = tempDir("commit-raw-new");
  // One partition (NIFTY, one day); the second seed gives new rows for the same contracts.
  await genFixture(rawOld, { days: 1, underlyings: ["NIFTY"], seed: 7 });
  await genFixture(rawNew, { days: 1, underlyings: ["NIFTY"], seed: 8 });
  const ref = await packedOld("commit-ref");
  await repackFixture([rawNew], ref, PACK_OPTS);
  clean = await packedRows(ref);
  cleanTrades = benchTradesByPartition(ref, join(dirname(ref), "trades.csv")).trades;
  expect(cleanTrades.size).toBe(1);
});
afterAll(cleanupTempDirs);

describe("a commit killed at each of its steps", () => {
  test("readers see the new version before recovery; recovery from another folder, and of a copy, equals a clean run", async () => {
    let steps = 0;
    for (let step = 1; ; step++) {
      const out = await packedOld(`crash-${step}`);
      const r = crashAt(out, step);
      if (r.code === 0) break; // past the last step: the run finished
      expect(r.signal).toBe("SIGKILL");
      steps = step;
      // The kill landed inside the commit: its journal is there.
      expect(journals(out)).toHaveLength(1);

      // A reader before any recovery sees the committed (new) version whole, and --check finds it fine.
      const seen = benchTradesByPartition(out, join(tempDir("trades"), "t.csv"));
      expect(seen.stderr).not.toContain("Error");
      expect(seen.code).toBe(0);
      expect(seen.trades).toEqual(cleanTrades);
      expect(runScript("resort.ts", [out, "--check"]).code).toBe(0);

      // A copy recovers itself, from another working directory, and leaves the original alone.
      const copy = join(tempDir(`copy-${step}`), "packed");
      cpSync(out, copy, { recursive: true });
      const elsewhere = tempDir("cwd");
      const rc = runScript("repack.ts", [rawNew, "--out", copy, "--workers", "1", ...PACK_FLAGS], elsewhere);
      expect(rc.stderr).not.toContain("    at ");
      expect(rc.code).toBe(0);
      expect(await packedRows(copy)).toEqual(clean);
      expect(tempFiles(copy)).toEqual([]);
      expect(journals(out)).toHaveLength(1);

      // The original recovers from another working directory too.
      const ro = runScript("repack.ts", [rawNew, "--out", out, "--workers", "1", "--json", ...PACK_FLAGS], elsewhere);
      expect(ro.code).toBe(0);
      expect(JSON.parse(ro.stdout).recovered).toEqual({ finished: 1, rolled_back: 0 });
      expect(await packedRows(out)).toEqual(clean);
      expect(journals(out)).toEqual([]);
      expect(tempFiles(out)).toEqual([]);
    }
    // Every rename of the commit (at least two parts), the removals and the journal's removal.
    expect(steps).toBeGreaterThanOrEqual(4);
  });

  test("a temp file lost before any rename (an OS crash): the commit is rolled back and the inputs packed again", async () => {
    const out = await packedOld("lost-before");
    const before = await packedRows(out);
    expect(crashAt(out, 1).signal).toBe("SIGKILL");
    const j = JSON.parse(readFileSync(join(out, "_tickpack", "journal", journals(out)[0]), "utf8"));
    rmSync(join(out, j.renames[1].temp));
    // Readers ignore a commit that cannot be finished: they see the old version.
    expect(await packedRows(out)).toEqual(before);
    // resort, taking the folder for a repair, rolls it back too, and says so.
    const copy = join(tempDir("lost-before-resort"), "packed");
    cpSync(out, copy, { recursive: true });
    const rs = runScript("resort.ts", [copy, "--json"]);
    expect(rs.code).toBe(0);
    expect(JSON.parse(rs.stdout).recovered).toEqual({ finished: 0, rolled_back: 1 });
    expect(rs.stderr).toContain("rolled back 1 commit(s)");
    expect(journals(copy)).toEqual([]);
    expect(await packedRows(copy)).toEqual(before);
    const r = runScript("repack.ts", [rawNew, "--out", out, "--workers", "1", "--json", ...PACK_FLAGS]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).recovered).toEqual({ finished: 0, rolled_back: 1 });
    expect(r.stderr).toContain("rolled back 1 commit(s)");
    expect(await packedRows(out)).toEqual(clean);
    expect(tempFiles(out)).toEqual([]);
  });

  test("a temp file lost after a rename: nothing more is touched and the run says which journal", async () => {
    const out = await packedOld("lost-after");
    expect(crashAt(out, 2).signal).toBe("SIGKILL");
    const name = journals(out)[0];
    const j = JSON.parse(readFileSync(join(out, "_tickpack", "journal", name), "utf8"));
    rmSync(join(out, j.renames[j.renames.length - 1].temp));
    const files = () =>
      readdirSync(out, { recursive: true })
        .map(String)
        .filter((f) => !f.endsWith("lock"))
        .sort();
    const listing = files();
    const r = runScript("repack.ts", [rawNew, "--out", out, "--workers", "1", ...PACK_FLAGS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(name);
    expect(r.stderr).toContain("journal is kept");
    expect(r.stderr).not.toContain("    at ");
    expect(files()).toEqual(listing);
  });

  test("a corrupt journal, or one pointing outside its folder, is one line naming it; nothing is touched", async () => {
    for (const [label, content] of [
      ["garbage", "{not json"],
      [
        "outside",
        JSON.stringify({
          version: 2,
          renames: [{ temp: "../../x", final: "../../y", size: 1, tailHash: "1" }],
          removes: [],
        }),
      ],
      ["absolute", JSON.stringify({ version: 2, renames: [], removes: ["/etc/hostname"] })],
    ]) {
      const out = await packedOld(`journal-${label}`);
      const before = await packedRows(out);
      mkdirSync(join(out, "_tickpack", "journal"), { recursive: true });
      const jpath = join(out, "_tickpack", "journal", "1-1-bad.json");
      writeFileSync(jpath, content);
      const r = runScript("repack.ts", [rawNew, "--out", out, "--workers", "1", ...PACK_FLAGS]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(jpath);
      expect(r.stderr).toContain("commit journal");
      expect(r.stderr).not.toContain("    at ");
      expect(existsSync(jpath)).toBe(true);
      expect(await packedRows(out)).toEqual(before);
    }
  });
});

describe("cleanup removes only tickpack's own temp files", () => {
  test("a user's files with .tmp- in their names survive repack and resort; a dead run's temp does not", async () => {
    const out = await packedOld("cleanup");
    const part = readdirSync(join(out, "2025-11-17", "NIFTY"))[0];
    const userFiles = [
      join(out, "notes", "analysis.tmp-v2.csv"),
      join(out, "2025-11-17", "NIFTY", "readme.tmp-1.txt"),
      join(out, "2025-11-17", ".hidden.tmp-notes"),
    ];
    const dead = join(out, "2025-11-17", "NIFTY", `.${part}.tmp-4194303-abc123`);
    const live = join(out, "2025-11-17", "NIFTY", `.${part}.tmp-${process.pid}-livetmp`);
    for (const f of [...userFiles, dead, live]) {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, "mine");
    }
    const r = runScript("repack.ts", [rawNew, "--out", out, "--workers", "1", ...PACK_FLAGS]);
    expect(r.code).toBe(0);
    for (const f of userFiles) expect(readFileSync(f, "utf8")).toBe("mine");
    expect(existsSync(dead)).toBe(false);
    // A live process's temp (a bench writing its trade log) is not touched.
    expect(existsSync(live)).toBe(true);
    rmSync(live);
    const s = runScript("resort.ts", [out]);
    expect(s.code).toBe(0);
    for (const f of userFiles) expect(readFileSync(f, "utf8")).toBe("mine");
  });
});
