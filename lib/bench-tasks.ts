/** The unit of bench work, run inside a worker: the strategy over one packed partition. */
import { EmaCrossKernel, type EmaCrossParams, type Trade } from "../kernel/ema_cross.ts";
import { runPartition } from "./strategy-reader.ts";

/** Run the strategy over one partition (all its parts, in order). */
export interface BenchTask {
  kind: "bench";
  parts: string[];
  params: EmaCrossParams;
  /** Keep every trade (reads `timestamp` too). */
  trades: boolean;
}

/** What one partition gave. */
export interface BenchPartitionResult {
  rows: number;
  validRows: number;
  trades: number;
  pnl: number;
  tradeList: Trade[];
  /** Columns the reader projected (for checks). */
  columns: string[];
}

/** Runs one bench task with a fresh kernel state (the compiled kernel is shared by the worker). */
export async function runBenchTask(task: BenchTask): Promise<BenchPartitionResult> {
  const kernel = new EmaCrossKernel(task.params, task.trades ? 4096 : 0);
  const columns = await runPartition(task.parts, kernel, task.trades);
  return { ...kernel.totals(), tradeList: kernel.takeTrades(), columns };
}
