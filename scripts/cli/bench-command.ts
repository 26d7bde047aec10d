/**
 * `bun run bench`: a strategy kernel (built-in ema_cross or your own C) over packed partitions, one or
 * many parameter sets. Entered through scripts/bench.ts, which starts the workers first.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IsoDate } from "../../lib/ist-time.ts";
import {
  compilerPath,
  KERNEL_COMPILERS,
  KernelError,
  kernelTempPrefix,
  type FillRule,
  type KernelCompiler,
} from "../../kernel/strategy-kernel.ts";
import { ChainOrderError, kernelAbiOf } from "../../kernel/kernel-abi.ts";
import { chainTempPrefix } from "../../lib/chain/temp-folders.ts";
import { STRATEGIES, STRATEGY_NAMES } from "../../lib/bench/strategies.ts";
import { type CostSchedule, CostScheduleError, readCostSchedule } from "../../lib/money/cost-schedule.ts";
import { LotSizeError, LotSizeOverrideError, parseLotSizeOverrides } from "../../lib/money/lot-sizes.ts";
import {
  BenchInputError,
  loadRunKernel,
  runBench,
  type BenchSummary,
  type ReportSumsBlock,
  type TradeBlock,
} from "../../lib/bench/bench.ts";
import { CHILD_ENV, runChild, serveAsChild, SIGNAL_EXIT, STDERR_TTY_ENV, STOP_SIGNALS } from "../../lib/bench/child.ts";
import {
  boundsProblem,
  checkParamBounds,
  GridError,
  expandAxes,
  gridFileFilters,
  parseGridFile,
  parseGridSpec,
  resolveParamSets,
} from "../../lib/bench/grid.ts";
import {
  describeFilters,
  FILTER_FLAGS,
  FilterError,
  parseFilters,
  type BenchFilters,
  type FilterFlag,
} from "../../lib/read/filters.ts";
import type { TradeLog } from "../../lib/bench/trade-log.ts";
import { die, EXIT, limitCause, parseCommandLine, printable, printJson, requireJit, workersFlag } from "./command.ts";
import { progressPrinter, stderrOutput } from "./progress-printer.ts";
import { type Rank, RANKS, resultLines } from "./bench-summary.ts";
import { compileParquetWasmModule } from "../../lib/parquet/wasm.ts";
import { DECODER_CHOICES, type DecoderChoice } from "../../lib/read/decode-source.ts";
import { outputFileProblem } from "../../lib/atomic-file.ts";
import { CacheDirRefused, claimCacheDir, defaultCacheDir } from "../../lib/cache/store.ts";
import type { BenchCacheSummary, DailyMoney } from "../../lib/bench/bench.ts";
import { writeStderr } from "./std-output.ts";
import { preparePrestarted, prestartWorkers } from "../../lib/workers/pool.ts";
import { BENCH_WORKER_URL } from "../../lib/bench/worker-url.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import type { BenchWorkerPrepare } from "../../lib/bench/tasks.ts";
import { groupedCount } from "../../lib/grouped-count.ts";
import type { ReportAggregator } from "../../lib/report/aggregate.ts";

/** Packed partitions under `dir`, or 1 where it cannot be listed (the run says why). */
function partitionCount(dir: string): number {
  try {
    return Math.max(1, listPackedPartitions(dir).length);
  } catch {
    return 1;
  }
}

/** The command's entry, which a supervised run starts again as its child. */
const BENCH_ENTRY = join(import.meta.dir, "..", "bench.ts");

/** GiB the column cache may hold by default: ~44 bytes per row cached, so ~780M rows. */
const DEFAULT_CACHE_MAX_GB = 32;

/** Entries the cache could not evict named on stderr (a read-only cache names every one in --json). */
const KEPT_SHOWN = 5;

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
function cacheLine(c: BenchCacheSummary): string {
  const parts = [`${c.hits} hits, ${c.misses} misses (column files)`, `${gib(c.bytes)} in ${c.dir}`];
  if (c.bytes_written > 0) parts.push(`${gib(c.bytes_written)} written`);
  if (c.evicted > 0) parts.push(`${c.evicted} entries evicted (${gib(c.evicted_bytes)})`);
  if (c.dropped > 0) parts.push(`${c.dropped} bad files dropped and rebuilt`);
  if (c.errors.length > 0) parts.push(`not filled: ${c.errors[0]}`);
  return `Cache:          ${parts.join(", ")}`;
}

