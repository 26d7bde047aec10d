/**
 * Repack throughput on a generated data set: rows/s, peak RSS, raw vs packed bytes.
 * `bun bench/repack-throughput.ts [--days 8] [--strikes 20] [--workers N]` (defaults: ~20M rows).
 * The raw set is generated once and cached under data/; each run repacks into a fresh folder.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    days: { type: "string", default: "8" },
    strikes: { type: "string", default: "20" },
    workers: { type: "string", default: String(navigator.hardwareConcurrency || 2) },
  },
});
const root = join(import.meta.dir, "..");
const raw = join(root, "data", `bench-raw-d${values.days}-s${values.strikes}`);
if (!existsSync(join(raw, "expiry_calendar.csv"))) {
  console.error(`generating ${raw} …`);
  // The feed's quirks off: the same rows as the data sets measured before gen had them.
  const quirksOff = ["--epoch-zero-rate", "0", "--volume-reset-rate", "0", "--pre-open-rate", "0"];
  const gen = Bun.spawnSync(
    [
      "bun",
      join(root, "scripts/gen.ts"),
      "--out",
      raw,
      "--days",
      values.days!,
      "--strikes",
      values.strikes!,
      ...quirksOff,
    ],
    { stderr: "inherit" },
  );
  if (gen.exitCode !== 0) process.exit(1);
}
const out = mkdtempSync(join(root, "data", "bench-packed-"));
try {
  const run = Bun.spawnSync(
    ["bun", join(root, "scripts/repack.ts"), raw, "--out", out, "--workers", values.workers!, "--json"],
    { stderr: "inherit" },
  );
  if (run.exitCode !== 0) process.exit(1);
  const s = JSON.parse(run.stdout.toString());
  console.log(
    JSON.stringify({
      rows: s.rows_in,
      workers: Number(values.workers),
      elapsed_s: Number(s.elapsed_s.toFixed(2)),
      rows_per_s: Math.round(s.rows_per_s),
      peak_rss_mib: s.peak_rss_mib,
      raw_mib: Number((s.bytes_in / 2 ** 20).toFixed(1)),
      packed_mib: Number((s.bytes_out / 2 ** 20).toFixed(1)),
      raw_bytes_per_row: Number((s.bytes_in / s.rows_in).toFixed(2)),
      packed_bytes_per_row: Number((s.bytes_out / s.rows_in).toFixed(2)),
    }),
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
