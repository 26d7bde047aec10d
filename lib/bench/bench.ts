/** `bench`: a strategy kernel, for one or many parameter sets, over packed partitions in a pool of workers. */
import type { IsoDate } from "../ist-time.ts";
import { chunkIndexWalkAddress } from "../parquet/native/chunk-index.ts";
import {
  type FillRule,
  KernelError,
  loadKernel,
  type LoadedKernel,
  type KernelCompiler,
  shareKernel,
  type SharedKernel,
} from "../../kernel/strategy-kernel.ts";
import type {
  BenchPartitionResult,
  BenchTask,
  BenchWorkerPrepare,
  PartitionReportSums,
  PricedTrades,
} from "./tasks.ts";
import { listPackedPartitions, PackedListingError, type PackedPartition } from "../packed/layout.ts";
import type { ProgressListener } from "../progress.ts";
import { compileParquetWasmModule, useParquetWasmModule } from "../parquet/wasm.ts";
import { existsSync } from "node:fs";
import { evictLeastRecentlyUsed } from "../cache/store.ts";
import { addCacheStats, noCacheStats, type CacheSettings } from "../cache/cache-stats.ts";
import { idleCompilerThreads } from "../workers/compiler-threads.ts";
import { WorkerPool, WorkerTaskError } from "../workers/pool.ts";
import { BENCH_WORKER_URL } from "./worker-url.ts";
import { filtersJson, partitionMaySelect, type BenchFilters } from "../read/filters.ts";
import { projectedColumns } from "../read/driver-batch.ts";
import { nativeDecoderEntry, type DecoderChoice } from "../read/decode-source.ts";
import type { PartsBySource } from "../read/run-partition.ts";
import type { LoadedChainKernel, SharedChainKernel } from "../../kernel/chain-kernel.ts";
import { ChainOrderError, type KernelAbi } from "../../kernel/kernel-abi.ts";
import { COST_COMPONENTS } from "../money/fill-costs.ts";
import { ratesOn } from "../money/cost-schedule.ts";
import { LotSizeError } from "../money/lot-sizes.ts";
import { RunStatistics, type SetStatistics } from "../money/statistics.ts";
import { addSetMoney, type MoneySettings, type SetMoney, zeroSetMoney } from "../money/trade-money.ts";

/** How long the parent's parquet-wasm warm-up may hold the workers' module back (it takes ~20 ms). */
const WARM_UP_MAX_MS = 1000;

/** Options of a bench run. */
export interface BenchOptions {
  dir: string;
  workers: number;
  kernelPath: string;
  /** The kernel's ABI (default per contract; "chain": SPEC §6). */
  abi?: KernelAbi;
  /** How orders fill (SPEC §7; default "last"). */
  fill?: FillRule;
  /** Money (SPEC §7): trades priced in ₹ with lots, lot sizes and costs; null or absent: points only. */
  money?: MoneySettings | null;
  /** The kernel's compiler (default tcc); every worker builds it once, and the native decoder with it. */
  compiler?: KernelCompiler;
  /** Which decoder reads parts not served from the cache (default "native": parquet-wasm only where it cannot). */
  decoder?: DecoderChoice;
  /** Collect every trade (reads `timestamp` too). */
  trades: boolean;
  /** The column cache (docs/cache.md), or null to decode every part. */
  cache?: { dir: string; maxBytes: number; verifyAll: boolean } | null;
  /**
   * Receives each partition's trades, in partition order, as partitions finish (with `trades`):
   * nothing holds the whole run's trades. A returned promise is awaited before the next block.
   */
  onTrades?: (block: TradeBlock) => void | Promise<void>;
  /**
   * Receives each partition's report sums (kernel/report-sums.ts), in partition order, as partitions
   * finish. Given, the workers keep the sums in the driver (reading `timestamp` too), and no trade
   * leaves them.
   */
  onReportSums?: (block: ReportSumsBlock) => void;
  /** The first and last day of the partitions to run, once listed (not called when one has no day): the report sizes its curve by them. */
  onRunDays?: (first: IsoDate, last: IsoDate) => void;
  /** Slice filters (lib/read/filters.ts): only the segments they select are run; null or absent: everything. */
  filters?: BenchFilters | null;
}