const USAGE = `Usage: bun run bench [DIR] [options]

Runs a strategy over every packed partition under DIR (seed or hive layout): a built-in one
(--strategy, default ema_cross), or your own C file (--kernel, see docs/kernels.md). A grid runs many
parameter sets in one pass: each batch is decoded once and every set runs over it.
Without DIR it runs on the built-in sample data set, created on first use under data/sample/.

Options:
  --workers N          parallel workers (default: cores)
  --strategy NAME      a built-in strategy (default ema_cross):
${STRATEGY_NAMES.map((n) => `                         ${n.padEnd(15)} ${STRATEGIES[n].summary}`).join("\n")}
  --fill last|touch    how orders fill: last (default), the contract's price; touch, a buy pays
                       the ask (sp0) and a sell gets the bid (bp0), or the price where the quote is
                       missing (counted: JSON fills_at_last); one rule for every kernel (SPEC §7)
  --lots N             money: lots per trade of a per-contract kernel (default 1; ema_cross trades N lots)
  --lot-size U=N,…     money: lot sizes per underlying, over the calendar repack keeps with the data
  --costs FILE.json    money: a dated cost schedule (docs/costs.md; costs/nse-index-options.json ships)
                       any of these three prices every trade in ₹: JSON gross, costs (and by component),
                       net, per run, underlying and set, and per set days, sharpe, max_drawdown,
                       profit_factor, win_rate (SPEC §7); a contract with no lot size is exit 2
  --rank pnl|net|sharpe  what a grid's summary ranks its top sets by (net and sharpe need money)
  --kernel FILE.c      your kernel instead (compiled with TinyCC at run time): a per-contract kernel
                       (tickpack.h) or a chain kernel (tickpack_chain.h), see docs/kernels.md
  --cc tcc|gcc|clang   the kernel's compiler: tcc (default, bun:ffi's TinyCC, in memory) or an
                       installed gcc/clang (an optimised build, results bit-identical to tcc)
  --grid SETS          parameter sets, e.g. 'fast=3,5,8;slow=13,21,34;max_spread=0.0005,0.001'
                       (the cartesian product; parameters not named keep their defaults)
  --grid-file FILE     the same as JSON: {"fast": [3, 5], …} or [{"fast": 3, "slow": 21}, …]
  --fast N, --slow N, --max-spread F, --min-volume N
                       ema_cross parameters (defaults 5, 21, 0.0005, 1) for a single run
  --trades FILE        also write every trade (.csv, or .parquet), with its set number; CSV times
                       are IST with their offset (2025-11-17T09:20:00.000000000+05:30)
  --report FILE.html   also write a self-contained HTML report: equity, drawdown, PnL breakdowns,
                       trade statistics, and for a grid a heatmap and the top sets (docs/report.md)
  --report-axes A,B    the grid heatmap's two parameters (default: the first two that vary)
  --cache DIR          the column cache (default DIR/_tickpack/cache): the columns a run decodes are
                       kept there, memory-mapped by later runs (no decode); a new or empty folder, or
                       one bench made (anything else is refused); see docs/cache.md
  --no-cache           decode every part, read and write no cache
  --decoder native|wasm  what decodes parts not served from the cache: native (default) is
                       tickpack's own C decoder, for the files tickpack wrote (parquet-wasm reads any
                       other); wasm is parquet-wasm for every part (results are identical)
  --cache-max-gb N     evict least-recently-used entries beyond N GiB (default ${DEFAULT_CACHE_MAX_GB})
  --cache-verify       check every byte of the cache files served (default: a sample of blocks)
  --from DATE, --to DATE          only trading days in this range (YYYY-MM-DD, inclusive)
  --underlyings A,B               only these underlyings
  --expiry-type weekly|monthly    only this series
  --expiries D1,D2                only these expiries (YYYY-MM-DD)
  --dte LO:HI                     only contracts LO..HI calendar days from expiry (0:0 = expiry days)
  --opt-type CE|PE                only calls or puts
  --strikes LO:HI                 only strikes in this band (inclusive)
                       filters select whole segments (a contract's day) and skip partitions and row
                       groups that cannot hold one; a --grid-file may set them under "filters"
  --timeout SECONDS    end the run (exit 1) when it takes longer: for a kernel that may loop forever
  --json               print a JSON summary on stdout
  -h, --help           this text

Exit: 0 ok; 1 no packed files, a file that cannot be read, a kernel that crashed, exited or
timed out; 2 bad usage, or a kernel that does not compile or declares what tickpack does not know;
128+N when stopped by signal N (SIGINT 130, SIGTERM 143, SIGHUP 129).
`;

