/**
 * What `--report` costs: whole bench processes over PACKED_DIR with and without `--report FILE.html`
 * (no `--trades` in either), alternating, in two cache states — `--no-cache` (every part decoded) and
 * the folder's default column cache, warm (a first `--report` run fills it with `timestamp`, which only
 * trade-collecting runs read; that fill is not timed). 2 workers, single set.
 * A third kind of run splits the cost: the same bench with trades collected (workers read `timestamp`
 * and post every partition's trades) but handed to no one — what any trade consumer pays — run
 * in-process through runBench by this file (`--collect-only`), as a whole process like the others.
 * `bun bench/report-cost.ts [PACKED_DIR] [ROUNDS]` (default data/m50-packed, 3). A round in which another
 * process used the CPU is retried (timed-process.ts). Prints medians of wall time and the ratios.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, timedProcess } from "./timed-process.ts";
import { runBench } from "../lib/bench/bench.ts";
import { EMA_CROSS_SOURCE } from "../kernel/strategy-kernel.ts";
import { defaultCacheDir } from "../lib/cache/store.ts";

if (Bun.argv[2] === "--collect-only") {
  // bench's defaults (ema_cross, one set, 2 workers), trades collected and dropped; prints the summary.
  const [, , , where, cacheMode] = Bun.argv;
  const cache = cacheMode === "warm" ? { dir: defaultCacheDir(where), maxBytes: 32 * 2 ** 30, verifyAll: false } : null;
  const { summary } = await runBench({ dir: where, workers: 2, kernelPath: EMA_CROSS_SOURCE, trades: true, tradesInAnyOrder: true, cache, onTrades: () => {} }, [[5, 21, 0.0005, 1]]);
  console.log(JSON.stringify(summary));
  process.exit(0);
}

const root = join(import.meta.dir, "..");
const dir = Bun.argv[2] ?? join(root, "data", "m50-packed");
const rounds = Number(Bun.argv[3] ?? 3);
const out = mkdtempSync(join(tmpdir(), "tickpack-report-cost-"));
const report = join(out, "report.html");
const bench = (...flags: string[]) => [process.execPath, join(root, "scripts", "bench.ts"), dir, "--workers", "2", "--json", ...flags];

const collectOnly = (cacheMode: string) => [process.execPath, import.meta.path, "--collect-only", dir, cacheMode];
const cases: Record<string, string[]> = {
  "--no-cache": bench("--no-cache"),
  "--no-cache, trades only": collectOnly("none"),
  "--no-cache --report": bench("--no-cache", "--report", report),
  "warm cache": bench(),
  "warm cache, trades only": collectOnly("warm"),
  "warm cache --report": bench("--report", report),
};
const walls: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const results = new Set<string>();
try {
  // Fills the default cache with every column both kinds of run read (untimed).
  const fill = JSON.parse(timedProcess(cases["warm cache --report"], root).stdout);
  console.log(`cache filled: ${fill.cache?.hits} hits, ${fill.cache?.misses} misses; ${fill.rows.toLocaleString("en-US")} rows, ${fill.trades.toLocaleString("en-US")} trades`);
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
    console.log(`round ${r}: ` + Object.entries(round).map(([k, s]) => `${k} ${s.toFixed(3)} s`).join(" | "));
    for (const [k, s] of Object.entries(round)) walls[k].push(s);
  }
  if (walls["warm cache"].length === 0) throw new Error("no clean round: another process kept the CPU busy");
  const m = (k: string) => median(walls[k]);
  console.log(`medians over ${walls["warm cache"].length} clean rounds (${dir}, 2 workers, whole processes, wall clock):`);
  for (const k of Object.keys(cases)) console.log(`  ${k.padEnd(26)} ${m(k).toFixed(3)} s`);
  const pct = (a: string, b: string) => `${(100 * (m(a) / m(b) - 1)).toFixed(1)} %`;
  for (const c of ["--no-cache", "warm cache"]) {
    console.log(`  ${c}: --report costs ${pct(`${c} --report`, c)} of the run: collecting the trades ${pct(`${c}, trades only`, c)}, the report's own work (aggregation, page) ${(100 * (m(`${c} --report`) - m(`${c}, trades only`)) / m(c)).toFixed(1)} %`);
  }
  console.log(`  report file ${(statSync(report).size / 2 ** 20).toFixed(2)} MiB; same rows/trades/pnl in every run: ${results.size === 1}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
