/** repack at the edges: pool size, output placement, corrupt manifest, hidden entries, links, an input failing part-way. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { RepackFatalError, RepackUsageError } from "../../lib/repack/repack.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { giveToUnprivilegedUser, runScriptUnprivileged } from "../helpers/unprivileged.ts";

setDefaultTimeout(60_000);

let raw: string;
let files: string[];
beforeAll(async () => {
  raw = tempDir("edge-raw");
  await genFixture(raw, { underlyings: ["NIFTY"], days: 2 });
  files = readdirSync(raw, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".parquet"));
});
afterAll(cleanupTempDirs);

describe("repack edges", () => {
  test("--workers 200 starts no more workers than there are tasks", async () => {
    const s = await repackFixture([raw], tempDir("edge-w"), { workers: 200 });
    expect(s.files_failed).toBe(0);
    expect(s.workers).toBeGreaterThan(0);
    expect(s.workers).toBeLessThanOrEqual(files.length);
    const again = await repackFixture([raw], tempDir("edge-w2"), { workers: 1 });
    expect(again.workers).toBe(1);
  });

  test("--out equal to, inside, or holding a raw folder is a usage error; nothing is written", async () => {
    const copy = tempDir("edge-copy");
    cpSync(raw, copy, { recursive: true });
    const before = readdirSync(copy, { recursive: true }).map(String).sort();
    await expect(repackFixture([copy], copy)).rejects.toThrow(RepackUsageError);
    await expect(repackFixture([copy], copy)).rejects.toThrow("is the raw folder");
    await expect(repackFixture([copy], join(copy, "packed"))).rejects.toThrow("is inside the raw folder");
    await expect(
      repackFixture([join(copy, "NIFTY")], copy, { calendarPath: join(copy, "expiry_calendar.csv") }),
    ).rejects.toThrow("holds the raw folder");
    expect(readdirSync(copy, { recursive: true }).map(String).sort()).toEqual(before);
  });

  test("a corrupt manifest stops the run (exit 1) naming it; it is left as it was", async () => {
    const out = tempDir("edge-mf");
    await repackFixture([raw], out);
    const path = join(out, "_tickpack", "manifest.json");
    writeFileSync(path, '{"version":1,"files":null}');
    await expect(repackFixture([raw], out)).rejects.toThrow(RepackFatalError);
    await expect(repackFixture([raw], out)).rejects.toThrow(`${path}: the manifest of consumed inputs is corrupt`);
    expect(readFileSync(path, "utf8")).toBe('{"version":1,"files":null}');
  });

  test("hidden entries and links leading nowhere are counted in the summary", async () => {
    const copy = tempDir("edge-hidden");
    cpSync(raw, copy, { recursive: true });
    mkdirSync(join(copy, ".backup"));
    writeFileSync(join(copy, ".backup", "x.parquet"), "x");
    writeFileSync(join(copy, ".NIFTY25NOV99999CE.parquet"), "x");
    symlinkSync("loop.parquet", join(copy, "loop.parquet"));
    const s = await repackFixture([copy], tempDir("edge-hidden-out"));
    expect(s.files_failed).toBe(0);
    expect(s.hidden_skipped).toBe(2);
    expect(s.links_skipped).toBe(1);
    expect(s.files_in).toBe(files.length);
  });

  test("a raw file without read permission fails with permission denied, not a wasm trap", () => {
    const copy = tempDir("edge-perm");
    cpSync(raw, copy, { recursive: true });
    const out = tempDir("edge-perm-out");
    giveToUnprivilegedUser(copy);
    giveToUnprivilegedUser(out);
    const victim = join(copy, files[0]);
    chmodSync(victim, 0);
    const r = runScriptUnprivileged("repack.ts", [copy, "--out", out, "--json", "--workers", "1"]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.errors).toEqual([{ file: victim, error: "cannot open for reading: permission denied (EACCES)" }]);
    expect(s.files_failed).toBe(1);
    expect(s.files_in).toBe(files.length);
  });

  test("a raw folder without read permission is reported, naming it; the other files are packed", () => {
    const copy = tempDir("edge-perm-dir");
    cpSync(raw, copy, { recursive: true });
    const out = tempDir("edge-perm-dir-out");
    const locked = join(copy, "locked");
    mkdirSync(locked);
    renameSync(join(copy, files[0]), join(locked, basename(files[0])));
    giveToUnprivilegedUser(copy);
    giveToUnprivilegedUser(out);
    chmodSync(locked, 0);
    const r = runScriptUnprivileged("repack.ts", [copy, "--out", out, "--json", "--workers", "1"]);
    expect(r.stderr).toContain(
      `${locked}: cannot list this folder, its files were not read: permission denied (EACCES)`,
    );
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.files_in).toBe(files.length - 1);
    expect(s.rows_out).toBeGreaterThan(0);
  });

  test("a calendar the user may not read is a usage error saying so, not 'not found'", () => {
    const copy = tempDir("edge-perm-cal");
    cpSync(raw, copy, { recursive: true });
    const calendars = join(copy, "calendars");
    mkdirSync(calendars);
    const calendar = join(calendars, "expiry_calendar.csv");
    cpSync(join(copy, "expiry_calendar.csv"), calendar);
    const out = tempDir("edge-perm-cal-out");
    giveToUnprivilegedUser(copy);
    giveToUnprivilegedUser(out);
    chmodSync(calendars, 0o600); // listed, not entered
    const r = runScriptUnprivileged("repack.ts", [copy, "--out", out, "--calendar", calendar]);
    expect(r.stderr).toBe(`repack: ${calendar}: cannot read the expiry calendar: permission denied (EACCES)\n`);
    expect(r.code).toBe(2);
  });

  test("a file that fails on its second day after its first was packed: counts and manifest agree", async () => {
    // Each day lists its strikes around its own open: 5 each side, so the two days share strikes
    // (contracts whose files span both days).
    const midway = tempDir("edge-midway");
    await genFixture(midway, { underlyings: ["NIFTY"], days: 2, strikesEachSide: 5 });
    const midwayFiles = readdirSync(midway, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".parquet"));
    // A file spanning both days with a row group wholly on the smaller day D: its price page is
    // garbled. Pass 1 (timestamps and name columns) accepts the file; pass 2 fails on D alone, and
    // with one worker the bigger partition (the other day, the file included) is committed first.
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    const q = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJS();
    const all = midwayFiles.map((f) => `'${join(midway, f)}'`).join(", ");
    // Naive raw timestamps are IST wall clock: their date is the IST day.
    const smaller = String(
      (
        await q(
          `SELECT "timestamp"::DATE AS d FROM read_parquet([${all}]) WHERE "timestamp" IS NOT NULL GROUP BY d ORDER BY count(*) LIMIT 1`,
        )
      )[0].d,
    );
    let victim = "";
    let meta: Record<string, unknown> = {};
    for (const f of midwayFiles) {
      const path = join(midway, f);
      const groups = await q(
        `SELECT row_group_id, row_group_num_rows, data_page_offset, total_compressed_size FROM parquet_metadata('${path}') WHERE path_in_schema = 'price' ORDER BY row_group_id`,
      );
      const days = await q(`SELECT count(DISTINCT "timestamp"::DATE) AS n FROM read_parquet('${path}')`);
      if (Number(days[0].n) < 2 || groups.length < 2) continue;
      let first = 0;
      for (const g of groups) {
        const n = Number(g.row_group_num_rows);
        const d = await q(
          `SELECT count(DISTINCT "timestamp"::DATE) AS n, min("timestamp"::DATE) AS d FROM read_parquet('${path}', file_row_number = true) WHERE file_row_number >= ${first} AND file_row_number < ${first + n}`,
        );
        if (Number(d[0].n) === 1 && String(d[0].d) === smaller && Number(g.total_compressed_size) > 400) {
          victim = path;
          meta = g;
          break;
        }
        first += n;
      }
      if (victim) break;
    }
    c.closeSync();
    expect(victim).not.toBe("");
    const bytes = new Uint8Array(readFileSync(victim));
    const start = Number(meta.data_page_offset) + 100;
    for (let i = start; i < start + Number(meta.total_compressed_size) - 200; i++) bytes[i] ^= 0x5a;
    writeFileSync(victim, bytes);

    const out = tempDir("edge-midway-out");
    const s = await repackFixture([midway], out, { workers: 1 });
    expect(s.errors.map((e) => e.file)).toEqual([victim]);
    expect(s.errors[0].error).toContain("were packed before it failed");
    expect(s.rows_in).toBe(s.rows_out + s.duplicates_dropped + s.rows_without_timestamp);
    const manifest = JSON.parse(readFileSync(join(out, "_tickpack", "manifest.json"), "utf8"));
    expect(Object.keys(manifest.files)).not.toContain(victim);
    expect(Object.keys(manifest.files).length).toBe(midwayFiles.length - 1);
  });
});
