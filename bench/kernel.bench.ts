/**
 * Kernel-only throughput (mitata): the ema_cross kernel through the tickpack driver, built by
 * TinyCC (bench's default) and by gcc (`bench --cc gcc`, when installed), vs the TS reference, on
 * synthetic in-memory columns; also 9- and 36-set grids. `bun bench/kernel.bench.ts [rows]`.
 * For the comparison with the prototype's kernel on real columns: bench/kernel-throughput.ts.
 */
import { measure } from "mitata";
import { DEFAULT_PARAMS, emaCrossReference, type ReferenceRow } from "../kernel/ema_cross.ts";
import { EMA_CROSS_SOURCE, KernelRun, loadKernel, type LoadedKernel } from "../kernel/strategy-kernel.ts";
import type { KernelBatch } from "../kernel/kernel-batch.ts";
import { SeededRandom } from "../lib/random.ts";

const N = Number(Bun.argv[2] ?? 4_000_000);
const rng = new SeededRandom(1);
const price = new Float64Array(N),
  bp0 = new Float64Array(N),
  sp0 = new Float64Array(N),
  volume = new BigInt64Array(N);
const batch: KernelBatch = {
  length: N,
  expiry: new Int32Array(N),
  expiryValid: null,
  opt: new Int32Array(N),
  optValid: null,
  optMap: Int32Array.from([0, 1]),
  strike: new Float32Array(N),
  strikeValid: null,
  columns: [
    { values: price, valid: null },
    { values: bp0, valid: null },
    { values: sp0, valid: null },
    { values: volume, valid: null },
  ],
  ts: null,
};
let p = 100;
for (let i = 0; i < N; i++) {
  const seg = Math.floor(i / (N / 200));
  batch.expiry[i] = 20_400 + (seg >> 6);
  batch.opt[i] = (seg >> 5) & 1;
  batch.strike[i] = 100 * (seg & 31);
  p = Math.max(1, p + (rng.next() - 0.5));
  price[i] = Math.round(p * 20) / 20;
  const spread = rng.next() < 0.5 ? 0.05 : 0.1;
  bp0[i] = price[i] - spread / 2;
  sp0[i] = price[i] + spread / 2;
  volume[i] = BigInt(i);
}
const rows: ReferenceRow[] = Array.from({ length: N }, (_, i) => ({
  expiry: batch.expiry[i],
  optType: batch.opt[i] ? "PE" : "CE",
  strike: batch.strike[i],
  price: price[i],
  bp0: bp0[i],
  sp0: sp0[i],
  volume: Number(volume[i]),
}));
const defaults = [DEFAULT_PARAMS.fast, DEFAULT_PARAMS.slow, DEFAULT_PARAMS.max_spread, DEFAULT_PARAMS.min_volume];

function runKernel(kernel: LoadedKernel, sets: number[][]) {
  const r = new KernelRun(kernel, sets);
  r.run(batch);
  r.endPartition();
  return r.totals();
}

const tcc = loadKernel(EMA_CROSS_SOURCE);
const gcc = Bun.which("gcc") ? loadKernel(EMA_CROSS_SOURCE, "gcc") : null;
const grid9 = [3, 5, 8].flatMap((f) => [13, 21, 34].map((s) => [f, s, 0.0005, 1]));
const grid36 = grid9.flatMap(([f, s]) => [0.0005, 0.001].flatMap((m) => [0, 1].map((v) => [f, s, m, v])));
const cases: [string, number, () => unknown][] = [];
for (const [name, k] of [
  ["TinyCC", tcc],
  ["gcc -O2", gcc],
] as const) {
  if (!k) continue;
  cases.push(
    [`${name}, 1 set`, 1, () => runKernel(k, [defaults])],
    [`${name}, 9-set grid`, 9, () => runKernel(k, grid9)],
    [`${name}, 36-set grid`, 36, () => runKernel(k, grid36)],
  );
}
if (!gcc) console.error("no gcc: skipping the --cc gcc cases");
cases.push(["TS reference", 1, () => emaCrossReference([rows], DEFAULT_PARAMS)]);

console.log(`ema_cross kernel, ${N.toLocaleString("en-US")} rows in memory, one thread`);
for (const [name, sets, fn] of cases) {
  const stats = await measure(fn, { min_samples: 5 });
  const rowsPerS = N / (stats.avg / 1e9);
  console.log(
    `${name.padEnd(30)} ${(stats.avg / 1e6).toFixed(1).padStart(8)} ms/run ${(rowsPerS / 1e6).toFixed(1).padStart(7)} M rows/s ${((rowsPerS * sets) / 1e6).toFixed(1).padStart(7)} M rows×sets/s`,
  );
}
const a = runKernel(tcc, [defaults])[0];
const r = emaCrossReference([rows], DEFAULT_PARAMS);
console.log(
  `check: kernel ${a.trades} trades, pnl ${a.pnl.toFixed(4)}; reference ${r.trades} trades, pnl ${r.pnl.toFixed(4)}`,
);
