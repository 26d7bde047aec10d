import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { runScript } from "../helpers/packed-views.ts";
import { cleanupTempDirs, genFixture, repackFixture, stampToDetectWrites, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(120_000);
const ROOT = join(import.meta.dir, "..", "..");

let raw: string;
let packed: string;
beforeAll(async () => {
  raw = tempDir("cache-raw");
  await genFixture(raw, { tickProb: 0.4, days: 2 });
  packed = tempDir("cache-packed");
  await repackFixture([raw], packed, { rowGroupSize: 3000 });
});
afterAll(cleanupTempDirs);

interface Json {
  rows: number;
  trades: number;
  pnl: number;
  by_underlying: unknown;
  grid: { trades: number; pnl: number }[];
  cache: {
    dir: string;
    hits: number;
    misses: number;
    bytes: number;
    evicted: number;
    bytes_written: number;
    dropped: number;
    errors: string[];
  } | null;
}

function bench(args: string[]): Json {
  const r = runScript("bench.ts", [...args, "--json"]);
  if (r.code !== 0) throw new Error(`bench ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const results = (j: Json) =>
  JSON.stringify([j.rows, j.trades, j.pnl, j.by_underlying, j.grid.map((g) => [g.trades, g.pnl])]);
/** A copy of the packed fixture, so each test owns its cache. */
function copyOfPacked(label: string): string {
  const dir = tempDir(label);
  cpSync(packed, dir, { recursive: true });
  return dir;
}
/** The column files of a cache folder, `<entry>/<column>.col`. */
const cacheFiles = (cache: string) =>
  readdirSync(cache)
    .filter((e) => statSync(join(cache, e)).isDirectory())
    .flatMap((e) => readdirSync(join(cache, e)).map((f) => join(cache, e, f)));
/** Every path under `dir` with its size (folders as -1): what a run must leave as it was. */
const tree = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[])
    .sort()
    .map((f) => `${f} ${statSync(join(dir, f)).isDirectory() ? -1 : statSync(join(dir, f)).size}`);
/** Makes `path` look unused for a year (eviction takes the oldest first). */
const age = (path: string) => utimesSync(path, new Date("2025-01-01"), new Date("2025-01-01"));

// A read-only bind mount in a user and mount namespace: a cache that no one, root included, can write.
const READ_ONLY_MOUNTS = (() => {
  const probe = tempDir("cache-ro-probe");
  return (
    Bun.spawnSync([
      "unshare",
      "--user",
      "--map-root-user",
      "--mount",
      "sh",
      "-c",
      'mount --bind -o ro "$0" "$0"',
      probe,
    ]).exitCode === 0
  );
})();
/** bench with `args`, the folder `readOnly` mounted read-only for the run. */
function benchReadOnly(readOnly: string, args: string[]) {
  const p = Bun.spawnSync(
    [
      "unshare",
      "--user",
      "--map-root-user",
      "--mount",
      "sh",
      "-c",
      'mount --bind -o ro "$0" "$0" && exec "$@"',
      readOnly,
      process.execPath,
      join(ROOT, "scripts", "bench.ts"),
      ...args,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("bench column cache", () => {
  test("the first run fills the cache, later runs are served from it, results identical to --no-cache, 1 and 2 workers", () => {
    const dir = copyOfPacked("cache-basic");
    const cold = bench([dir, "--no-cache"]);
    expect(cold.cache).toBeNull();
    expect(existsSync(join(dir, "_tickpack", "cache"))).toBe(false);
    const fill = bench([dir, "--workers", "2"]);
    expect(fill.cache!.misses).toBeGreaterThan(0);
    expect(fill.cache!.hits).toBe(0);
    expect(fill.cache!.bytes_written).toBe(fill.cache!.bytes);
    expect(fill.cache!.dir).toBe(join(dir, "_tickpack", "cache"));
    for (const workers of ["1", "2"]) {
      const warm = bench([dir, "--workers", workers]);
      expect(warm.cache!.misses).toBe(0);
      expect(warm.cache!.hits).toBe(fill.cache!.misses);
      expect(warm.cache!.bytes_written).toBe(0);
      expect(results(warm)).toBe(results(cold));
    }
    expect(results(fill)).toBe(results(cold));
    // ~4–8 bytes per row and column cached (plus headers).
    expect(fill.cache!.bytes / cold.rows).toBeGreaterThan(30);
  });

  test("grids, trade logs and user kernels give the same results warm as cold; a kernel reading other columns extends the cache", () => {
    const dir = copyOfPacked("cache-kinds");
    const grid = ["--grid", "fast=3,5;slow=13,21"];
    const gridCold = bench([dir, ...grid, "--no-cache"]);
    bench([dir, ...grid]);
    expect(results(bench([dir, ...grid]))).toBe(results(gridCold));

    const csvCold = join(dir, "cold.csv");
    const csvWarm = join(dir, "warm.csv");
    bench([dir, "--no-cache", "--trades", csvCold]);
    const withTs = bench([dir, "--trades", csvWarm]);
    expect(withTs.cache!.misses).toBeGreaterThan(0); // timestamp was not cached yet
    bench([dir, "--trades", csvWarm]);
    expect(readFileSync(csvWarm, "utf8")).toBe(readFileSync(csvCold, "utf8"));

    const cache = join(dir, "_tickpack", "cache");
    const before = cacheFiles(cache);
    const rewritten = stampToDetectWrites(before);
    // The example kernel, reading the second level of the book: columns ema_cross never cached.
    const kernel = join(dir, "level2.c");
    writeFileSync(
      kernel,
      readFileSync(join(ROOT, "examples", "mid_reversion.c"), "utf8").replace('return "bp0,sp0";', 'return "bp1,sp1";'),
    );
    const userCold = bench([dir, "--kernel", kernel, "--no-cache"]);
    const extend = bench([dir, "--kernel", kernel]);
    expect(results(extend)).toBe(results(userCold));
    const after = cacheFiles(cache);
    // The new columns were added; the files already there were left as they were.
    expect(after.length).toBeGreaterThan(before.length);
    expect(rewritten()).toEqual([]);
    const warm = bench([dir, "--kernel", kernel]);
    expect(warm.cache!.misses).toBe(0);
    expect(results(warm)).toBe(results(userCold));
  });

  test("a partition rewritten by repack is re-cached, never served old", async () => {
    const dir = copyOfPacked("cache-stale");
    bench([dir]);
    expect(bench([dir]).cache!.misses).toBe(0);
    // New rows for the same days: repack merges them into the existing partitions.
    const more = tempDir("cache-more-raw");
    await genFixture(more, { tickProb: 0.4, days: 2, seed: 99 });
    await repackFixture([more], dir, { rowGroupSize: 3000 });
    const cold = bench([dir, "--no-cache"]);
    const after = bench([dir]);
    expect(after.cache!.misses).toBeGreaterThan(0);
    expect(after.cache!.dropped).toBeGreaterThan(0); // the old entries were found stale
    expect(results(after)).toBe(results(cold));
    expect(results(bench([dir]))).toBe(results(cold));
  });

  test("truncated, garbled and foreign cache files are dropped and rebuilt; the results stay right", () => {
    const dir = copyOfPacked("cache-garbled");
    const cold = bench([dir, "--no-cache"]);
    bench([dir]);
    const files = cacheFiles(join(dir, "_tickpack", "cache")).sort();
    truncateSync(files[0], statSync(files[0]).size - 9);
    const header = readFileSync(files[1]);
    header[30] ^= 0x41;
    writeFileSync(files[1], header);
    writeFileSync(files[2], "not a cache file, just some bytes that someone put here");
    // A flipped bit in the middle of the values: found by --cache-verify (every block checked).
    const body = readFileSync(files[3]);
    const { values } = JSON.parse(body.subarray(16, 16 + body.readUInt32LE(8)).toString());
    body[values.offset + Math.floor(values.bytes / 2)] ^= 0x10;
    writeFileSync(files[3], body);
    const run = bench([dir, "--cache-verify"]);
    expect(run.cache!.dropped).toBe(4);
    expect(results(run)).toBe(results(cold));
    const again = bench([dir, "--cache-verify"]);
    expect(again.cache!.dropped).toBe(0);
    expect(again.cache!.misses).toBe(0);
  });

  test("two runs at once over the same data are both right, and leave a cache that serves the next", async () => {
    const dir = copyOfPacked("cache-concurrent");
    const cold = bench([dir, "--no-cache"]);
    const run = () =>
      Bun.spawn([process.execPath, join(ROOT, "scripts", "bench.ts"), dir, "--json", "--workers", "2"], {
        stdout: "pipe",
        stderr: "pipe",
      });
    const [a, b] = [run(), run()];
    const outs = await Promise.all(
      [a, b].map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text() })),
    );
    for (const o of outs) {
      expect(o.code).toBe(0);
      expect(results(JSON.parse(o.out))).toBe(results(cold));
    }
    const next = bench([dir]);
    expect(next.cache!.misses).toBe(0);
    expect(results(next)).toBe(results(cold));
    // No temp files left behind.
    expect(cacheFiles(join(dir, "_tickpack", "cache")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  test("--cache DIR elsewhere, the hive layout, and --cache-max-gb evicting least recently used entries", async () => {
    const hive = tempDir("cache-hive");
    await repackFixture([raw], hive, { layout: "hive" });
    const cache = join(tempDir("cache-elsewhere"), "c");
    const cold = bench([hive, "--no-cache"]);
    const fill = bench([hive, "--cache", cache]);
    expect(fill.cache!.dir).toBe(cache);
    expect(existsSync(join(hive, "_tickpack", "cache"))).toBe(false);
    expect(bench([hive, "--cache", cache]).cache!.misses).toBe(0);
    const tiny = bench([hive, "--cache", cache, "--cache-max-gb", "0"]);
    expect(tiny.cache!.evicted).toBeGreaterThan(0);
    expect(tiny.cache!.bytes).toBe(0);
    expect(results(tiny)).toBe(results(cold));
  });

  test("a kernel that writes through a column pointer cannot change the cache: the maps are read-only", () => {
    const dir = copyOfPacked("cache-writer");
    const example = join(ROOT, "examples", "mid_reversion.c");
    const cold = bench([dir, "--kernel", example, "--no-cache"]);
    const kernel = join(dir, "scribbler.c");
    writeFileSync(
      kernel,
      readFileSync(example, "utf8").replace(
        "  long long i;\n",
        "  long long i;\n  if (r->end > r->start) ((double *)bp0)[r->start] = -1.0; /* a bug: writes to its input */\n",
      ),
    );
    expect(readFileSync(kernel, "utf8")).toContain("a bug");
    // Cold, the kernel scribbles on its decoded batch (after the batch was cached).
    expect(runScript("bench.ts", [dir, "--kernel", kernel]).code).toBe(0);
    // Warm, the same write faults on the read-only map: the run crashes, named, and the cache is intact.
    const warm = runScript("bench.ts", [dir, "--kernel", kernel]);
    expect(warm.code).toBe(1);
    expect(warm.stderr).toContain("crashed the run");
    const after = bench([dir, "--kernel", example, "--cache-verify"]);
    expect(after.cache!.dropped).toBe(0);
    expect(after.cache!.misses).toBe(0);
    expect(results(after)).toBe(results(cold));
  });

  test("--cache at a folder holding what tickpack did not write is refused (exit 2), and nothing in it is touched", () => {
    const scratch = tempDir("cache-scratch");
    mkdirSync(join(scratch, "notes"));
    writeFileSync(join(scratch, "todo.txt"), "mine");
    age(join(scratch, "notes"));
    const r = runScript("bench.ts", [packed, "--cache", scratch, "--cache-max-gb", "0.001"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("tickpack did not write");
    expect(tree(scratch)).toEqual(["notes -1", "todo.txt 4"]);
  });

  test("--cache at a packed folder, the folder above one, or a raw folder is refused (exit 2), and nothing in it is touched", () => {
    const p2 = copyOfPacked("cache-at-packed");
    const above = tempDir("cache-above");
    cpSync(packed, join(above, "packed"), { recursive: true });
    const rawCopy = tempDir("cache-at-raw");
    cpSync(raw, rawCopy, { recursive: true });
    for (const [data, cache] of [
      [p2, p2],
      [join(above, "packed"), above],
      [packed, rawCopy],
    ]) {
      const before = tree(cache);
      const run = runScript("bench.ts", [data, "--cache", cache, "--cache-max-gb", "0"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--cache ${cache}`);
      expect(tree(cache)).toEqual(before);
    }
  });

  test("eviction removes only the cache's own files: a user's folder in the cache and a user's file in an entry survive", () => {
    const dir = copyOfPacked("cache-own-files");
    const cache = join(tempDir("cache-own"), "c");
    const cold = bench([dir, "--no-cache"]);
    bench([dir, "--cache", cache]);
    const entries = readdirSync(cache).filter((e) => statSync(join(cache, e)).isDirectory());
    mkdirSync(join(cache, "notes"));
    writeFileSync(join(cache, "notes", "n.txt"), "mine");
    age(join(cache, "notes"));
    writeFileSync(join(cache, entries[0], "mine.txt"), "mine too");
    const r = runScript("bench.ts", [dir, "--cache", cache, "--cache-max-gb", "0", "--json"]);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as Json;
    expect(results(run)).toBe(results(cold));
    expect(run.cache!.bytes).toBe(0);
    expect(readFileSync(join(cache, "notes", "n.txt"), "utf8")).toBe("mine");
    expect(readdirSync(join(cache, entries[0]))).toEqual(["mine.txt"]);
    // The other entries held only the cache's files: gone, folders and all.
    for (const e of entries.slice(1)) expect(existsSync(join(cache, e))).toBe(false);
    expect(r.stderr).toContain(join(cache, entries[0]));
  });

  test("a folder without the cache's marker that holds only cache entries is taken as the cache (a cache made before the marker)", () => {
    const dir = copyOfPacked("cache-adopt");
    const cache = join(dir, "_tickpack", "cache");
    bench([dir]);
    const marker = readdirSync(cache).filter((f) => statSync(join(cache, f)).isFile());
    expect(marker).toEqual(["CACHEDIR.TAG"]);
    expect(readFileSync(join(cache, "CACHEDIR.TAG"), "utf8")).toStartWith(
      "Signature: 8a477f597d28d172789f06886806bc55",
    );
    rmSync(join(cache, "CACHEDIR.TAG"));
    expect(bench([dir]).cache!.misses).toBe(0);
    expect(existsSync(join(cache, "CACHEDIR.TAG"))).toBe(true);
  });

  test.if(READ_ONLY_MOUNTS)(
    "a read-only cache is read: a bad file it cannot drop is decoded instead; over its limit, the entries it could not evict are named on stderr; exit 0",
    () => {
      const dir = copyOfPacked("cache-read-only");
      const cache = join(tempDir("cache-ro"), "c");
      const cold = bench([dir, "--no-cache"]);
      bench([dir, "--cache", cache]);
      // A truncated file that cannot be dropped: that part is decoded, the rest served.
      const bad = cacheFiles(cache).sort()[0];
      truncateSync(bad, statSync(bad).size - 9);
      const before = tree(cache);
      const served = benchReadOnly(cache, [dir, "--cache", cache, "--json"]);
      expect(served.code).toBe(0);
      const within = JSON.parse(served.stdout) as Json;
      expect(results(within)).toBe(results(cold));
      expect(within.cache!.misses).toBeGreaterThan(0);
      expect(within.cache!.hits).toBeGreaterThan(0);
      expect(within.cache!.dropped).toBe(0);
      expect(within.cache!.errors[0]).toStartWith(`${bad}: size`);
      expect(within.cache!.errors[0]).toEndWith("and it cannot be removed");

      const r = benchReadOnly(cache, [dir, "--cache", cache, "--cache-max-gb", "0", "--json"]);
      expect(r.code).toBe(0);
      const run = JSON.parse(r.stdout) as Json;
      expect(results(run)).toBe(results(cold));
      expect(run.cache!.hits).toBeGreaterThan(0);
      expect(run.cache!.evicted).toBe(0);
      expect(run.cache!.bytes).toBeGreaterThan(0);
      expect(r.stderr).toContain("could not evict");
      expect(r.stderr).toContain(cache);
      expect(r.stderr).toContain("read-only file system");
      expect(r.stderr).not.toContain("    at ");
      expect(tree(cache)).toEqual(before);
    },
  );

  test("usage errors: --cache with --no-cache, a bad --cache-max-gb, a --cache that is a file (exit 2)", () => {
    const file = join(tempDir("cache-usage"), "f");
    writeFileSync(file, "");
    for (const [args, message] of [
      [["--cache", "x", "--no-cache"], "--cache and --no-cache"],
      [["--cache-max-gb", "-1"], "--cache-max-gb"],
      [["--cache-max-gb", "lots"], "--cache-max-gb"],
      [["--cache", file], "not a folder"],
    ] as const) {
      const r = runScript("bench.ts", [packed, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});
