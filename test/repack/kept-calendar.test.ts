import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DEFAULT_PARAMS } from "../../kernel/ema_cross.ts";
import { EMA_CROSS_SOURCE } from "../../kernel/strategy-kernel.ts";
import { runBench } from "../../lib/bench/bench.ts";
import { formatEpochDays, parseIsoDate } from "../../lib/ist-time.ts";
import { LotSizeError, loadLotSizes, lotSizeFor, parseLotSizeOverrides } from "../../lib/money/lot-sizes.ts";
import { keptCalendarPath, readKeptCalendar } from "../../lib/packed/kept-calendar.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { PACKED_COLUMNS } from "../../lib/packed/schema.ts";
import { formatExpiryCalendar, lotSizeOf, parseExpiryCalendar } from "../../lib/raw/calendar.ts";
import { RepackUsageError } from "../../lib/repack/repack.ts";
import { rowDifferences } from "../helpers/duckdb.ts";
import { cleanupTempDirs, genFixture, repackFixture, stampToDetectWrites, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);

let raw: string;
let packed: string;
beforeAll(async () => {
  raw = tempDir("kept-raw");
  await genFixture(raw);
  packed = tempDir("kept-packed");
  await repackFixture([raw], packed);
});
afterAll(cleanupTempDirs);

const rawCalendarText = () => readFileSync(join(raw, "expiry_calendar.csv"), "utf8");
const partFiles = (dir: string) => listPackedPartitions(dir).flatMap((p) => p.parts);

/** Distinct (underlying, expiry) of the packed rows, read by DuckDB. */
async function packedExpiries(dir: string): Promise<{ underlying: string; expiry: string }[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const files = partFiles(dir).map((f) => `'${f}'`);
    const rows = await c.runAndReadAll(
      `SELECT DISTINCT underlying::VARCHAR AS u, strftime(expiry, '%Y-%m-%d') AS e FROM read_parquet([${files.join(", ")}]) ORDER BY ALL`,
    );
    return rows.getRowObjectsJS().map((r) => ({ underlying: String(r.u), expiry: String(r.e) }));
  } finally {
    c.closeSync();
  }
}

