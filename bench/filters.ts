/**
 * bench over a slice, cold (--no-cache), whole processes: an 11-strike band around the first day's
 * at-the-money NIFTY strike with --expiry-type weekly against the unfiltered run (row groups read,
 * speed-up), and --dte 0:0 (only expiry days' row groups may be read).
 *
 *   bun bench/filters.ts [DIR] [--rounds N] [--calendar CSV]
 *   (DIR default data/m50-packed; CSV default DIR/../m50-raw/expiry_calendar.csv)
 *
 * The ATM strike is the centre of the first day's NIFTY strikes of its nearest expiry (gen lists
 * the same number of strikes each side of the money), from the footer statistics; NIFTY's step is 50.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { listPackedPartitions } from "../lib/packed/layout.ts";
import { readRowGroupStats } from "../lib/parquet/footer.ts";
import { parseIsoDate } from "../lib/ist-time.ts";
import { median, timedProcess, type TimedRun } from "./timed-process.ts";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: "string" }, calendar: { type: "string" } },
  allowPositionals: true,
});
const dir = positionals[0] ?? "data/m50-packed";
const rounds = Number(values.rounds ?? 3);
const calendarPath = values.calendar ?? join(dir, "..", "m50-raw", "expiry_calendar.csv");
const root = join(import.meta.dir, "..");
const STEP = 50;

const partitions = listPackedPartitions(dir);
const first = partitions.find((p) => p.underlying === "NIFTY");
if (!first) throw new Error(`${dir}: no NIFTY partition`);
const groups = first.parts.flatMap((p) => readRowGroupStats(p, ["expiry", "strike"]));
const nearest = Math.min(...groups.map((g) => g.minMax.get("expiry")!.min as number));
const strikes = groups.filter(
  (g) => g.minMax.get("expiry")!.min === nearest && g.minMax.get("expiry")!.max === nearest,
);
const lo = Math.min(...strikes.map((g) => g.minMax.get("strike")!.min as number));
const hi = Math.max(...strikes.map((g) => g.minMax.get("strike")!.max as number));
const atm = Math.round((lo + hi) / 2 / STEP) * STEP;
const band = `${atm - 5 * STEP}:${atm + 5 * STEP}`;
console.log(
  `first day ${first.date}: NIFTY strikes ${lo}..${hi} of its nearest expiry, ATM ${atm}, band --strikes ${band} (11 strikes)`,
);

interface Json {
  rows: number;
  trades: number;
  row_groups_read: number;
  row_groups_skipped: number;
  partitions_pruned: number;
}
/** A clean run (nothing else on the machine meanwhile), retried a few times when disturbed. */
function clean(args: string[]): TimedRun & { json: Json } {
  let run: TimedRun | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    run = timedProcess([process.execPath, "scripts/bench.ts", dir, "--no-cache", "--json", ...args], root);
    if (run.clean) break;
  }
  if (!run!.clean) console.log(`  (disturbed by another process after 5 tries: ${args.join(" ") || "unfiltered"})`);
  return { ...run!, json: JSON.parse(run!.stdout) };
}

const slice = ["--strikes", band, "--expiry-type", "weekly"];
const full: number[] = [];
const cut: number[] = [];
let fullJson: Json | null = null;
let cutJson: Json | null = null;
for (let r = 0; r < rounds; r++) {
  const a = clean([]);
  const b = clean(slice);
  full.push(a.wallMs);
  cut.push(b.wallMs);
  fullJson = a.json;
  cutJson = b.json;
  console.log(`round ${r + 1}: unfiltered ${(a.wallMs / 1000).toFixed(2)} s, sliced ${(b.wallMs / 1000).toFixed(2)} s`);
}
const total = cutJson!.row_groups_read + cutJson!.row_groups_skipped;
console.log(
  `unfiltered: ${fullJson!.rows.toLocaleString("en-US")} rows, ${fullJson!.row_groups_read} row groups, median ${(median(full) / 1000).toFixed(2)} s`,
);
console.log(
  `--strikes ${band} --expiry-type weekly: ${cutJson!.rows.toLocaleString("en-US")} rows, ${cutJson!.row_groups_read} of ${total} row groups read (${((100 * cutJson!.row_groups_read) / total).toFixed(1)}%), median ${(median(cut) / 1000).toFixed(2)} s: ${(median(full) / median(cut)).toFixed(2)}× faster`,
);

// --dte 0:0: the row groups that can hold a contract expiring that day are exactly those of expiry days.
const expiryDays = new Set<string>();
if (existsSync(calendarPath))
  for (const l of readFileSync(calendarPath, "utf8").trim().split("\n").slice(1)) {
    const [u, , d] = l.split(",");
    expiryDays.add(`${u}/${d}`);
  }
let expected = 0;
let onExpiryDays = 0;
for (const p of partitions) {
  const day = parseIsoDate(p.date!);
  const gs = p.parts.flatMap((f) => readRowGroupStats(f, ["expiry"]));
  const holding = gs.filter(
    (g) => (g.minMax.get("expiry")!.min as number) <= day && day <= (g.minMax.get("expiry")!.max as number),
  ).length;
  expected += holding;
  if (expiryDays.has(`${p.underlying}/${p.date}`)) onExpiryDays += holding;
  else if (holding > 0)
    console.log(`  ${p.date}/${p.underlying}: holds a contract expiring that day but is not in the calendar`);
}
const dte = clean(["--dte", "0:0"]);
console.log(
  `--dte 0:0: ${dte.json.rows.toLocaleString("en-US")} rows, ${dte.json.row_groups_read} row groups read (expected from the footers: ${expected}, all on expiry days per ${calendarPath}: ${onExpiryDays === expected}), ${(dte.wallMs / 1000).toFixed(2)} s`,
);
