/**
 * Where a bench run's fixed cost goes: Bun's own start-up, the whole CLI on a tiny data set (decoding,
 * and served from a warm column cache), and the
 * steps inside (imports, listing, the main thread's kernel compile, a worker's first task — start-up,
 * parquet-wasm, its own compile — against the same task on a warm worker).
 * `bun bench/fixed-cost.ts [TINY_PACKED_DIR]` (default: a one-day, one-strike NIFTY set made under /tmp).
 * Each figure is the median of 5 runs, alternating.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const dir = Bun.argv[2] ?? "/tmp/tickpack-fixed-cost/packed";
if (!existsSync(dir)) {
  const raw = join(dir, "..", "raw");
  for (const [script, args] of [
    ["gen.ts", ["--out", raw, "--days", "1", "--strikes", "1", "--tick-prob", "0.05", "--underlyings", "NIFTY"]],
    ["repack.ts", [raw, "--out", dir]],
  ] as const) {
    const p = Bun.spawnSync([process.execPath, join(root, "scripts", script), ...args], {
      stdout: "ignore",
      stderr: "inherit",
    });
    if (p.exitCode !== 0) throw new Error(`${script} failed`);
  }
}

// The warm figure's cache, filled once before the rounds.
const cacheDir = join(dir, "..", "cache");
wallMs([process.execPath, "scripts/bench.ts", dir, "--json", "--cache", cacheDir]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function wallMs(cmd: string[]): number {
  const t = performance.now();
  const p = Bun.spawnSync(cmd, { stdout: "ignore", stderr: "ignore", cwd: root });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${p.exitCode}`);
  return performance.now() - t;
}

// The steps inside one process, in a child so that every import is cold.
const STEPS = `
const t0 = performance.now();
const lap = (() => { let t = t0; return () => { const n = performance.now(); const d = n - t; t = n; return d; }; })();
const { listPackedPartitions } = await import(${JSON.stringify(join(root, "lib/packed/layout.ts"))});
const { EMA_CROSS_SOURCE, loadKernel } = await import(${JSON.stringify(join(root, "kernel/strategy-kernel.ts"))});
const { WorkerPool } = await import(${JSON.stringify(join(root, "lib/workers/pool.ts"))});
const imports = lap();
const partitions = listPackedPartitions(${JSON.stringify(dir)});
const listing = lap();
const kernel = loadKernel(EMA_CROSS_SOURCE);
const compile = lap();
const pool = new WorkerPool(${JSON.stringify(join(root, "lib/bench/worker.ts"))}, 1);
const task = { kind: "bench", kernelPath: kernel.path, paramSets: [kernel.params.map((p) => p.defaultValue)], parts: partitions[0].parts, trades: false, cache: null };
await pool.run(task);
const firstTask = lap();
await pool.run(task);
const warmTask = lap();
pool.close();
console.log(JSON.stringify({ imports, listing, compile, firstTask, warmTask }));
`;

function steps(): Record<string, number> {
  const p = Bun.spawnSync([process.execPath, "-e", STEPS], { stdout: "pipe", stderr: "inherit", cwd: root });
  return JSON.parse(p.stdout.toString());
}

const runs: Record<string, number[]> = {};
const add = (k: string, v: number) => (runs[k] ??= []).push(v);
for (let r = 0; r < 5; r++) {
  add("bun -e 0 (Bun's start-up)", wallMs([process.execPath, "-e", "0"]));
  add(
    "bench CLI --no-cache, 1 worker",
    wallMs([process.execPath, "scripts/bench.ts", dir, "--workers", "1", "--json", "--no-cache"]),
  );
  add(
    "bench CLI --no-cache, 2 workers",
    wallMs([process.execPath, "scripts/bench.ts", dir, "--workers", "2", "--json", "--no-cache"]),
  );
  add(
    "bench CLI, warm cache, 1 worker",
    wallMs([process.execPath, "scripts/bench.ts", dir, "--workers", "1", "--json", "--cache", cacheDir]),
  );
  for (const [k, v] of Object.entries(steps())) add(`  step: ${k}`, v);
}
console.log(`fixed cost of a bench run (${dir}), median of 5, ms`);
for (const [k, v] of Object.entries(runs)) console.log(`${k.padEnd(34)} ${median(v).toFixed(1).padStart(8)}`);
