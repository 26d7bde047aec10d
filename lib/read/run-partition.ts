/**
 * A partition run: the plan (read-plan.ts), a source per part (the column cache, else a decode),
 * and one loop that reads each planned row group or window and feeds the kernel.
 */
import type { KernelRun, LoadedKernel } from "../../kernel/strategy-kernel.ts";
import type { CacheSettings, CacheStats } from "../cache/cache-stats.ts";
import { openPartitionSnapshot } from "../packed/snapshot.ts";
import type { FillingSource } from "./cache-fill.ts";
import { openDecodeSource, type DecodeSettings } from "./decode-source.ts";
import { kernelBatch, projectedColumns, type ReadExtras } from "./driver-batch.ts";
import { StrategyInputError } from "./input-error.ts";
import { keyWindowSteps } from "./key-windows.ts";
import type { PartSource } from "./part-source.ts";
import {
  groupsRead,
  planPartitionRead,
  unfilteredPlan,
  type GroupStep,
  type PartitionFilter,
  type PartPlan,
} from "./read-plan.ts";
import { SegmentCutter } from "./segment-cutter.ts";

/** How a partition run reads: through the column cache or not, and what to await before decoding Parquet. */
export interface ReadSettings {
  cache: CacheSettings | null;
  /** How a part not served from the cache is decoded. */
  decode?: DecodeSettings;
  /** The run's slice filters with the partition's day and underlying as its path says them (null: unfiltered). */
  filter?: PartitionFilter | null;
}

/** What a partition run read: the projected columns and the row groups run or skipped. */
export interface PartitionRead {
  columns: string[];
  rowGroupsRead: number;
  rowGroupsSkipped: number;
  /** Parts read, by what served them. */
  partsBy: PartsBySource;
}

/** Parts read, by the kind of source that served them. */
export type PartsBySource = Record<PartSource["kind"], number>;

const WHOLE: GroupStep = { kind: "whole", allSelected: false };

/** A part plan's steps where its footer's row groups are the source's, else every group read whole (its rows' keys looked at). */
function stepsFor(part: PartPlan | null, source: PartSource): GroupStep[] {
  const same =
    part !== null &&
    part.groups.length === source.rowGroupRows.length &&
    part.groups.every((g, k) => g.rows === source.rowGroupRows[k]);
  return same ? part.steps : source.rowGroupRows.map(() => WHOLE);
}

/** The column cache's reading and filling, loaded by the first run that uses the cache: a worker that never does skips their imports. */
const cacheReading = (settings: CacheSettings) =>
  Promise.all([import("../cache/part-cache.ts"), import("./cache-fill.ts"), import("./cache-source.ts")]).then(
    ([{ PartCache }, { fillingSource }, { cacheSource }]) => ({ settings, PartCache, fillingSource, cacheSource }),
  );

/**
 * Runs a partition's parts, in order, through the kernel as one sequence; returns the columns read
 * and the row groups run and skipped. The parts are opened together as one snapshot: a repack
 * committing meanwhile is seen whole or not at all. With a cache, a part whose columns are all
 * cached is served from the cache files; any other part is decoded and its missing columns are
 * written on the way (only when every row group of it is read: a cache file holds a whole part).
 * With filters, a row group whose footer statistics rule out every selected segment is not read
 * (nor its cached pages touched), and inside the groups read only selected segments' rows are run.
 */
export async function runPartition(
  parts: string[],
  run: KernelRun,
  kernel: LoadedKernel,
  extras: ReadExtras,
  settings: ReadSettings,
  stats: CacheStats,
): Promise<PartitionRead> {
  const columns = projectedColumns(kernel, extras);
  const caching = settings.cache ? await cacheReading(settings.cache) : null;
  const snapshot = openPartitionSnapshot(parts);
  const counts: PartitionRead = {
    columns,
    rowGroupsRead: 0,
    rowGroupsSkipped: 0,
    partsBy: { cache: 0, native: 0, wasm: 0 },
  };
  try {
    // Without filters no footer is parsed (a 64-column footer costs ~13% of a warm run): row groups
    // are counted from the cache's headers or from the decode.
    const plan = settings.filter
      ? planPartitionRead(snapshot.parts, settings.filter)
      : unfilteredPlan(snapshot.parts.length);
    if (plan.nothing) {
      counts.rowGroupsSkipped = plan.groups;
      return counts;
    }
    const sel = plan.sel;
    const cutter = new SegmentCutter(run, sel);
    for (const [p, { path, fd }] of snapshot.parts.entries()) {
      const part = plan.parts[p];
      const target = { file: path, kernel, extras };
      const nRead = part ? groupsRead(part) : -1;
      if (part) {
        counts.rowGroupsRead += nRead;
        counts.rowGroupsSkipped += part.steps.length - nRead;
      }
      if (nRead === 0) {
        cutter.skipped();
        continue;
      }
      const cache = caching ? new caching.PartCache(path, fd, caching.settings, columns, stats) : null;
      try {
        let source: PartSource;
        let fill: FillingSource | null = null;
        if (caching && cache?.complete(columns)) source = caching.cacheSource(path, cache, columns);
        else {
          // The driver looks timestamps up at trades only: a dictionary-coded chunk comes as codes, not gathered.
          source = await openDecodeSource(path, fd, columns, settings.decode, extras.ts ? ["timestamp"] : []);
          // A cache file holds a whole part: a part read in part is not cached (an unfiltered run fills it).
          if (caching && cache && (nRead < 0 || nRead === source.rowGroupRows.length))
            source = fill = caching.fillingSource(source, cache, columns);
          else if (cache) stats.misses += columns.length;
        }
        counts.partsBy[source.kind]++;
        try {
          if (!part) counts.rowGroupsRead += source.rowGroupRows.length;
          let steps = stepsFor(part, source);
          // Windows pay where rows are decoded: not from the cache's mapping, nor while filling it (it needs every row).
          if (sel && part && steps === part.steps && source.kind !== "cache" && !fill)
            steps = await keyWindowSteps(source, part, sel);
          for (const [g, step] of steps.entries()) {
            if (step.kind === "skip") {
              cutter.skipped();
              continue;
            }
            if (step.kind === "window") {
              // Skipping rows is not free (the last row alone of the 4 value columns costs ~1/3 of the
              // whole group, measured), but always cheaper than decoding them.
              const { start, end } = step;
              if (start > 0) cutter.skipped();
              await source.read(columns, { rowGroups: [g], offset: start, limit: end - start }, (batches) => {
                if (batches.length !== 1 || batches[0].length !== end - start)
                  throw new StrategyInputError(
                    `${path}: row group ${g}: a read of rows ${start}..${end} returned ${batches.map((b) => b.length).join("+")} rows`,
                  );
                const kb = kernelBatch(batches[0], columns, target);
                if (step.allSelected) cutter.feedSelected(kb);
                else cutter.feed(kb);
              });
              if (end < source.rowGroupRows[g]) cutter.skipped();
              continue;
            }
            // A group the statistics show to be wholly selected needs no look at its rows' keys.
            await source.read(columns, { rowGroups: [g] }, (batches) => {
              for (const b of batches) {
                const kb = kernelBatch(b, columns, target);
                if (step.allSelected) cutter.feedSelected(kb);
                else cutter.feed(kb);
              }
            });
          }
          fill?.commitFill();
        } finally {
          source.close();
        }
      } finally {
        // The kernel keeps no pointer into a batch once it has run it (state and trades are copies).
        cache?.release();
      }
    }
  } finally {
    snapshot.close();
  }
  run.endPartition();
  return counts;
}
