/**
 * The chain driver's merge alone, on synthetic partitions in memory (no files): contracts that tick
 * at shared instants (as tick data does) and contracts that never share a timestamp, merged by a pass
 * over every run's head per instant ("scan") and by auto (which turns to a heap where instants are
 * sparse). short_straddle's kernel, one set, TinyCC, one thread; best of ROUNDS.
 * `bun bench/chain-merge.ts [ROUNDS]` (default 5).
 */
import { type ChainMerge, ChainRun, loadChainKernel } from "../kernel/chain-kernel.ts";
import { SHORT_STRADDLE_SOURCE } from "../kernel/kernel-abi.ts";

const rounds = Number(Bun.argv[2] ?? 5);
const kernel = loadChainKernel(SHORT_STRADDLE_SOURCE);
const OPEN_NS = 1_763_351_100_000_000_000n; // 2025-11-17 09:15 IST

/** `contracts` runs of `rows` rows each, one part; `shared`: every contract ticks at the same instants. */
function partition(contracts: number, rows: number, shared: boolean) {
  const n = contracts * rows;
  const ts = new BigInt64Array(n);
  const price = new Float64Array(n).fill(100);
  const runs = [];
  for (let c = 0; c < contracts; c++) {
    for (let i = 0; i < rows; i++) ts[c * rows + i] = OPEN_NS + BigInt(shared ? i : i * contracts + c) * 1_000_000n;
    runs.push({ part: 0, start: c * rows, end: (c + 1) * rows, contract: c });
  }
  // Contracts c = 2k and 2k + 1 are the CE and PE of strike 1000 + k: sorted by (opt, strike) that is CEs, then PEs.
  const table = Array.from({ length: contracts }, (_, c) => ({ expiry: 20_409, opt: c % 2, strike: 1000 + (c >> 1) }));
  const order = table.map((_, c) => c).sort((a, b) => table[a].opt - table[b].opt || table[a].strike - table[b].strike);
  const index = new Map(order.map((c, i) => [c, i]));
  return {
    parts: [
      { length: n, ts: { values: ts, valid: null }, price: { values: price, valid: null }, columns: [], quotes: null },
    ],
    runs: runs.map((r) => ({ ...r, contract: index.get(r.contract)! })),
    contracts: order.map((c) => table[c]),
    openNs: OPEN_NS,
  };
}

const shapes: [string, number, number, boolean][] = [
  ["200 contracts, shared instants", 200, 5_000, true],
  ["500 contracts, no shared instant", 500, 2_000, false],
  ["50 contracts, no shared instant", 50, 20_000, false],
];
for (const [name, contracts, rows, shared] of shapes) {
  const p = partition(contracts, rows, shared);
  const line: string[] = [];
  for (const merge of ["scan", "auto"] as ChainMerge[]) {
    let best = Number.POSITIVE_INFINITY;
    let heap = false;
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      const out = new ChainRun(kernel, [[5, 360, 0.3, 0.5]], false, { merge }).runPartition(p);
      best = Math.min(best, performance.now() - t);
      heap = out.heap;
    }
    line.push(
      `${merge} ${((contracts * rows) / best / 1e3).toFixed(1)}M rows/s${merge === "auto" ? (heap ? " (heap)" : " (pass)") : ""}`,
    );
  }
  console.log(`${name.padEnd(36)} ${line.join("  |  ")}`);
}