/** Column names and DuckDB types of the packed files (one DESCRIBE over them all). */
async function packedSchema(dir: string): Promise<string[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const files = partFiles(dir).map((f) => `'${f}'`);
    const rows = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${files.join(", ")}])`);
    return rows.getRowObjectsJS().map((r) => `${r.column_name} ${r.column_type}`);
  } finally {
    c.closeSync();
  }
}

describe("repack keeps its calendar with the packed data", () => {
  test("the calendar used is kept under _tickpack/, and gives every packed contract's lot size", async () => {
    const kept = keptCalendarPath(packed);
    expect(kept).toBe(join(packed, "_tickpack", "calendar.csv"));
    expect(readFileSync(kept, "utf8")).toBe(rawCalendarText());
    const lots = loadLotSizes(packed);
    expect(lots.source).toBe(kept);
    const expiries = await packedExpiries(packed);
    expect(expiries.length).toBeGreaterThan(2);
    // November 2025 expiries: NIFTY 75, BANKNIFTY 35 (docs/formats.md#lot-sizes).
    for (const { underlying, expiry } of expiries)
      expect(lots.lotSizeOf(underlying, parseIsoDate(expiry))).toBe(underlying === "NIFTY" ? 75 : 35);
  });

  test("a later repack with a newer calendar adds its expiries; an unchanged one leaves the file alone", async () => {
    const out = tempDir("kept-later");
    cpSync(packed, out, { recursive: true });
    const later = tempDir("kept-later-raw");
    await genFixture(later, { start: parseIsoDate("2025-12-29"), days: 2 });
    const s = await repackFixture([later], out);
    expect(s.errors).toEqual([]);
    const kept = readKeptCalendar(out);
    if (!kept) throw new Error("no kept calendar");
    const first = parseExpiryCalendar(rawCalendarText(), "a");
    const second = parseExpiryCalendar(readFileSync(join(later, "expiry_calendar.csv"), "utf8"), "b");
    for (const cal of [first, second]) {
      for (const [key, day] of cal.monthly) expect(kept.monthly.get(key)).toBe(day);
      for (const [u, days] of cal.weekly) for (const d of days) expect(kept.weekly.get(u)?.has(d)).toBe(true);
      for (const [key, size] of cal.lotSizes) expect(kept.lotSizes.get(key)).toBe(size);
    }
    // The newer calendar reaches further: its April 2026 monthlies are kept; NIFTY's January weeklies are 65.
    expect(first.monthly.has("NIFTY|2026-04")).toBe(false);
    expect(kept.monthly.has("NIFTY|2026-04")).toBe(true);
    expect(lotSizeOf(kept, "NIFTY", parseIsoDate("2026-01-06"))).toBe(65);
    expect(lotSizeOf(kept, "NIFTY", parseIsoDate("2025-12-30"))).toBe(75);
    const lots = loadLotSizes(out);
    for (const { underlying, expiry } of await packedExpiries(out))
      expect(lots.lotSizeOf(underlying, parseIsoDate(expiry))).not.toBeNull();
    // Nothing new: the kept calendar is not rewritten.
    const written = stampToDetectWrites([keptCalendarPath(out)]);
    await repackFixture([later], out);
    expect(written()).toEqual([]);
  });

  test("a lot size that disagrees with the kept calendar is a usage error naming both; nothing is written", async () => {
    const out = tempDir("kept-conflict");
    cpSync(packed, out, { recursive: true });
    const other = tempDir("kept-conflict-cal");
    const calendar = join(other, "expiry_calendar.csv");
    writeFileSync(calendar, rawCalendarText().replace("NIFTY,monthly,2025-11-25,75", "NIFTY,monthly,2025-11-25,65"));
    expect(readFileSync(calendar, "utf8")).not.toBe(rawCalendarText());
    const more = tempDir("kept-conflict-raw");
    await genFixture(more, { start: parseIsoDate("2025-11-19"), days: 1 });
    const watched = [keptCalendarPath(out), join(out, "_tickpack", "manifest.json"), ...partFiles(out)];
    const written = stampToDetectWrites(watched);
    const message = `lot size of NIFTY 2025-11-25: 75 in ${keptCalendarPath(out)}, 65 in ${calendar}`;
    const error = await repackFixture([more], out, { calendarPath: calendar }).catch((e) => e);
    expect(error).toBeInstanceOf(RepackUsageError);
    expect((error as Error).message).toContain(message);
    const cli = runScript("repack.ts", [more, "--out", out, "--calendar", calendar, "--workers", "1"]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(message);
    expect(written()).toEqual([]);
    expect(partFiles(out).some((f) => f.includes("2025-11-19"))).toBe(false);
  });
});

describe("a packed folder without a kept calendar (packed before repack kept one)", () => {
  let old: string;
  beforeAll(() => {
    old = tempDir("kept-old");
    cpSync(packed, old, { recursive: true });
    rmSync(keptCalendarPath(old));
  });
  const grid = [[DEFAULT_PARAMS.fast, DEFAULT_PARAMS.slow, DEFAULT_PARAMS.max_spread, DEFAULT_PARAMS.min_volume]];
  const bench = (dir: string) => runBench({ dir, workers: 2, kernelPath: EMA_CROSS_SOURCE, trades: false }, grid);

  test("benches exactly as a folder with one", async () => {
    const [a, b] = await Promise.all([bench(old), bench(packed)]);
    const key = (s: typeof a.summary) => JSON.stringify([s.rows, s.valid_rows, s.trades, s.pnl, s.by_underlying]);
    expect(a.summary.rows).toBeGreaterThan(0);
    expect(key(a.summary)).toBe(key(b.summary));
    expect(existsSync(keptCalendarPath(old))).toBe(false);
  });

  test("its lot sizes are unknown: an error naming the contract, unless --lot-size gives them", async () => {
    const lots = loadLotSizes(old);
    expect(lots.source).toBeNull();
    const [{ underlying, expiry }] = await packedExpiries(old);
    const day = parseIsoDate(expiry);
    expect(() => lotSizeFor(lots, new Map(), underlying, day)).toThrow(LotSizeError);
    expect(() => lotSizeFor(lots, new Map(), underlying, day)).toThrow(
      `no lot size for ${underlying} expiry ${formatEpochDays(day)}: the packed folder keeps no calendar`,
    );
    expect(lotSizeFor(lots, parseLotSizeOverrides(`${underlying}=40`), underlying, day)).toBe(40);
  });

  test("a repack with nothing new to read keeps the calendar, and its lot sizes are known", async () => {
    const s = await repackFixture([raw], old);
    expect(s.files_in).toBe(0);
    expect(s.files_skipped).toBeGreaterThan(0);
    expect(s.partitions_written).toBe(0);
    expect(readFileSync(keptCalendarPath(old), "utf8")).toBe(rawCalendarText());
    expect(loadLotSizes(old).lotSizeOf("NIFTY", parseIsoDate("2025-11-25"))).toBe(75);
  });
});

describe("packed Parquet is what it was before calendars had lot sizes", () => {
  test("same columns and types, and the same rows, as when packed with a three-column calendar (DuckDB)", async () => {
    const plainRaw = tempDir("kept-plain-raw");
    cpSync(raw, plainRaw, { recursive: true });
    const plain = parseExpiryCalendar(rawCalendarText(), "x");
    plain.lotSizes.clear();
    const plainText = formatExpiryCalendar(plain);
    expect(plainText.split("\n")[0]).toBe("underlying,expiry_type,expiry_date");
    writeFileSync(join(plainRaw, "expiry_calendar.csv"), plainText);
    const out = tempDir("kept-plain-packed");
    await repackFixture([plainRaw], out);
    const schema = await packedSchema(packed);
    expect(await packedSchema(out)).toEqual(schema);
    expect(schema.map((c) => c.split(" ")[0])).toEqual(PACKED_COLUMNS.map((c) => c.name));
    expect(schema.some((c) => c.startsWith("lot_size"))).toBe(false);
    expect(await rowDifferences(partFiles(packed), partFiles(out))).toEqual({ missing: 0, extra: 0 });
    // Its kept calendar has no lot sizes, and says so when money would need one.
    expect(() => lotSizeFor(loadLotSizes(out), new Map(), "NIFTY", parseIsoDate("2025-11-25"))).toThrow(
      `gives none for that expiry: pass --lot-size NIFTY=N`,
    );
  });
});
