/** The packed partitions of a seed-layout folder, listed by the tests themselves (not by lib/): an independent reading for references. */
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** A packed partition of the seed layout: its day, underlying and parts in index order. */
export interface SeedPartition {
  date: string;
  underlying: string;
  parts: string[];
}

/** `<dir>/<YYYY-MM-DD>/<UNDERLYING>/part-*-<k>.parquet`, by date, then underlying, parts by k. */
export function seedPartitions(dir: string): SeedPartition[] {
  const out: SeedPartition[] = [];
  for (const date of readdirSync(dir)
    .filter((d) => /^\d{4}-\d\d-\d\d$/.test(d))
    .sort()) {
    for (const underlying of readdirSync(join(dir, date)).sort()) {
      const parts = readdirSync(join(dir, date, underlying))
        .map((f) => /^part-.*-(\d+)\.parquet$/.exec(f))
        .filter((m) => m !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((m) => join(dir, date, underlying, m[0]));
      out.push({ date, underlying, parts });
    }
  }
  return out;
}
