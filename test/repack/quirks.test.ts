/**
 * The real feed's quirks (gen makes each): epoch-zero first rows and rows after the contract's
 * expiry are rejected (counted by reason, kept under _tickpack/rejected/ with source file and
 * reason, never twice, out of the reach of the packed layout's globs), volume resets give vol_delta 0, pre-open rows belong to their day; and
 * packed + rejected + exact duplicates = input, on disk and in the JSON, across reruns.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_DEFECTS } from "../../lib/gen/gen.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import type { RepackSummary } from "../../lib/repack/repack.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(90_000);
afterAll(() => (process.env.KEEP ? undefined : cleanupTempDirs()));

const QUIRKY = {
  defects: { ...DEFAULT_DEFECTS, nullRate: 0.002, epochZeroRate: 0.6, volumeResetRate: 0.8, preOpenRate: 0.8 },
};

const rejectedTotal = (s: RepackSummary) => Object.values(s.rows_rejected).reduce((a, n) => a + n, 0);

/** Rows of every rejected-row file under `out`, by reason, read by DuckDB (an independent reader), and the source files they name. */
async function rejectedOnDisk(
  out: string,
): Promise<{ byReason: Record<string, number>; files: number; sources: Set<string> }> {
  const dir = join(out, "_tickpack", "rejected");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith(".")) : [];
  if (files.length === 0) return { byReason: {}, files: 0, sources: new Set() };
  // The query docs/formats.md gives.
  const r = await duckdb(
    `select reason, source_file, count(*)::INTEGER as n from read_parquet('${dir}/*.rejected') group by all`,
  );
  const byReason: Record<string, number> = {};
  const sources = new Set<string>();
  for (const row of r.getRowObjects()) {
    byReason[String(row.reason)] = (byReason[String(row.reason)] ?? 0) + Number(row.n);
    sources.add(String(row.source_file));
  }
  return { byReason, files: files.length, sources };
}

async function duckdb(sql: string) {
  return (await (await DuckDBInstance.create(":memory:")).connect()).runAndReadAll(sql);
}

