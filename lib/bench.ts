/** `bench`: the ema_cross strategy over packed partitions, a pool of workers each running the TinyCC kernel. */
import type { EmaCrossParams, Trade } from "../kernel/ema_cross.ts";
import type { BenchPartitionResult, BenchTask } from "./bench-tasks.ts";
import { formatEpochDays } from "./ist-time.ts";
import { listPackedPartitions, type PackedPartition } from "./packed-layout.ts";
import type { ProgressListener } from "./progress.ts";
import { WorkerPool } from "./worker-pool.ts";

/** Options of a bench run. */
export interface BenchOptions {
  dir: string;
  workers: number;
  params: EmaCrossParams;
  /** Collect every trade. */
  trades: boolean;
}

/** A trade with its partition and contract. */
export interface TradeRow {
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

/** Totals of a bench run (SPEC §5 fields). */
export interface BenchSummary {
  rows: number;
  valid_rows: number;
  trades: number;
  pnl: number;
  elapsed_s: number;
  rows_per_s: number;
  files: number;
  partitions: number;
  workers: number;
  params: EmaCrossParams;
  by_underlying: Record<string, { rows: number; trades: number; pnl: number }>;
  columns_read: string[];
}

/** Nothing to run on, or a file bench cannot use. */
export class BenchInputError extends Error {}

const OPT_NAMES = ["CE", "PE", "?"];

function tradeRows(p: PackedPartition, trades: Trade[]): TradeRow[] {
  return trades.map((t) => ({
    date: p.date ?? "",
    underlying: p.underlying ?? "",
    expiry: t.expiry < -1e299 ? "" : formatEpochDays(t.expiry),
    opt_type: OPT_NAMES[t.optCode] ?? "",
    strike: t.strike,
    entry_time: t.entryTs,
    exit_time: t.exitTs,
    entry_price: t.entryPrice,
    exit_price: t.exitPrice,
    pnl: t.exitPrice - t.entryPrice,
  }));
}

/** Runs the strategy over every packed partition under `dir`; results do not depend on the worker count. */
export async function runBench(options: BenchOptions, onProgress?: ProgressListener): Promise<{ summary: BenchSummary; trades: TradeRow[] }> {
  const partitions = listPackedPartitions(options.dir);
  if (partitions.length === 0) throw new BenchInputError(`${options.dir}: no packed Parquet files found`);
  const t0 = performance.now();
  const pool = new WorkerPool<BenchTask, BenchPartitionResult>(new URL("./worker-entry.ts", import.meta.url).href, Math.min(options.workers, partitions.length));
  const results: BenchPartitionResult[] = new Array(partitions.length);
  let done = 0;
  let rows = 0;
  try {
    // Largest first so the pool ends evenly; results are kept in partition order.
    const order = partitions.map((_, i) => i).sort((a, b) => partitions[b].bytes - partitions[a].bytes);
    await Promise.all(
      order.map(async (i) => {
        const parts = partitions[i].parts;
        results[i] = await pool.run({ kind: "bench", parts, params: options.params, trades: options.trades }).catch((e: Error) => {
          // A worker that died (wasm trap) cannot say which file: name the partition.
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
  const summary: BenchSummary = {
    rows: 0, valid_rows: 0, trades: 0, pnl: 0, elapsed_s: elapsed, rows_per_s: 0,
    files: partitions.reduce((a, p) => a + p.parts.length, 0),
    partitions: partitions.length,
    workers: Math.min(options.workers, partitions.length),
    params: options.params,
    by_underlying: {},
    columns_read: results[0].columns,
  };
  const trades: TradeRow[] = [];
  // Summed in partition order: the same floating-point result whatever the worker count.
  partitions.forEach((p, i) => {
    const r = results[i];
    summary.rows += r.rows;
    summary.valid_rows += r.validRows;
    summary.trades += r.trades;
    summary.pnl += r.pnl;
    const u = (summary.by_underlying[p.underlying ?? "?"] ??= { rows: 0, trades: 0, pnl: 0 });
    u.rows += r.rows;
    u.trades += r.trades;
    u.pnl += r.pnl;
    if (options.trades) trades.push(...tradeRows(p, r.tradeList));
  });
  summary.rows_per_s = elapsed > 0 ? summary.rows / elapsed : 0;
  return { summary, trades };
}
