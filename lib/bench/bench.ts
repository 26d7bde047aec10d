/** `bench`: a strategy kernel, for one or many parameter sets, over packed partitions in a pool of workers. */
import { loadKernel, type KernelTrade } from "../../kernel/strategy-kernel.ts";
import type { BenchPartitionResult, BenchTask } from "./tasks.ts";
import { formatEpochDays } from "../ist-time.ts";
import { listPackedPartitions, type PackedPartition } from "../packed/layout.ts";
import type { ProgressListener } from "../progress.ts";
import { WorkerPool } from "../workers/pool.ts";

/** Options of a bench run. */
export interface BenchOptions {
  dir: string;
  workers: number;
  kernelPath: string;
  /** Collect every trade. */
  trades: boolean;
}

/** A trade with its set, partition and contract. */
export interface TradeRow {
  set: number;
  date: string;
  underlying: string;
  expiry: string;
  opt_type: string;
  strike: number;
  entry_time: bigint;
  exit_time: bigint;
  entry_price: number;
  exit_price: number;
  pnl: number;
}

/** Per-underlying totals of one set. */
export type ByUnderlying = Record<string, { rows: number; trades: number; pnl: number }>;

/** Results of one parameter set. */
export interface GridResult {
  params: Record<string, number>;
  rows: number;
  valid_rows: number;
  trades: number;
  pnl: number;
  by_underlying: ByUnderlying;
}

/** Totals of a bench run (SPEC §5 fields; with several sets, trades and pnl are summed over them). */
export interface BenchSummary {
  rows: number;
  valid_rows: number;
  trades: number;
  pnl: number;
  elapsed_s: number;
  rows_per_s: number;
  /** Rows × parameter sets per second: the work a grid does in its one pass. */
  row_sets_per_s: number;
  files: number;
  partitions: number;
  workers: number;
  kernel: string;
  params: Record<string, number>;
  by_underlying: ByUnderlying;
  sets: number;
  grid: GridResult[];
  columns_read: string[];
}

/** Nothing to run on, or a file bench cannot use. */
export class BenchInputError extends Error {}

const OPT_NAMES = ["CE", "PE", "?"];

function tradeRows(p: PackedPartition, trades: KernelTrade[]): TradeRow[] {
  return trades.map((t) => ({
    set: t.set,
    date: p.date ?? "",
    underlying: p.underlying ?? "",
    expiry: t.expiry < -1e299 ? "" : formatEpochDays(t.expiry),
    opt_type: OPT_NAMES[t.optCode] ?? "",
    strike: t.strike,
    entry_time: t.entryTs,
    exit_time: t.exitTs,
    entry_price: t.entryPrice,
    exit_price: t.exitPrice,
    pnl: t.pnl,
  }));
}

/** Runs the kernel's sets over every packed partition under `dir`; results do not depend on the worker count. */
export async function runBench(options: BenchOptions, paramSets: number[][], onProgress?: ProgressListener): Promise<{ summary: BenchSummary; trades: TradeRow[] }> {
  const partitions = listPackedPartitions(options.dir);
  if (partitions.length === 0) throw new BenchInputError(`${options.dir}: no packed Parquet files found`);
  const kernel = loadKernel(options.kernelPath);
  const t0 = performance.now();
  const workers = Math.min(options.workers, partitions.length);
  const pool = new WorkerPool<BenchTask, BenchPartitionResult>(new URL("./worker.ts", import.meta.url).href, workers);
  const results: BenchPartitionResult[] = new Array(partitions.length);
  let done = 0;
  let rows = 0;
  try {
    // Largest first so the pool ends evenly; results are kept in partition order.
    const order = partitions.map((_, i) => i).sort((a, b) => partitions[b].bytes - partitions[a].bytes);
    await Promise.all(
      order.map(async (i) => {
        const parts = partitions[i].parts;
        results[i] = await pool.run({ kind: "bench", kernelPath: kernel.path, paramSets, parts, trades: options.trades }).catch((e: Error) => {
          // A worker that died cannot say which file: name the partition.
          throw new BenchInputError(parts.some((p) => e.message.includes(p)) ? e.message : `${parts.join(", ")}: ${e.message}`);
        });
        rows += results[i].rows;
        onProgress?.({ phase: "bench", done: ++done, total: partitions.length, rows, elapsedS: (performance.now() - t0) / 1000 });
      }),
    );
  } finally {
    pool.close();
  }
  const elapsed = (performance.now() - t0) / 1000;
  const grid: GridResult[] = paramSets.map((values) => ({
    params: Object.fromEntries(kernel.params.map((p, k) => [p.name, values[k]])),
    rows: 0, valid_rows: 0, trades: 0, pnl: 0, by_underlying: {},
  }));
  const trades: TradeRow[] = [];
  let totalRows = 0;
  // Summed in partition order: the same floating-point result whatever the worker count.
  partitions.forEach((p, i) => {
    const r = results[i];
    totalRows += r.rows;
    r.sets.forEach((t, k) => {
      const g = grid[k];
      g.rows += t.rows;
      g.valid_rows += t.validRows;
      g.trades += t.trades;
      g.pnl += t.pnl;
      const u = (g.by_underlying[p.underlying ?? "?"] ??= { rows: 0, trades: 0, pnl: 0 });
      u.rows += t.rows;
      u.trades += t.trades;
      u.pnl += t.pnl;
    });
    if (options.trades) trades.push(...tradeRows(p, r.tradeList));
  });
  const single = grid.length === 1;
  const summary: BenchSummary = {
    rows: totalRows,
    valid_rows: grid[0].valid_rows,
    trades: grid.reduce((a, g) => a + g.trades, 0),
    pnl: single ? grid[0].pnl : grid.reduce((a, g) => a + g.pnl, 0),
    elapsed_s: elapsed,
    rows_per_s: elapsed > 0 ? totalRows / elapsed : 0,
    row_sets_per_s: elapsed > 0 ? (totalRows * grid.length) / elapsed : 0,
    files: partitions.reduce((a, p) => a + p.parts.length, 0),
    partitions: partitions.length,
    workers,
    kernel: kernel.path,
    params: grid[0].params,
    by_underlying: single ? grid[0].by_underlying : {},
    sets: grid.length,
    grid,
    columns_read: results[0].columns,
  };
  return { summary, trades };
}