const { values, positionals } = parseCommandLine(
  USAGE,
  {
    workers: { type: "string" },
    kernel: { type: "string" },
    strategy: { type: "string" },
    fill: { type: "string" },
    lots: { type: "string" },
    "lot-size": { type: "string" },
    costs: { type: "string" },
    rank: { type: "string" },
    cc: { type: "string" },
    grid: { type: "string" },
    "grid-file": { type: "string" },
    ...Object.fromEntries(FILTER_FLAGS.map((f) => [f, { type: "string" as const }])),
    fast: { type: "string" },
    slow: { type: "string" },
    "max-spread": { type: "string" },
    "min-volume": { type: "string" },
    trades: { type: "string" },
    report: { type: "string" },
    "report-axes": { type: "string" },
    timeout: { type: "string" },
    cache: { type: "string" },
    "no-cache": { type: "boolean" },
    decoder: { type: "string" },
    "cache-max-gb": { type: "string" },
    "cache-verify": { type: "boolean" },
    json: { type: "boolean" },
  },
  true,
);
if (positionals.length > 1) die(`at most one DIR\n\n${USAGE}`, EXIT.usage);

// Everything that needs no kernel code is checked here, before any child runs (exit 2).
// A kernel child lowers the count as its parent did: the note is the parent's to print.
const workers = workersFlag("bench", values.workers, process.env[CHILD_ENV] !== undefined);
let timeoutS: number | undefined;
if (values.timeout !== undefined) {
  timeoutS = Number(values.timeout);
  if (values.timeout.trim() === "" || !(timeoutS > 0) || !Number.isFinite(timeoutS))
    die(`--timeout: expected a number of seconds > 0, got ${JSON.stringify(values.timeout)}`, EXIT.usage);
}
if (values.cache !== undefined && values["no-cache"]) die("bench: --cache and --no-cache: give one", EXIT.usage);
const decoder = (values.decoder ?? "native") as DecoderChoice;
if (!DECODER_CHOICES.includes(decoder))
  die(`bench: --decoder: expected ${DECODER_CHOICES.join(" or ")}, got ${JSON.stringify(values.decoder)}`, EXIT.usage);
// With --decoder wasm and no cache to serve the run, the workers' parquet-wasm module (~50 ms) is
// needed at once: it compiles off-thread while the rest is checked and set up. (Otherwise only a
// worker that meets a part the native decoder cannot read asks for it.) Checked again once the
// folder is known (the sample's, without DIR): one compile.
const cacheDirFor = (dir: string): string | null =>
  values["no-cache"] ? null : (values.cache ?? defaultCacheDir(dir));
const compileUnlessCached = (dir: string): void => {
  const cache = cacheDirFor(dir);
  if (decoder === "wasm" && (cache === null || !existsSync(cache))) void compileParquetWasmModule().catch(() => {});
};
if (positionals[0] !== undefined) compileUnlessCached(positionals[0]);
/** `cache`, checked (and marked) as the column cache's folder; exit 2 when it is a folder the cache may not use. */
const claimed = (cache: string | null): string | null => {
  if (cache === null) return null;
  try {
    claimCacheDir(cache);
  } catch (e) {
    if (!(e instanceof CacheDirRefused)) throw e;
    const named = values.cache !== undefined ? `--cache ${cache}` : `the cache folder ${cache} (give --cache DIR)`;
    die(`bench: ${printable(named)}: ${printable(e.message)}`, EXIT.usage);
  }
  return cache;
};
let cacheMaxGb = DEFAULT_CACHE_MAX_GB;
if (values["cache-max-gb"] !== undefined) {
  cacheMaxGb = Number(values["cache-max-gb"]);
  if (values["cache-max-gb"].trim() === "" || !(cacheMaxGb >= 0) || !Number.isFinite(cacheMaxGb))
    die(`--cache-max-gb: expected a number of GiB >= 0, got ${JSON.stringify(values["cache-max-gb"])}`, EXIT.usage);
}
if (values.cache !== undefined) claimed(values.cache);
if (values.strategy !== undefined && values.kernel !== undefined)
  die("bench: --strategy and --kernel: give one", EXIT.usage);
