/**
 * What `--report` costs: whole bench processes over PACKED_DIR with and without `--report FILE.html`
 * (no `--trades` in either), alternating, in two cache states — `--no-cache` (every part decoded) and
 * the folder's default column cache, warm (a first `--report` run fills it with `timestamp`, which only
 * trade-collecting runs read; that fill is not timed). 2 workers, single set.
 * Two more kinds of run split the cost, each a whole process of this file running runBench itself
 * (`--in-process`): with the report's sums kept (workers read `timestamp` and the driver sums the
 * trades) but handed to no one, and without them. Their difference is what the workers pay; the rest
 * of `--report`'s cost is the report's own (aggregation, page). Both are this file's processes, which
 * start differently from scripts/bench.ts (no workers started ahead, the kernel compiled per worker):
 * only their difference is used.
 * `bun bench/report-cost.ts [PACKED_DIR] [ROUNDS] [--grid]` (default data/m50-packed, 3). With `--grid`,
 * the runs are the README's 36-set grid instead of one set (and the in-process split is left out).
 * A round in which another process used the CPU is retried (timed-process.ts). Prints medians of wall
 * time and the ratios.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, timedProcess } from "./timed-process.ts";
import { runBench } from "../lib/bench/bench.ts";
import { EMA_CROSS_SOURCE } from "../kernel/strategy-kernel.ts";
import { defaultCacheDir } from "../lib/cache/store.ts";

if (Bun.argv[2] === "--in-process") {
  // bench's defaults (ema_cross, one set, 2 workers), with the report's sums kept and dropped ("sums") or none; prints the summary.
  const [, , , where, cacheMode, sums] = Bun.argv;
  const cache = cacheMode === "warm" ? { dir: defaultCacheDir(where), maxBytes: 32 * 2 ** 30, verifyAll: false } : null;
  const { summary } = await runBench(
    {
      dir: where,
      workers: 2,
      kernelPath: EMA_CROSS_SOURCE,
      trades: false,
      cache,
      onReportSums: sums === "sums" ? () => {} : undefined,
    },
    [[5, 21, 0.0005, 1]],
  );
  console.log(JSON.stringify(summary));
  process.exit(0);
}

const root = join(import.meta.dir, "..");
const dir = Bun.argv[2] ?? join(root, "data", "m50-packed");
const rounds = Number(Bun.argv[3] ?? 3);
const out = mkdtempSync(join(tmpdir(), "tickpack-report-cost-"));
const report = join(out, "report.html");
const grid = Bun.argv.includes("--grid")
  ? ["--grid", "fast=3,5,8;slow=13,21,34;max_spread=0.0005,0.001;min_volume=1,2"]
  : [];
const bench = (...flags: string[]) => [
  process.execPath,
  join(root, "scripts", "bench.ts"),
  dir,
  "--workers",
  "2",
  "--json",
  ...grid,
  ...flags,
];

const inProcess = (cacheMode: string, sums: "sums" | "none") => [
  process.execPath,
  import.meta.path,
  "--in-process",
  dir,
  cacheMode,
  sums,
];
const cases: Record<string, string[]> = {
  "--no-cache": bench("--no-cache"),
  ...(grid.length
    ? {}
    : {
        "--no-cache, in-process": inProcess("none", "none"),
        "--no-cache, in-process sums": inProcess("none", "sums"),
      }),
  "--no-cache --report": bench("--no-cache", "--report", report),
  "warm cache": bench(),
  ...(grid.length
    ? {}
    : {
        "warm cache, in-process": inProcess("warm", "none"),
        "warm cache, in-process sums": inProcess("warm", "sums"),
      }),
  "warm cache --report": bench("--report", report),
};
const walls: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const results = new Set<string>();
try {
  // Fills the default cache with every column both kinds of run read (untimed).
  const fill = JSON.parse(timedProcess(cases["warm cache --report"], root).stdout);
  console.log(
    `cache filled: ${fill.cache?.hits} hits, ${fill.cache?.misses} misses; ${fill.rows.toLocaleString("en-US")} rows, ${fill.trades.toLocaleString("en-US")} trades`,
  );
  let noisy = 0;
  for (let r = 0; r < rounds && noisy < 4 * rounds; ) {
    const round: Record<string, number> = {};
    let clean = true;
    for (const [name, cmd] of Object.entries(cases)) {
      const t = timedProcess(cmd, root);
      clean &&= t.clean;
      const j = JSON.parse(t.stdout);
      results.add(JSON.stringify([j.rows, j.trades, j.pnl]));
      round[name] = t.wallMs / 1000;
    }
    if (!clean) {
      noisy++;
      console.log("noisy round (another process used the CPU), retried");
      continue;
    }
    r++;
    console.log(
      `round ${r}: ` +
        Object.entries(round)
          .map(([k, s]) => `${k} ${s.toFixed(3)} s`)
          .join(" | "),
    );
    for (const [k, s] of Object.entries(round)) walls[k].push(s);
  }
  if (walls["warm cache"].length === 0) throw new Error("no clean round: another process kept the CPU busy");
  const m = (k: string) => median(walls[k]);
  console.log(
    `medians over ${walls["warm cache"].length} clean rounds (${dir}, 2 workers, whole processes, wall clock):`,
  );
  for (const k of Object.keys(cases)) console.log(`  ${k.padEnd(26)} ${m(k).toFixed(3)} s`);
  const pct = (a: string, b: string) => `${(100 * (m(a) / m(b) - 1)).toFixed(1)} %`;
  for (const c of ["--no-cache", "warm cache"]) {
    if (grid.length) console.log(`  ${c}: --report costs ${pct(`${c} --report`, c)} of the run`);
    else {
      const sums = m(`${c}, in-process sums`) - m(`${c}, in-process`);
      const share = (x: number) => `${((100 * x) / m(c)).toFixed(1)} %`;
      console.log(
        `  ${c}: --report costs ${pct(`${c} --report`, c)} of the run: the workers' sums (timestamp read, trades summed) ${share(sums)}, the report's own work (aggregation, page) ${share(m(`${c} --report`) - m(c) - sums)}`,
      );
    }
  }
  console.log(
    `  report file ${(statSync(report).size / 2 ** 20).toFixed(2)} MiB; same rows/trades/pnl in every run: ${results.size === 1}`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
