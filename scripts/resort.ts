/** `bun run resort`: check and repair the sort order and layout of packed files. */
import { existsSync, statSync } from "node:fs";
import { DEFAULT_PART_ROWS, DEFAULT_ROW_GROUP_SIZE } from "../lib/packed/writer.ts";
import { resort, ResortFatalError } from "../lib/resort/resort.ts";
import { PackedListingError } from "../lib/packed/layout.ts";
import { LockBusyError } from "../lib/packed/lock.ts";
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

const USAGE = `Usage: bun run resort DIR [--check] [--dry-run] [options]

Checks every packed Parquet file under DIR (seed or hive layout, or any *.parquet): readable,
required columns, sorted by (expiry, opt_type, strike, timestamp) with opt_type compared by its
string, row groups within the limit, statistics present, ZSTD, tickpack footer metadata. Without
--check it rewrites, atomically and keeping every row, each partition with a fixable problem;
files that pass are not touched. Files written by the Python prototype (no date/underlying, INT64
timestamps) are accepted and converted.

Options:
  --check                report only; exit 1 if any file has a problem
  --dry-run              say what would be rewritten; change nothing
  --row-group-size N     row-group limit, and the size used when rewriting (default ${DEFAULT_ROW_GROUP_SIZE})
  --part-rows N          rows per part file when rewriting (default, as repack's: no split, a
                         rewritten partition is one file)
  --workers N            parallel workers (default: cores)
  --break-lock           take the folder's lock even if a run on another host holds it (only when
                         you know that run is gone: a lock from this host is checked by itself)
  --json                 print a JSON summary on stdout
  -h, --help             this text

Exit: 0 all files fine or repaired; 1 problems found (--check), or files that cannot be read or
repaired (reported, never deleted), or the folder is locked by another run; 2 bad usage.
`;

const { values, positionals } = parseCommandLine(
  USAGE,
  {
    check: { type: "boolean" },
    "dry-run": { type: "boolean" },
    "row-group-size": { type: "string" },
    "part-rows": { type: "string" },
    workers: { type: "string" },
    "break-lock": { type: "boolean" },
    json: { type: "boolean" },
  },
  true,
);
if (positionals.length !== 1) die(`exactly one DIR is required\n\n${USAGE}`, EXIT.usage);
const dir = positionals[0];
if (!existsSync(dir) || !statSync(dir).isDirectory()) die(`resort: ${dir}: not a folder`, EXIT.usage);
const workers = workersFlag("resort", values.workers);
requireJit("resort");

const progress = progressPrinter();
let summary;
try {
  summary = await resort(
    {
      dir,
      check: values.check === true,
      dryRun: values["dry-run"] === true,
      workers,
      rowGroupSize: intFlag("row-group-size", values["row-group-size"], DEFAULT_ROW_GROUP_SIZE),
      partRows: intFlag("part-rows", values["part-rows"], DEFAULT_PART_ROWS),
      breakLock: values["break-lock"] === true,
    },
    progress.listener,
  );
} catch (e) {
  progress.finish();
  if (e instanceof LockBusyError || e instanceof ResortFatalError || e instanceof PackedListingError)
    die(`resort: ${printable(e.message)}`, EXIT.problems);
  throw e;
}
progress.finish();
const verb = values.check ? "need a rewrite" : values["dry-run"] ? "would be rewritten" : "rewritten";
writeStderr(
  `${[
    `resort: ${summary.files} files: ${summary.sorted} fine, ${values.check ? `${summary.problems.filter((p) => p.fixable).length} problems that` : summary.resorted} ${verb}, ${summary.failed} failed (${summary.elapsed_s.toFixed(2)} s)`,
    ...summary.problems.map(
      (p) => `  ${p.fixable ? "problem" : "error"}: ${printable(p.file)}: ${printable(p.problem)}`,
    ),
    ...summary.errors
      .filter((e) => !summary.problems.some((p) => p.file === e.file && p.problem === e.error))
      .map((e) => `  error: ${printable(e.file)}: ${printable(e.error)}`),
    ...recoveryLines(summary.recovered),
    ...summary.rewritten.map((f) => `  rewritten: ${printable(f)}`),
    ...limitCauseLines(workers, [...summary.problems.map((p) => p.problem), ...summary.errors.map((e) => e.error)]),
  ].join("\n")}\n`,
);
if (values.json) printJson(summary);
const problems = values.check ? summary.problems.length > 0 : summary.failed > 0;
process.exit(problems ? EXIT.problems : EXIT.ok);
