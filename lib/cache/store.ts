/**
 * The column cache on disk (docs/cache.md): a folder per part file, named by a hash of its real path,
 * holding one file per cached column. A part rewritten in place gets its columns replaced (their
 * key no longer matches); the folder's mtime is its last use, for least-recently-used eviction.
 * The cache removes only what it can prove it wrote (a column file's header, its own temp files) and
 * never follows a link: whatever else is in its folder, a user's or a data set's, stays.
 */
import { lstatSync, lutimesSync, mkdirSync, readdirSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { isAbandonedTempFileName, isTempFileName } from "../atomic-file.ts";
import { fsReason } from "../error-message.ts";
import { isColumnFile, type PartKey } from "./column-file.ts";
import { CACHE_MARKER, hasCacheMarker, isCacheMarkerTemp, writeCacheMarker } from "./marker.ts";

/** The default cache folder of a packed folder. */
export function defaultCacheDir(packedDir: string): string {
  return join(packedDir, "_tickpack", "cache");
}

// An entry folder's name (entryDir): nothing else in the cache folder is taken for an entry.
const ENTRY_NAME = /^[0-9a-f]{16}$/;
const COLUMN_FILE_SUFFIX = ".col";

/** The folder of a part's cached columns (made on demand). */
export function entryDir(cacheDir: string, key: PartKey): string {
  return join(cacheDir, Bun.hash(key.path).toString(16).padStart(16, "0"));
}

/** The file of one cached column in an entry folder. */
export function columnFilePath(entry: string, column: string): string {
  return join(entry, `${column}${COLUMN_FILE_SUFFIX}`);
}

/** Whether `path` is a real folder (not a link to one). */
function isRealFolder(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Makes an entry folder if missing, and the cache folder with its marker if that is missing too.
 * Throws when the entry's name is taken by anything but a real folder (a link is not followed).
 */
export function ensureEntryDir(entry: string): void {
  const cacheDir = dirname(entry);
  if (mkdirSync(cacheDir, { recursive: true }) !== undefined) writeCacheMarker(cacheDir);
  try {
    mkdirSync(entry);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  if (!isRealFolder(entry)) throw new Error(`${entry}: not a folder the cache made`);
}

/**
 * Removes a column file that failed its checks, so that it is rebuilt: within an entry folder the
 * name `<column>.col` is the cache's own (a fill would replace it anyway). A link is left alone, and
 * so is a file the cache cannot remove (a read-only cache); returns whether it was removed.
 */
export function dropColumnFile(path: string): boolean {
  try {
    if (!isRealFolder(dirname(path)) || !lstatSync(path).isFile()) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Marks an entry as used now (its folder's mtime orders eviction; a link's own time, not its target's). */
export function touchEntry(entry: string): void {
  const now = new Date();
  try {
    lutimesSync(entry, now, now);
  } catch {
    // evicted meanwhile by another run, or a read-only cache: nothing to mark
  }
}

/** Unlinks a file; false when it cannot be. */
function unlinked(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What an entry folder holds, by what the cache may do with it. */
interface EntryFiles {
  /** Regular files with a column file's name, and their bytes (a header check proves each before it is removed). */
  columns: { path: string; bytes: number }[];
  /** Temp files of fills still running (another process's: the entry is in use), or that could not be removed. */
  temps: number;
  tempBytes: number;
  /** Names of everything else: links, folders, files of other names. Never touched. */
  foreign: string[];
}

/** Sorts an entry folder's contents; with `removeAbandoned`, temp files of dead processes (and this one's) are removed on the way, where they can be. */
function entryFiles(dir: string, removeAbandoned: boolean): EntryFiles {
  const files: EntryFiles = { columns: [], temps: 0, tempBytes: 0, foreign: [] };
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(path);
    } catch {
      continue; // removed meanwhile (a fill's temp renamed, a concurrent eviction)
    }
    if (!st.isFile()) files.foreign.push(name);
    else if (name.endsWith(COLUMN_FILE_SUFFIX) && !name.startsWith(".")) files.columns.push({ path, bytes: st.size });
    else if (!isTempFileName(name)) files.foreign.push(name);
    else if (!(removeAbandoned && isAbandonedTempFileName(name) && unlinked(path))) {
      files.temps++; // a live fill's, or one that cannot be removed (a read-only cache): still there, still counted
      files.tempBytes += st.size;
    }
  }
  return files;
}

/** One entry folder: its bytes and when it was last used. */
export interface CacheEntryUsage {
  dir: string;
  /** Bytes of its column files and temp files. */
  bytes: number;
  lastUsedMs: number;
}

/** Every entry of the cache folder (real folders with an entry's name) with its size; abandoned temp files are removed on the way. */
export function listCacheEntries(cacheDir: string): CacheEntryUsage[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const entries: CacheEntryUsage[] = [];
  for (const name of names) {
    if (!ENTRY_NAME.test(name)) continue;
    const dir = join(cacheDir, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory()) continue;
      const files = entryFiles(dir, true);
      const bytes = files.columns.reduce((a, f) => a + f.bytes, files.tempBytes);
      entries.push({ dir, bytes, lastUsedMs: st.mtimeMs });
    } catch {
      // removed by a concurrent eviction
    }
  }
  return entries;
}

/** Removes a file (`folder` false) or an empty folder; a test can make it fail as a read-only cache does. */
export type Remover = (path: string, folder: boolean) => void;

const removeFromDisk: Remover = (path, folder) => (folder ? rmdirSync(path) : unlinkSync(path));

/** What an eviction pass found and did. */
export interface EvictionResult {
  /** Bytes in the cache after eviction. */
  bytes: number;
  /** Entry folders removed whole. */
  evictedEntries: number;
  /** Bytes of the files removed. */
  evictedBytes: number;
  /** What eviction left in place, one `path: reason` per entry: files the cache did not write, or a removal that failed. */
  kept: string[];
}

/** Removes the cache's own files of one entry, then the folder if nothing else is in it. */
function evictEntry(
  dir: string,
  remove: Remover,
): { removedBytes: number; removedFolder: boolean; kept: string | null } {
  let removedBytes = 0;
  try {
    const files = entryFiles(dir, true);
    const foreign = files.foreign;
    for (const f of files.columns) {
      if (!isColumnFile(f.path)) {
        foreign.push(f.path.slice(dir.length + 1));
        continue;
      }
      remove(f.path, false);
      removedBytes += f.bytes;
    }
    if (foreign.length > 0)
      return {
        removedBytes,
        removedFolder: false,
        kept: `${dir}: holds files tickpack did not write (${foreign.sort().join(", ")})`,
      };
    if (files.temps > 0) return { removedBytes, removedFolder: false, kept: null }; // a fill in progress
    remove(dir, true);
    return { removedBytes, removedFolder: true, kept: null };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT: a concurrent run evicted it first; ENOTEMPTY: a run started filling it again.
    if (code === "ENOENT" || code === "ENOTEMPTY") return { removedBytes, removedFolder: false, kept: null };
    return { removedBytes, removedFolder: false, kept: `${dir}: ${fsReason(e)}` };
  }
}

/**
 * Removes least-recently-used entries until the cache holds at most `maxBytes`. A run reading an
 * evicted entry keeps its memory maps (unlinked files live on until unmapped); the next run rebuilds it.
 * Never throws for an entry it cannot remove (a read-only cache): `kept` names it and why.
 */
export function evictLeastRecentlyUsed(
  cacheDir: string,
  maxBytes: number,
  remove: Remover = removeFromDisk,
): EvictionResult {
  const entries = listCacheEntries(cacheDir).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  let bytes = entries.reduce((a, e) => a + e.bytes, 0);
  let evictedEntries = 0;
  let evictedBytes = 0;
  const kept: string[] = [];
  for (const e of entries) {
    if (bytes <= maxBytes) break;
    const r = evictEntry(e.dir, remove);
    bytes -= r.removedBytes;
    evictedBytes += r.removedBytes;
    if (r.removedFolder) evictedEntries++;
    if (r.kept !== null) kept.push(r.kept);
  }
  return { bytes, evictedEntries, evictedBytes, kept };
}

/** A folder the cache may not use, and why. */
export class CacheDirRefused extends Error {}

/** Why `name` in an unmarked cache folder is not the cache's own, or null when it is (an entry of cache files). */
function notOwnEntry(cacheDir: string, name: string): string | null {
  const path = join(cacheDir, name);
  if (!ENTRY_NAME.test(name) || !isRealFolder(path)) return name;
  const files = entryFiles(path, false);
  if (files.foreign.length > 0) return join(name, files.foreign[0]);
  const forged = files.columns.find((f) => !isColumnFile(f.path));
  return forged ? join(name, forged.path.slice(path.length + 1)) : null;
}

/**
 * Checks that `cacheDir` may be the column cache, and marks it so when it may: a folder that does not
 * exist yet (the first fill makes it, marked), a folder with tickpack's marker, or an unmarked one that
 * holds nothing but cache entries (empty, or a cache from before the marker). Anything else (a packed
 * or raw folder, a folder above one, a user's folder) is refused: eviction there would have nothing
 * of its own to remove, and the run's files would mix with the user's.
 */
export function claimCacheDir(cacheDir: string): void {
  let isFolder: boolean;
  try {
    isFolder = statSync(cacheDir).isDirectory();
  } catch {
    return; // missing (made on the first fill), or cannot be looked at (the fill says why)
  }
  if (!isFolder) throw new CacheDirRefused("not a folder");
  if (hasCacheMarker(cacheDir)) return;
  let names: string[];
  try {
    names = readdirSync(cacheDir).sort();
  } catch {
    return; // cannot be listed: nothing will be read or evicted there
  }
  for (const name of names) {
    // Another bench marking the folder right now: its marker's temp file is not a stranger's.
    if (isCacheMarkerTemp(name)) continue;
    // Another bench may have marked the folder since the look above: read again before refusing.
    if (name === CACHE_MARKER && hasCacheMarker(cacheDir)) return;
    // Another program's tag (or a torn one of ours) is not overwritten: the folder is not taken.
    const foreign = name === CACHE_MARKER ? name : notOwnEntry(cacheDir, name);
    if (foreign !== null)
      throw new CacheDirRefused(
        `holds ${foreign}, which tickpack did not write as cache; the cache takes a new or empty folder, or one it made (it marks it with ${CACHE_MARKER})`,
      );
  }
  writeCacheMarker(cacheDir);
}