/** One partition's trades, column by column, with the partition's date and underlying. */
export type TradeBlock = PricedTrades & {
  date: string;
  underlying: string;
};

/** One partition's report sums, with the partition's date and underlying. */
export interface ReportSumsBlock extends PartitionReportSums {
  date: string;
  underlying: string;
}

/** Per-underlying totals of one set (with money, its ₹ too). */
export type ByUnderlying = Record<string, { rows: number; trades: number; pnl: number } & Partial<MoneyJson>>;

/** Results of one parameter set. */
export interface GridResult extends Partial<MoneyJson>, Partial<SetStatistics> {
  /** --fill touch: fills that found no quote and filled at `price`. */
  fills_at_last?: number;
  params: Record<string, number>;
  rows: number;
  valid_rows: number;
  trades: number;
  pnl: number;
  by_underlying: ByUnderlying;
}

/** Totals of a bench run (its `--json` fields; with several sets, trades and pnl are summed over them). */
export interface BenchSummary extends Partial<MoneyJson>, Partial<SetStatistics> {
  /** With --fill touch: the rule, and the fills (over all sets) that found no quote and filled at `price`. */
  fill?: "touch";
  fills_at_last?: number;
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
  /** The ABI the kernel is written against: per contract (tickpack.h) or chain (tickpack_chain.h). */
  abi: KernelAbi;
  params: Record<string, number>;
  by_underlying: ByUnderlying;
  sets: number;
  grid: GridResult[];
  columns_read: string[];
  /** What the column cache did: (part, column) pairs served (hits) or decoded (misses), its size after the run; null with no cache. */
  cache: BenchCacheSummary | null;
  /** The slice filters, by their JSON names (`expiry_type`, `opt_type`, …); null when none. */
  filters: Record<string, unknown> | null;
  /** Partitions left out by their path (day, underlying) before any file was opened. */
  partitions_pruned: number;
  /** Row groups run, and left unread because their footer statistics rule out every selected segment. */
  row_groups_read: number;
  row_groups_skipped: number;
  /** The decoder asked for (--decoder), and the parts read, by what served them. */
  decoder: DecoderChoice;
  parts_read: PartsBySource;
}

/** The column cache's part of a bench summary. */
export interface BenchCacheSummary {
  dir: string;
  hits: number;
  misses: number;
  /** Bytes in the cache folder after the run (and its eviction). */
  bytes: number;
  /** Entries (one per part file) evicted to stay under the limit. */
  evicted: number;
  evicted_bytes: number;
  bytes_written: number;
  /** Cache files found stale, truncated, garbled or foreign: dropped and rebuilt. */
  dropped: number;
  /** Why filling failed, if it did (the run's results do not depend on it). */
  errors: string[];
  /** What eviction left in place, `path: reason`: files the cache did not write, or a removal that failed (a read-only cache). */
  kept: string[];
}

/** A set's (or a run's, or an underlying's) money as JSON writes it (SPEC §7), in ₹. */
export interface MoneyJson {
  gross: number;
  costs: number;
  costs_by_component: Record<(typeof COST_COMPONENTS)[number], number>;
  net: number;
}

function moneyJson(m: SetMoney): MoneyJson {
  return {
    gross: m.gross,
    costs: m.costs.total,
    costs_by_component: Object.fromEntries(
      COST_COMPONENTS.map((c) => [c, m.costs[c]]),
    ) as MoneyJson["costs_by_component"],
    net: m.net,
  };
}

/** The money of many sets (a grid's run total), summed in set order. */
function sumOfSetMoney(all: SetMoney[]): SetMoney {
  const sum = zeroSetMoney();
  for (const m of all) addSetMoney(sum, m);
  return sum;
}

