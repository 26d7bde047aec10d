/** A worker for shared-build.test.ts: adopts the kernel its parent shared, runs it, posts what it got. */
import { adoptKernel, loadKernel, type SharedKernel } from "../../kernel/strategy-kernel.ts";
import { SeededRandom } from "../../lib/random.ts";
import { randomPartitions, runGrid, values } from "../helpers/kernel-batches.ts";
import type { EmaCrossParams } from "../../kernel/ema_cross.ts";

declare const self: Worker;

self.onmessage = (ev: MessageEvent<{ shared: SharedKernel; seed: number; sets: EmaCrossParams[] }>) => {
  const { shared, seed, sets } = ev.data;
  const kernel = adoptKernel(shared);
  // loadKernel finds the adopted kernel: no build of its own in this thread.
  const sameAsLoaded = loadKernel(shared.path, shared.compiler) === kernel;
  const partitions = randomPartitions(new SeededRandom(seed), 6);
  const r = runGrid(kernel, partitions, sets, (n) => [n >> 1], 4096);
  self.postMessage({
    sameAsLoaded,
    params: kernel.params,
    totals: r.totals,
    trades: r.tradeList.length,
    sets: sets.map(values),
  });
};
