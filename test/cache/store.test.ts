import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ColumnFileWriter } from "../../lib/cache/column-file.ts";
import { CacheDirRefused, claimCacheDir, evictLeastRecentlyUsed, listCacheEntries } from "../../lib/cache/store.ts";
import { writeCacheMarker } from "../../lib/cache/marker.ts";
import { tempPathFor } from "../../lib/atomic-file.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

afterAll(cleanupTempDirs);

/** A column file as the cache writes it, of `rows` float64 values; returns its bytes. */
function columnFile(path: string, rows: number): number {
  const key = { path: `/data/${path}.parquet`, bytes: 1, mtimeNs: "1", footer: "0000000000000000" };
  const w = new ColumnFileWriter(path, key, "price", "g", "plain", rows, [rows]);
  w.append(new Float64Array(rows).fill(1.5), null, rows);
  return w.commit();
}

/** An entry folder (named as the cache names them) holding one column file, last used `ageS` seconds ago. */
function entry(cache: string, name: string, rows: number, ageS: number): { dir: string; bytes: number } {
  const dir = join(cache, name.padEnd(16, "0"));
  mkdirSync(dir, { recursive: true });
  const bytes = columnFile(join(dir, "price.col"), rows);
  const t = new Date(Date.now() - ageS * 1000);
  utimesSync(dir, t, t);
  return { dir, bytes };
}

const none = { evictedEntries: 0, evictedBytes: 0, kept: [] };

