/** The built-in sample data set bench runs on when given no folder: generated and packed once, then cached. */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_DEFECTS, generateRawDataset } from "../gen/gen.ts";
import { parseIsoDate } from "../ist-time.ts";
import type { ProgressListener } from "../progress.ts";
import { DEFAULT_PART_ROWS, DEFAULT_ROW_GROUP_SIZE } from "../packed/writer.ts";
import { repack } from "../repack/repack.ts";
import { keptCalendarPath } from "../packed/kept-calendar.ts";

/** Where the sample lives under a project root, and whether it is ready. */
export function samplePaths(root: string): { raw: string; packed: string; ready: boolean } {
  const base = join(root, "data", "sample");
  const packed = join(base, "packed");
  // A sample made before repack kept its calendar (lot sizes) is made again.
  return {
    raw: join(base, "raw"),
    packed,
    ready: existsSync(join(base, "READY")) && existsSync(keptCalendarPath(packed)),
  };
}

/** Creates the sample (≈3M rows: NIFTY + BANKNIFTY, 3 days, 5 strikes each side) unless it exists; returns the packed folder. */
export async function ensureSampleDataset(
  root: string,
  workers: number,
  onProgress?: ProgressListener,
): Promise<string> {
  const paths = samplePaths(root);
  if (paths.ready) return paths.packed;
  rmSync(join(root, "data", "sample"), { recursive: true, force: true });
  await generateRawDataset(
    {
      out: paths.raw,
      days: 3,
      start: parseIsoDate("2025-11-17"),
      underlyings: ["NIFTY", "BANKNIFTY"],
      seed: 1,
      strikesEachSide: 5,
      tickProb: 0.85,
      defects: DEFAULT_DEFECTS,
      rowGroupSize: 65_536,
      workers,
    },
    onProgress,
  );
  const summary = await repack(
    {
      rawDirs: [paths.raw],
      out: paths.packed,
      workers,
      rowGroupSize: DEFAULT_ROW_GROUP_SIZE,
      partRows: DEFAULT_PART_ROWS,
    },
    onProgress,
  );
  if (summary.files_failed > 0)
    throw new Error(`sample data set: ${summary.errors[0].file}: ${summary.errors[0].error}`);
  await Bun.write(join(root, "data", "sample", "READY"), new Date().toISOString());
  return paths.packed;
}
