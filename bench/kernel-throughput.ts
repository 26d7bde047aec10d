/**
 * Kernel alone, in memory, one core: ema_cross through the tickpack driver (TinyCC and gcc) over the
 * seven columns of the first packed partitions, decoded once up front; alternating variants, each
 * round best of 5, reported as the median of the rounds.
 *
 *   bun bench/kernel-throughput.ts PACKED [--partitions 10] [--rounds 3] [--grid] [--blocks 512,2048,...]
 *                                  [--batch 100000] [--anchor DIR]
 *
 * --grid adds 9- and 36-set grids (rows×sets/s) for both compilers and each --blocks size.
 * --anchor DIR adds outside comparisons from a folder holding `spec.c` (a plain fused C loop of the
 * same rules, `void run(strike, opt, expiry, price, bp0, sp0, volume: double*, n, fast, slow,
 * max_spread, min_volume, double *out)`, built with TinyCC and gcc -O2) and, when Python's numba is
 * installed, `seed.py` (the Python prototype's Numba kernel, run on the same columns written as .f64
 * files with a meta.json). Without it, those rows are left out and the run says so.
 */
import { cc, dlopen, ptr } from "bun:ffi";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  EMA_CROSS_SOURCE,
  KernelRun,
  loadKernel,
  OPTIMISED_FLAGS,
  type LoadedKernel,
} from "../kernel/strategy-kernel.ts";
import type { KernelBatch } from "../kernel/kernel-batch.ts";
import { listPackedPartitions } from "../lib/packed/layout.ts";
import { readPackedGroup } from "../lib/packed/reader.ts";
import { PACKED_COLUMNS } from "../lib/packed/schema.ts";
import { closeParquet, openParquet } from "../lib/parquet/io.ts";

const { values: flags, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    partitions: { type: "string" },
    rounds: { type: "string" },
    grid: { type: "boolean" },
    blocks: { type: "string" },
    batch: { type: "string" },
    anchor: { type: "string" },
  },
});
const dir = positionals[0];
const partitions = dir && existsSync(dir) ? listPackedPartitions(dir) : [];
if (partitions.length === 0) {
  console.error("usage: bun bench/kernel-throughput.ts PACKED_DIR [options] (a folder repack wrote; see the header)");
  process.exit(2);
}
const ANCHOR = flags.anchor ?? null;
if (ANCHOR && !existsSync(join(ANCHOR, "spec.c"))) {
  console.error(`--anchor ${ANCHOR}: no spec.c there`);
  process.exit(2);
}
const rounds = Number(flags.rounds ?? 3);
const batchRows = Number(flags.batch ?? 100_000);
const blocks = (flags.blocks ?? "2048").split(",").map(Number);

// The seven columns of the first partitions as float64, nulls as 0 (a null and a 0 price, bid or ask
// take the same branch; volume 0 differs from null only under min_volume 0), segments per partition.
const NAMES = ["strike", "opt", "expiry", "price", "bp0", "sp0", "volume"] as const;
const READ = PACKED_COLUMNS.filter((c) =>
  ["strike", "opt_type", "expiry", "price", "bp0", "sp0", "volume"].includes(c.name),
);
const chunks = new Map<string, Float64Array[]>(NAMES.map((n) => [n, []]));
const partitionRows: number[] = [];
for (const partition of partitions.slice(0, Number(flags.partitions ?? 10))) {
  let rows = 0;
  for (const part of partition.parts) {
    const source = await openParquet(part);
    try {
      for (let g = 0; g < source.rowGroupRows.length; g++) {
        const b = await readPackedGroup(source, g, READ);
        const asF64 = (name: string, map: (v: number) => number = (v) => v) => {
          const c = b.columns.get(name)!;
          return Float64Array.from({ length: b.length }, (_, i) =>
            c.valid && c.valid[i] === 0 ? 0 : map(Number(c.values[i])),
          );
        };
        const dict = b.columns.get("opt_type")!.dictionary!;
        chunks.get("strike")!.push(asF64("strike"));
        chunks.get("opt")!.push(asF64("opt_type", (code) => (dict[code] === "CE" ? 0 : 1)));
        chunks.get("expiry")!.push(asF64("expiry"));
        for (const n of ["price", "bp0", "sp0", "volume"]) chunks.get(n)!.push(asF64(n));
        rows += b.length;
      }
    } finally {
      closeParquet(source);
    }
  }
  partitionRows.push(rows);
}
const N = partitionRows.reduce((a, n) => a + n, 0);
const concat = (parts: Float64Array[]) => {
  const all = new Float64Array(N);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
};
const cols = Object.fromEntries(NAMES.map((n) => [n, concat(chunks.get(n)!)])) as Record<
  (typeof NAMES)[number],
  Float64Array
>;
chunks.clear();

