import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_PARAMS, type EmaCrossParams } from "../../kernel/ema_cross.ts";
import { SeededRandom } from "../../lib/random.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import {
  duck,
  parseTradesCsv,
  readReferencePartitions,
  referenceRun,
  type RefPartition,
  type RefTrade,
} from "./duckdb-reference.ts";

setDefaultTimeout(120_000);
const BENCH = join(import.meta.dir, "..", "..", "scripts", "bench.ts");

function bench(args: string[]) {
  const p = Bun.spawnSync([process.execPath, BENCH, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const flags = (p: EmaCrossParams) => [
  "--fast",
  String(p.fast),
  "--slow",
  String(p.slow),
  `--max-spread=${p.max_spread}`,
  `--min-volume=${p.min_volume}`,
];

/** Runs bench with --trades CSV and checks totals and every trade against the DuckDB reference. */
function expectBenchEqualsReference(dir: string, partitions: RefPartition[], params: EmaCrossParams) {
  const csv = join(tempDir("ref-trades"), "t.csv");
  const r = bench([dir, "--json", "--workers", "2", "--trades", csv, ...flags(params)]);
  expect(r.stderr).not.toContain("    at ");
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout);
  const ref = referenceRun(partitions, params);
  expect([s.rows, s.valid_rows, s.trades]).toEqual([ref.rows, ref.validRows, ref.trades]);
  expect(Math.abs(s.pnl - ref.pnl)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.pnl)));
  for (const [u, t] of Object.entries(ref.byUnderlying)) {
    expect([s.by_underlying[u].rows, s.by_underlying[u].trades]).toEqual([t.rows, t.trades]);
    expect(s.by_underlying[u].pnl).toBeCloseTo(t.pnl, 6);
  }
  // Trade by trade, partition by partition (bench writes partitions in its listing order).
  const got = parseTradesCsv(readFileSync(csv, "utf8"));
  expect(got.length).toBe(ref.tradeList.length);
  const byPartition = (ts: RefTrade[]) => {
    const m = new Map<string, RefTrade[]>();
    for (const t of ts) m.set(`${t.date}/${t.underlying}`, [...(m.get(`${t.date}/${t.underlying}`) ?? []), t]);
    return m;
  };
  const mine = byPartition(
    got.map(({ set, ...t }) => {
      expect(set).toBe(0);
      return t;
    }),
  );
  const theirs = byPartition(ref.tradeList);
  expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
  for (const [key, trades] of theirs) expect(mine.get(key)).toEqual(trades);
  return { summary: s, ref };
}

