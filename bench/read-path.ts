/**
 * Where bench's time goes, on one core: parquet-wasm decode of the 7 strategy columns alone vs
 * the full path (decode + Arrow views + TinyCC kernel). `bun bench/read-path.ts [DIR]`
 * (default: the sample data set, data/sample/packed). Best of 3 warm passes.
 */
import { join } from "node:path";
import { EMA_CROSS_SOURCE, KernelRun, loadKernel } from "../kernel/strategy-kernel.ts";
import { listPackedPartitions } from "../lib/packed/layout.ts";
import { closeParquet, openParquet, withRows } from "../lib/parquet/io.ts";
import { projectedColumns } from "../lib/read/driver-batch.ts";
import { runPartition } from "../lib/read/run-partition.ts";
import { noCacheStats } from "../lib/cache/cache-stats.ts";

const dir = Bun.argv[2] ?? join(import.meta.dir, "..", "data", "sample", "packed");
const partitions = listPackedPartitions(dir);
if (partitions.length === 0)
  throw new Error(`${dir}: no packed files (run \`bun run bench\` once to create the sample)`);

const kernel = loadKernel(EMA_CROSS_SOURCE);
const columns = projectedColumns(kernel, { ts: false, quotes: false });
const defaults = kernel.params.map((p) => p.defaultValue!);

async function decodeOnly(): Promise<void> {
  for (const p of partitions) {
    for (const f of p.parts) {
      const s = await openParquet(f);
      for (let g = 0; g < s.rowGroupRows.length; g++) await withRows(s, columns, { rowGroups: [g] }, () => 0);
      closeParquet(s);
    }
  }
}

async function fullPath(): Promise<number> {
  let rows = 0;
  for (const p of partitions) {
    const run = new KernelRun(kernel, [defaults]);
    await runPartition(p.parts, run, kernel, { ts: false, quotes: false }, { cache: null }, noCacheStats());
    rows += run.totals()[0].rows;
  }
  return rows;
}

async function best(fn: () => Promise<unknown>): Promise<number> {
  let ms = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

const rows = await fullPath();
const full = await best(fullPath);
const decode = await best(decodeOnly);
const rate = (ms: number) => `${(rows / ms / 1000).toFixed(1)}M rows/s`;
console.log(`${rows.toLocaleString("en-US")} rows in ${partitions.length} partitions, one core`);
console.log(`decode only (7 columns)       ${decode.toFixed(0).padStart(6)} ms  ${rate(decode)}`);
console.log(`full path (decode + kernel)   ${full.toFixed(0).padStart(6)} ms  ${rate(full)}`);
console.log(
  `kernel + plumbing             ${(full - decode).toFixed(0).padStart(6)} ms  ${(((full - decode) / full) * 100).toFixed(0)}% of the full path`,
);
