/**
 * What `--report` costs in two packed folders of the same rows (two encodings of them, say), their
 * runs alternated in one session: per folder, whole `bench --no-cache` processes with and without
 * `--report FILE.html`, 2 workers, one set; the median of each round's ratio and the ratio of the medians.
 * `bun bench/report-ab.ts NAME=DIR NAME=DIR … [--rounds N] [--one-worker]` (default 11). With
 * `--one-worker`, each folder's plain run with `--workers 1` too, and the two-worker speed-up. A round
 * in which another process used the CPU is retried (timed-process.ts). Also each round's difference
 * in wall and CPU time, median and quartiles: on these machines a change smaller than their spread is
 * not measured. Two copies of one folder whose pages the cache holds differently
 * (`bench/page-cache-state.ts --drop`, `--reload-huge`) compare the page cache's states.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternatingRounds, benchCommand } from "./alternating-rounds.ts";
import { median, quantile } from "./timed-process.ts";

const root = join(import.meta.dir, "..");
const args = Bun.argv.slice(2);
const at = args.indexOf("--rounds");
const rounds = at >= 0 ? Number(args[at + 1]) : 11;
const oneWorker = args.includes("--one-worker");
const folders = args.filter((a, k) => a.includes("=") && k !== at + 1).map((a) => a.split("=", 2) as [string, string]);
if (folders.length === 0 || !(rounds > 0)) {
  console.error("usage: bun bench/report-ab.ts NAME=DIR [NAME=DIR …] [--rounds N] [--one-worker]");
  process.exit(2);
}
const out = mkdtempSync(join(tmpdir(), "tickpack-report-ab-"));
try {
  const cases: Record<string, () => string[]> = {};
  for (const [name, dir] of folders) {
    cases[`${name} plain`] = () => benchCommand(root, dir, "--no-cache");
    cases[`${name} --report`] = () => benchCommand(root, dir, "--no-cache", "--report", join(out, "report.html"));
    if (oneWorker)
      cases[`${name} 1 worker`] = () =>
        benchCommand(root, dir, "--no-cache").map((a, k, all) => (all[k - 1] === "--workers" ? "1" : a));
  }
  const runs = alternatingRounds(cases, rounds, root);
  console.log(`medians over ${rounds} clean rounds (2 workers, whole processes, wall clock):`);
  for (const [name] of folders) {
    const plain = runs[`${name} plain`].map((r) => r.wallMs);
    const report = runs[`${name} --report`].map((r) => r.wallMs);
    const ratios = report.map((v, i) => v / plain[i]);
    // Each round's difference, wall and CPU: its spread says how far the machine moved the figure.
    const wall = report.map((v, i) => v - plain[i]);
    const cpu = runs[`${name} --report`].map((r, i) => r.cpuMs - runs[`${name} plain`][i].cpuMs);
    console.log(
      `  ${name}: ${(median(plain) / 1000).toFixed(3)} → ${(median(report) / 1000).toFixed(3)} s; --report costs ${((median(ratios) - 1) * 100).toFixed(1)}% (median of the rounds' ratios; ratio of the medians ${((median(report) / median(plain) - 1) * 100).toFixed(1)}%)`,
    );
    console.log(
      `    the rounds' differences: wall ${median(wall).toFixed(1)} ms (quartiles ${quantile(wall, 0.25).toFixed(1)}, ${quantile(wall, 0.75).toFixed(1)}), CPU ${median(cpu).toFixed(1)} ms (quartiles ${quantile(cpu, 0.25).toFixed(1)}, ${quantile(cpu, 0.75).toFixed(1)})`,
    );
    if (oneWorker) {
      const one = runs[`${name} 1 worker`].map((r) => r.wallMs);
      console.log(
        `    1 worker ${(median(one) / 1000).toFixed(3)} s: 2 workers ${(median(one) / median(plain)).toFixed(2)}× as fast (median of the rounds' ratios ${median(one.map((v, i) => v / plain[i])).toFixed(2)}×)`,
      );
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
