import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";
import { giveToUnprivilegedUser, pathNoOneCanWrite, runScriptUnprivileged } from "../helpers/unprivileged.ts";
import { runBench } from "../../lib/bench/bench.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { closeParquet, openParquet, withRows } from "../../lib/parquet/io.ts";

setDefaultTimeout(120_000);

let packed: string;
let kernels: string;
beforeAll(async () => {
  packed = await packedFixture("trades", { days: 1 });
  kernels = tempDir("trades-kernels");
});
afterAll(cleanupTempDirs);

const bench = (args: string[]) => runScript("bench.ts", args);

/** A kernel that buys on one valid row and sells on the next: a trade per two rows and set. */
function churnKernel(): string {
  const path = join(kernels, "churn.c");
  writeFileSync(
    path,
    `#include "tickpack.h"
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return "x=0"; }
int tickpack_state_size(void) { return 3; }
void tickpack_segment_start(const double *p, double *s) { s[0] = 0; }
void tickpack_run(const double *p, double *s, tp_rows_t *r) {
  const double *price = TP_COLUMN(r, 0, double);
  long long i;
  for (i = r->start; i < r->end; i++) {
    double px = price[i];
    if (!TP_OK(TP_BITS(r, 0), i) || !(px > 0)) continue;
    r->nvalid++;
    r->last_valid = i;
    s[2] = px;
    if (s[0] == 0) { s[0] = 1; s[1] = px; TP_EMIT_OPEN(r, i, px); }
    else { s[0] = 0; TP_EMIT_CLOSE(r, i, px, px - s[1]); }
  }
}
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {
  if (s[0] != 0) { s[0] = 0; ev->action = TP_CLOSE; ev->price = s[2]; ev->pnl = s[2] - s[1]; }
}
`,
  );
  return path;
}

