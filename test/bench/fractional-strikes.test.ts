/**
 * Strikes float32 cannot hold (split-adjusted stock strikes such as 3402.3, packed as
 * 3402.300048828125): `--strikes` selects them as written, at every level (footer statistics, the
 * per-row strike window, the key filter), and the trade log prints them as written.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as arrow from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strikeWindow, strikeWindowReference } from "../../lib/read/key-scan.ts";
import { SegmentSelector } from "../../lib/read/filters.ts";
import { storedStrike, storedStrikeBand, strikeDecimal } from "../../lib/packed/strike.ts";
import { SeededRandom } from "../../lib/random.ts";
import { encodeArrowColumns } from "../../lib/parquet/io.ts";
import { cleanupTempDirs, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(120_000);

/** Rows per contract: a price wave, so ema_cross trades several times in each. */
const N = 120;
const CONTRACTS = ["3402.3CE", "3402.3PE", "3402.4CE", "3400CE"];
/** Packed with one contract per row group (footer statistics decide) and with all in one (the strike window decides). */
let perContract: string;
let oneGroup: string;

function writeRawContract(path: string, strike: number): void {
  // 2025-11-17 09:15:00 IST, one row a second.
  const t0 = 1763351100000n;
  const price = Float64Array.from({ length: N }, (_, i) => 100 + 10 * Math.sin(i / 6));
  const f64 = (a: Float64Array) => arrow.makeData({ type: new arrow.Float64(), length: N, data: a });
  writeFileSync(
    path,
    encodeArrowColumns(
      {
        timestamp: arrow.makeData({
          type: new arrow.TimestampMillisecond("UTC"),
          length: N,
          data: BigInt64Array.from({ length: N }, (_, i) => t0 + BigInt(i) * 1000n),
        } as never),
        price: f64(price),
        volume: arrow.makeData({
          type: new arrow.Int64(),
          length: N,
          data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i + 1)),
        }),
        bp0: f64(price.map((p) => p - 0.01)),
        sp0: f64(price.map((p) => p + 0.01)),
        strike: f64(new Float64Array(N).fill(strike)),
      },
      { rowGroupSize: N, metadata: new Map() },
    ),
  );
}

beforeAll(async () => {
  const raw = tempDir("frac-raw");
  writeFileSync(join(raw, "expiry_calendar.csv"), "underlying,expiry_type,expiry_date\nSBIN,monthly,2025-11-25\n");
  for (const c of CONTRACTS) writeRawContract(join(raw, `SBIN25NOV${c}.parquet`), Number(c.slice(0, -2)));
  perContract = tempDir("frac-per-contract");
  await repackFixture([raw], perContract, { rowGroupSize: N });
  oneGroup = tempDir("frac-one-group");
  await repackFixture([raw], oneGroup, { rowGroupSize: 10 * N });
});
afterAll(cleanupTempDirs);

interface Run {
  rows: number;
  trades: number;
  row_groups_read: number;
  strikes: string[];
}

function bench(dir: string, band: string, extra: string[] = ["--no-cache"]): Run {
  const csv = join(tempDir("frac-out"), "t.csv");
  const r = runScript("bench.ts", [dir, "--strikes", band, "--trades", csv, "--json", ...extra]);
  if (r.code !== 0) throw new Error(`bench --strikes ${band} exited ${r.code}: ${r.stderr}`);
  const [header, ...lines] = readFileSync(csv, "utf8").trimEnd().split("\n");
  const at = header.split(",").indexOf("strike");
  return { ...JSON.parse(r.stdout), strikes: [...new Set(lines.map((l) => l.split(",")[at]))].sort() };
}

describe("--strikes on strikes float32 cannot hold", () => {
  for (const [label, dir] of [
    ["one contract per row group (footer statistics)", () => perContract],
    ["one row group (strike window)", () => oneGroup],
  ] as const) {
    test(`a band of the written strike selects it: ${label}`, () => {
      const one = bench(dir(), "3402.3:3402.3");
      expect(one.rows).toBe(2 * N);
      expect(one.trades).toBeGreaterThan(0);
      expect(one.strikes).toEqual(["3402.3"]);
      const two = bench(dir(), "3402.3:3402.4");
      expect(two.rows).toBe(3 * N);
      expect(two.strikes).toEqual(["3402.3", "3402.4"]);
      expect(bench(dir(), "3400:3402.3").rows).toBe(3 * N);
      expect(bench(dir(), "3402.31:3402.39").rows).toBe(0);
      expect(bench(dir(), "3402.4:3500").rows).toBe(N);
      // A bound typed with more digits than float32 holds: the band is of the strikes as printed.
      expect(bench(dir(), "3402.30001:3402.4").rows).toBe(N);
    });
  }

  test("the column cache selects the same", () => {
    const cache = tempDir("frac-cache");
    for (let pass = 0; pass < 2; pass++) {
      const r = bench(oneGroup, "3402.3:3402.3", ["--cache", cache]);
      expect(r.rows).toBe(2 * N);
      expect(r.strikes).toEqual(["3402.3"]);
    }
  });

  test("a Parquet trade log holds the strike as written, as the CSV log does (DuckDB reads both)", async () => {
    const out = tempDir("frac-parquet");
    const logs = { parquet: join(out, "t.parquet"), csv: join(out, "t.csv") };
    for (const log of Object.values(logs)) {
      const r = runScript("bench.ts", [perContract, "--no-cache", "--trades", log, "--json"]);
      expect(r.code).toBe(0);
    }
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    for (const from of [`read_parquet('${logs.parquet}')`, `read_csv('${logs.csv}')`]) {
      const rows = (await c.runAndReadAll(`SELECT DISTINCT strike FROM ${from} ORDER BY strike`)).getRows();
      expect(rows.map((x) => Number(x[0]))).toEqual([3400, 3402.3, 3402.4]);
    }
    c.closeSync();
  });
});

