/**
 * Kernel alone, in memory, one core: ema_cross through the tickpack driver (TinyCC and gcc), the
 * plain fused SPEC loop (/work/shared/anchors/seed-kernel/spec.c, TinyCC and gcc -O2) and,
 * when numba is installed, the prototype's own kernel (seed.py) — all on the same exported columns,
 * alternating variants, each round best of 5, reported as the median of the rounds.
 *
 *   bun PATH/export.ts PACKED OUT 10     # the seed-kernel anchor's export (columns as .f64 files)
 *   bun bench/kernel-throughput.ts OUT [--rounds 3] [--grid] [--blocks 512,2048,...] [--batch 100000]
 *
 * --grid adds 9- and 36-set grids (rows×sets/s) for both compilers and each --blocks size.
 */
import { cc, dlopen, ptr } from "bun:ffi";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  EMA_CROSS_SOURCE,
  KernelRun,
  loadKernel,
  OPTIMISED_FLAGS,
  type KernelBatch,
  type LoadedKernel,
} from "../kernel/strategy-kernel.ts";

const { values: flags, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    rounds: { type: "string" },
    grid: { type: "boolean" },
    blocks: { type: "string" },
    batch: { type: "string" },
    anchor: { type: "string" },
  },
});
const dir = positionals[0];
if (!dir || !existsSync(join(dir, "meta.json"))) {
  console.error("usage: bun bench/kernel-throughput.ts EXPORT_DIR (made by the seed-kernel anchor's export.ts)");
  process.exit(2);
}
const ANCHOR = flags.anchor ?? "/work/shared/anchors/seed-kernel";
const rounds = Number(flags.rounds ?? 3);
const batchRows = Number(flags.batch ?? 100_000);
const blocks = (flags.blocks ?? "2048").split(",").map(Number);
const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { n: number; rows: number[] };
const col = (name: string) => new Float64Array(readFileSync(join(dir, `${name}.f64`)).buffer.slice(0));
const cols = Object.fromEntries(
  ["strike", "opt", "expiry", "price", "bp0", "sp0", "volume"].map((n) => [n, col(n)]),
) as Record<string, Float64Array>;
const N = meta.n;

// The packed types: expiry int32 days, opt_type codes, strike float32, volume int64; prices float64 as they are.
const expiry = Int32Array.from(cols.expiry, (s) => Math.round(s / 86400));
const opt = Int32Array.from(cols.opt);
const strike = Float32Array.from(cols.strike);
const volume = BigInt64Array.from(cols.volume, (v) => BigInt(v));
const files: KernelBatch[][] = [];
let offset = 0;
for (const rows of meta.rows) {
  const batches: KernelBatch[] = [];
  for (let s = offset; s < offset + rows; s += batchRows) {
    const e = Math.min(offset + rows, s + batchRows);
    batches.push({
      length: e - s,
      expiry: expiry.subarray(s, e),
      expiryValid: null,
      opt: opt.subarray(s, e),
      optValid: null,
      optMap: Int32Array.from([0, 1]),
      strike: strike.subarray(s, e),
      strikeValid: null,
      ts: null,
      columns: [cols.price, cols.bp0, cols.sp0]
        .map((c) => ({ values: c.subarray(s, e), valid: null as Uint8Array | null }))
        .concat([{ values: volume.subarray(s, e) as never, valid: null }]),
    });
  }
  files.push(batches);
  offset += rows;
}

const DEFAULTS = [5, 21, 0.0005, 1];
function driver(kernel: LoadedKernel, sets: number[][], blockRows?: number) {
  return () => {
    let trades = 0,
      pnl = 0;
    for (const batches of files) {
      const r = new KernelRun(kernel, sets, 0, { blockRows });
      for (const b of batches) r.run(b);
      r.endPartition();
      const t = r.totals()[0];
      trades += t.trades;
      pnl += t.pnl;
    }
    return { trades, pnl };
  };
}

