/**
 * The column cache on disk (docs/cache.md): a folder per part file, named by a hash of its real path,
 * holding one file per cached column. A part rewritten in place gets its columns replaced (their
 * key no longer matches); the folder's mtime is its last use, for least-recently-used eviction.
 */
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { removeAbandonedTempFiles } from "../atomic-file.ts";
import type { PartKey } from "./column-file.ts";

/** The default cache folder of a packed folder. */
export function defaultCacheDir(packedDir: string): string {
  return join(packedDir, "_tickpack", "cache");
}

/** The folder of a part's cached columns (made on demand). */
export function entryDir(cacheDir: string, key: PartKey): string {
  return join(cacheDir, Bun.hash(key.path).toString(16).padStart(16, "0"));
}

/** The file of one cached column in an entry folder. */
export function columnFilePath(entry: string, column: string): string {
  return join(entry, `${column}.col`);
}

/** Makes an entry folder (and the cache folder) if missing. */
export function ensureEntryDir(entry: string): void {
  mkdirSync(entry, { recursive: true });
}

/** Marks an entry as used now (its folder's mtime orders eviction). */
export function touchEntry(entry: string): void {
  const now = new Date();
  try {
    utimesSync(entry, now, now);
  } catch {
    // evicted meanwhile by another run: nothing to mark
  }
}

/** One entry folder: its bytes and when it was last used. */
export interface CacheEntryUsage {
  dir: string;
  bytes: number;
  lastUsedMs: number;
}

/** Every entry of the cache folder with its size; temp files of dead processes (and this one's, whose fills are over when it lists) are removed on the way. */
export function listCacheEntries(cacheDir: string): CacheEntryUsage[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const entries: CacheEntryUsage[] = [];
  for (const name of names) {
    const dir = join(cacheDir, name);
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) continue;
      removeAbandonedTempFiles(dir);
      let bytes = 0;
      for (const file of readdirSync(dir)) bytes += statSync(join(dir, file)).size;
      entries.push({ dir, bytes, lastUsedMs: st.mtimeMs });
    } catch {
      // removed by a concurrent eviction
    }
  }
  return entries;
}

/** What an eviction pass found and did. */
export interface EvictionResult {
  /** Bytes in the cache after eviction. */
  bytes: number;
  evictedEntries: number;
  evictedBytes: number;
}

/**
 * Removes least-recently-used entries until the cache holds at most `maxBytes`. A run reading an
 * evicted entry keeps its memory maps (unlinked files live on until unmapped); the next run rebuilds it.
 */
export function evictLeastRecentlyUsed(cacheDir: string, maxBytes: number): EvictionResult {
  const entries = listCacheEntries(cacheDir).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  let bytes = entries.reduce((a, e) => a + e.bytes, 0);
  let evictedEntries = 0;
  let evictedBytes = 0;
  for (const e of entries) {
    if (bytes <= maxBytes) break;
    rmSync(e.dir, { recursive: true, force: true });
    bytes -= e.bytes;
    evictedBytes += e.bytes;
    evictedEntries++;
  }
  return { bytes, evictedEntries, evictedBytes };
}