/** Packed rows counted by DuckDB through a glob under `out`. */
async function rowsThroughGlob(out: string, glob: string): Promise<number> {
  return Number((await duckdb(`select count(*) from read_parquet('${out}/${glob}')`)).getRows()[0][0]);
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

describe("the feed's quirks", () => {
  let raw: string;
  let genRows: number;
  let out: string;
  let first: RepackSummary;
  beforeAll(async () => {
    raw = tempDir("q-raw");
    genRows = (await genFixture(raw, QUIRKY)).rows;
    out = tempDir("q-out");
    first = await repackFixture([raw], out);
  });

  test("epoch-zero rows are rejected (no 1970 partition), counted and kept with source file and reason", async () => {
    expect(first.files_failed).toBe(0);
    expect(first.rows_rejected.before_2000).toBeGreaterThan(0);
    expect(first.rows_rejected.null_timestamp).toBe(first.rows_without_timestamp);
    expect(listPackedPartitions(out).every((p) => p.date! >= "2000-01-01")).toBe(true);
    const disk = await rejectedOnDisk(out);
    expect(disk.byReason).toEqual(nonZero(first.rows_rejected));
    for (const s of disk.sources) expect(s.startsWith(raw)).toBe(true);
  });

  test("nothing lost: packed + rejected + exact duplicates = input", async () => {
    expect(first.rows_in).toBe(genRows);
    expect(first.rows_in).toBe(first.rows_out + first.duplicates_dropped + rejectedTotal(first));
    let packed = 0;
    for (const p of listPackedPartitions(out))
      for (const part of p.parts) packed += (await readPackedRows(part)).length;
    expect(packed + first.duplicates_dropped + rejectedTotal(first)).toBe(genRows);
  });

  test("vol_delta is 0 where cumulative volume resets, pre-open rows (from 09:10 IST) are packed on their day", async () => {
    let resets = 0;
    let preOpen = 0;
    for (const p of listPackedPartitions(out)) {
      const b = await readPackedRows(p.parts[0]);
      const vol = b.columns.get("volume")!;
      const vd = b.columns.get("vol_delta")!.values as BigInt64Array;
      const strike = b.columns.get("strike")!.values as Float32Array;
      const opt = b.columns.get("opt_type")!.values as Int32Array;
      const expiry = b.columns.get("expiry")!.values as Int32Array;
      const ts = b.columns.get("timestamp")!.values as BigInt64Array;
      const day = b.columns.get("date")!.values as Int32Array;
      const v = vol.values as BigInt64Array;
      for (let i = 0; i < b.length; i++) {
        const secondOfIstDay = Number((ts[i] + 19_800_000_000_000n) / 1_000_000_000n) % 86_400;
        expect(Math.floor(Number((ts[i] + 19_800_000_000_000n) / 1_000_000_000n) / 86_400)).toBe(day[i]);
        if (secondOfIstDay >= 9 * 3600 + 600 && secondOfIstDay < 9 * 3600 + 900) preOpen++;
        const sameContract =
          i > 0 && strike[i] === strike[i - 1] && opt[i] === opt[i - 1] && expiry[i] === expiry[i - 1];
        const bothValid = i > 0 && (!vol.valid || (vol.valid[i] === 1 && vol.valid[i - 1] === 1));
        if (sameContract && bothValid && v[i] < v[i - 1]) {
          resets++;
          expect(vd[i]).toBe(0n);
        }
      }
    }
    expect(resets).toBeGreaterThan(0);
    expect(preOpen).toBeGreaterThan(0);
  });

  // The tests that run repack again work on copies of `out`: the tests above read it as first written.
  test("a rerun after a crash before the manifest was written rejects nothing twice", async () => {
    const own = tempDir("q-rerun");
    cpSync(out, own, { recursive: true });
    const before = await rejectedOnDisk(own);
    rmSync(join(own, "_tickpack", "manifest.json"));
    const again = await repackFixture([raw], own);
    expect(again.rows_out).toBe(0);
    expect(again.rows_rejected).toEqual(first.rows_rejected);
    expect(again.rows_in).toBe(again.duplicates_dropped + rejectedTotal(again));
    expect(await rejectedOnDisk(own)).toEqual(before);
    const skipped = await repackFixture([raw], own);
    expect(skipped.files_in).toBe(0);
    expect(rejectedTotal(skipped)).toBe(0);
  });

  test("the layout's globs read the packed rows and nothing of tickpack's own", async () => {
    expect((await rejectedOnDisk(out)).files).toBeGreaterThan(0);
    for (const glob of ["*/*/*.parquet", "**/*.parquet"]) expect(await rowsThroughGlob(out, glob)).toBe(first.rows_out);
  });

  test("rejected-row files an earlier tickpack named *.parquet are renamed, never kept twice", async () => {
    const before = await rejectedOnDisk(out);
    const dir = join(out, "_tickpack", "rejected");
    // An output written before: the same files, named `.parquet`.
    for (const f of readdirSync(dir)) renameSync(join(dir, f), join(dir, f.replace(/\.rejected$/, ".parquet")));
    expect(readdirSync(dir).every((f) => f.endsWith(".parquet"))).toBe(true);
    // A run with nothing new renames them.
    const skipped = await repackFixture([raw], out);
    expect(skipped.files_in).toBe(0);
    expect(readdirSync(dir).every((f) => f.endsWith(".rejected"))).toBe(true);
    expect(await rejectedOnDisk(out)).toEqual(before);
    expect(await rowsThroughGlob(out, "*/*/*.parquet")).toBe(first.rows_out);
    // A rerun that reads every input again replaces them: the same rows, once.
    for (const f of readdirSync(dir)) renameSync(join(dir, f), join(dir, f.replace(/\.rejected$/, ".parquet")));
    rmSync(join(out, "_tickpack", "manifest.json"));
    const again = await repackFixture([raw], out);
    expect(again.rows_rejected).toEqual(first.rows_rejected);
    expect(readdirSync(dir).filter((f) => f.endsWith(".parquet"))).toEqual([]);
    expect(await rejectedOnDisk(out)).toEqual(before);
  });

  test("a rerun with new files adds only their rejected rows", async () => {
    const more = tempDir("q-more");
    const moreRows = (await genFixture(more, { ...QUIRKY, start: parseIsoDate("2025-11-19"), days: 1 })).rows;
    const own = tempDir("q-more-out");
    cpSync(out, own, { recursive: true });
    const before = await rejectedOnDisk(own);
    const s = await repackFixture([more], own, { calendarPath: join(raw, "expiry_calendar.csv") });
    expect(s.files_failed).toBe(0);
    expect(s.rows_in).toBe(moreRows);
    expect(s.rows_in).toBe(s.rows_out + s.duplicates_dropped + rejectedTotal(s));
    const after = await rejectedOnDisk(own);
    for (const r of Object.keys(first.rows_rejected))
      expect(after.byReason[r] ?? 0).toBe(
        (before.byReason[r] ?? 0) + s.rows_rejected[r as keyof typeof s.rows_rejected],
      );
  });
});

describe("rows after the contract's expiry", () => {
  test("are rejected as after_expiry, kept, and the other days packed", async () => {
    const raw = tempDir("x-raw");
    const gen = await genFixture(raw, {
      underlyings: ["BANKNIFTY"],
      defects: { ...DEFAULT_DEFECTS, nullRate: 0, zeroPriceRate: 0, disorderRate: 0 },
    });
    // The calendar now says BANKNIFTY's November contract expired on the first generated day.
    const cal = join(raw, "expiry_calendar.csv");
    writeFileSync(
      cal,
      readFileSync(cal, "utf8").replace(/BANKNIFTY,monthly,2025-11-\d\d/, "BANKNIFTY,monthly,2025-11-17"),
    );
    const out = tempDir("x-out");
    const s = await repackFixture([raw], out);
    expect(s.files_failed).toBe(0);
    expect(s.rows_rejected.after_expiry).toBeGreaterThan(0);
    expect(s.rows_in).toBe(gen.rows);
    expect(s.rows_out + rejectedTotal(s)).toBe(gen.rows);
    expect(listPackedPartitions(out).map((p) => p.date)).toEqual(["2025-11-17"]);
    expect((await rejectedOnDisk(out)).byReason).toEqual({ after_expiry: s.rows_rejected.after_expiry });
  });
});

describe("gen --clean", () => {
  test("produces none of the quirks", async () => {
    const raw = tempDir("c-raw");
    const proc = Bun.spawnSync([
      "bun",
      join(import.meta.dir, "../../scripts/gen.ts"),
      "--out",
      raw,
      "--days",
      "1",
      "--strikes",
      "1",
      "--tick-prob",
      "0.02",
      "--underlyings",
      "NIFTY",
      "--clean",
      "--json",
    ]);
    expect(proc.exitCode).toBe(0);
    const out = tempDir("c-out");
    const s = await repackFixture([raw], out);
    expect(rejectedTotal(s)).toBe(0);
    expect(existsSync(join(out, "_tickpack", "rejected"))).toBe(false);
  });
});