// spec.c, the plain fused loop, per file (a partition) over the f64 columns.
const SPEC_SYMBOLS = {
  run: {
    args: ["ptr", "ptr", "ptr", "ptr", "ptr", "ptr", "ptr", "i64", "f64", "f64", "f64", "f64", "ptr"],
    returns: "void",
  },
} as const;
const specSource = join(ANCHOR, "spec.c");
const specTcc = cc({ source: specSource, symbols: SPEC_SYMBOLS }).symbols;
const tmp = mkdtempSync(join(tmpdir(), "tickpack-bench-"));
let specGcc: typeof specTcc | null = null;
try {
  const so = join(tmp, "spec.so");
  if (
    Bun.spawnSync(["gcc", ...OPTIMISED_FLAGS.filter((f) => f !== "-Wl,-z,defs"), "-o", so, specSource]).exitCode === 0
  )
    specGcc = dlopen(so, SPEC_SYMBOLS).symbols as unknown as typeof specTcc;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const specOut = new Float64Array(new ArrayBuffer(24));
function spec(fn: typeof specTcc) {
  const p = (a: Float64Array, s: number) => ptr(a, s * 8);
  return () => {
    let trades = 0,
      pnl = 0,
      s = 0;
    for (const rows of meta.rows) {
      fn.run(
        p(cols.strike, s),
        p(cols.opt, s),
        p(cols.expiry, s),
        p(cols.price, s),
        p(cols.bp0, s),
        p(cols.sp0, s),
        p(cols.volume, s),
        rows,
        5,
        21,
        0.0005,
        1,
        ptr(specOut),
      );
      trades += specOut[0];
      pnl += specOut[1];
      s += rows;
    }
    return { trades, pnl };
  };
}

const tcc = loadKernel(EMA_CROSS_SOURCE, "tcc");
const gcc = Bun.which("gcc") ? loadKernel(EMA_CROSS_SOURCE, "gcc") : null;
type Variant = { name: string; sets: number; fn: () => { trades: number; pnl: number } };
const variants: Variant[] = [
  { name: "ema_cross ABI2, TinyCC, 1 set", sets: 1, fn: driver(tcc, [DEFAULTS]) },
  ...(gcc ? [{ name: "ema_cross ABI2, gcc -O2, 1 set", sets: 1, fn: driver(gcc, [DEFAULTS]) }] : []),
  { name: "spec.c, TinyCC", sets: 1, fn: spec(specTcc) },
  ...(specGcc ? [{ name: "spec.c, gcc -O2", sets: 1, fn: spec(specGcc) }] : []),
];
if (flags.grid) {
  const grid9 = [3, 5, 8].flatMap((f) => [13, 21, 34].map((s) => [f, s, 0.0005, 1]));
  const grid36 = [3, 5, 8].flatMap((f) =>
    [13, 21, 34].flatMap((s) => [0.0005, 0.001].flatMap((m) => [0, 1].map((v) => [f, s, m, v]))),
  );
  for (const [label, k] of [
    ["TinyCC", tcc],
    ["gcc -O2", gcc],
  ] as const) {
    if (!k) continue;
    for (const b of blocks) {
      variants.push({ name: `${label}, 9 sets, block ${b}`, sets: 9, fn: driver(k, grid9, b) });
      variants.push({ name: `${label}, 36 sets, block ${b}`, sets: 36, fn: driver(k, grid36, b) });
    }
  }
}

function bestOf(fn: () => unknown, reps: number): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best / 1000;
}

const numba = Bun.which("python3") && Bun.spawnSync(["/usr/bin/python3", "-c", "import numba"]).exitCode === 0;
const results = new Map<string, number[]>();
const push = (name: string, v: number) => results.set(name, [...(results.get(name) ?? []), v]);
console.log(
  `${N.toLocaleString("en-US")} rows in ${meta.rows.length} partitions, batches of ${batchRows.toLocaleString("en-US")} rows; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
);
for (const v of variants) console.log(`check ${v.name}: ${JSON.stringify(v.fn())}`);
for (let round = 0; round < rounds; round++) {
  // Alternate the order each round, so that no variant always runs first (or right after Numba).
  const order = round % 2 ? [...variants].reverse() : variants;
  for (const v of order) push(v.name, (N * v.sets) / bestOf(v.fn, 5));
  if (numba) {
    const r = Bun.spawnSync(["/usr/bin/python3", join(ANCHOR, "seed.py"), dir], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode === 0) push("seed Numba kernel (prototype, best of 5)", JSON.parse(r.stdout.toString()).rows_per_s);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median of ${rounds} rounds (each best of 5), M rows(×sets)/s:`);
for (const [name, xs] of results)
  console.log(
    `  ${name.padEnd(44)} ${(median(xs) / 1e6).toFixed(1).padStart(7)}   [${xs.map((x) => (x / 1e6).toFixed(1)).join(", ")}]`,
  );
