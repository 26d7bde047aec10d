/**
 * Chain strategies against ema_cross, whole processes, alternating in one run over PACKED_DIR (a
 * cache folder of its own under /tmp, filled first, removed after), 2 workers: warm ema_cross and
 * warm short_straddle with TinyCC (the ratio chain strategies are held to), short_straddle with gcc,
 * the 36-set straddle grid with both compilers, and `--no-cache` (a private folder filled each run).
 * `bun bench/chain-warm.ts [PACKED_DIR] [ROUNDS]` (default data/m50-packed, 3). Prints medians of
 * whole-process rows/s (wall clock).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternatingRounds, benchCommand } from "./alternating-rounds.ts";
import { median, timedProcess } from "./timed-process.ts";

const root = join(import.meta.dir, "..");
const dir = Bun.argv[2] ?? join(root, "data", "m50-packed");
const rounds = Number(Bun.argv[3] ?? 3);
const cache = mkdtempSync(join(tmpdir(), "tickpack-chain-warm-"));
const STRADDLE = ["--strategy", "short_straddle"];
const GRID = ["--grid", "entry_min=5,15,30;exit_min=300,360;stop=0.2,0.3,0.5;target=0.3,0.5"];
const bench = (...flags: string[]) => benchCommand(root, dir, ...flags);

const cases: Record<string, () => string[]> = {
  "ema_cross warm, tcc": () => bench("--cache", cache),
  "short_straddle warm, tcc": () => bench("--cache", cache, ...STRADDLE),
  "short_straddle warm, gcc": () => bench("--cache", cache, "--cc", "gcc", ...STRADDLE),
  "short_straddle warm grid 36, tcc": () => bench("--cache", cache, ...STRADDLE, ...GRID),
  "short_straddle warm grid 36, gcc": () => bench("--cache", cache, "--cc", "gcc", ...STRADDLE, ...GRID),
  "short_straddle --no-cache, tcc": () => bench("--no-cache", ...STRADDLE),
};
// The cache holds both strategies' columns, and gcc's builds are kept (~/.cache/tickpack/kernels):
// made once here, as a user's first runs would.
timedProcess(bench("--cache", cache), root);
const cold = timedProcess(bench("--cache", cache, ...STRADDLE), root);
timedProcess(bench("--cache", cache, "--cc", "gcc", ...STRADDLE, "--workers", "1"), root);
try {
  const runs = alternatingRounds(cases, rounds, root);
  const json = (k: string) => runs[k].map((t) => JSON.parse(t.stdout));
  const rowsPerS = (k: string) => median(runs[k].map((t, i) => json(k)[i].rows / t.wallMs / 1000));
  console.log(`medians over ${runs["ema_cross warm, tcc"].length} clean rounds (${dir}, 2 workers, whole processes):`);
  for (const k of Object.keys(cases)) {
    if (runs[k].length === 0) continue;
    const sets = json(k)[0].sets;
    console.log(
      `  ${k.padEnd(36)} ${median(runs[k].map((t) => t.wallMs / 1000)).toFixed(3)} s  ${rowsPerS(k).toFixed(1)}M rows/s${sets > 1 ? `  ${(rowsPerS(k) * sets).toFixed(0)}M rows×sets/s` : ""}`,
    );
  }
  if (runs["ema_cross warm, tcc"].length > 0) {
    console.log(
      `  short_straddle / ema_cross, warm, tcc: ${(rowsPerS("short_straddle warm, tcc") / rowsPerS("ema_cross warm, tcc")).toFixed(2)}x`,
    );
    console.log(`  the cold short_straddle run that filled its columns: ${(cold.wallMs / 1000).toFixed(3)} s (once)`);
    const result = (k: string) =>
      json(k).map((j) => JSON.stringify([j.rows, j.trades, j.pnl, j.grid.map((g: { pnl: number }) => g.pnl)]));
    const single = new Set(
      ["short_straddle warm, tcc", "short_straddle warm, gcc", "short_straddle --no-cache, tcc"].flatMap(result),
    );
    const grid = new Set(["short_straddle warm grid 36, tcc", "short_straddle warm grid 36, gcc"].flatMap(result));
    console.log(
      `  results identical across short_straddle runs (warm/--no-cache, tcc/gcc): ${single.size === 1}; across grid runs: ${grid.size === 1}`,
    );
  }
} finally {
  rmSync(cache, { recursive: true, force: true });
}