/** A grid set's statistics fields (for a single set's run, repeated at the top). */
function statisticsOf(g: GridResult): Partial<SetStatistics> {
  const { days, sharpe, max_drawdown, profit_factor, win_rate } = g;
  return { days, sharpe, max_drawdown, profit_factor, win_rate };
}

/** With money: each trading day of the run (date order) and per set its ₹ gross and net that day (the report's equity). */
export interface DailyMoney {
  days: string[];
  gross: Float64Array[];
  net: Float64Array[];
}

/** Nothing to run on, or a file bench cannot use. */
export class BenchInputError extends Error {}

/** A run's kernel of either ABI, and its build as the workers are handed it. */
export type RunKernel =
  | { abi: "contract"; kernel: LoadedKernel; build: SharedKernel | undefined }
  | { abi: "chain"; kernel: LoadedChainKernel; build: SharedChainKernel | undefined };

/**
 * The kernel at `path` loaded (compiled once per thread and compiler), and a built-in one's build
 * shared with the workers (undefined for a --kernel: each worker builds its own). The chain's
 * modules load only for a chain kernel.
 */
export async function loadRunKernel(abi: KernelAbi, path: string, compiler?: KernelCompiler): Promise<RunKernel> {
  if (abi === "chain") {
    const { loadChainKernel, shareChainKernel } = await import("../../kernel/chain-kernel.ts");
    const kernel = loadChainKernel(path, compiler);
    return { abi, kernel, build: shareChainKernel(kernel) ?? undefined };
  }
  const kernel = loadKernel(path, compiler);
  return { abi, kernel, build: shareKernel(kernel) ?? undefined };
}

