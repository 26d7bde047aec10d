/**
 * What money costs a run (SPEC §7), whole processes, alternating in one run over PACKED_DIR (a cache
 * folder of its own under /tmp, filled first, removed after), 2 workers, TinyCC, warm: plain runs
 * against `--fill touch --costs costs/nse-index-options.json` (with `--lot-size` for folders packed
 * before repack kept lot sizes), for ema_cross and short_straddle.
 * `bun bench/money-cost.ts [PACKED_DIR] [ROUNDS] [LOT_SIZES]` (default data/m50-packed, 3,
 * NIFTY=75,BANKNIFTY=35). A round in which another process used the CPU is retried.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternatingRounds, benchCommand } from "./alternating-rounds.ts";
import { median, timedProcess } from "./timed-process.ts";

const root = join(import.meta.dir, "..");
const dir = Bun.argv[2] ?? join(root, "data", "m50-packed");
const rounds = Number(Bun.argv[3] ?? 3);
const lotSizes = Bun.argv[4] ?? "NIFTY=75,BANKNIFTY=35";
const cache = mkdtempSync(join(tmpdir(), "tickpack-money-cost-"));
const MONEY = ["--fill", "touch", "--costs", join(root, "costs", "nse-index-options.json"), "--lot-size", lotSizes];
const bench = (...flags: string[]) => benchCommand(root, dir, "--cache", cache, ...flags);

const cases: Record<string, () => string[]> = {
  ema_cross: () => bench(),
  "ema_cross --fill touch --costs": () => bench(...MONEY),
  short_straddle: () => bench("--strategy", "short_straddle"),
  "short_straddle --fill touch --costs": () => bench("--strategy", "short_straddle", ...MONEY),
};
// The cache is filled with every column the cases read (bp0/sp0, timestamp) before timing.
for (const cmd of Object.values(cases)) timedProcess(cmd(), root);
try {
  const runs = alternatingRounds(cases, rounds, root);
  const wall = (k: string) => median(runs[k].map((t) => t.wallMs / 1000));
  console.log(`medians over ${runs.ema_cross.length} clean rounds (${dir}, 2 workers, warm, TinyCC):`);
  for (const k of Object.keys(cases)) if (runs[k].length) console.log(`  ${k.padEnd(40)} ${wall(k).toFixed(3)} s`);
  for (const s of ["ema_cross", "short_straddle"])
    if (runs[s].length)
      console.log(
        `  ${s}: --fill touch --costs costs ${((wall(`${s} --fill touch --costs`) / wall(s) - 1) * 100).toFixed(1)}% over a plain run`,
      );
} finally {
  rmSync(cache, { recursive: true, force: true });
}
