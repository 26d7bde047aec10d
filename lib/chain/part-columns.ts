/**
 * A chain run's columns of one part, mapped from the column cache: a chain strategy reads a
 * partition's contracts side by side in time order, so each part's columns must be addressable
 * whole without holding them in anonymous memory. A part not cached yet is decoded once, row group
 * by row group, into the cache files first (the run's cache, or a private one that the run removes).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CacheSettings, CacheStats } from "../cache/cache-stats.ts";
import { PartCache } from "../cache/part-cache.ts";
import { fillingSource } from "../read/cache-fill.ts";
import { openDecodeSource, type DecodeSettings } from "../read/decode-source.ts";
import { StrategyInputError } from "../read/input-error.ts";
import type { ColumnViews, PartSource } from "../read/part-source.ts";
import type { PartsBySource } from "../read/run-partition.ts";
import { chainTempPrefix } from "./temp-folders.ts";

/** Decodes every row group of the part into the cache files of `cache` (a failure only leaves the part uncached). */
async function fillPart(
  path: string,
  fd: number,
  cache: PartCache,
  columns: string[],
  decode: DecodeSettings,
): Promise<PartSource["kind"]> {
  const source = fillingSource(await openDecodeSource(path, fd, columns, decode), cache, columns);
  try {
    for (let g = 0; g < source.rowGroupRows.length; g++) await source.read(columns, { rowGroups: [g] }, () => {});
    source.commitFill();
    return source.kind;
  } finally {
    source.close();
  }
}

/**
 * `cache` (found incomplete) filled and mapped again, or null (released) where the fill failed:
 * its errors are the cache's, not the run's, and a private folder takes over.
 */
async function refilled(
  path: string,
  fd: number,
  cache: PartCache,
  settings: CacheSettings,
  columns: string[],
  stats: CacheStats,
  decode: DecodeSettings,
): Promise<{ cache: PartCache; kind: PartSource["kind"] } | null> {
  const errors = stats.errors.length;
  const kind = await fillPart(path, fd, cache, columns, decode);
  cache.release();
  if (stats.errors.length !== errors) return null;
  const again = new PartCache(path, fd, settings, columns, stats);
  if (again.complete(columns)) return { cache: again, kind };
  again.release();
  return null;
}

/** The part's columns filled into, and mapped from, the run's private folder `dir`. */
async function privatelyFilled(
  path: string,
  fd: number,
  dir: string,
  columns: string[],
  stats: CacheStats,
  decode: DecodeSettings,
): Promise<{ cache: PartCache; kind: PartSource["kind"] }> {
  const own = { dir, verifyAll: false };
  const scratch = { ...stats, errors: [] as string[] };
  const filling = new PartCache(path, fd, own, columns, scratch);
  const kind = await fillPart(path, fd, filling, columns, decode);
  filling.release();
  const cache = new PartCache(path, fd, own, columns, scratch);
  if (!cache.complete(columns)) {
    cache.release();
    throw new StrategyInputError(
      `${path}: its columns could not be mapped for a chain strategy (${scratch.errors[0] ?? `${dir} is not writable`})`,
    );
  }
  return { cache, kind };
}

/** The parts' columns mapped, and how to let them go. */
export interface MappedParts {
  views: ColumnViews[];
  rowGroups: number;
  /** Parts by what decoded them (a part served from the cache: "cache"). */
  partsBy: PartsBySource;
  release(): void;
}

/**
 * Every part's `columns` as views over mapped cache files, filling the cache first where needed.
 * Without a cache (or one that cannot be filled: read-only, disk full) the columns go to a private
 * folder in TMPDIR, removed by `release`.
 */
export async function mapPartColumns(
  parts: readonly { path: string; fd: number }[],
  columns: string[],
  settings: CacheSettings | null,
  stats: CacheStats,
  decode: DecodeSettings = {},
): Promise<MappedParts> {
  const held: PartCache[] = [];
  let privateDir: string | null = null;
  const release = () => {
    for (const c of held) c.release();
    held.length = 0;
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
    privateDir = null;
  };
  try {
    const views: ColumnViews[] = [];
    const partsBy: PartsBySource = { cache: 0, native: 0, wasm: 0 };
    let rowGroups = 0;
    for (const { path, fd } of parts) {
      let cache = settings ? new PartCache(path, fd, settings, columns, stats) : null;
      const cold = !cache?.complete(columns);
      if (!cache || cold) {
        let made = cache && settings ? await refilled(path, fd, cache, settings, columns, stats, decode) : null;
        if (!made) {
          privateDir ??= mkdtempSync(join(tmpdir(), chainTempPrefix(process.pid)));
          made = await privatelyFilled(path, fd, privateDir, columns, stats, decode);
        }
        cache = made.cache;
        partsBy[made.kind]++;
      } else partsBy.cache++;
      held.push(cache);
      views.push(cache.views(columns));
      // A part decoded by this run counts as misses (its fill's), not also as hits.
      if (cold) stats.hits -= columns.length;
      rowGroups += cache.rowGroupCount();
    }
    return { views, rowGroups, partsBy, release };
  } catch (e) {
    release();
    throw e;
  }
}
