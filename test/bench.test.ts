import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { DEFAULT_PARAMS } from "../kernel/ema_cross.ts";
import { runBench } from "../lib/bench.ts";
import { listPackedPartitions } from "../lib/packed-layout.ts";
import { closeParquet, encodeArrowColumns, openParquet, withRows } from "../lib/parquet-io.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "./helpers/fixtures.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..");

let packed: string;
let hive: string;
beforeAll(async () => {
  const raw = tempDir("bench-raw");
  // Denser ticks than the repack fixture, so that trades happen.
  await genFixture(raw, { tickProb: 0.5, days: 2 });
  packed = tempDir("bench-packed");
  await repackFixture([raw], packed, { rowGroupSize: 3000, partRows: 7000 }); // several row groups and parts
  hive = tempDir("bench-hive");
  await repackFixture([raw], hive, { layout: "hive" });
});
afterAll(cleanupTempDirs);

function bench(args: string[]) {
  const p = Bun.spawnSync(["bun", join(ROOT, "scripts", "bench.ts"), ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("bench", () => {
  test("1, 2 and 3 workers give identical results; both layouts too", async () => {
    const runs = await Promise.all([1, 2, 3].map((w) => runBench({ dir: packed, workers: w, params: DEFAULT_PARAMS, trades: false })));
    const key = (s: (typeof runs)[0]["summary"]) => JSON.stringify([s.rows, s.valid_rows, s.trades, s.pnl, s.by_underlying]);
    expect(runs[0].summary.trades).toBeGreaterThan(10);
    expect(key(runs[1].summary)).toBe(key(runs[0].summary));
    expect(key(runs[2].summary)).toBe(key(runs[0].summary));
    // Parts (partRows 7000) are one sequence: same totals as the unsplit hive store.
    const h = await runBench({ dir: hive, workers: 2, params: DEFAULT_PARAMS, trades: false });
    expect(listPackedPartitions(packed).some((p) => p.parts.length > 1)).toBe(true);
    expect([h.summary.rows, h.summary.valid_rows, h.summary.trades]).toEqual([runs[0].summary.rows, runs[0].summary.valid_rows, runs[0].summary.trades]);
    expect(h.summary.pnl).toBeCloseTo(runs[0].summary.pnl, 6);
  });

  test("reads only the strategy's columns", async () => {
    const { summary } = await runBench({ dir: packed, workers: 1, params: DEFAULT_PARAMS, trades: false });
    expect(summary.columns_read).toEqual(["expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume"]);
    const withTrades = await runBench({ dir: packed, workers: 1, params: DEFAULT_PARAMS, trades: true });
    expect(withTrades.summary.columns_read).toEqual(["expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume", "timestamp"]);
  });

  test("--json fields; --trades CSV and Parquet sum to pnl and count to trades", async () => {
    const dir = tempDir("trades");
    const csv = join(dir, "t.csv");
    const r = bench([packed, "--json", "--workers", "2", "--trades", csv]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const k of ["rows", "valid_rows", "trades", "pnl", "elapsed_s", "rows_per_s", "files", "workers", "params", "by_underlying"]) expect(s).toHaveProperty(k);
    expect(s.params).toEqual(DEFAULT_PARAMS);
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    expect(lines[0]).toBe("date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl");
    expect(lines.length - 1).toBe(s.trades);
    const pnl = lines.slice(1).reduce((a, l) => a + Number(l.split(",")[9]), 0);
    expect(pnl).toBeCloseTo(s.pnl, 6);

    const pq = join(dir, "t.parquet");
    expect(bench([packed, "--trades", pq]).code).toBe(0);
    const source = await openParquet(pq);
    const sum = await withRows(source, ["pnl"], { rowGroups: source.rowGroupRows.map((_, i) => i) }, (t) => (t.getChild("pnl")!.toArray() as Float64Array).reduce((a, b) => a + b, 0));
    expect(source.numRows).toBe(s.trades);
    expect(sum).toBeCloseTo(s.pnl, 6);
    closeParquet(source);
  });

  test("parameters change the result; flags are validated", () => {
    const a = JSON.parse(bench([packed, "--json", "--fast", "3", "--slow", "8", "--max-spread", "0.01"]).stdout);
    expect(a.params).toEqual({ fast: 3, slow: 8, max_spread: 0.01, min_volume: 1 });
    expect(bench([packed, "--fast", "zero"]).code).toBe(2);
    expect(bench([packed, "--bogus"]).code).toBe(2);
  });

  test("no packed files, a corrupt file, a missing column: exit 1 naming the file", async () => {
    const empty = tempDir("empty");
    const e = bench([empty]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`${empty}: no packed Parquet files found`);

    const corrupt = tempDir("corrupt");
    const part = listPackedPartitions(packed)[0].parts[0];
    mkdirSync(join(corrupt, "2025-11-17", "NIFTY"), { recursive: true });
    const bytes = readFileSync(part);
    const bad = join(corrupt, "2025-11-17", "NIFTY", "part-nifty-0.parquet");
    writeFileSync(bad, bytes.subarray(0, bytes.length - 100));
    copyFileSync(part, join(corrupt, "2025-11-17", "NIFTY", "part-nifty-1.parquet"));
    const c = bench([corrupt]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(bad);

    const missing = tempDir("missing");
    mkdirSync(join(missing, "2025-11-17", "NIFTY"), { recursive: true });
    const n = 2;
    const f64 = arrow.makeData({ type: new arrow.Float64(), length: n, data: new Float64Array([1, 2]) });
    const p2 = join(missing, "2025-11-17", "NIFTY", "part-nifty-0.parquet");
    writeFileSync(p2, encodeArrowColumns({ price: f64 }, { rowGroupSize: 10, metadata: new Map() }));
    const m = bench([missing]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(`${p2}: missing columns expiry, opt_type, strike, bp0, sp0, volume`);
  });
});
