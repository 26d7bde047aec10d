/** One share of bench/scaling.ts's work: the ema_cross path over the given partitions, twice (the second timed). */
import { EMA_CROSS_SOURCE, KernelRun, loadKernel } from "../kernel/strategy-kernel.ts";
import { runPartition } from "../lib/read/run-partition.ts";
import { noCacheStats } from "../lib/cache/cache-stats.ts";

/** Runs the partitions' parts through the kernel; returns rows and the timed pass's ms. */
export async function runShare(partitions: string[][]): Promise<{ rows: number; ms: number }> {
  const kernel = loadKernel(EMA_CROSS_SOURCE);
  const defaults = kernel.params.map((p) => p.defaultValue!);
  let rows = 0;
  let ms = 0;
  for (let pass = 0; pass < 2; pass++) {
    rows = 0;
    const t = performance.now();
    for (const parts of partitions) {
      const run = new KernelRun(kernel, [defaults]);
      await runPartition(parts, run, kernel, { ts: false, quotes: false }, { cache: null }, noCacheStats());
      rows += run.totals()[0].rows;
    }
    ms = performance.now() - t;
  }
  return { rows, ms };
}

declare const self: Worker;
if (typeof self !== "undefined" && !Bun.isMainThread) {
  self.onmessage = async (e: MessageEvent<string[][]>) => self.postMessage(await runShare(e.data));
} else if (Bun.argv[2]) {
  console.log(JSON.stringify(await runShare(JSON.parse(Bun.argv[2]))));
}
