/**
 * gen lists each day's strikes around that day's at-the-money strike, as NSE does, and a
 * contract-day is the same whatever date range is generated around it. Read back with DuckDB.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_DEFECTS } from "../../lib/gen/gen.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { compareWithDuckDB, expectPackedAsRaw } from "../helpers/duckdb.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(120_000);
afterAll(cleanupTempDirs);

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    c.closeSync();
  }
}

/**
 * Every raw row of `dir` with its contract (file name), IST day and place in that contract-day.
 * Timestamps are naive IST; an epoch-zero row is the first row of its contract-day, so it takes the
 * day of the row after it.
 */
function rawRowsSql(dir: string): string {
  return `WITH r AS (
      SELECT *, regexp_extract(filename, '[^/]+$') AS contract,
        CASE WHEN "timestamp" >= TIMESTAMP '2000-01-01' THEN "timestamp"::DATE END AS ts_day
      FROM read_parquet(${q(join(dir, "*", "*.parquet"))}, filename = true, file_row_number = true)),
    d AS (
      SELECT *, coalesce(ts_day, lead(ts_day) OVER (PARTITION BY filename ORDER BY file_row_number)) AS day FROM r)
    SELECT * EXCLUDE (filename, file_row_number, ts_day),
      file_row_number - min(file_row_number) OVER (PARTITION BY filename, day) AS row_in_day
    FROM d`;
}

describe("gen's strike ladder", () => {
  // 12 trading days: the spot walks several strikes away from the first day's.
  let raw: string;
  beforeAll(async () => {
    raw = tempDir("ladder-raw");
    await genFixture(raw, {
      days: 12,
      underlyings: ["NIFTY", "BANKNIFTY", "TCS"],
      strikesEachSide: 2,
      tickProb: 0.01,
      defects: { ...DEFAULT_DEFECTS, nullRate: 0, zeroPriceRate: 0 },
    });
  });

  test("each day lists its strikes around that day's spot: its at-the-money strike is never at the band's edge", async () => {
    // Per underlying, expiry and day: the strikes listed, and the one whose CE and PE mids at the
    // open (each contract's first quote of the session) are closest (put-call parity: CE − PE = S − K).
    const rows = await query(`
      WITH r AS (${rawRowsSql(raw)}),
        opening AS (
          SELECT DISTINCT ON (contract, day) regexp_extract(contract, '^[A-Z&-]+') AS underlying,
            year, month, symbol, strike, opt_type, day, (bp0 + sp0) / 2 AS mid
          FROM r WHERE "timestamp"::TIME >= TIME '09:15:00'
          ORDER BY contract, day, "timestamp"),
        expiry AS (
          -- The symbol without its strike and type: underlying and expiry (the strikes here are whole).
          SELECT *, left(symbol, length(symbol) - length(strike::BIGINT::VARCHAR) - 2) AS series FROM opening),
        pairs AS (
          SELECT ce.underlying, ce.series, ce.day, ce.strike, abs(ce.mid - pe.mid) AS gap
          FROM expiry ce JOIN expiry pe USING (series, day, strike)
          WHERE ce.opt_type = 'CE' AND pe.opt_type = 'PE'),
        bands AS (
          SELECT underlying, series, day, min(strike) AS lo, max(strike) AS hi, count(*) AS strikes,
            arg_min(strike, gap) AS atm
          FROM pairs GROUP BY ALL)
      SELECT underlying, series, day::VARCHAR AS day, lo, hi, strikes, atm FROM bands ORDER BY ALL`);
    const days = new Set(rows.map((r) => r.day));
    expect(days.size).toBe(12);
    expect(new Set(rows.map((r) => r.underlying))).toEqual(new Set(["NIFTY", "BANKNIFTY", "TCS"]));
    const atEdge = rows.filter(
      (r) => Number(r.strikes) !== 5 || !(Number(r.atm) > Number(r.lo) && Number(r.atm) < Number(r.hi)),
    );
    expect(atEdge).toEqual([]);
  });

  test("a contract whose strike leaves the ladder and comes back has days that are not consecutive: repack packs every row on its day", async () => {
    const [gaps] = await query(`
      WITH cd AS (SELECT DISTINCT contract, day FROM (${rawRowsSql(raw)})),
        span AS (SELECT contract, min(day) AS lo, max(day) AS hi, count(*) AS n FROM cd GROUP BY contract)
      SELECT count(*) AS contracts FROM span
      WHERE n < (SELECT count(DISTINCT day) FROM cd WHERE day BETWEEN span.lo AND span.hi)`);
    expect(Number(gaps.contracts)).toBeGreaterThan(0);
    const out = tempDir("ladder-packed");
    const s = await repackFixture([raw], out);
    expect(s.files_failed).toBe(0);
    const files = readdirSync(raw, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
      .map((e) => ({ path: join(e.parentPath, e.name) }));
    expectPackedAsRaw(await compareWithDuckDB(files, out), s.rows_out);
  });

  test("the contract-days of days 2–3 are the same in days 1–3 and days 2–4", async () => {
    const early = tempDir("ladder-early");
    const late = tempDir("ladder-late");
    const quirks = { ...DEFAULT_DEFECTS, epochZeroRate: 0.3, volumeResetRate: 0.3, preOpenRate: 0.3 };
    const options = { days: 3, strikesEachSide: 2, tickProb: 0.01, defects: quirks };
    await genFixture(early, { ...options, start: parseIsoDate("2025-11-17") });
    await genFixture(late, { ...options, start: parseIsoDate("2025-11-18") });
    const shared = (dir: string) =>
      `SELECT * FROM (${rawRowsSql(dir)}) WHERE day IN (DATE '2025-11-18', DATE '2025-11-19')`;
    const [counts] = await query(`SELECT
        (SELECT count(*) FROM (${shared(early)})) AS early,
        (SELECT count(*) FROM (${shared(late)})) AS late,
        (SELECT count(*) FROM (${shared(early)} EXCEPT ALL ${shared(late)})) AS only_early,
        (SELECT count(*) FROM (${shared(late)} EXCEPT ALL ${shared(early)})) AS only_late,
        (SELECT count(DISTINCT (contract, day)) FROM (${shared(early)})) AS contract_days,
        (SELECT count(*) FROM (${shared(early)}) WHERE "timestamp" < TIMESTAMP '2000-01-01') AS epoch_zero`);
    expect(Number(counts.early)).toBeGreaterThan(1000);
    expect(Number(counts.contract_days)).toBeGreaterThan(20);
    expect(Number(counts.epoch_zero)).toBeGreaterThan(0);
    expect({ only_early: Number(counts.only_early), only_late: Number(counts.only_late) }).toEqual({
      only_early: 0,
      only_late: 0,
    });
    expect(Number(counts.late)).toBe(Number(counts.early));
  });
});
