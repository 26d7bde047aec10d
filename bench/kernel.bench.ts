/**
 * Kernel-only throughput (mitata): the TinyCC ema_cross kernel (through the tickpack driver) vs
 * the TS reference vs the same C built by the system `gcc -O2` (informational: the product uses
 * TinyCC), on in-memory columns; also a 9-set grid. `bun bench/kernel.bench.ts [rows]`.
 */
import { measure } from "mitata";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { dlopen } from "bun:ffi";
import { DEFAULT_PARAMS, emaCrossReference, type ReferenceRow } from "../kernel/ema_cross.ts";
import { asFloat64, EMA_CROSS_SOURCE, KernelRun, loadKernel, type KernelBatch, type LoadedKernel } from "../kernel/strategy-kernel.ts";
import { SeededRandom } from "../lib/random.ts";

const N = Number(Bun.argv[2] ?? 4_000_000);
const rng = new SeededRandom(1);
const price = new Float64Array(N), bp0 = new Float64Array(N), sp0 = new Float64Array(N), volume = new BigInt64Array(N);
const batch: KernelBatch = {
  length: N, expiry: new Int32Array(N), expiryValid: null, opt: new Int32Array(N), optValid: null, optMap: Int32Array.from([0, 1]),
  strike: new Float32Array(N), strikeValid: null,
  columns: [{ values: price, valid: null }, { values: bp0, valid: null }, { values: sp0, valid: null }, { values: new Float64Array(N), valid: null }],
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
batch.columns[3].values = asFloat64(volume);
const rows: ReferenceRow[] = Array.from({ length: N }, (_, i) => ({
  expiry: batch.expiry[i], optType: batch.opt[i] ? "PE" : "CE", strike: batch.strike[i], price: price[i], bp0: bp0[i], sp0: sp0[i], volume: Number(volume[i]),
}));
const defaults = [DEFAULT_PARAMS.fast, DEFAULT_PARAMS.slow, DEFAULT_PARAMS.max_spread, DEFAULT_PARAMS.min_volume];

function runKernel(kernel: LoadedKernel, sets: number[][]) {
  const r = new KernelRun(kernel, sets);
  r.run(batch);
  r.endPartition();
  return r.totals();
}

const tcc = loadKernel(EMA_CROSS_SOURCE);
const grid9 = [3, 5, 8].flatMap((f) => [13, 21, 34].map((s) => [f, s, 0.0005, 1]));
const cases: [string, number, () => unknown][] = [
  ["TinyCC kernel (bun:ffi cc)", 1, () => runKernel(tcc, [defaults])],
  ["TinyCC kernel, 9-set grid", 9, () => runKernel(tcc, grid9)],
  ["TS reference", 1, () => emaCrossReference([rows], DEFAULT_PARAMS)],
];
// The same translation unit built by gcc -O2, loaded with dlopen.
const dir = mkdtempSync(join(tmpdir(), "tickpack-gcc-"));
const unit = join(dir, "unit.c");
writeFileSync(unit, `#include "tickpack.h"\n#include ${JSON.stringify(EMA_CROSS_SOURCE)}\n#include ${JSON.stringify(join(dirname(EMA_CROSS_SOURCE), "driver.c"))}\n`);
const so = join(dir, "unit.so");
if (Bun.spawnSync(["gcc", "-O2", "-shared", "-fPIC", "-I", dirname(EMA_CROSS_SOURCE), "-o", so, unit]).exitCode === 0) {
  const lib = dlopen(so, {
    tp_run: { args: ["ptr", "ptr", "ptr", "i64", "i64"], returns: "i64" },
    tp_flush: { args: ["ptr", "ptr", "ptr"], returns: "void" },
    tickpack_columns: { args: [], returns: "cstring" },
    tickpack_params: { args: [], returns: "cstring" },
    tickpack_state_size: { args: [], returns: "i32" },
  });
  const gcc = { ...tcc, symbols: lib.symbols as unknown as LoadedKernel["symbols"] };
  cases.push(["gcc -O2 (informational)", 1, () => runKernel(gcc, [defaults])]);
} else console.error("no gcc: skipping the gcc -O2 comparison");

console.log(`ema_cross kernel, ${N.toLocaleString("en-US")} rows in memory, one thread`);
for (const [name, sets, fn] of cases) {
  const stats = await measure(fn, { min_samples: 5 });
  const rowsPerS = N / (stats.avg / 1e9);
  console.log(`${name.padEnd(30)} ${(stats.avg / 1e6).toFixed(1).padStart(8)} ms/run ${(rowsPerS / 1e6).toFixed(1).padStart(7)} M rows/s ${((rowsPerS * sets) / 1e6).toFixed(1).padStart(7)} M rows×sets/s`);
}
const a = runKernel(tcc, [defaults])[0];
const r = emaCrossReference([rows], DEFAULT_PARAMS);
console.log(`check: kernel ${a.trades} trades, pnl ${a.pnl.toFixed(4)}; reference ${r.trades} trades, pnl ${r.pnl.toFixed(4)}`);
