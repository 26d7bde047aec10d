/**
 * The column cache, whole processes, alternating in one run over PACKED_DIR (a cache folder of its
 * own under /tmp, removed after): `--no-cache` (decode) against a cold run that fills the cache, then
 * warm runs with TinyCC and with gcc, single set and the 36-set grid, 2 workers.
 * `bun bench/cache-warm.ts [PACKED_DIR] [ROUNDS]` (default data/m50-packed, 3). A round in which
 * another process used the CPU is retried. Prints medians of whole-process rows/s (wall clock).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, timedProcess } from "./timed-process.ts";

const root = join(import.meta.dir, "..");
const dir = Bun.argv[2] ?? join(root, "data", "m50-packed");
const rounds = Number(Bun.argv[3] ?? 3);
const cache = mkdtempSync(join(tmpdir(), "tickpack-cache-warm-"));
const GRID = ["--grid", "fast=3,5,8;slow=13,21,34;max_spread=0.0005,0.001;min_volume=1,2"];
const bench = (...flags: string[]) => [
  process.execPath,
  join(root, "scripts", "bench.ts"),
  dir,
  "--workers",
  "2",
  "--json",
  ...flags,
];

interface Figure {
  rowsPerS: number;
  rowSetsPerS: number;
  wallS: number;
  result: string;
  cacheBytes: number;
}
function run(cmd: string[]): Figure | null {
  const r = timedProcess(cmd, root);
  if (!r.clean) return null;
  const j = JSON.parse(r.stdout);
  return {
    rowsPerS: j.rows / r.wallMs / 1000,
    rowSetsPerS: (j.rows * j.sets) / r.wallMs / 1000,
    wallS: r.wallMs / 1000,
    result: JSON.stringify([j.rows, j.trades, j.pnl, j.grid.map((g: { pnl: number }) => g.pnl)]),
    cacheBytes: j.cache?.bytes ?? 0,
  };
}

const cases: Record<string, () => string[]> = {
  "decode (--no-cache), tcc": () => bench("--no-cache"),
  "cold, filling the cache, tcc": () => {
    rmSync(cache, { recursive: true, force: true });
    return bench("--cache", cache);
  },
  "warm, tcc": () => bench("--cache", cache),
  "warm, gcc": () => bench("--cache", cache, "--cc", "gcc"),
  "warm grid 36 sets, tcc": () => bench("--cache", cache, ...GRID),
  "warm grid 36 sets, gcc": () => bench("--cache", cache, "--cc", "gcc", ...GRID),
  "decode (--no-cache) grid 36 sets, tcc": () => bench("--no-cache", ...GRID),
};
const figures: Record<string, Figure[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
// gcc's build is kept between runs (~/.cache/tickpack/kernels): built once here, as a user's first run would.
timedProcess(bench("--no-cache", "--cc", "gcc", "--workers", "1"), root);
try {
  let noisy = 0;
  for (let r = 0; r < rounds && noisy < 4 * rounds; ) {
    const round: Record<string, Figure | null> = {};
    for (const [name, cmd] of Object.entries(cases)) round[name] = run(cmd());
    if (Object.values(round).some((f) => f === null)) {
      noisy++;
      console.log(`noisy round (another process used the CPU), retried`);
      continue;
    }
    r++;
    console.log(
      `round ${r}: ` +
        Object.entries(round)
          .map(([k, f]) => `${k} ${f!.wallS.toFixed(3)} s`)
          .join(" | "),
    );
    for (const [k, f] of Object.entries(round)) figures[k].push(f!);
  }
  const results = new Set(
    Object.entries(figures)
      .filter(([k]) => !k.includes("grid"))
      .flatMap(([, fs]) => fs.map((f) => f.result)),
  );
  const gridResults = new Set(
    Object.entries(figures)
      .filter(([k]) => k.includes("grid"))
      .flatMap(([, fs]) => fs.map((f) => f.result)),
  );
  console.log(`medians over ${figures["warm, tcc"].length} clean rounds (${dir}, 2 workers, whole processes):`);
  for (const [k, fs] of Object.entries(figures)) {
    if (fs.length === 0) continue;
    const grid = k.includes("grid");
    console.log(
      `  ${k.padEnd(40)} ${median(fs.map((f) => f.wallS)).toFixed(3)} s  ${median(fs.map((f) => f.rowsPerS)).toFixed(1)}M rows/s${grid ? `  ${median(fs.map((f) => f.rowSetsPerS)).toFixed(0)}M rows×sets/s` : ""}`,
    );
  }
  const m = (k: string) => median(figures[k].map((f) => f.wallS));
  if (figures["warm, tcc"].length > 0) {
    console.log(
      `  cold with fill / --no-cache: ${(m("cold, filling the cache, tcc") / m("decode (--no-cache), tcc")).toFixed(2)}x; cache ${(figures["warm, tcc"][0].cacheBytes / 2 ** 30).toFixed(2)} GiB`,
    );
    console.log(
      `  results identical across single-set runs: ${results.size === 1}; across grid runs: ${gridResults.size === 1}`,
    );
  }
} finally {
  rmSync(cache, { recursive: true, force: true });
}