// The packed types: expiry int32 days, opt_type codes, strike float32, volume int64; prices float64 as they are.
const expiry = Int32Array.from(cols.expiry);
const opt = Int32Array.from(cols.opt);
const strike = Float32Array.from(cols.strike);
const volume = BigInt64Array.from(cols.volume, (v) => BigInt(v));
const files: KernelBatch[][] = [];
let offset = 0;
for (const rows of partitionRows) {
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

// The anchor's spec.c, the plain fused loop, per partition over the f64 columns.
const SPEC_SYMBOLS = {
  run: {
    args: ["ptr", "ptr", "ptr", "ptr", "ptr", "ptr", "ptr", "i64", "f64", "f64", "f64", "f64", "ptr"],
    returns: "void",
  },
} as const;
type SpecRun = ReturnType<typeof cc<typeof SPEC_SYMBOLS>>["symbols"];
function buildSpec(anchor: string): { tcc: SpecRun; gcc: SpecRun | null } {
  const specSource = join(anchor, "spec.c");
  const tcc = cc({ source: specSource, symbols: SPEC_SYMBOLS }).symbols;
  const tmp = mkdtempSync(join(tmpdir(), "tickpack-bench-"));
  try {
    const so = join(tmp, "spec.so");
    const built =
      Bun.spawnSync(["gcc", ...OPTIMISED_FLAGS.filter((f) => f !== "-Wl,-z,defs"), "-o", so, specSource]).exitCode ===
      0;
    return { tcc, gcc: built ? (dlopen(so, SPEC_SYMBOLS).symbols as unknown as SpecRun) : null };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
const specOut = new Float64Array(new ArrayBuffer(24));
function spec(fn: SpecRun) {
  const p = (a: Float64Array, s: number) => ptr(a, s * 8);
  return () => {
    let trades = 0,
      pnl = 0,
      s = 0;
    for (const rows of partitionRows) {
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
  { name: "ema_cross, TinyCC, 1 set", sets: 1, fn: driver(tcc, [DEFAULTS]) },
  ...(gcc ? [{ name: "ema_cross, gcc -O2, 1 set", sets: 1, fn: driver(gcc, [DEFAULTS]) }] : []),
];
const anchorSpec = ANCHOR ? buildSpec(ANCHOR) : null;
if (anchorSpec) {
  variants.push({ name: "spec.c, TinyCC", sets: 1, fn: spec(anchorSpec.tcc) });
  if (anchorSpec.gcc) variants.push({ name: "spec.c, gcc -O2", sets: 1, fn: spec(anchorSpec.gcc) });
}
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

const seedPy = ANCHOR && existsSync(join(ANCHOR, "seed.py")) ? join(ANCHOR, "seed.py") : null;
const numba = seedPy !== null && Bun.spawnSync(["python3", "-c", "import numba"]).exitCode === 0;
if (!ANCHOR)
  console.log("no --anchor DIR: ema_cross alone (the plain fused loop and the prototype's Numba kernel need it)");
else if (!numba) console.log(`no seed.py in ${ANCHOR} or no numba for python3: the prototype's kernel is left out`);
// seed.py reads the columns as .f64 files and the partitions' row counts from meta.json.
const seedInput = numba ? mkdtempSync(join(tmpdir(), "tickpack-seed-")) : null;
if (seedInput) {
  for (const n of NAMES) writeFileSync(join(seedInput, `${n}.f64`), cols[n]);
  writeFileSync(join(seedInput, "meta.json"), JSON.stringify({ n: N, rows: partitionRows }));
}
const results = new Map<string, number[]>();
const push = (name: string, v: number) => results.set(name, [...(results.get(name) ?? []), v]);
console.log(
  `${N.toLocaleString("en-US")} rows in ${partitionRows.length} partitions, batches of ${batchRows.toLocaleString("en-US")} rows; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
);
for (const v of variants) console.log(`check ${v.name}: ${JSON.stringify(v.fn())}`);
for (let round = 0; round < rounds; round++) {
  // Alternate the order each round, so that no variant always runs first (or right after Numba).
  const order = round % 2 ? [...variants].reverse() : variants;
  for (const v of order) push(v.name, (N * v.sets) / bestOf(v.fn, 5));
  if (seedPy && seedInput) {
    const r = Bun.spawnSync(["python3", seedPy, seedInput], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode === 0) push("seed Numba kernel (prototype, best of 5)", JSON.parse(r.stdout.toString()).rows_per_s);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median of ${rounds} rounds (each best of 5), M rows(×sets)/s:`);
for (const [name, xs] of results)
  console.log(
    `  ${name.padEnd(44)} ${(median(xs) / 1e6).toFixed(1).padStart(7)}   [${xs.map((x) => (x / 1e6).toFixed(1)).join(", ")}]`,
  );
if (seedInput) rmSync(seedInput, { recursive: true, force: true });
