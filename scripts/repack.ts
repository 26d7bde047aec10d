/** `bun run repack`: raw per-contract files → sorted date/underlying partitions. */
import type { Layout } from "../lib/packed/layout.ts";
import { DEFAULT_PART_ROWS } from "../lib/packed/writer.ts";
import { repack, RepackFatalError, RepackUsageError } from "../lib/repack/repack.ts";
import { DEFAULT_ROW_GROUP_SIZE } from "../lib/packed/writer.ts";
import {
  die,
  EXIT,
  limitCauseLines,
  intFlag,
  parseCommandLine,
  printable,
  printJson,
  recoveryLines,
  requireJit,
  workersFlag,
} from "./cli/command.ts";
import { progressPrinter } from "./cli/progress-printer.ts";
import { writeStderr } from "./cli/std-output.ts";
import { groupedCount } from "../lib/grouped-count.ts";

const USAGE = `Usage: bun run repack RAW_DIR... --out DIR [options]

Repacks raw per-contract Parquet files (any nesting under each RAW_DIR) into one sorted file per
IST trading day and underlying, merging with partitions already in DIR. Incremental: inputs already
consumed (same path, size, mtime) are skipped.

Options:
  --out DIR              packed output folder (required)
  --calendar CSV         expiry calendar (default: RAW_DIR/expiry_calendar.csv of the first RAW_DIR)
  --workers N            parallel workers (default: cores)
  --layout seed|hive     DIR/YYYY-MM-DD/U/part-u-0.parquet (seed) or DIR/date=…/underlying=…/part-0.parquet
                         (default: what DIR already holds, else seed)
  --row-group-size N     rows per row group (default ${DEFAULT_ROW_GROUP_SIZE})
  --part-rows N          rows per part file before a partition is split (default: no split, one file
                         per partition: memory is bounded by a row group either way)
  --break-lock           take the output's lock even if a run on another host holds it (only when
                         you know that run is gone: a lock from this host is checked by itself)
  --json                 print a JSON summary on stdout
  -h, --help             this text

Exit: 0 all inputs packed; 1 some inputs failed (listed) or the output is locked/not writable;
2 bad usage (unknown flag, missing folder, unreadable calendar).
`;

const { values, positionals } = parseCommandLine(
  USAGE,
  {
    out: { type: "string" },
    calendar: { type: "string" },
    workers: { type: "string" },
    layout: { type: "string" },
    "row-group-size": { type: "string" },
    "part-rows": { type: "string" },
    "break-lock": { type: "boolean" },
    json: { type: "boolean" },
  },
  true,
);
if (positionals.length === 0) die(`at least one RAW_DIR is required\n\n${USAGE}`, EXIT.usage);
if (!values.out) die(`--out DIR is required\n\n${USAGE}`, EXIT.usage);
if (values.layout !== undefined && values.layout !== "seed" && values.layout !== "hive")
  die(`--layout: expected seed or hive, got ${JSON.stringify(values.layout)}`, EXIT.usage);
const workers = workersFlag("repack", values.workers);
requireJit("repack");

const progress = progressPrinter();
let summary;
try {
  summary = await repack(
    {
      rawDirs: positionals,
      out: values.out,
      calendarPath: values.calendar,
      workers,
      layout: values.layout as Layout | undefined,
      rowGroupSize: intFlag("row-group-size", values["row-group-size"], DEFAULT_ROW_GROUP_SIZE),
      partRows: intFlag("part-rows", values["part-rows"], DEFAULT_PART_ROWS),
      breakLock: values["break-lock"] === true,
    },
    progress.listener,
  );
} catch (e) {
  progress.finish();
  if (e instanceof RepackUsageError) die(`repack: ${printable(e.message)}`, EXIT.usage);
  if (e instanceof RepackFatalError) die(`repack: ${printable(e.message)}`, EXIT.problems);
  throw e;
}
progress.finish();
// maxRSS covers the worker threads too (kilobytes on Linux).
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
const rejectedTotal = Object.values(summary.rows_rejected).reduce((a, n) => a + n, 0);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
writeStderr(
  `${[
    `repack: ${summary.files_in} files in (${summary.files_skipped} unchanged, skipped), ${summary.files_failed} failed`,
    `  rows: ${groupedCount(summary.rows_in)} in, ${groupedCount(summary.rows_out)} added, ` +
      `${groupedCount(summary.duplicates_dropped)} duplicates dropped`,
    ...(rejectedTotal > 0
      ? [
          `  rows rejected (not packed, kept under ${values.out}/_tickpack/rejected/): ${Object.entries(
            summary.rows_rejected,
          )
            .filter(([, n]) => n > 0)
            .map(([r, n]) => `${groupedCount(n)} ${r}`)
            .join(", ")}`,
        ]
      : []),
    `  ${summary.partitions_written} partitions written (${summary.layout} layout), ${mib(summary.bytes_in)} raw → ${mib(summary.bytes_out)} packed`,
    `  ${summary.elapsed_s.toFixed(2)} s, ${(summary.rows_per_s / 1e6).toFixed(2)}M rows/s, peak RSS ${peakRssMiB.toFixed(0)} MiB`,
    ...recoveryLines(summary.recovered),
    ...(summary.hidden_skipped ? [`  ${summary.hidden_skipped} hidden entries skipped (names starting with '.')`] : []),
    ...(summary.links_skipped ? [`  ${summary.links_skipped} links skipped (dangling, or a loop of links)`] : []),
    ...(summary.inputs_deferred
      ? [
          `  ${summary.inputs_deferred} inputs deferred: a packed part they merge into could not be read (named below); they are retried next run`,
        ]
      : []),
    ...summary.errors.map((e) => `  error: ${printable(e.file)}: ${printable(e.error)}`),
    ...limitCauseLines(
      workers,
      summary.errors.map((e) => e.error),
    ),
  ].join("\n")}\n`,
);
if (values.json) printJson({ ...summary, peak_rss_mib: Math.round(peakRssMiB) });
process.exit(summary.files_failed > 0 ? EXIT.problems : EXIT.ok);
