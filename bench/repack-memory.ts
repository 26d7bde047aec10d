/**
 * Peak RSS and throughput of whole repack runs over several raw data sets (e.g. a 1-day, an 8-day and
 * a one-partition day), each into a fresh output folder that is removed afterwards.
 * `bun bench/repack-memory.ts RAW_DIR... [--workers 1,2] [--code DIR]` — `--code` runs another
 * checkout's scripts/repack.ts (e.g. an export of an older commit) on the same data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    workers: { type: "string", default: "2" },
    code: { type: "string", default: join(import.meta.dir, "..") },
  },
  allowPositionals: true,
});
if (positionals.length === 0)
  throw new Error("usage: bun bench/repack-memory.ts RAW_DIR... [--workers 1,2] [--code DIR]");
const root = join(import.meta.dir, "..");
for (const raw of positionals) {
  for (const workers of values.workers!.split(",")) {
    const out = mkdtempSync(join(root, "data", "bench-mem-"));
    try {
      const run = Bun.spawnSync(
        ["bun", join(values.code!, "scripts/repack.ts"), raw, "--out", out, "--workers", workers, "--json"],
        { stderr: "pipe" },
      );
      if (run.exitCode !== 0) throw new Error(`repack of ${raw} failed: ${run.stderr.toString().slice(-2000)}`);
      const s = JSON.parse(run.stdout.toString());
      console.log(
        JSON.stringify({
          raw,
          code: values.code,
          workers: Number(workers),
          rows: s.rows_in,
          partitions: s.partitions_written,
          elapsed_s: Number(s.elapsed_s.toFixed(2)),
          rows_per_s: Math.round(s.rows_per_s),
          peak_rss_mib: s.peak_rss_mib,
          packed_mib: Number((s.bytes_out / 2 ** 20).toFixed(1)),
        }),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
}