/** Runs the kernel's sets over every packed partition under `dir`; results do not depend on the worker count. */
export async function runBench(
  options: BenchOptions,
  paramSets: number[][],
  onProgress?: ProgressListener,
): Promise<{ summary: BenchSummary; daily: DailyMoney | null }> {
  const t0 = performance.now();
  // Workers start before the rest (or took the ones the command prestarted): their imports and
  // `prepare` (taking over this thread's build of a built-in kernel, compiling a --kernel) overlap
  // parquet-wasm's compile here (~55 ms, posted to them as `init`) and the decoder's build.
  const abi = options.abi ?? "contract";
  const decoder = options.decoder ?? "native";
  // parquet-wasm goes out only once a worker meets a part the native decoder cannot read (or every
  // part, with --decoder wasm); a run served from the cache, or whose filters skip every row group,
  // needs none. Asked to decode everything with it and no cache folder yet, it is compiled at once, in
  // parallel with the start; else only when asked for. Before it goes out, this thread decodes a
  // little of the first file to be run (known once listed): the workers then start on decoders
  // already tiered up (source.ts, warmUpDecoders).
  if (decoder === "wasm" && (!options.cache || !existsSync(options.cache.dir)))
    void compileParquetWasmModule().catch(() => {});
  let warmOn: (target: { path: string; columns: string[] } | null) => void = () => {};
  const warmTarget = new Promise<{ path: string; columns: string[] } | null>((resolve) => (warmOn = resolve));
  const init = async () => {
    const module = await compileParquetWasmModule();
    const target = await warmTarget;
    if (target) {
      useParquetWasmModule(module);
      // A garbled file can trap parquet-wasm inside a callback, where its read then never settles:
      // the warm-up is a speed-up only, so the workers' module never waits on it for long.
      const { warmUpDecoders } = await import("../parquet/source.ts");
      await Promise.race([warmUpDecoders(target.path, target.columns), Bun.sleep(WARM_UP_MAX_MS)]);
    }
    return module;
  };
  // Listed first (~1 ms): a pool of no more workers than partitions, so that no spare one starts.
  let partitions: PackedPartition[];
  try {
    partitions = listPackedPartitions(options.dir);
  } catch (e) {
    if (e instanceof PackedListingError) throw new BenchInputError(e.message);
    throw e;
  }
  if (partitions.length === 0) throw new BenchInputError(`${options.dir}: no packed Parquet files found`);
  // Day and underlying filters prune by the path alone: no other file of those partitions is opened.
  const listed = partitions.length;
  partitions = partitions.filter((p) => partitionMaySelect(options.filters ?? null, p.date, p.underlying));
  const partitionsPruned = listed - partitions.length;
  if (options.onRunDays && partitions.every((p) => p.date !== null)) {
    const days = partitions.map((p) => p.date as IsoDate).sort();
    options.onRunDays(days[0], days[days.length - 1]);
  }
  const workers = Math.min(options.workers, partitions.length);
  const reportSums = options.onReportSums !== undefined;
  // Trade times: for the trade log and for the report's sums.
  const withTs = options.trades || reportSums;
  // Loaded here (a command has loaded it already: cached); a built-in one is shared, and the workers call this build.
  let kernel: LoadedKernel | LoadedChainKernel;
  // A built-in kernel's build, shared with the workers (undefined: each worker compiles its own).
  let kernelBuild: SharedKernel | SharedChainKernel | undefined;
  let columnsRead: string[];
  try {
    const loaded = await loadRunKernel(abi, options.kernelPath, options.compiler);
    kernel = loaded.kernel;
    kernelBuild = loaded.build;
    columnsRead =
      loaded.abi === "chain"
        ? (await import("../chain/run-partition.ts")).chainColumns(loaded.kernel, options.fill)
        : projectedColumns(loaded.kernel, { ts: withTs, quotes: options.fill === "touch" });
  } catch (e) {
    warmOn(null);
    throw e;
  }
  const prepare: BenchWorkerPrepare = {
    kernelPath: options.kernelPath,
    abi,
    compiler: options.compiler,
    kernelBuild,
    decoder,
    // Built here and bound by the workers: TinyCC builds one unit at a time in a process, so a
    // worker's own build would wait on (or delay) this thread's builds.
    chunkIndexWalk: decoder === "native" ? chunkIndexWalkAddress() : null,
  };
  const pool = new WorkerPool<BenchTask, BenchPartitionResult>(BENCH_WORKER_URL, workers, undefined, init, {
    prepare,
    lazyInit: true,
    // The next partition waits in the worker, not a round trip away (lib/workers/pool.ts).
    tasksPerWorker: 2,
  });
  // The workers' hot loops are C: JavaScriptCore's compiler threads take a core only when one is
  // idle (again as partitions finish: a compiler thread JSC starts later begins in the normal class).
  idleCompilerThreads();
  // The native decoder is built here once, while the workers start, and called by every worker.
  const decoderEntry = decoder === "native" ? nativeDecoderEntry(options.compiler ?? "tcc") : null;
  const cacheSettings: CacheSettings | null = options.cache
    ? { dir: options.cache.dir, verifyAll: options.cache.verifyAll }
    : null;
  // A day the cost schedule does not cover is a usage error before anything runs.
  const schedule = options.money?.schedule;
  if (schedule) {
    try {
      for (const p of partitions) if (p.date !== null) ratesOn(schedule, p.date);
    } catch (e) {
      pool.close();
      throw e;
    }
  }
  // Money prices a partition's trades by its day (the schedule's rates, a day of the statistics) and
  // its underlying (its lot sizes), both from its path: one outside the layout (a date folder given as
  // DIR) would be priced on no day and no underlying, so it is a usage error before anything runs.
  if (options.money) {
    const unnamed = partitions.find((p) => p.date === null || p.underlying === null);
    if (unnamed) {
      pool.close();
      throw new LotSizeError(
        `${unnamed.parts[0]}: money (--lots, --lot-size, --costs) needs each partition's day and underlying from its path (DIR/YYYY-MM-DD/UNDERLYING/ or DIR/date=YYYY-MM-DD/underlying=UNDERLYING/): run bench on the packed folder itself`,
      );
    }
  }
  const results: BenchPartitionResult[] = new Array(partitions.length);
  let done = 0;
  let rows = 0;
  // Trades and report sums go out in partition order as soon as every earlier partition's have
  // (the report's floating-point sums then do not depend on the worker count); then they are dropped.
  let nextTrades = 0;
  let tradesWritten: Promise<void> = Promise.resolve();
  const handOver = (i: number) => {
    const r = results[i];
    const p = partitions[i];
    const [cols, sums] = [r.trades, r.reportSums];
    r.trades = null;
    r.reportSums = null;
    const where = { date: p.date ?? "", underlying: p.underlying ?? "" };
    if (sums && options.onReportSums) options.onReportSums({ ...sums, ...where });
    if (!cols || !options.onTrades) return;
    const block: TradeBlock = { ...cols, ...where };
    tradesWritten = tradesWritten.then(() => options.onTrades!(block));
    tradesWritten.catch(() => {}); // awaited after the run; a failed run must not also report it unhandled
  };
  const handOverFinished = () => {
    for (; nextTrades < partitions.length && results[nextTrades]; nextTrades++) handOver(nextTrades);
  };
  try {
    // Largest first so the pool ends evenly; with a trade log, in partition order, so that few
    // finished partitions wait (holding their trades) for an earlier one. Results stay in partition order.
    const order = partitions.map((_, i) => i);
    if (!options.trades) order.sort((a, b) => partitions[b].bytes - partitions[a].bytes);
    const first = partitions[order[0]]?.parts[0];
    warmOn(first && workers > 1 ? { path: first, columns: columnsRead } : null);
    await Promise.all(
      order.map(async (i) => {
        const parts = partitions[i].parts;
        results[i] = await pool
          .run({
            kind: "bench",
            kernelPath: kernel.path,
            abi,
            kernelBuild,
            fill: options.fill ?? "last",
            compiler: kernel.compiler,
            date: partitions[i].date,
            underlying: partitions[i].underlying,
            money: options.money ?? null,
            paramSets,
            parts,
            trades: options.trades,
            reportSums,
            cache: cacheSettings,
            decoder,
            decoderEntry,
            filter: options.filters
              ? { filters: options.filters, date: partitions[i].date, underlying: partitions[i].underlying }
              : null,
          })
          .catch((e: Error) => {
            // The kernel's own fault (a column read as another type), whatever partition it met it in.
            if (e instanceof WorkerTaskError && e.errorName === KernelError.name) throw new KernelError(e.message);
            if (e instanceof WorkerTaskError && e.errorName === LotSizeError.name) throw new LotSizeError(e.message);
            // A chain kernel's bad order names the kernel and the instant itself.
            if (e instanceof WorkerTaskError && e.errorName === ChainOrderError.name)
              throw new ChainOrderError(e.message);
            // A worker that died cannot say which file: name the partition.
            throw new BenchInputError(
              parts.some((p) => e.message.includes(p)) ? e.message : `${parts.join(", ")}: ${e.message}`,
            );
          });
        rows += results[i].rows;
        idleCompilerThreads();
        handOverFinished();
        onProgress?.({
          phase: "bench",
          done: ++done,
          total: partitions.length,
          rows,
          elapsedS: (performance.now() - t0) / 1000,
        });
      }),
    );
    await tradesWritten;
  } finally {
    pool.close();
  }
  let cache: BenchCacheSummary | null = null;
  if (options.cache) {
    const stats = noCacheStats();
    for (const r of results) addCacheStats(stats, r.cache);
    const eviction = evictLeastRecentlyUsed(options.cache.dir, options.cache.maxBytes);
    cache = {
      dir: options.cache.dir,
      hits: stats.hits,
      misses: stats.misses,
      bytes: eviction.bytes,
      evicted: eviction.evictedEntries,
      evicted_bytes: eviction.evictedBytes,
      bytes_written: stats.bytesWritten,
      dropped: stats.dropped,
      errors: stats.errors,
      kept: eviction.kept,
    };
  }
  const elapsed = (performance.now() - t0) / 1000;
  const touch = options.fill === "touch";
  const grid: GridResult[] = paramSets.map((values) => ({
    params: Object.fromEntries(kernel.params.map((p, k) => [p.name, values[k]])),
    rows: 0,
    valid_rows: 0,
    trades: 0,
    pnl: 0,
    by_underlying: {},
  }));
  let totalRows = 0;
  // Money per set and per set and underlying, and the statistics' daily series.
  const money = options.money ? paramSets.map(() => zeroSetMoney()) : null;
  const moneyByUnderlying = paramSets.map(() => new Map<string, SetMoney>());
  const statistics = options.money ? new RunStatistics(paramSets.length) : null;
  const dailyGross = new Map<string, Float64Array>();
  // Summed in partition order: the same floating-point result whatever the worker count.
  partitions.forEach((p, i) => {
    const r = results[i];
    totalRows += r.rows;
    if (money && statistics && r.money) {
      if (p.date !== null) statistics.addDay(p.date);
      const gross = p.date === null ? null : (dailyGross.get(p.date) ?? new Float64Array(paramSets.length));
      if (p.date !== null && gross) dailyGross.set(p.date, gross);
      r.money.forEach((m, k) => {
        if (gross) gross[k] += m.gross;
        addSetMoney(money[k], m);
        const u = p.underlying ?? "?";
        const mu = moneyByUnderlying[k].get(u) ?? zeroSetMoney();
        addSetMoney(mu, m);
        moneyByUnderlying[k].set(u, mu);
        if (p.date !== null) statistics.addPositions(k, p.date, m);
      });
    }
    r.sets.forEach((t, k) => {
      const g = grid[k];
      g.rows += t.rows;
      g.valid_rows += t.validRows;
      g.trades += t.trades;
      g.pnl += t.pnl;
      if (touch) g.fills_at_last = (g.fills_at_last ?? 0) + t.fillsAtLast;
      const u = (g.by_underlying[p.underlying ?? "?"] ??= { rows: 0, trades: 0, pnl: 0 });
      u.rows += t.rows;
      u.trades += t.trades;
      u.pnl += t.pnl;
    });
  });
  if (money && statistics) {
    const setStatistics = statistics.allStatistics();
    grid.forEach((g, k) => {
      Object.assign(g, moneyJson(money[k]), setStatistics[k]);
      for (const [u, m] of moneyByUnderlying[k]) Object.assign(g.by_underlying[u] ?? {}, moneyJson(m));
    });
  }
  const single = grid.length === 1;
  // Fields of §7 appear only when asked for: without the flags every output is as it was.
  const fills = touch
    ? { fill: "touch" as const, fills_at_last: grid.reduce((a, g) => a + (g.fills_at_last ?? 0), 0) }
    : {};
  const summary: BenchSummary = {
    ...fills,
    ...(money ? moneyJson(sumOfSetMoney(money)) : {}),
    ...(money && single ? statisticsOf(grid[0]) : {}),
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
    abi,
    params: grid[0].params,
    by_underlying: single ? grid[0].by_underlying : {},
    sets: grid.length,
    grid,
    columns_read: results[0]?.columns ?? columnsRead,
    cache,
    filters: filtersJson(options.filters ?? null),
    partitions_pruned: partitionsPruned,
    row_groups_read: results.reduce((a, r) => a + r.rowGroupsRead, 0),
    row_groups_skipped: results.reduce((a, r) => a + r.rowGroupsSkipped, 0),
    decoder,
    parts_read: {
      cache: results.reduce((a, r) => a + r.partsBy.cache, 0),
      native: results.reduce((a, r) => a + r.partsBy.native, 0),
      wasm: results.reduce((a, r) => a + r.partsBy.wasm, 0),
    },
  };
  return {
    summary,
    daily: statistics
      ? {
          days: statistics.days(),
          net: paramSets.map((_, k) => statistics.dailyNetOf(k)),
          gross: paramSets.map((_, k) => Float64Array.from(statistics.days(), (d) => dailyGross.get(d)?.[k] ?? 0)),
        }
      : null,
  };
}