describe("the report", () => {
  test("the ATM table prints the strike and the step as written", () => {
    const html = join(tempDir("frac-report"), "r.html");
    const r = runScript("bench.ts", [perContract, "--no-cache", "--report", html]);
    expect(r.code).toBe(0);
    const page = readFileSync(html, "utf8");
    // The only strike with a CE and a PE trade is 3402.3; strikes 3400, 3402.3 and 3402.4 are 0.1 apart at least.
    expect(page).toContain('<td class="num">3402.3</td><td class="num">0.1</td>');
    expect(page).not.toContain("3402.300048828125");
  });
});

describe("strike helpers", () => {
  test("strikeDecimal is the shortest decimal stored as the float32", () => {
    for (const s of [3402.3, 3402.4, 102.5, 0.05, 25_000, 57_450.65, 1234567])
      expect(strikeDecimal(storedStrike(s))).toBe(s);
    expect(storedStrike(3402.3)).not.toBe(3402.3);
    expect(Number.isNaN(strikeDecimal(NaN))).toBe(true);
    // Past 2^24 float32s are more than a unit apart: 123456790 is stored as 123456792 and printed as written.
    expect(strikeDecimal(storedStrike(123_456_790))).toBe(123_456_790);
    expect(strikeDecimal(storedStrike(16_777_216))).toBe(16_777_216);
  });

  test("strikeDecimal's shortcut for whole numbers gives what the digit search gives", () => {
    const search = (v: number) => {
      for (let digits = 1; digits < 9; digits++) {
        const d = Number(v.toPrecision(digits));
        if (storedStrike(d) === v) return d;
      }
      return v;
    };
    const r = new SeededRandom(23);
    for (let i = 0; i < 20_000; i++) {
      const scale = 2 ** (1 + Math.floor(r.next() * 30));
      const v = storedStrike(Math.round((r.next() - 0.5) * scale) * (r.next() < 0.5 ? 1 : 50));
      expect(strikeDecimal(v)).toBe(search(v));
    }
  });

  test("storedStrikeBand selects exactly the float32 strikes that print inside the band", () => {
    const f32 = new Float32Array(1);
    const bits = new Int32Array(f32.buffer);
    const near = (x: number) =>
      Array.from({ length: 11 }, (_, k) => {
        f32[0] = x;
        bits[0] += k - 5;
        return f32[0];
      });
    const values = [...near(3402.3), ...near(3402.4), ...near(0.05), ...near(-12.5), 0, ...near(25_000)];
    const bounds = [
      ...values.map(strikeDecimal),
      3402.3,
      3402.30001,
      3402.29999,
      3402.3002,
      0.05,
      0.0500001,
      -12.5,
      -12.50001,
      25_000,
      24_999.999,
      -1e39,
      1e39,
    ];
    for (const lo of bounds)
      for (const hi of bounds) {
        if (lo > hi) continue;
        const [l, h] = storedStrikeBand([lo, hi]);
        for (const v of values)
          expect([lo, hi, v, v >= l && v <= h]).toEqual([lo, hi, v, strikeDecimal(v) >= lo && strikeDecimal(v) <= hi]);
      }
  });

  test("the selector and the strike window (native and reference) compare in float32", () => {
    const sel = new SegmentSelector({ strikes: [3402.3, 3402.3] }, null, () => "monthly");
    expect(sel.selects(0, 0, storedStrike(3402.3))).toBe(true);
    expect(sel.selects(0, 0, storedStrike(3402.4))).toBe(false);
    const band = sel.strikeBand(0, 0);
    expect(band).not.toBe("all");
    const strikes = Float32Array.from([3400, 3402.3, 3402.3, 3402.4]);
    for (const w of [strikeWindow, strikeWindowReference])
      expect(w(strikes, ...(band as [number, number]))).toEqual({ start: 1, end: 3, runs: 1 });
  });
});
