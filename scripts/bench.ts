/** `bun run bench`: the ema_cross strategy over packed partitions (TinyCC kernel in Bun Workers). */
import { join } from "node:path";
import { DEFAULT_PARAMS } from "../kernel/ema_cross.ts";
import { BenchInputError, runBench } from "../lib/bench.ts";
import { ensureSampleDataset } from "../lib/sample-data.ts";
import { writeTrades } from "../lib/trade-log.ts";
import { defaultWorkers, die, EXIT, intFlag, numberFlag, parseCommandLine, printJson } from "./cli/command.ts";
import { progressPrinter } from "./cli/progress-printer.ts";
import { existsSync } from "node:fs";

const USAGE = `Usage: bun run bench [DIR] [options]

Runs the ema_cross strategy (SPEC §4) over every packed partition under DIR (seed or hive layout).
Without DIR it runs on the built-in sample data set, created on first use under data/sample/.

Options:
  --workers N        parallel workers (default: cores)
  --fast N           fast EMA span (default ${DEFAULT_PARAMS.fast})
  --slow N           slow EMA span (default ${DEFAULT_PARAMS.slow})
  --max-spread F     largest (ask-bid)/mid to enter (default ${DEFAULT_PARAMS.max_spread})
  --min-volume N     smallest volume to enter (default ${DEFAULT_PARAMS.min_volume})
  --trades FILE      also write every trade (.csv, or .parquet)
  --json             print a JSON summary on stdout
  -h, --help         this text

Exit: 0 ok; 1 no packed files, or a file that cannot be read; 2 bad usage.
`;

const { values, positionals } = parseCommandLine(
  USAGE,
  {
    workers: { type: "string" },
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
const workers = intFlag("workers", values.workers, defaultWorkers());
const params = {
  fast: intFlag("fast", values.fast, DEFAULT_PARAMS.fast),
  slow: intFlag("slow", values.slow, DEFAULT_PARAMS.slow),
  max_spread: numberFlag("max-spread", values["max-spread"], DEFAULT_PARAMS.max_spread, 0, 1e9),
  min_volume: numberFlag("min-volume", values["min-volume"], DEFAULT_PARAMS.min_volume, 0, 1e18),
};
const progress = progressPrinter();
let dir = positionals[0];
if (dir === undefined) {
  process.stderr.write("bench: no DIR given, using the built-in sample data set (data/sample/packed; created once on first use)\n");
  dir = await ensureSampleDataset(join(import.meta.dir, ".."), workers, progress.listener);
} else if (!existsSync(dir)) die(`bench: ${dir}: folder does not exist`, EXIT.usage);

let result;
try {
  result = await runBench({ dir, workers, params, trades: values.trades !== undefined }, progress.listener);
} catch (e) {
  progress.finish();
  if (e instanceof BenchInputError) die(`bench: ${e.message}`, EXIT.problems);
  throw e;
}
progress.finish();
const { summary, trades } = result;
if (values.trades) writeTrades(values.trades, trades);
const n = (x: number) => x.toLocaleString("en-US");
process.stderr.write(
  [
    "=".repeat(64),
    `Partitions:     ${summary.partitions} (${summary.files} files) under ${dir}`,
    `Total rows:     ${n(summary.rows)} (${n(summary.valid_rows)} valid)`,
    `Total trades:   ${n(summary.trades)}`,
    `Total PnL:      ${summary.pnl.toFixed(2)}`,
    ...Object.entries(summary.by_underlying).map(([u, r]) => `  ${u.padEnd(12)}  ${n(r.rows)} rows, ${n(r.trades)} trades, PnL ${r.pnl.toFixed(2)}`),
    `Elapsed:        ${summary.elapsed_s.toFixed(3)} s with ${summary.workers} worker(s)`,
    `Throughput:     ${n(Math.round(summary.rows_per_s))} rows/s (${(summary.rows_per_s / 1e6).toFixed(1)}M rows/s)`,
    ...(values.trades ? [`Trades written: ${values.trades}`] : []),
    "=".repeat(64),
  ].join("\n") + "\n",
);
if (values.json) printJson(summary);
