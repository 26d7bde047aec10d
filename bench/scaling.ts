/**
 * Does bench's read path scale over cores, and is it the same with Workers in one process as with
 * separate processes? `bun bench/scaling.ts [PACKED_DIR] [--cli ROUNDS]`: the partitions split in 2,
 * run by 1 worker, 2 Workers in one process, and 2 processes; the second (warm) pass of each is timed.
 * With --cli, whole `bench --no-cache` processes instead, cold, alternated, medians: `--workers 1` over
 * the set, two `--workers 1` processes over the halves at once and one after the other (what two
 * independent jobs gain from the second core here), and `--workers 2` over the set.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { listPackedPartitions, type PackedPartition } from "../lib/packed/layout.ts";
import { median } from "./timed-process.ts";

const cliAt = Bun.argv.indexOf("--cli");
const cliRounds = cliAt < 0 ? 0 : Number(Bun.argv[cliAt + 1] ?? 5);
if (cliAt >= 0 && !(Number.isInteger(cliRounds) && cliRounds > 0))
  throw new Error(`--cli: expected a count of rounds, got ${Bun.argv[cliAt + 1]}`);
const dir =
  Bun.argv.slice(2).find((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--cli") ??
  join(import.meta.dir, "..", "data", "sample", "packed");
const partitions = listPackedPartitions(dir).sort((a, b) => b.bytes - a.bytes);
const parts = partitions.map((p) => p.parts);
// Balanced by bytes, largest first onto the lighter half.
const halfPartitions: PackedPartition[][] = [[], []];
const load = [0, 0];
for (const p of partitions) {
  const h = load[0] <= load[1] ? 0 : 1;
  halfPartitions[h].push(p);
  load[h] += p.bytes;
}
const halves = halfPartitions.map((h) => h.map((p) => p.parts));
if (cliRounds > 0) {
  await wholeProcesses(cliRounds);
  process.exit(0);
}
const workerUrl = new URL("./scaling-worker.ts", import.meta.url).href;

type Share = { rows: number; ms: number };
const inWorker = (share: string[][]) =>
  new Promise<Share>((resolve) => {
    const w = new Worker(workerUrl);
    w.onmessage = (e: MessageEvent<Share>) => {
      w.terminate();
      resolve(e.data);
    };
    w.postMessage(share);
  });
const inProcess = async (share: string[][]): Promise<Share> => {
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "scaling-worker.ts"), JSON.stringify(share)], {
    stdout: "pipe",
  });
  return JSON.parse(await new Response(p.stdout).text());
};
const rate = (shares: Share[]) => shares.reduce((a, s) => a + s.rows, 0) / Math.max(...shares.map((s) => s.ms)) / 1000;

for (let round = 0; round < 2; round++) {
  const one = rate([await inWorker(parts)]);
  const threads = rate(await Promise.all(halves.map(inWorker)));
  const procs = rate(await Promise.all(halves.map(inProcess)));
  console.log(
    `1 worker ${one.toFixed(1)}M rows/s | 2 Workers, one process ${threads.toFixed(1)}M (${(threads / one).toFixed(2)}x) | 2 processes ${procs.toFixed(1)}M (${(procs / one).toFixed(2)}x)`,
  );
}

/** The --cli rounds: each half is a folder of links to its partitions' folders, removed at the end. */
async function wholeProcesses(rounds: number): Promise<void> {
  const top = mkdtempSync(join(tmpdir(), "tickpack-scaling-"));
  try {
    const halfDirs = halfPartitions.map((half, h) => {
      const d = join(top, `half-${h}`);
      for (const p of half) {
        if (p.date === null || p.underlying === null) throw new Error(`${p.dir}: not a date/underlying partition`);
        mkdirSync(join(d, p.date), { recursive: true });
        symlinkSync(resolve(p.dir), join(d, p.date, p.underlying));
      }
      return d;
    });
    const bench = (d: string, workers: number) => [
      process.execPath,
      join(import.meta.dir, "..", "scripts", "bench.ts"),
      d,
      "--workers",
      String(workers),
      "--no-cache",
      "--json",
    ];
    const wall = async (cmds: string[][]) => {
      const t = performance.now();
      const runs = cmds.map((c) => Bun.spawn(c, { stdout: "ignore", stderr: "pipe" }));
      // Read as they run: a pipe left full would stall a process.
      const errs = runs.map((p) => new Response(p.stderr).text());
      const codes = await Promise.all(runs.map((p) => p.exited));
      const bad = codes.findIndex((c) => c !== 0);
      if (bad >= 0) throw new Error(`${cmds[bad].join(" ")}: exit ${codes[bad]}\n${await errs[bad]}`);
      return performance.now() - t;
    };
    const ms: Record<string, number[]> = { one: [], halvesAtOnce: [], halvesInTurn: [], twoWorkers: [] };
    for (let r = 0; r < rounds; r++) {
      ms.one.push(await wall([bench(dir, 1)]));
      ms.halvesAtOnce.push(await wall(halfDirs.map((d) => bench(d, 1))));
      ms.halvesInTurn.push((await wall([bench(halfDirs[0], 1)])) + (await wall([bench(halfDirs[1], 1)])));
      ms.twoWorkers.push(await wall([bench(dir, 2)]));
    }
    const m = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)]));
    console.log(
      `whole processes, cold, medians of ${rounds}: --workers 1 ${m.one.toFixed(0)} ms; the halves in two processes at once ${m.halvesAtOnce.toFixed(0)} ms, one after the other ${m.halvesInTurn.toFixed(0)} ms (${(m.halvesInTurn / m.halvesAtOnce).toFixed(2)}x); --workers 2 ${m.twoWorkers.toFixed(0)} ms (${(m.one / m.twoWorkers).toFixed(2)}x --workers 1)`,
    );
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}
