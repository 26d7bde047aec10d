import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { evictLeastRecentlyUsed, listCacheEntries } from "../../lib/cache/store.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

afterAll(cleanupTempDirs);

/** An entry folder holding `bytes` bytes, last used `ageS` seconds ago. */
function entry(cache: string, name: string, bytes: number, ageS: number): string {
  const dir = join(cache, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "price.col"), new Uint8Array(bytes));
  const t = new Date(Date.now() - ageS * 1000);
  utimesSync(dir, t, t);
  return dir;
}

describe("column cache store", () => {
  test("evicts least recently used entries until the cache fits, and says what it did", () => {
    const cache = tempDir("cache-store");
    entry(cache, "old", 1000, 300);
    entry(cache, "middle", 1000, 200);
    entry(cache, "recent", 1000, 100);
    expect(evictLeastRecentlyUsed(cache, 5000)).toEqual({ bytes: 3000, evictedEntries: 0, evictedBytes: 0 });
    expect(evictLeastRecentlyUsed(cache, 2000)).toEqual({ bytes: 2000, evictedEntries: 1, evictedBytes: 1000 });
    expect(readdirSync(cache).sort()).toEqual(["middle", "recent"]);
    expect(evictLeastRecentlyUsed(cache, 0)).toEqual({ bytes: 0, evictedEntries: 2, evictedBytes: 2000 });
    expect(readdirSync(cache)).toEqual([]);
  });

  test("a missing cache folder is empty; temp files of dead processes are removed, a live one's kept", () => {
    expect(listCacheEntries(join(tempDir("cache-none"), "absent"))).toEqual([]);
    const cache = tempDir("cache-temps");
    const dir = entry(cache, "e", 10, 0);
    const dead = join(dir, ".price.col.tmp-999999999-abc");
    // pid 1 always runs: another process's fill in progress.
    const live = join(dir, ".bp0.col.tmp-1-abc");
    writeFileSync(dead, "x");
    writeFileSync(live, "yy");
    const [e] = listCacheEntries(cache);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(e.bytes).toBe(12);
  });
});
