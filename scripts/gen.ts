/** `bun run gen`: a deterministic synthetic raw data set plus its expiry calendar. */
import { DEFAULT_DEFECTS, DEFAULT_QUIRKS, GenUsageError, generateRawDataset } from "../lib/gen/gen.ts";
import { parseIsoDate } from "../lib/ist-time.ts";
import { die, EXIT, intFlag, numberFlag, parseCommandLine, printable, printJson, workersFlag } from "./cli/command.ts";
import { errorMessage } from "../lib/error-message.ts";
import { progressPrinter } from "./cli/progress-printer.ts";
import { writeStderr } from "./cli/std-output.ts";
import { groupedCount } from "../lib/grouped-count.ts";

const USAGE = `Usage: bun run gen --out DIR [options]

Writes one raw Parquet file per option contract under DIR/<UNDERLYING>/ and DIR/expiry_calendar.csv.
Same seed and flags → byte-identical files.

Options:
  --out DIR              output folder (required)
  --days N               trading days (weekdays) to generate (default 3)
  --start YYYY-MM-DD     first day (default 2025-11-17)
  --underlyings A,B      underlyings (default NIFTY,BANKNIFTY; others get stock-like specs)
  --seed N               random seed (default 1)
  --strikes N            strikes listed on each side of each day's at-the-money strike (default 10)
  --tick-prob P          chance of a tick in each second, 09:15–15:30 IST (default 0.85)
  --null-rate P          share of rows with one field nulled (default ${DEFAULT_DEFECTS.nullRate})
  --zero-price-rate P    share of rows with price 0 (default ${DEFAULT_DEFECTS.zeroPriceRate})
  --disorder-rate P      share of rows swapped out of time order (default ${DEFAULT_DEFECTS.disorderRate})
  --epoch-zero-rate P    share of contract-days whose first row has an epoch-zero (1970) timestamp,
                         as the real feed writes (repack rejects such rows) (default ${DEFAULT_QUIRKS.epochZeroRate})
  --volume-reset-rate P  share of contract-days whose cumulative volume resets to 0 mid-session
                         (default ${DEFAULT_QUIRKS.volumeResetRate})
  --pre-open-rate P      share of contract-days with 1–20 pre-open rows from 09:10 IST (default ${DEFAULT_QUIRKS.preOpenRate})
  --clean                no nulls, zero prices, disorder or feed quirks (every rate above 0)
  --row-group-size N     rows per raw row group (default 65536)
  --workers N            parallel workers (default: cores)
  --json                 print a JSON summary on stdout
  -h, --help             this text

Strikes: each trading day lists, for each live expiry (NIFTY: the nearest 2, rolling; others: the
nearest monthly), the strike nearest that day's opening spot and --strikes strikes each side of it,
so the money stays inside the ladder as the spot moves. A contract trades on the days its strike is
listed (not always consecutive), all in its one file.

Scale: each day trades 2 × (2·strikes+1) contracts per live expiry, each ticking in 30–100% of the
session's 22,501 seconds × tick-prob (liquidity fades away from the money). Defaults: ~5M rows.
--days 1 --strikes 1 --tick-prob 0.05: ~20k rows (a test fixture). --days 20 --strikes 20: ~54M rows.
`;

const { values } = parseCommandLine(
  USAGE,
  {
    out: { type: "string" },
    days: { type: "string" },
    start: { type: "string" },
    underlyings: { type: "string" },
    seed: { type: "string" },
    strikes: { type: "string" },
    "tick-prob": { type: "string" },
    "null-rate": { type: "string" },
    "zero-price-rate": { type: "string" },
    "disorder-rate": { type: "string" },
    "epoch-zero-rate": { type: "string" },
    "volume-reset-rate": { type: "string" },
    "pre-open-rate": { type: "string" },
    clean: { type: "boolean" },
    "row-group-size": { type: "string" },
    workers: { type: "string" },
    json: { type: "boolean" },
  },
  false,
);
if (!values.out) die(`--out DIR is required\n\n${USAGE}`, EXIT.usage);
let start: number;
try {
  start = parseIsoDate(values.start ?? "2025-11-17");
} catch (e) {
  die(`--start: ${(e as Error).message}`, EXIT.usage);
}
// Contract names carry two-digit years.
if (start < parseIsoDate("2000-01-01") || start > parseIsoDate("2099-12-31"))
  die(`--start: ${values.start} is outside 2000–2099 (contract names carry two-digit years)`, EXIT.usage);
// A name listed twice is generated once.
const underlyings = [
  ...new Set(
    (values.underlyings ?? "NIFTY,BANKNIFTY")
      .split(",")
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
  ),
];
for (const u of underlyings)
  if (!/^[A-Z][A-Z0-9&-]*$/.test(u)) die(`--underlyings: bad name ${JSON.stringify(u)}`, EXIT.usage);
const rate = (flag: string, value: string | undefined, fallback: number) =>
  values.clean ? 0 : numberFlag(flag, value, fallback, 0, 1);
const workers = workersFlag("gen", values.workers);

const progress = progressPrinter();
let summary;
try {
  summary = await generateRawDataset(
    {
      out: values.out,
      days: intFlag("days", values.days, 3),
      start,
      underlyings,
      seed: intFlag("seed", values.seed, 1, 0),
      strikesEachSide: intFlag("strikes", values.strikes, 10, 0),
      tickProb: numberFlag("tick-prob", values["tick-prob"], 0.85, 0.0001, 1),
      defects: {
        nullRate: rate("null-rate", values["null-rate"], DEFAULT_DEFECTS.nullRate),
        zeroPriceRate: rate("zero-price-rate", values["zero-price-rate"], DEFAULT_DEFECTS.zeroPriceRate),
        disorderRate: rate("disorder-rate", values["disorder-rate"], DEFAULT_DEFECTS.disorderRate),
        epochZeroRate: rate("epoch-zero-rate", values["epoch-zero-rate"], DEFAULT_QUIRKS.epochZeroRate),
        volumeResetRate: rate("volume-reset-rate", values["volume-reset-rate"], DEFAULT_QUIRKS.volumeResetRate),
        preOpenRate: rate("pre-open-rate", values["pre-open-rate"], DEFAULT_QUIRKS.preOpenRate),
      },
      rowGroupSize: intFlag("row-group-size", values["row-group-size"], 65_536),
      workers,
    },
    progress.listener,
  );
} catch (e) {
  progress.finish();
  if (e instanceof GenUsageError) die(`gen: ${printable(e.message)}`, EXIT.usage);
  die(`gen: ${printable(errorMessage(e))}`, EXIT.problems);
}
progress.finish();
writeStderr(
  `gen: ${summary.files} files, ${groupedCount(summary.rows)} rows, ${(summary.bytes / 2 ** 20).toFixed(1)} MiB ` +
    `over ${summary.days} trading days in ${summary.elapsed_s.toFixed(2)} s → ${values.out} (calendar: ${summary.calendar})\n`,
);
if (values.json) printJson(summary);
