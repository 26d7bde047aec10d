/** The column cache's settings and its per-task tallies: what a run without the cache also passes around. */

/** Where the cache is and how hard a run checks it. */
export interface CacheSettings {
  dir: string;
  /** Check every block of every file served (default: the first, the last and one random block). */
  verifyAll: boolean;
}

/** What a task did with the cache; (part, column) pairs are counted. */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Bytes of cache files written. */
  bytesWritten: number;
  /** Files found stale, truncated, garbled or foreign: dropped and rebuilt. */
  dropped: number;
  /** Why a fill failed (disk full, a folder that cannot be written): the run goes on without caching that part. */
  errors: string[];
}

/** Empty stats. */
export function noCacheStats(): CacheStats {
  return { hits: 0, misses: 0, bytesWritten: 0, dropped: 0, errors: [] };
}

/** Adds `b` into `a`. */
export function addCacheStats(a: CacheStats, b: CacheStats): void {
  a.hits += b.hits;
  a.misses += b.misses;
  a.bytesWritten += b.bytesWritten;
  a.dropped += b.dropped;
  for (const e of b.errors) if (a.errors.length < 10 && !a.errors.includes(e)) a.errors.push(e);
}