describe("column cache store", () => {
  test("evicts least recently used entries until the cache fits, and says what it did", () => {
    const cache = tempDir("cache-store");
    const old = entry(cache, "01d", 1000, 300);
    const middle = entry(cache, "1dd1e", 2000, 200);
    const recent = entry(cache, "ecea", 3000, 100);
    const all = old.bytes + middle.bytes + recent.bytes;
    expect(evictLeastRecentlyUsed(cache, all)).toEqual({ bytes: all, ...none });
    expect(evictLeastRecentlyUsed(cache, all - 1)).toEqual({
      bytes: all - old.bytes,
      evictedEntries: 1,
      evictedBytes: old.bytes,
      kept: [],
    });
    expect(existsSync(old.dir)).toBe(false);
    expect(evictLeastRecentlyUsed(cache, 0)).toEqual({
      bytes: 0,
      evictedEntries: 2,
      evictedBytes: middle.bytes + recent.bytes,
      kept: [],
    });
    expect(readdirSync(cache)).toEqual([]);
  });

  test("a missing cache folder is empty; temp files of dead processes are removed, a live one's kept", () => {
    expect(listCacheEntries(join(tempDir("cache-none"), "absent"))).toEqual([]);
    const cache = tempDir("cache-temps");
    const { dir, bytes } = entry(cache, "e", 10, 0);
    const dead = join(dir, ".price.col.tmp-999999999-abc");
    // pid 1 always runs: another process's fill in progress.
    const live = join(dir, ".bp0.col.tmp-1-abc");
    writeFileSync(dead, "x");
    writeFileSync(live, "yy");
    const [e] = listCacheEntries(cache);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(e.bytes).toBe(bytes + 2);
  });

  test("eviction removes only the files the cache wrote: a user's file, a .col without the cache's header, folders not named as entries", () => {
    const cache = tempDir("cache-foreign");
    const withNotes = entry(cache, "a", 100, 300);
    writeFileSync(join(withNotes.dir, "notes.txt"), "mine");
    const forged = join(cache, "b".repeat(16));
    mkdirSync(forged);
    writeFileSync(join(forged, "price.col"), "TPKCACHE and then some bytes that are no header");
    mkdirSync(join(cache, "notes"));
    mkdirSync(join(cache, "c".repeat(17)));
    writeFileSync(join(cache, "todo.col"), "mine");
    for (const d of [forged, join(cache, "notes"), join(cache, "c".repeat(17))])
      utimesSync(d, new Date("2025-01-01"), new Date("2025-01-01"));
    const fresh = entry(cache, "d", 100, 0);

    const r = evictLeastRecentlyUsed(cache, 0);
    expect(readdirSync(withNotes.dir)).toEqual(["notes.txt"]);
    expect(readFileSync(join(forged, "price.col"), "utf8")).toStartWith("TPKCACHE and then");
    expect(existsSync(join(cache, "notes"))).toBe(true);
    expect(existsSync(join(cache, "c".repeat(17)))).toBe(true);
    expect(readFileSync(join(cache, "todo.col"), "utf8")).toBe("mine");
    expect(existsSync(fresh.dir)).toBe(false);
    expect(r.evictedEntries).toBe(1);
    expect(r.evictedBytes).toBe(withNotes.bytes + fresh.bytes);
    // The forged file is counted (it has a column file's name) but cannot be evicted.
    expect(r.bytes).toBe(statSync(join(forged, "price.col")).size);
    expect(r.kept).toEqual([
      `${forged}: holds files tickpack did not write (price.col)`,
      `${withNotes.dir}: holds files tickpack did not write (notes.txt)`,
    ]);
  });

  test("links in the cache are neither followed nor removed, even to the cache's own files", () => {
    const cache = tempDir("cache-links");
    const elsewhere = tempDir("cache-link-target");
    const own = columnFile(join(elsewhere, "price.col"), 100);
    writeFileSync(join(elsewhere, "notes.txt"), "mine");
    const linkedEntry = join(cache, "e".repeat(16));
    symlinkSync(elsewhere, linkedEntry);
    const { dir } = entry(cache, "f", 10, 300);
    symlinkSync(join(elsewhere, "price.col"), join(dir, "bp0.col"));
    symlinkSync(elsewhere, join(dir, "sp0.col"));
    const r = evictLeastRecentlyUsed(cache, 0);
    expect(readdirSync(elsewhere).sort()).toEqual(["notes.txt", "price.col"]);
    expect(statSync(join(elsewhere, "price.col")).size).toBe(own);
    expect(readdirSync(cache).sort()).toEqual(
      [linkedEntry.slice(cache.length + 1), dir.slice(cache.length + 1)].sort(),
    );
    expect(readdirSync(dir).sort()).toEqual(["bp0.col", "sp0.col"]);
    expect(r.kept).toEqual([`${dir}: holds files tickpack did not write (bp0.col, sp0.col)`]);
  });

  test("a removal that fails is reported for its entry, not thrown; the other entries are still evicted", () => {
    const cache = tempDir("cache-ro-entry");
    const stuck = entry(cache, "a", 100, 300);
    const other = entry(cache, "b", 100, 200);
    const remove = (path: string, folder: boolean) => {
      if (path.startsWith(stuck.dir)) throw new Error(`EROFS: read-only file system, unlink '${path}'`);
      (folder ? rmdirSync : unlinkSync)(path);
    };
    const r = evictLeastRecentlyUsed(cache, 0, remove);
    expect(r).toEqual({
      bytes: stuck.bytes,
      evictedEntries: 1,
      evictedBytes: other.bytes,
      kept: [`${stuck.dir}: EROFS: read-only file system, unlink '${join(stuck.dir, "price.col")}'`],
    });
    expect(existsSync(join(stuck.dir, "price.col"))).toBe(true);
    expect(existsSync(other.dir)).toBe(false);
  });

  test("a folder is taken as the cache when missing, marked, empty or made of cache entries; anything else is refused untouched", () => {
    const root = tempDir("cache-claim");
    claimCacheDir(join(root, "missing"));
    expect(existsSync(join(root, "missing"))).toBe(false); // made, marked, by the first fill

    const empty = join(root, "empty");
    mkdirSync(empty);
    claimCacheDir(empty);
    expect(readFileSync(join(empty, "CACHEDIR.TAG"), "utf8")).toContain("tickpack");

    const before = join(root, "before-marker");
    entry(before, "a", 10, 0);
    claimCacheDir(before);
    expect(existsSync(join(before, "CACHEDIR.TAG"))).toBe(true);

    const refused = (dir: string, what: string) => {
      expect(() => claimCacheDir(dir)).toThrow(CacheDirRefused);
      expect(() => claimCacheDir(dir)).toThrow(`holds ${what}, which tickpack did not write`);
    };
    const otherTag = join(root, "other-tag");
    mkdirSync(otherTag);
    writeFileSync(join(otherTag, "CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n# another tool\n");
    refused(otherTag, "CACHEDIR.TAG");
    expect(readFileSync(join(otherTag, "CACHEDIR.TAG"), "utf8")).toContain("another tool");

    const withLink = join(root, "link");
    mkdirSync(withLink);
    symlinkSync(empty, join(withLink, "0".repeat(16)));
    refused(withLink, "0".repeat(16));

    const forged = join(root, "forged");
    mkdirSync(join(forged, "1".repeat(16)), { recursive: true });
    writeFileSync(join(forged, "1".repeat(16), "price.col"), "no header");
    refused(forged, join("1".repeat(16), "price.col"));
    for (const dir of [withLink, forged]) expect(existsSync(join(dir, "CACHEDIR.TAG"))).toBe(false);

    const file = join(root, "file");
    writeFileSync(file, "");
    expect(() => claimCacheDir(file)).toThrow("not a folder");
  });

  test("the marker never goes over another one and leaves no temp file; a folder another bench is marking is taken", () => {
    const root = tempDir("cache-marker");
    // Another bench between writing its marker's temp file and linking it into place.
    const marking = join(root, "marking");
    mkdirSync(marking);
    writeFileSync(tempPathFor(join(marking, "CACHEDIR.TAG")), "Signature: 8a477f597d28d172789f06886806bc55\n");
    claimCacheDir(marking);
    expect(readFileSync(join(marking, "CACHEDIR.TAG"), "utf8")).toContain("tickpack");

    // Another tool's tag is kept as it is, and no temp file is left beside it.
    const tagged = join(root, "tagged");
    mkdirSync(tagged);
    writeFileSync(join(tagged, "CACHEDIR.TAG"), "another tool\n");
    writeCacheMarker(tagged);
    expect(readFileSync(join(tagged, "CACHEDIR.TAG"), "utf8")).toBe("another tool\n");
    expect(readdirSync(tagged)).toEqual(["CACHEDIR.TAG"]);
    const fresh = join(root, "fresh");
    mkdirSync(fresh);
    writeCacheMarker(fresh);
    expect(readdirSync(fresh)).toEqual(["CACHEDIR.TAG"]);
  });

  test("processes claiming and filling the same new folders at once never refuse one another's", async () => {
    // A run that began while another was making the folder read its marker empty (created, not yet
    // written) or saw it appear after its first look, and refused the folder as another tool's.
    const root = tempDir("cache-race");
    const child = join(import.meta.dir, "..", "helpers", "cache-claim-child.ts");
    const runs = Array.from({ length: 6 }, () =>
      Bun.spawn([process.execPath, child, root, "1000"], { stdout: "pipe", stderr: "inherit" }),
    );
    const refusals = (await Promise.all(runs.map((p) => new Response(p.stdout).text()))).join("");
    for (const p of runs) expect(await p.exited).toBe(0);
    expect(refusals).toBe("");
    for (const name of readdirSync(root))
      expect(readdirSync(join(root, name)).sort()).toEqual(["0123456789abcdef", "CACHEDIR.TAG"]);
  });
});