describe("bench against an independent reader (DuckDB + the TypeScript reference)", () => {
  let packed: string;
  let partitions: RefPartition[];
  beforeAll(async () => {
    const raw = tempDir("ref-raw");
    await genFixture(raw, { tickProb: 0.3, days: 2 });
    packed = tempDir("ref-packed");
    // Several row groups and parts per partition: many batches, each with its own opt_type dictionary.
    await repackFixture([raw], packed, { rowGroupSize: 3000, partRows: 7000 });
    partitions = await readReferencePartitions(packed);
  });
  afterAll(cleanupTempDirs);

  test("packed partitions: totals and every trade's date, underlying, expiry, opt_type, strike, times and prices equal the reference", () => {
    expect(partitions.length).toBe(4);
    for (const p of partitions) {
      // The data's own date and underlying are the folder's, which bench reports.
      expect(p.dataDates).toEqual([p.date]);
      expect(p.dataUnderlyings).toEqual([p.underlying]);
    }
    const { ref } = expectBenchEqualsReference(packed, partitions, DEFAULT_PARAMS);
    expect(ref.trades).toBeGreaterThan(50);
    expect(new Set(ref.tradeList.map((t) => t.opt_type))).toEqual(new Set(["CE", "PE"]));
    expect(new Set(ref.tradeList.map((t) => t.expiry)).size).toBeGreaterThan(1);
  });

  test("parameters change the result: two sets each equal their reference, and differ from each other", () => {
    const other: EmaCrossParams = { fast: 3, slow: 8, max_spread: 0.01, min_volume: 2 };
    const a = expectBenchEqualsReference(packed, partitions, DEFAULT_PARAMS).summary;
    const b = expectBenchEqualsReference(packed, partitions, other).summary;
    expect(b.params).toEqual(other);
    expect(b.trades).not.toBe(a.trades);
    expect(b.pnl).not.toBe(a.pnl);
  });

  test("a partition written by DuckDB: nulls in key and value columns, plain-string opt_type, int64 volume past 2^31, ns timestamps, many row groups", async () => {
    const dir = tempDir("ref-duck");
    const folder = join(dir, "2025-11-20", "TEST");
    mkdirSync(folder, { recursive: true });
    const rng = new SeededRandom(19);
    const lines = ["expiry,opt_type,strike,price,bp0,sp0,volume,ts"];
    let ts = 1_763_610_300_000_000_000n;
    const maybe = (v: string, p = 0.03) => (rng.next() < p ? "" : v);
    for (let s = 0; s < 80; s++) {
      const expiry = rng.next() < 0.05 ? "" : ["2025-11-25", "2025-12-02"][rng.int(0, 1)];
      const opt = rng.next() < 0.05 ? "" : rng.next() < 0.5 ? "CE" : "PE";
      const strike = rng.next() < 0.05 ? "" : String([100, 150.5, 200][rng.int(0, 2)]);
      let price = 50 + rng.next() * 100;
      for (let i = rng.int(1, 300); i > 0; i--) {
        price = Math.max(0.05, price + (rng.next() - 0.5));
        const px = Math.round(price * 20) / 20;
        const half = 0.0125 * rng.int(1, 4);
        const r = rng.next();
        const priceText = r < 0.02 ? "" : r < 0.03 ? "0" : String(px);
        ts += BigInt(rng.int(1, 2_000_000_000)); // odd nanoseconds
        lines.push(
          [
            expiry,
            opt,
            strike,
            priceText,
            maybe(String(px - half)),
            maybe(String(px + half)),
            maybe(String(rng.next() < 0.5 ? rng.int(0, 3) : 3_000_000_000 + rng.int(0, 3))),
            String(ts),
          ].join(","),
        );
      }
    }
    const csvPath = join(dir, "rows.csv");
    writeFileSync(csvPath, `${lines.join("\n")}\n`);
    const file = join(folder, "part-test-0.parquet");
    const c = await duck();
    await c.run(`COPY (
      SELECT CAST(expiry AS DATE) AS expiry, opt_type, CAST(strike AS FLOAT) AS strike, price, bp0, sp0, volume,
             make_timestamp_ns(ts) AS timestamp
      FROM read_csv('${csvPath}', header = true, nullstr = '',
        columns = {'expiry': 'VARCHAR', 'opt_type': 'VARCHAR', 'strike': 'DOUBLE', 'price': 'DOUBLE', 'bp0': 'DOUBLE', 'sp0': 'DOUBLE', 'volume': 'BIGINT', 'ts': 'BIGINT'})
    ) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
    const groups = Number(
      (await c.runAndReadAll(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${file}')`)).getRows()[0][0],
    );
    c.closeSync();
    expect(groups).toBeGreaterThan(3);
    const parts = await readReferencePartitions(dir);
    const params: EmaCrossParams = { fast: 3, slow: 10, max_spread: 0.002, min_volume: 1 };
    const { ref } = expectBenchEqualsReference(dir, parts, params);
    expect(ref.trades).toBeGreaterThan(20);
    // Trades happened in segments with null keys, and with sub-microsecond times.
    expect(ref.tradeList.some((t) => t.expiry === "" || t.opt_type === "" || t.strike === "")).toBe(true);
    expect(ref.tradeList.some((t) => t.entry_ns % 1000n !== 0n)).toBe(true);
  });
});
