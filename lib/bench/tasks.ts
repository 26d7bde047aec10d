/** The unit of bench work, run inside a worker: a kernel's parameter sets over one packed partition. */
import {
  adoptKernel,
  type FillRule,
  KernelRun,
  loadKernel,
  type LoadedKernel,
  type SharedKernel,
  type KernelCompiler,
  type KernelTradeColumns,
  type SetTotals,
} from "../../kernel/strategy-kernel.ts";
import type { ReportSums } from "../../kernel/report-sums.ts";
import { noCacheStats, type CacheSettings, type CacheStats } from "../cache/cache-stats.ts";
import type { PartitionFilter } from "../read/read-plan.ts";
import { runPartition, type PartsBySource } from "../read/run-partition.ts";
import { type DecodeSettings, type DecoderChoice, prepareNativeRead } from "../read/decode-source.ts";
import type { LoadedChainKernel, SharedChainKernel } from "../../kernel/chain-kernel.ts";
import type { KernelAbi } from "../../kernel/kernel-abi.ts";
import { formatEpochDays, istDayOfEpochNs, type IsoDate } from "../ist-time.ts";
import type { MoneySettings, SetMoney, TradeMoneyColumns } from "../money/trade-money.ts";

// Chain kernels and money are loaded by the first task that needs them: a worker running a
// per-contract kernel in points (most runs) never imports them (~5 ms of each worker's start-up).
const chainModules = () =>
  Promise.all([import("../../kernel/chain-kernel.ts"), import("../chain/run-partition.ts")]).then(([kernel, run]) => ({
    adoptChainKernel: kernel.adoptChainKernel,
    loadChainKernel: kernel.loadChainKernel,
    runChainPartition: run.runChainPartition,
  }));
const moneyModule = () => import("../money/trade-money.ts");

/** Run every parameter set of a kernel over one partition (all its parts, in order). */
export interface BenchTask {
  kind: "bench";
  kernelPath: string;
  /** The kernel's ABI: per contract (absent) or a chain kernel (SPEC §6). */
  abi?: KernelAbi;
  /** Compiler of the kernel (tcc when absent). */
  compiler?: KernelCompiler;
  /** The parent thread's build of the kernel, adopted instead of compiled here (absent: compiled in the worker). */
  kernelBuild?: SharedKernel | SharedChainKernel;
  /** How orders fill (SPEC §7; "last" when absent). */
  fill?: FillRule;
  /** Money (SPEC §7: lots, lot sizes, costs): the trades are priced in ₹ (null or absent: points only). */
  money?: MoneySettings | null;
  /** The partition's underlying as its path says it (money needs it). */
  underlying?: string | null;
  /** The partition's IST day as its path says it (chain kernels count minutes from its 09:15). */
  date?: IsoDate | null;
  /** Parameter values per set, in the kernel's parameter order. */
  paramSets: number[][];
  parts: string[];
  /** Keep every trade (reads `timestamp` too). */
  trades: boolean;
  /** Keep the report's sums of the trades (kernel/report-sums.ts; reads `timestamp` too). */
  reportSums?: boolean;
  /** The column cache, or null to decode every part (`--no-cache`). */
  cache: CacheSettings | null;
  /** Which decoder reads parts not served from the cache ("native" when absent). */
  decoder?: DecoderChoice;
  /** The native decoder's build in the parent thread (see DecodeSettings.decoderEntry). */
  decoderEntry?: number | null;
  /** The run's slice filters and the partition's day and underlying (lib/read/filters.ts); null or absent: unfiltered. */
  filter?: PartitionFilter | null;
}

/** Trades column by column, with money (SPEC §7) each trade's lots, lot size, ₹ gross, costs and net, and position. */
export type PricedTrades = KernelTradeColumns & { money?: TradeMoneyColumns };

/** What one partition gave. */
export interface BenchPartitionResult {
  rows: number;
  sets: SetTotals[];
  /** The partition's trades (with `trades`), column by column; null without. */
  trades: PricedTrades | null;
  /** The report's sums of the partition's trades (with `reportSums`); null without. */
  reportSums: PartitionReportSums | null;
  /** Columns the reader projected (for checks). */
  columns: string[];
  cache: CacheStats;
  /** Row groups run, and skipped by their footer statistics (filters). */
  rowGroupsRead: number;
  rowGroupsSkipped: number;
  /** Parts read, by what served them (the column cache, the native decoder, parquet-wasm). */
  partsBy: PartsBySource;
  /** The partition's money per set (with `money`); null without. */
  money: SetMoney[] | null;
}

/** A partition's report sums, and its trades when its exits span more than one IST day (their curve is then taken from the trades). */
export interface PartitionReportSums {
  sums: ReportSums;
  spillTrades: KernelTradeColumns | null;
}

/** What a bench worker can do before its first task: the kernel it will run. */
export interface BenchWorkerPrepare {
  kernelPath: string;
  abi?: KernelAbi;
  compiler?: KernelCompiler;
  /** The parent thread's build of the kernel, adopted instead of compiled here. */
  kernelBuild?: SharedKernel | SharedChainKernel;
  /** The run's decoder ("native" when absent): its helpers are built too. */
  decoder?: DecoderChoice;
  /** The parent thread's C footer walk (chunkIndexWalkAddress), bound instead of built here. */
  chunkIndexWalk?: number | null;
}