const strategyName = values.strategy ?? (values.kernel === undefined ? "ema_cross" : null);
if (strategyName !== null && !Object.hasOwn(STRATEGIES, strategyName))
  die(
    `bench: --strategy: unknown strategy ${JSON.stringify(strategyName)} (built-in: ${STRATEGY_NAMES.join(", ")}; or give your own with --kernel FILE.c)`,
    EXIT.usage,
  );
const strategy = strategyName === null ? null : STRATEGIES[strategyName];
const kernelPath = values.kernel ?? strategy!.source;
const abi = strategy?.abi ?? kernelAbiOf(kernelPath);
const fill = (values.fill ?? "last") as FillRule;
if (fill !== "last" && fill !== "touch")
  die(`--fill: expected last or touch, got ${JSON.stringify(values.fill)}`, EXIT.usage);
// Money (SPEC §7) is asked for by any of --lots, --lot-size, --costs: results then come in ₹ too.
let lots = 1;
if (values.lots !== undefined) {
  if (abi === "chain") die("bench: --lots: a chain kernel's orders give their own lots", EXIT.usage);
  lots = Number(values.lots);
  if (!/^\d+$/.test(values.lots.trim()) || !Number.isSafeInteger(lots) || lots < 1)
    die(`--lots: expected a whole number of lots ≥ 1, got ${JSON.stringify(values.lots)}`, EXIT.usage);
}
let lotSizeOverrides: Record<string, number> = {};
let costSchedule: CostSchedule | null = null;
try {
  if (values["lot-size"] !== undefined)
    lotSizeOverrides = Object.fromEntries(parseLotSizeOverrides(values["lot-size"]));
  if (values.costs !== undefined) costSchedule = readCostSchedule(values.costs, `--costs ${values.costs}`);
} catch (e) {
  if (e instanceof LotSizeOverrideError || e instanceof CostScheduleError)
    die(`bench: ${printable(e.message)}`, EXIT.usage);
  throw e;
}
const moneyAsked = values.lots !== undefined || values["lot-size"] !== undefined || values.costs !== undefined;
const rank = (values.rank ?? "pnl") as Rank;
if (!RANKS.includes(rank))
  die(`--rank: expected one of ${RANKS.join(", ")}, got ${JSON.stringify(values.rank)}`, EXIT.usage);
if (rank !== "pnl" && !moneyAsked)
  die(`bench: --rank ${rank} needs money: give --costs FILE, --lot-size or --lots (see --help)`, EXIT.usage);
const compiler = (values.cc ?? "tcc") as KernelCompiler;
if (!KERNEL_COMPILERS.includes(compiler))
  die(`--cc: expected one of ${KERNEL_COMPILERS.join(", ")}, got ${JSON.stringify(values.cc)}`, EXIT.usage);
if (!compilerPath(compiler))
  die(`bench: --cc ${compiler}: ${compiler} is not installed (not found on PATH)`, EXIT.usage);