describe("bench --trades", () => {
  test("a partition with over a million trades reaches the trade log (no call-stack overflow), partitions in order", async () => {
    const k = churnKernel();
    const sets = Array.from({ length: 200 }, (_, i) => [i]);
    const blocks: { partition: string; length: number }[] = [];
    const { summary } = await runBench(
      {
        dir: packed,
        workers: 2,
        kernelPath: k,
        trades: true,
        onTrades: (b) => void blocks.push({ partition: `${b.date}/${b.underlying}`, length: b.length }),
      },
      sets,
    );
    expect(blocks.reduce((a, b) => a + b.length, 0)).toBe(summary.trades);
    expect(Math.max(...blocks.map((b) => b.length))).toBeGreaterThan(1_000_000);
    expect(blocks.map((b) => b.partition)).toEqual(
      listPackedPartitions(packed).map((p) => `${p.date}/${p.underlying}`),
    );
  });

  test("~400k trades in one partition are written (no call-stack overflow), CSV and Parquet, in partition order", async () => {
    const k = churnKernel();
    const grid = `x=${Array.from({ length: 64 }, (_, i) => i).join(",")}`;
    const dir = tempDir("trades-big");
    const csv = join(dir, "t.csv");
    const r = bench([packed, "--kernel", k, "--grid", grid, "--trades", csv, "--json", "--workers", "2"]);
    expect(r.stderr).not.toContain("RangeError");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.trades).toBeGreaterThan(250_000);
    const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
    expect(lines.length - 1).toBe(s.trades);
    // Partition order: all of the first partition's trades, then the next's.
    const order = listPackedPartitions(packed).map((p) => `${p.date},${p.underlying}`);
    const seen = [...new Set(lines.slice(1).map((l) => l.split(",").slice(1, 3).join(",")))];
    expect(seen).toEqual(order);

    const pq = join(dir, "t.parquet");
    const rp = bench([packed, "--kernel", k, "--grid", grid, "--trades", pq, "--workers", "2"]);
    expect(rp.code).toBe(0);
    const source = await openParquet(pq);
    expect(source.numRows).toBe(s.trades);
    expect(source.rowGroupRows.length).toBeGreaterThan(1);
    const sum = await withRows(source, ["pnl"], { rowGroups: source.rowGroupRows.map((_, i) => i) }, (t) =>
      (t.getChild("pnl")!.toArray() as Float64Array).reduce((a, b) => a + b, 0),
    );
    expect(sum).toBeCloseTo(s.pnl, 4);
    closeParquet(source);
    expect(readdirSync(dir).sort()).toEqual(["t.csv", "t.parquet"]);

    // DuckDB reads both logs as the same trades: the CSV's IST times (+05:30) as the Parquet's
    // instants, both dates as DATE, the same rounded prices and PnL.
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    try {
      const from = { csv: `read_csv('${csv}')`, pq: `read_parquet('${pq}')` };
      for (const src of Object.values(from)) {
        const types = (
          await c.runAndReadAll(`DESCRIBE SELECT date, expiry, entry_time, exit_time FROM ${src}`)
        ).getRows();
        expect(types.map((t) => t[1])).toEqual([
          "DATE",
          "DATE",
          "TIMESTAMP WITH TIME ZONE",
          "TIMESTAMP WITH TIME ZONE",
        ]);
      }
      const cols =
        "set, date, underlying, expiry, opt_type, strike, entry_time, exit_time, entry_price, exit_price, pnl";
      for (const [a, b] of [
        [from.csv, from.pq],
        [from.pq, from.csv],
      ]) {
        const diff = await c.runAndReadAll(
          `SELECT count(*) FROM (SELECT ${cols} FROM ${a} EXCEPT ALL SELECT ${cols} FROM ${b})`,
        );
        expect(Number(diff.getRows()[0][0])).toBe(0);
      }
      // Times are the market's: every entry between 09:00 and 15:30 IST, on its partition's date.
      const outside = await c.runAndReadAll(
        `SELECT count(*) FROM ${from.csv} WHERE strftime(entry_time AT TIME ZONE 'Asia/Kolkata', '%H:%M') NOT BETWEEN '09:00' AND '15:30' OR CAST(entry_time AT TIME ZONE 'Asia/Kolkata' AS DATE) <> date`,
      );
      expect(Number(outside.getRows()[0][0])).toBe(0);
    } finally {
      c.closeSync();
    }
  });

  test("a run with no trades still writes a valid Parquet file with the columns", async () => {
    const dir = tempDir("trades-none");
    const pq = join(dir, "none.parquet");
    // min_volume so high that nothing is ever entered.
    const r = bench([packed, "--min-volume", "1e17", "--trades", pq, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).trades).toBe(0);
    const source = await openParquet(pq);
    expect(source.numRows).toBe(0);
    expect(source.fields.map((f) => f.name)).toEqual([
      "set",
      "date",
      "underlying",
      "expiry",
      "opt_type",
      "strike",
      "entry_time",
      "exit_time",
      "entry_price",
      "exit_price",
      "pnl",
    ]);
    closeParquet(source);
  });

  test("a path that cannot be written is a usage error before the run, naming the path and the reason", () => {
    const dir = tempDir("trades-bad");
    const folder = join(dir, "afolder");
    mkdirSync(folder);
    const cases: [string, string][] = [
      [folder, "is a folder"],
      [join(dir, "nope", "t.csv"), "does not exist"],
      [`${join(dir, "t.csv")}/`, "is a folder"],
    ];
    for (const [path, reason] of cases) {
      const r = bench([packed, "--trades", path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(path.replace(/\/$/, ""));
      expect(r.stderr).toContain(reason);
      expect(r.stderr).not.toContain("Total rows"); // refused before the run
      expect(r.stderr).not.toContain("    at ");
      expect(r.stderr.trim().split("\n").length).toBe(1);
    }
    expect(readdirSync(dir)).toEqual(["afolder"]);
    // Under a regular file: no one can write there, root included.
    const underFile = pathNoOneCanWrite(tempDir("trades-file"), "t.csv");
    const r = bench([packed, "--trades", underFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a folder");
  });

  test("a trade log in a folder the user may not write fails naming the path and the reason; nothing is left", () => {
    const data = tempDir("trades-ro-data");
    cpSync(packed, data, { recursive: true });
    const ro = tempDir("trades-ro");
    giveToUnprivilegedUser(data);
    giveToUnprivilegedUser(ro);
    chmodSync(ro, 0o500);
    const path = join(ro, "t.csv");
    const r = runScriptUnprivileged("bench.ts", [data, "--trades", path, "--no-cache", "--workers", "1"]);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain(`cannot write in folder ${ro} (EACCES)`);
    expect(r.stderr).not.toContain("    at ");
    expect(r.code).toBe(2);
    expect(readdirSync(ro)).toEqual([]);
  });
});