type KernelWanted = Pick<BenchTask, "kernelPath" | "compiler" | "kernelBuild">;

/** The wanted per-contract kernel: the parent's build where it shared one, else compiled here (once per worker and compiler). */
function contractKernel(w: KernelWanted): LoadedKernel {
  const b = w.kernelBuild;
  return b && !("abi" in b) ? adoptKernel(b) : loadKernel(w.kernelPath, w.compiler);
}

/** The wanted chain kernel: the parent's build where it shared one, else compiled here (once per worker and compiler). */
async function chainKernel(w: KernelWanted): Promise<LoadedChainKernel> {
  const { adoptChainKernel, loadChainKernel } = await chainModules();
  const b = w.kernelBuild;
  return b && "abi" in b ? adoptChainKernel(b) : loadChainKernel(w.kernelPath, w.compiler);
}

/** Takes over (or compiles) the run's kernel in this worker before its first task, and builds the native read's C helpers (each cached: posting it twice costs nothing). */
export function prepareBenchWorker(value: BenchWorkerPrepare): void {
  // A failure here is met again, and reported, by the first task.
  if (value.abi === "chain") chainKernel(value).catch(() => {});
  else contractKernel(value);
  if ((value.decoder ?? "native") === "native") prepareNativeRead(value.chunkIndexWalk ?? null);
}

/** Runs one bench task with fresh state (the kernel is compiled once per worker and compiler). */
export async function runBenchTask(task: BenchTask, beforeDecode?: () => Promise<void>): Promise<BenchPartitionResult> {
  const decode: DecodeSettings = {
    decoder: task.decoder ?? "native",
    compiler: task.compiler,
    decoderEntry: task.decoderEntry,
    beforeDecode,
  };
  if (task.abi === "chain") {
    const cache = noCacheStats();
    const chain = await chainKernel(task);
    const { runChainPartition } = await chainModules();
    const r = await runChainPartition(
      chain,
      {
        paramSets: task.paramSets,
        parts: task.parts,
        trades: task.trades,
        reportSums: task.reportSums === true,
        cache: task.cache,
        filter: task.filter ?? null,
        date: task.date ?? null,
        fill: task.fill,
        keepLegs: task.money != null,
      },
      cache,
      decode,
    );
    const { legs, ...partition } = r;
    const priced = await priceOf(task, legs);
    return { ...partition, trades: task.trades ? priced.trades : null, money: priced.money, cache };
  }
  const kernel = contractKernel(task);
  const reportSums = task.reportSums === true;
  const fill = task.fill ?? "last";
  const extras = { ts: task.trades || reportSums, quotes: fill === "touch" };
  // Money prices every trade: the driver keeps them, as for a trade log.
  const keepTrades = task.trades || task.money != null;
  const run = new KernelRun(kernel, task.paramSets, keepTrades ? 4096 : 0, { reportSums, fill });
  const cache = noCacheStats();
  const settings = { cache: task.cache, decode, filter: task.filter };
  const { columns, rowGroupsRead, rowGroupsSkipped, partsBy } = await runPartition(
    task.parts,
    run,
    kernel,
    extras,
    settings,
    cache,
  );
  const sets = run.totals();
  const priced = await priceOf(task, keepTrades ? run.takeTradeColumns() : null);
  const trades = task.trades ? priced.trades : null;
  let partitionSums: PartitionReportSums | null = null;
  if (reportSums) {
    const sums = run.takeReportSums();
    let spillTrades: KernelTradeColumns | null = null;
    if (sums.spilled) {
      // Exits on more than one IST day (not a partition repack wrote): the curve needs every exit, so run again with a trade log.
      spillTrades = trades;
      if (!spillTrades) {
        const again = new KernelRun(kernel, task.paramSets, 4096, { fill });
        await runPartition(task.parts, again, kernel, { ...extras, ts: true }, settings, noCacheStats());
        spillTrades = again.takeTradeColumns();
        again.release();
      }
    }
    partitionSums = { sums, spillTrades };
  }
  // Everything is taken from it: its buffers serve this worker's next partition.
  run.release();
  return {
    rows: sets[0]?.rows ?? 0,
    sets,
    trades,
    reportSums: partitionSums,
    columns,
    cache,
    rowGroupsRead,
    rowGroupsSkipped,
    partsBy,
    money: priced.money,
  };
}

/**
 * A partition's trades priced in ₹ when the task asks for money (their columns then carry it for the
 * log), and its money per set; as they were, and null, without.
 */
async function priceOf(
  task: BenchTask,
  trades: KernelTradeColumns | null,
): Promise<{ trades: PricedTrades | null; money: SetMoney[] | null }> {
  if (!task.money || !trades) return { trades, money: null };
  const { priceTrades, zeroSetMoney } = await moneyModule();
  // A partition outside the layout has no day in its path: its trades' own (an IST day each: intraday).
  const day = task.date ?? (trades.length > 0 ? formatEpochDays(istDayOfEpochNs(trades.entryTs[0])) : null);
  if (day === null) return { trades, money: task.paramSets.map(() => zeroSetMoney()) };
  const priced = priceTrades(trades, task.paramSets.length, day, task.underlying ?? "", task.money, task.trades);
  return { trades: priced.trades ? { ...trades, money: priced.trades } : trades, money: priced.sets };
}