const FLAG_PARAMS: [string, string | undefined][] = [
  ["fast", values.fast],
  ["slow", values.slow],
  ["max_spread", values["max-spread"]],
  ["min_volume", values["min-volume"]],
];
const flagOf = (name: string) => `--${name.replace("_", "-")}`;
const fromFlag = new Set<string>();
let sets: Record<string, number>[] = [{}];
let gridSource = "--grid";
let gridFilters: Partial<Record<FilterFlag, string>> = {};
try {
  if (values.grid !== undefined && values["grid-file"] !== undefined)
    die("bench: --grid and --grid-file: give one", EXIT.usage);
  if (values.grid !== undefined) sets = expandAxes(parseGridSpec(values.grid));
  if (values["grid-file"] !== undefined) {
    const file = values["grid-file"];
    gridSource = `--grid-file ${file}`;
    if (file === "" || !existsSync(file)) die(`bench: --grid-file ${file}: file does not exist`, EXIT.usage);
    if (statSync(file).isDirectory()) die(`bench: --grid-file ${file}: is a folder, expected a JSON file`, EXIT.usage);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      die(
        `bench: --grid-file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        EXIT.usage,
      );
    }
    sets = parseGridFile(text, file);
    gridFilters = gridFileFilters(text, file);
  }
} catch (e) {
  if (e instanceof GridError) die(`bench: ${e.message}`, EXIT.usage);
  throw e;
}
// Slice filters from the flags, or from the grid file's "filters" (never the same one from both).
let filters: BenchFilters | null;
try {
  const flagValues = values as Partial<Record<FilterFlag, string>>;
  const both = FILTER_FLAGS.find((f) => flagValues[f] !== undefined && gridFilters[f] !== undefined);
  if (both) die(`bench: --${both} and ${gridSource} both set ${both}: give one`, EXIT.usage);
  const raw = Object.fromEntries(
    FILTER_FLAGS.map((f) => [f, flagValues[f] ?? gridFilters[f]]).filter(([, v]) => v !== undefined),
  );
  filters = parseFilters(raw, (f) => (flagValues[f] !== undefined ? `--${f}` : `${gridSource}: filters.${f}`));
} catch (e) {
  if (e instanceof FilterError) die(`bench: ${e.message}`, EXIT.usage);
  throw e;
}
for (const [name, raw] of FLAG_PARAMS) {
  if (raw === undefined) continue;
  const v = raw.trim() === "" ? NaN : Number(raw);
  // The built-in's bounds here; a --kernel's parameter of the same name is checked once it is loaded.
  const problem = boundsProblem(v, strategy?.bounds[name]);
  if (problem) die(`${flagOf(name)}: ${problem.replace(/got .*$/, `got ${JSON.stringify(raw)}`)}`, EXIT.usage);
  if (sets.some((s) => name in s)) die(`bench: ${flagOf(name)} and the grid both set ${name}: give one`, EXIT.usage);
  sets = sets.map((s) => ({ ...s, [name]: v }));
  fromFlag.add(name);
}
// Both are written through a temp file beside them: a folder that cannot take one fails now, not after the run.
for (const flag of ["trades", "report"] as const) {
  const path = values[flag];
  const problem = path === undefined ? null : outputFileProblem(path);
  if (problem) die(`bench: --${flag} ${printable(path!)}: ${printable(problem)}`, EXIT.usage);
}
let reportAxes: [string, string] | null = null;
if (values["report-axes"] !== undefined) {
  if (values.report === undefined) die("bench: --report-axes needs --report FILE.html", EXIT.usage);
  const names = values["report-axes"].split(",").map((a) => a.trim());
  if (names.length !== 2 || names.some((a) => a === "") || names[0] === names[1])
    die(
      `--report-axes: expected two different parameter names A,B, got ${JSON.stringify(values["report-axes"])}`,
      EXIT.usage,
    );
  reportAxes = [names[0], names[1]];
}
const dirArg = positionals[0];
if (dirArg !== undefined && (!existsSync(dirArg) || !statSync(dirArg).isDirectory()))
  die(`bench: ${dirArg}: not a folder`, EXIT.usage);

// A researcher's kernel is trusted native code that can crash, exit() or never return: run the
// bench in a child process that we supervise (also for --timeout), so that what it does ends only
// that run and is reported with the kernel's name.
/** Removes the folders in TMPDIR whose names start with `prefix` (a stopped process's leftovers). */
function removeTempDirs(prefix: string): void {
  for (const name of readdirSync(tmpdir()))
    if (name.startsWith(prefix)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
}

const isChild = process.env[CHILD_ENV] !== undefined;
if (!isChild) requireJit("bench");
if (!isChild && (values.kernel !== undefined || timeoutS !== undefined)) {
  const kernelName = values.kernel ?? `${strategyName} (built-in)`;
  const outcome = await runChild(BENCH_ENTRY, Bun.argv.slice(2), { timeoutS });
  if (outcome.kind !== "exited" && values.trades !== undefined) {
    // A child killed before it could clean up leaves its trade-log temp file (named by its pid).
    const { tradeLogTempPrefix } = await import("../../lib/bench/trade-log.ts");
    const { dir, prefix } = tradeLogTempPrefix(values.trades, outcome.pid);
    for (const name of existsSync(dir) ? readdirSync(dir) : [])
      if (name.startsWith(prefix)) rmSync(join(dir, name), { force: true });
  }
  // Likewise a kernel build folder of a worker that was compiling when another one crashed the child,
  // and the private column folders of chain workers the child stopped mid-partition (even when it
  // exited with its own error: a bad order stops the other workers where they are).
  if (outcome.kind !== "exited") removeTempDirs(kernelTempPrefix(outcome.pid));
  removeTempDirs(chainTempPrefix(outcome.pid));
  switch (outcome.kind) {
    case "exited":
      process.exit(outcome.code);
    case "interrupted":
      die(`bench: ${outcome.signal}: stopped (the kernel run was ended too)`, SIGNAL_EXIT[outcome.signal]);
    case "timeout":
      die(`bench: kernel ${kernelName} did not finish within --timeout ${timeoutS} s: killed`, EXIT.problems);
    case "crashed":
      die(
        `bench: kernel ${kernelName} crashed the run (${outcome.signal}${outcome.reason ? `: ${outcome.reason}` : ""}); kernels run as native code without protection, see docs/kernels.md`,
        EXIT.problems,
      );
    case "no-result":
      die(
        `bench: kernel ${kernelName} ended without a result (exit code ${outcome.exitCode}): did it call exit()? see docs/kernels.md`,
        EXIT.problems,
      );
  }
}
if (isChild) serveAsChild();

// The entry started one worker; a run over more partitions gets the rest now (a listing takes ~1 ms;
// the run lists again), to load their modules while this thread compiles the kernel.
if (dirArg !== undefined) prestartWorkers(BENCH_WORKER_URL, Math.min(workers, partitionCount(dirArg)));

let paramSets: number[][];
let kernelName: string;
let kernelBuild: BenchWorkerPrepare["kernelBuild"];
try {
  const { kernel, build } = await loadRunKernel(abi, kernelPath, compiler);
  kernelBuild = build;
  kernelName = values.kernel ?? `${strategyName} (built-in)`;
  const sourceOf = (name: string) => (fromFlag.has(name) ? flagOf(name) : gridSource);
  checkParamBounds(sets, strategy?.bounds ?? {}, sourceOf);
  paramSets = resolveParamSets(kernelPath, kernel.params, sets);
  for (const values of paramSets) {
    const problem = strategy?.setProblem?.(Object.fromEntries(kernel.params.map((p, k) => [p.name, values[k]])));
    if (problem) throw new GridError(`${strategyName}: ${problem}`);
  }
  for (const axis of reportAxes ?? [])
    if (!kernel.params.some((p) => p.name === axis))
      die(
        `--report-axes: ${axis} is not a parameter of ${kernelName} (${kernel.params.map((p) => p.name).join(", ")})`,
        EXIT.usage,
      );
} catch (e) {
  if (e instanceof KernelError || e instanceof GridError) die(`bench: ${e.message}`, EXIT.usage);
  throw e;
}

// The kernel and its parameters are good: the workers take over this thread's build of a built-in
// one, or compile theirs, while it goes on (the decoder's build, the listing). A worker still
// compiling when the process exits on an error found meanwhile leaves its build folder: this
// process's are removed on the way out.
preparePrestarted(BENCH_WORKER_URL, { kernelPath, abi, compiler, kernelBuild, decoder } satisfies BenchWorkerPrepare);
process.on("exit", () => removeTempDirs(kernelTempPrefix(process.pid)));

// A kernel child's stderr is a pipe to its parent, which says whether it ends at a terminal.
const progress = progressPrinter(stderrOutput(isChild ? process.env[STDERR_TTY_ENV] === "1" : undefined));
let dir = dirArg;
if (dir === undefined) {
  writeStderr(
    "bench: no DIR given, using the built-in sample data set (data/sample/packed; created once on first use)\n",
  );
  // Loaded only here: gen and repack's modules cost ~100 ms of imports that a run over DIR never needs.
  const { ensureSampleDataset } = await import("../../lib/bench/sample.ts");
  dir = await ensureSampleDataset(join(import.meta.dir, "..", ".."), workers, progress.listener);
}

compileUnlessCached(dir);
const cacheDir = claimed(cacheDirFor(dir));

// The trade log's temp file is created now: a path that cannot be written fails before the run.
let tradeLog: TradeLog | null = null;
if (values.trades !== undefined) {
  // The log's modules load only for a run that writes one.
  const { openTradeLog, TradeLogError } = await import("../../lib/bench/trade-log.ts");
  try {
    tradeLog = openTradeLog(values.trades, { legs: abi === "chain", money: moneyAsked });
  } catch (e) {
    if (e instanceof TradeLogError) die(`bench: --trades ${printable(e.message)}`, EXIT.usage);
    throw e;
  }
}
for (const signal of STOP_SIGNALS) {
  process.on(signal, () => {
    tradeLog?.abort();
    // In a child the parent got the signal too (or is gone) and says so itself.
    if (isChild) process.exit(SIGNAL_EXIT[signal]);
    die(`bench: ${signal}: stopped`, SIGNAL_EXIT[signal]);
  });
}

/** Writing the trade log failed (disk full …): exit 1 naming the file. */
class TradeWriteError extends Error {}
const writeTrades = (write: () => Promise<void>) =>
  write().catch((e: Error) => {
    throw new TradeWriteError(`--trades ${values.trades}: ${e.message}`);
  });

// The report's aggregator takes each partition's sums as they are handed over (loaded only with
// --report, while the workers start: sums handed over before it is wait for it, in order).
let report: ReportAggregator | null = null;
// The run's days, once runBench has listed its partitions: the aggregator sizes its curve by them.
let runDays: [IsoDate, IsoDate] | null = null;
const earlySums: ReportSumsBlock[] = [];
const reportLoaded =
  values.report === undefined
    ? null
    : import("../../lib/report/aggregate.ts").then(({ ReportAggregator }) => {
        const agg = new ReportAggregator(paramSets.length);
        if (runDays) agg.fitDays(...runDays);
        for (const b of earlySums.splice(0)) agg.add(b);
        report = agg;
        return agg;
      });
const onTrades = tradeLog ? (b: TradeBlock) => writeTrades(() => tradeLog.append(b)) : undefined;
// The page's modules, inlined libraries and the expiry types the data says (the calendar repack kept
// beside it, if any) load while the workers run, not after.
const reportModules =
  reportLoaded !== null
    ? Promise.all([
        import("../../lib/report/report-data.ts"),
        import("../../lib/report/html.ts").then((m) => {
          m.prepareReportAssets();
          return m;
        }),
        Promise.all([import("../../lib/report/buckets.ts"), import("../../lib/packed/kept-calendar.ts")]).then(
          ([{ expiryTypeFromCalendar }, { readKeptCalendar }]) => {
            const kept = readKeptCalendar(dir);
            return kept ? expiryTypeFromCalendar(kept) : null;
          },
        ),
      ])
    : null;
// Awaited after the run, which reports a failure.
reportLoaded?.catch(() => {});
reportModules?.catch(() => {});

let summary: BenchSummary;
let daily: DailyMoney | null = null;
try {
  const cache =
    cacheDir === null
      ? null
      : { dir: cacheDir, maxBytes: cacheMaxGb * 2 ** 30, verifyAll: values["cache-verify"] === true };
  ({ summary, daily } = await runBench(
    {
      dir,
      workers,
      kernelPath,
      abi,
      fill,
      money: moneyAsked ? { lots, packedDir: dir, overrides: lotSizeOverrides, schedule: costSchedule } : null,
      compiler,
      decoder,
      trades: tradeLog !== null,
      cache,
      onTrades,
      onReportSums: reportLoaded !== null ? (b) => (report ? report.add(b) : earlySums.push(b)) : undefined,
      onRunDays:
        reportLoaded !== null
          ? (first, last) => {
              runDays = [first, last];
              report?.fitDays(first, last);
            }
          : undefined,
      filters,
    },
    paramSets,
    progress.listener,
  ));
  if (tradeLog) await writeTrades(() => tradeLog.commit());
} catch (e) {
  progress.finish();
  tradeLog?.abort();
  // The pool is closed: chain workers it stopped mid-partition left their private column folders.
  removeTempDirs(chainTempPrefix(process.pid));
  // A process limit (descriptors, address space) is the cause, not the partition it was reading.
  if (e instanceof BenchInputError || e instanceof TradeWriteError) {
    const cause = e instanceof BenchInputError ? limitCause(workers, e.message) : null;
    if (cause) die(`bench: ${cause} (it ran out reading ${printable(e.message)})`, EXIT.problems);
    die(`bench: ${printable(e.message)}`, EXIT.problems);
  }
  if (e instanceof KernelError) die(`bench: ${printable(e.message)}`, EXIT.usage);
  if (e instanceof ChainOrderError) die(`bench: ${printable(e.message)}`, EXIT.problems);
  if (e instanceof LotSizeError || e instanceof CostScheduleError) die(`bench: ${printable(e.message)}`, EXIT.usage);
  throw e;
}
progress.finish();
if (reportLoaded !== null) {
  try {
    const [agg, [{ buildReportData }, { writeReport }, expiryTypeOf]] = await Promise.all([
      reportLoaded,
      reportModules!,
    ]);
    writeReport(
      values.report!,
      buildReportData(summary, agg, { axes: reportAxes, kernelLabel: kernelName, daily, rank, expiryTypeOf }),
    );
  } catch (e) {
    die(`bench: --report ${printable(values.report!)}: ${printable((e as Error).message)}`, EXIT.problems);
  }
}
const n = groupedCount;
const lines = [
  "=".repeat(64),
  `Kernel:         ${kernelName}${abi === "chain" && values.kernel !== undefined ? " (a chain kernel)" : ""}${compiler === "tcc" ? "" : ` (--cc ${compiler})`}`,
  `Partitions:     ${summary.partitions} (${summary.files} files) under ${dir}`,
  `Total rows:     ${n(summary.rows)} (${n(summary.valid_rows)} valid)`,
  ...resultLines(summary, rank),
];
if (filters) {
  const groups = summary.row_groups_read + summary.row_groups_skipped;
  lines.push(
    `Filters:        ${describeFilters(filters)}`,
    `Skipped:        ${n(summary.partitions_pruned)} of ${n(summary.partitions + summary.partitions_pruned)} partitions by path, ${n(summary.row_groups_skipped)} of ${n(groups)} row groups by footer statistics (${n(summary.row_groups_read)} read)`,
  );
  if (summary.rows === 0) lines.push("Selected:       nothing — no segment matches the filters (0 rows run)");
}
lines.push(
  `Elapsed:        ${summary.elapsed_s.toFixed(3)} s with ${summary.workers} worker(s)`,
  `Throughput:     ${n(Math.round(summary.rows_per_s))} rows/s (${(summary.rows_per_s / 1e6).toFixed(1)}M rows/s)` +
    (summary.sets > 1 ? `, ${(summary.row_sets_per_s / 1e6).toFixed(1)}M rows×sets/s` : ""),
  ...(summary.cache ? [cacheLine(summary.cache)] : []),
  ...(values.trades ? [`Trades written: ${values.trades}`] : []),
  ...(values.report ? [`Report written: ${values.report}`] : []),
  "=".repeat(64),
);
writeStderr(`${lines.join("\n")}\n`);
const kept = summary.cache?.kept ?? [];
for (const k of kept.slice(0, KEPT_SHOWN)) writeStderr(`bench: warning: the cache could not evict ${printable(k)}\n`);
if (kept.length > KEPT_SHOWN)
  writeStderr(`bench: warning: and ${kept.length - KEPT_SHOWN} more entries (--json: cache.kept)\n`);
if (values.json) printJson(summary);

// Now, rather than once the event loop drains: ending the pool's threads that way takes ~15 ms more
// (measured). Output written through `console` is flushed first.
process.exit(EXIT.ok);
