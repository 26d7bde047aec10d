/** `bun run bench`: a strategy kernel (built-in ema_cross or your own C) over packed partitions, one or many parameter sets. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { EMA_CROSS_SOURCE, KernelError, loadKernel } from "../kernel/strategy-kernel.ts";
import { BenchInputError, runBench } from "../lib/bench/bench.ts";
import { GridError, expandAxes, parseGridFile, parseGridSpec, resolveParamSets } from "../lib/bench/grid.ts";
import { ensureSampleDataset } from "../lib/bench/sample.ts";
import { writeTrades } from "../lib/bench/trade-log.ts";
import { defaultWorkers, die, EXIT, intFlag, numberFlag, parseCommandLine, printJson } from "./cli/command.ts";
import { progressPrinter } from "./cli/progress-printer.ts";

const USAGE = `Usage: bun run bench [DIR] [options]

Runs a strategy kernel over every packed partition under DIR (seed or hive layout): the built-in
ema_cross (SPEC §4), or your own C file (--kernel, see docs/kernels.md). A grid runs many parameter
sets in one pass: each batch is decoded once and every set runs over it.
Without DIR it runs on the built-in sample data set, created on first use under data/sample/.

Options:
  --workers N          parallel workers (default: cores)
  --kernel FILE.c      your kernel instead of ema_cross (compiled with TinyCC at run time)
  --grid SPEC          parameter sets, e.g. 'fast=3,5,8;slow=13,21,34;max_spread=0.0005,0.001'
                       (the cartesian product; parameters not named keep their defaults)
  --grid-file FILE     the same as JSON: {"fast": [3, 5], …} or [{"fast": 3, "slow": 21}, …]
  --fast N, --slow N, --max-spread F, --min-volume N
                       ema_cross parameters (defaults 5, 21, 0.0005, 1) for a single run
  --trades FILE        also write every trade (.csv, or .parquet), with its set number
  --json               print a JSON summary on stdout
  -h, --help           this text

Exit: 0 ok; 1 no packed files, a file that cannot be read, or a kernel that crashed;
2 bad usage, or a kernel that does not compile or declares what tickpack does not know.
`;

const { values, positionals } = parseCommandLine(
  USAGE,
  {
    workers: { type: "string" },
    kernel: { type: "string" },
    grid: { type: "string" },
    "grid-file": { type: "string" },
    fast: { type: "string" },
    slow: { type: "string" },
    "max-spread": { type: "string" },
    "min-volume": { type: "string" },
    trades: { type: "string" },
    json: { type: "boolean" },
  },
  true,
);
if (positionals.length > 1) die(`at most one DIR\n\n${USAGE}`, EXIT.usage);

// A researcher's kernel is trusted native code: run it in a child process, so that a crash ends
// only that run and can be reported with the kernel's name.
if (values.kernel && !process.env.TICKPACK_KERNEL_CHILD) {
  const child = Bun.spawnSync([process.execPath, import.meta.path, ...Bun.argv.slice(2)], { env: { ...process.env, TICKPACK_KERNEL_CHILD: "1" }, stdio: ["inherit", "inherit", "inherit"] });
  if (child.signalCode) die(`bench: kernel ${values.kernel} crashed the run (${child.signalCode}); kernels run as native code without protection, see docs/kernels.md`, EXIT.problems);
  process.exit(child.exitCode ?? EXIT.problems);
}

const workers = intFlag("workers", values.workers, defaultWorkers());
const kernelPath = values.kernel ?? EMA_CROSS_SOURCE;
let paramSets: number[][];
let kernelName: string;
try {
  const kernel = loadKernel(kernelPath);
  kernelName = values.kernel ?? "ema_cross (built-in)";
  let sets: Record<string, number>[] = [{}];
  if (values.grid && values["grid-file"]) die("--grid and --grid-file: give one", EXIT.usage);
  if (values.grid) sets = expandAxes(parseGridSpec(values.grid));
  if (values["grid-file"]) {
    const file = values["grid-file"];
    if (!existsSync(file)) die(`--grid-file: ${file}: file does not exist`, EXIT.usage);
    sets = parseGridFile(readFileSync(file, "utf8"), file);
  }
  const plain: [string, string | undefined, number, number][] = [
    ["fast", values.fast, 1, 1e9], ["slow", values.slow, 1, 1e9], ["max_spread", values["max-spread"], 0, 1e9], ["min_volume", values["min-volume"], 0, 1e18],
  ];
  for (const [name, raw, min, max] of plain) {
    if (raw === undefined) continue;
    const flag = name.replace("_", "-");
    const v = name === "fast" || name === "slow" ? intFlag(flag, raw, 0) : numberFlag(flag, raw, 0, min, max);
    if (sets.some((s) => name in s)) die(`--${flag} and the grid both set ${name}: give one`, EXIT.usage);
    sets = sets.map((s) => ({ ...s, [name]: v }));
  }
  paramSets = resolveParamSets(kernelPath, kernel.params, sets);
} catch (e) {
  if (e instanceof KernelError || e instanceof GridError) die(`bench: ${e.message}`, EXIT.usage);
  throw e;
}

const progress = progressPrinter();
let dir = positionals[0];
if (dir === undefined) {
  process.stderr.write("bench: no DIR given, using the built-in sample data set (data/sample/packed; created once on first use)\n");
  dir = await ensureSampleDataset(join(import.meta.dir, ".."), workers, progress.listener);
} else if (!existsSync(dir) || !statSync(dir).isDirectory()) die(`bench: ${dir}: not a folder`, EXIT.usage);

let result;
try {
  result = await runBench({ dir, workers, kernelPath, trades: values.trades !== undefined }, paramSets, progress.listener);
} catch (e) {
  progress.finish();
  if (e instanceof BenchInputError) die(`bench: ${e.message}`, EXIT.problems);
  throw e;
}
progress.finish();
const { summary, trades } = result;
if (values.trades) writeTrades(values.trades, trades);
const n = (x: number) => x.toLocaleString("en-US");
const fmtParams = (p: Record<string, number>) => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(" ");
const lines = ["=".repeat(64), `Kernel:         ${kernelName}`, `Partitions:     ${summary.partitions} (${summary.files} files) under ${dir}`, `Total rows:     ${n(summary.rows)} (${n(summary.valid_rows)} valid)`];
if (summary.sets === 1) {
  lines.push(`Parameters:     ${fmtParams(summary.params)}`, `Total trades:   ${n(summary.trades)}`, `Total PnL:      ${summary.pnl.toFixed(2)}`);
  for (const [u, r] of Object.entries(summary.by_underlying)) lines.push(`  ${u.padEnd(12)}  ${n(r.rows)} rows, ${n(r.trades)} trades, PnL ${r.pnl.toFixed(2)}`);
} else {
  lines.push(`Parameter sets: ${summary.sets} (top ${Math.min(10, summary.sets)} by PnL)`);
  const top = summary.grid.map((g, k) => ({ g, k })).sort((a, b) => b.g.pnl - a.g.pnl).slice(0, 10);
  for (const { g, k } of top) lines.push(`  #${String(k).padEnd(4)} ${fmtParams(g.params).padEnd(48)} ${n(g.trades).padStart(9)} trades  PnL ${g.pnl.toFixed(2)}`);
  lines.push(`Total trades:   ${n(summary.trades)} over all sets`, `Total PnL:      ${summary.pnl.toFixed(2)} over all sets`);
}
lines.push(
  `Elapsed:        ${summary.elapsed_s.toFixed(3)} s with ${summary.workers} worker(s)`,
  `Throughput:     ${n(Math.round(summary.rows_per_s))} rows/s (${(summary.rows_per_s / 1e6).toFixed(1)}M rows/s)` +
    (summary.sets > 1 ? `, ${(summary.row_sets_per_s / 1e6).toFixed(1)}M rows×sets/s` : ""),
  ...(values.trades ? [`Trades written: ${values.trades}`] : []),
  "=".repeat(64),
);
process.stderr.write(lines.join("\n") + "\n");
if (values.json) printJson(summary);
