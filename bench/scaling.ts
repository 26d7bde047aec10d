/**
 * Does bench's read path scale over cores, and is it the same with Workers in one process as with
 * separate processes? `bun bench/scaling.ts [PACKED_DIR]`: the partitions split in 2, run by 1 worker,
 * 2 Workers in one process, and 2 processes; the second (warm) pass of each is timed.
 */
import { join } from "node:path";
import { listPackedPartitions } from "../lib/packed/layout.ts";

const dir = Bun.argv[2] ?? join(import.meta.dir, "..", "data", "sample", "packed");
const partitions = listPackedPartitions(dir).sort((a, b) => b.bytes - a.bytes);
const parts = partitions.map((p) => p.parts);
// Balanced by bytes, largest first onto the lighter half.
const halves: string[][][] = [[], []];
const load = [0, 0];
for (const p of partitions) {
  const h = load[0] <= load[1] ? 0 : 1;
  halves[h].push(p.parts);
  load[h] += p.bytes;
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
