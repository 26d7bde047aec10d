import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { DEFAULT_PARAMS } from "../../kernel/ema_cross.ts";
import { EMA_CROSS_SOURCE } from "../../kernel/strategy-kernel.ts";
import { runBench } from "../../lib/bench/bench.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { closeParquet, encodeArrowColumns, openParquet, withRows } from "../../lib/parquet/io.ts";
import { runScript } from "../helpers/packed-views.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { readReferencePartitions, referenceRun } from "./duckdb-reference.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..", "..");

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

const DEFAULTS = [[DEFAULT_PARAMS.fast, DEFAULT_PARAMS.slow, DEFAULT_PARAMS.max_spread, DEFAULT_PARAMS.min_volume]];
const opts = (dir: string, workers: number, trades = false, kernelPath = EMA_CROSS_SOURCE) => ({
  dir,
  workers,
  kernelPath,
  trades,
});

const bench = (args: string[]) => runScript("bench.ts", args);

describe("bench", () => {
  test("1, 2 and 3 workers give identical results; both layouts too", async () => {
    const runs = await Promise.all([1, 2, 3].map((w) => runBench(opts(packed, w), DEFAULTS)));
    const key = (s: (typeof runs)[0]["summary"]) =>
      JSON.stringify([s.rows, s.valid_rows, s.trades, s.pnl, s.by_underlying]);
    expect(runs[0].summary.trades).toBeGreaterThan(10);
    expect(key(runs[1].summary)).toBe(key(runs[0].summary));
    expect(key(runs[2].summary)).toBe(key(runs[0].summary));
    // Parts (partRows 7000) are one sequence: same totals as the unsplit hive store.
    const h = await runBench(opts(hive, 2), DEFAULTS);
    expect(listPackedPartitions(packed).some((p) => p.parts.length > 1)).toBe(true);
    expect([h.summary.rows, h.summary.valid_rows, h.summary.trades]).toEqual([
      runs[0].summary.rows,
      runs[0].summary.valid_rows,
      runs[0].summary.trades,
    ]);
    expect(h.summary.pnl).toBeCloseTo(runs[0].summary.pnl, 6);
  });

  test("onRunDays: the first and last day of the partitions that run, after the day filters", async () => {
    const days = [...new Set(listPackedPartitions(packed).map((p) => p.date as string))].sort();
    expect(days.length).toBeGreaterThan(1);
    const seen: [string, string][] = [];
    await runBench({ ...opts(packed, 1), onRunDays: (first, last) => seen.push([first, last]) }, DEFAULTS);
    await runBench(
      { ...opts(packed, 1), filters: { from: days[1] }, onRunDays: (first, last) => seen.push([first, last]) },
      DEFAULTS,
    );
    expect(seen).toEqual([
      [days[0], days[days.length - 1]],
      [days[1], days[days.length - 1]],
    ]);
  });

  test("reads only the strategy's columns", async () => {
    const { summary } = await runBench(opts(packed, 1), DEFAULTS);
    expect(summary.columns_read).toEqual(["expiry", "opt_type", "strike", "price", "bp0", "sp0", "volume"]);
    const withTrades = await runBench(opts(packed, 1, true), DEFAULTS);
    expect(withTrades.summary.columns_read).toEqual([
      "expiry",
      "opt_type",
      "strike",
      "price",
      "bp0",
      "sp0",
      "volume",
      "timestamp",
    ]);
    const example = await runBench(opts(packed, 1, false, join(ROOT, "examples", "mid_reversion.c")), [[50, 0.002]]);
    expect(example.summary.columns_read).toEqual(["expiry", "opt_type", "strike", "bp0", "sp0"]);
  });

  test("--json fields; --trades CSV and Parquet sum to pnl and count to trades", async () => {
    const dir = tempDir("trades");
    const csv = join(dir, "t.csv");
    const r = bench([packed, "--json", "--workers", "2", "--trades", csv]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const k of [
      "rows",
      "valid_rows",
      "trades",
      "pnl",
      "elapsed_s",
      "rows_per_s",
      "files",
      "workers",
      "params",
      "by_underlying",
    ])
      expect(s).toHaveProperty(k);
    expect(s.params).toEqual(DEFAULT_PARAMS);
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    expect(lines[0]).toBe("set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl");
    expect(lines.length - 1).toBe(s.trades);
    const pnl = lines.slice(1).reduce((a, l) => a + Number(l.split(",")[10]), 0);
    expect(pnl).toBeCloseTo(s.pnl, 6);

    const pq = join(dir, "t.parquet");
    expect(bench([packed, "--trades", pq]).code).toBe(0);
    const source = await openParquet(pq);
    const sum = await withRows(source, ["pnl"], { rowGroups: source.rowGroupRows.map((_, i) => i) }, (t) =>
      (t.getChild("pnl")!.toArray() as Float64Array).reduce((a, b) => a + b, 0),
    );
    expect(source.numRows).toBe(s.trades);
    expect(sum).toBeCloseTo(s.pnl, 6);
    closeParquet(source);
  });

  test("parameters change the result; flags are validated", async () => {
    // Each set's totals must be the DuckDB-read reference's for that set: a run that ignored its
    // parameters would give the defaults' totals.
    const partitions = await readReferencePartitions(packed);
    const sets = [DEFAULT_PARAMS, { fast: 3, slow: 8, max_spread: 0.01, min_volume: 1 }];
    const got = sets.map((p) =>
      JSON.parse(
        bench([
          packed,
          "--json",
          "--fast",
          String(p.fast),
          "--slow",
          String(p.slow),
          "--max-spread",
          String(p.max_spread),
          "--min-volume",
          String(p.min_volume),
        ]).stdout,
      ),
    );
    sets.forEach((p, k) => {
      const ref = referenceRun(partitions, p);
      expect(got[k].params).toEqual(p);
      expect([got[k].trades, got[k].valid_rows]).toEqual([ref.trades, ref.validRows]);
      expect(got[k].pnl).toBeCloseTo(ref.pnl, 6);
    });
    expect(got[1].trades).not.toBe(got[0].trades);
    expect(got[1].kernel).toBe(EMA_CROSS_SOURCE);
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

  test("a grid of N sets equals N plain runs, with 1 and 2 workers", async () => {
    const grid = [3, 5, 8].flatMap((fast) => [13, 21].map((slow) => [fast, slow, 0.0005, 1]));
    for (const workers of [1, 2]) {
      const g = await runBench(opts(packed, workers), grid);
      expect(g.summary.sets).toBe(6);
      for (let k = 0; k < grid.length; k++) {
        const plain = (await runBench(opts(packed, workers), [grid[k]])).summary;
        const set = g.summary.grid[k];
        expect(set.params).toEqual({ fast: grid[k][0], slow: grid[k][1], max_spread: 0.0005, min_volume: 1 });
        expect([set.rows, set.valid_rows, set.trades]).toEqual([plain.rows, plain.valid_rows, plain.trades]);
        expect(Math.abs(set.pnl - plain.pnl)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(plain.pnl)));
        expect(set.by_underlying).toEqual(plain.by_underlying);
      }
      expect(g.summary.trades).toBe(g.summary.grid.reduce((a, s) => a + s.trades, 0));
    }
  });

  test("--grid on the command line: top sets, rows×sets/s, trades with their set", async () => {
    const dir = tempDir("grid");
    const csv = join(dir, "t.csv");
    const r = bench([packed, "--json", "--grid", "fast=3,5;slow=13,21", "--trades", csv]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.sets).toBe(4);
    expect(s.row_sets_per_s).toBeCloseTo(s.rows_per_s * 4, 0);
    // Points of NIFTY and BANKNIFTY never add up: the top sets of each, no total PnL.
    expect(r.stderr).toContain("Parameter sets: 4 (top 4 per underlying by its PnL in points)");
    for (const u of Object.keys(s.grid[0].by_underlying)) expect(r.stderr).toContain(`\n  ${u}\n  #`);
    expect(r.stderr).not.toContain("Total PnL");
    const lines = readFileSync(csv, "utf8").trim().split("\n").slice(1);
    for (let k = 0; k < 4; k++) {
      const mine = lines.filter((l) => l.startsWith(`${k},`));
      expect(mine.length).toBe(s.grid[k].trades);
      expect(mine.reduce((a, l) => a + Number(l.split(",")[10]), 0)).toBeCloseTo(s.grid[k].pnl, 6);
    }
    const gridFile = join(dir, "grid.json");
    writeFileSync(gridFile, JSON.stringify({ fast: [3, 5], slow: [13, 21] }));
    expect(JSON.parse(bench([packed, "--json", "--grid-file", gridFile]).stdout).grid).toEqual(s.grid);
    expect(bench([packed, "--grid", "fast=3;nope=1"]).code).toBe(2);
    expect(bench([packed, "--grid", "fast=3", "--fast", "5"]).code).toBe(2);
  });

  test("user kernels: compile errors exit 2 with the diagnostic; a crash ends only that run, naming the kernel", () => {
    const dir = tempDir("userk");
    const bad = join(dir, "bad.c");
    writeFileSync(bad, '#include "tickpack.h"\nint nope(void) { return x; }\n');
    const b = bench([packed, "--kernel", bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${bad}:2: error`);
    expect(b.stderr).not.toContain("    at ");

    const crash = join(dir, "crash.c");
    writeFileSync(
      crash,
      `#include "tickpack.h"
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return ""; }
int tickpack_state_size(void) { return 0; }
void tickpack_segment_start(const double *p, double *s) {}
void tickpack_run(const double *p, double *s, tp_rows_t *r) { r->nvalid = *(volatile int *)0; }
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`,
    );
    const c = bench([packed, "--kernel", crash]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(`kernel ${crash} crashed the run`);

    const good = bench([
      packed,
      "--kernel",
      join(ROOT, "examples", "mid_reversion.c"),
      "--grid",
      "lookback=20,50",
      "--json",
    ]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout).grid.map((g: { params: object }) => g.params)).toEqual([
      { lookback: 20, band: 0.002 },
      { lookback: 50, band: 0.002 },
    ]);
  });
});
