/**
 * Kernel-only throughput (mitata): the TinyCC ema_cross kernel vs the TS reference vs the same C
 * built by the system `gcc -O2` (informational: the product uses TinyCC), on in-memory columns.
 * `bun bench/kernel.bench.ts [rows]` (default 4,000,000 rows in 200 segments).
 */
import { measure } from "mitata";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PARAMS, EMA_CROSS_SOURCE, EmaCrossKernel, emaCrossReference, loadEmaCrossLibrary, type EmaCrossSymbols, type ReferenceRow, type StrategyBatch } from "../kernel/ema_cross.ts";
import { SeededRandom } from "../lib/random.ts";

const N = Number(Bun.argv[2] ?? 4_000_000);
const rng = new SeededRandom(1);
const batch: StrategyBatch = {
  length: N,
  expiry: new Int32Array(N), expiryValid: null,
  opt: new Int32Array(N), optValid: null, optMap: Int32Array.from([0, 1]),
  strike: new Float32Array(N), strikeValid: null,
  price: new Float64Array(N), priceValid: null,
  bp0: new Float64Array(N), bp0Valid: null,
  sp0: new Float64Array(N), sp0Valid: null,
  volume: new BigInt64Array(N), volumeValid: null,
  ts: null,
};
let price = 100;
for (let i = 0; i < N; i++) {
  const seg = Math.floor(i / (N / 200));
  batch.expiry[i] = 20_400 + (seg >> 6);
  batch.opt[i] = (seg >> 5) & 1;
  batch.strike[i] = 100 * (seg & 31);
  price = Math.max(1, price + (rng.next() - 0.5));
  batch.price[i] = Math.round(price * 20) / 20;
  const spread = rng.next() < 0.5 ? 0.05 : 0.1;
  batch.bp0[i] = batch.price[i] - spread / 2;
  batch.sp0[i] = batch.price[i] + spread / 2;
  batch.volume[i] = BigInt(i);
}
const rows: ReferenceRow[] = Array.from({ length: N }, (_, i) => ({
  expiry: batch.expiry[i], optType: batch.opt[i] ? "PE" : "CE", strike: batch.strike[i], price: batch.price[i], bp0: batch.bp0[i], sp0: batch.sp0[i], volume: Number(batch.volume[i]),
}));

function kernelRun(symbols?: EmaCrossSymbols) {
  const k = new EmaCrossKernel(DEFAULT_PARAMS, 0, symbols);
  k.run(batch);
  k.endPartition();
  return k.totals();
}

const cases: [string, () => unknown][] = [
  ["TinyCC kernel (bun:ffi cc)", () => kernelRun()],
  ["TS reference", () => emaCrossReference([rows], DEFAULT_PARAMS)],
];
const so = join(mkdtempSync(join(tmpdir(), "tickpack-kernel-")), "ema_cross.so");
const gcc = Bun.spawnSync(["gcc", "-O2", "-shared", "-fPIC", "-o", so, EMA_CROSS_SOURCE]);
if (gcc.exitCode === 0) {
  const symbols = loadEmaCrossLibrary(so);
  cases.push(["gcc -O2 (informational)", () => kernelRun(symbols)]);
} else console.error("no gcc: skipping the gcc -O2 comparison");

console.log(`ema_cross kernel, ${N.toLocaleString("en-US")} rows in memory, one thread`);
for (const [name, fn] of cases) {
  const stats = await measure(fn, { min_samples: 5 });
  const rowsPerS = N / (stats.avg / 1e9);
  console.log(`${name.padEnd(30)} ${(stats.avg / 1e6).toFixed(1).padStart(8)} ms/run   ${(rowsPerS / 1e6).toFixed(1).padStart(7)} M rows/s`);
}
const a = kernelRun();
const r = emaCrossReference([rows], DEFAULT_PARAMS);
console.log(`check: kernel ${a.trades} trades, pnl ${a.pnl.toFixed(4)}; reference ${r.trades} trades, pnl ${r.pnl.toFixed(4)}`);
