/** Kernel batches from reference rows, random partitions of them, and runs of a kernel over them (kernel tests). */
import type { EmaCrossParams, ReferenceRow } from "../../kernel/ema_cross.ts";
import { KernelRun, type LoadedKernel } from "../../kernel/strategy-kernel.ts";
import { columnAs, type KernelBatch } from "../../kernel/kernel-batch.ts";
import { stableOptCode } from "../../lib/packed/opt-type.ts";
import type { SeededRandom } from "../../lib/random.ts";
import { ptr } from "bun:ffi";

/** ema_cross's parameters in the kernel's order. */
export const values = (p: EmaCrossParams) => [p.fast, p.slow, p.max_spread, p.min_volume];

/** An Arrow validity bitmap of `values` (bit set = non-null), or null when none is null. */
export function bitmap(values: unknown[]): Uint8Array | null {
  if (values.every((v) => v !== null)) return null;
  const bits = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) bits[i >> 3] |= 1 << (i & 7);
  });
  return bits;
}

/** A kernel batch of reference rows; opt_type codes use a per-batch dictionary in the given order; columns in the kernel's declared types. */
export function batchOf(k: LoadedKernel, rows: ReferenceRow[], dict: string[]): KernelBatch {
  const col = <T>(f: (r: ReferenceRow) => T | null) => rows.map(f);
  const opt = col((r) => r.optType);
  return {
    length: rows.length,
    expiry: Int32Array.from(col((r) => r.expiry ?? 0)),
    expiryValid: bitmap(col((r) => r.expiry)),
    opt: Int32Array.from(opt.map((o) => (o === null ? 0 : dict.indexOf(o)))),
    optValid: bitmap(opt),
    optMap: Int32Array.from(dict.map(stableOptCode)),
    strike: Float32Array.from(col((r) => r.strike ?? 0)),
    strikeValid: bitmap(col((r) => r.strike)),
    columns: k.columns.map((column, c) => {
      const name = column as "price" | "bp0" | "sp0" | "volume";
      if (!["price", "bp0", "sp0", "volume"].includes(name))
        throw new Error(`batchOf: reference rows have no ${column}`);
      const valid = bitmap(col((r) => r[name]));
      const values = columnAs(Float64Array.from(col((r) => r[name] ?? 0)), valid, k.columnTypes[c]);
      if (typeof values === "string") throw new Error(values);
      return { values, valid };
    }),
    ts: BigInt64Array.from(col((r) => r.ts ?? 0n)),
  };
}

/** Runs partitions through a kernel for every set, in batches cut at `cuts(partitionLength)`. */
export function runGrid(
  k: LoadedKernel,
  partitions: ReferenceRow[][],
  sets: EmaCrossParams[],
  cuts: (n: number) => number[],
  logCapacity = 0,
  blockRows?: number,
) {
  const run = new KernelRun(k, sets.map(values), logCapacity, { blockRows });
  return runPartitions(run, k, partitions, cuts);
}

/** `b` with its timestamps as codes into a dictionary of them in random order, with values no row uses among them (as a dictionary-coded column comes). */
export function withCodedTimestamps(b: KernelBatch, rng: SeededRandom): KernelBatch {
  if (!b.ts) return b;
  const distinct = [...new Set(b.ts), -1n, 7n * 10n ** 18n];
  for (let i = distinct.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [distinct[i], distinct[j]] = [distinct[j], distinct[i]];
  }
  const code = new Map(distinct.map((t, i) => [t, i]));
  return { ...b, ts: BigInt64Array.from(distinct), tsCodes: Int32Array.from(b.ts, (t) => code.get(t) as number) };
}

/**
 * `b` with its timestamps as runs of codes (lib/parquet/native/code-runs.ts) into a shuffled
 * dictionary of them: runs of one repeated code and bit-packed runs of random widths, entered part-way,
 * behind `lead` rows that belong to no batch row (tsRow0). The runs' bytes are pushed to `keep`: the
 * records hold their addresses.
 */
export function withRunTimestamps(
  b: KernelBatch,
  rng: SeededRandom,
  keep: Uint8Array[],
  options: { lead?: number } = {},
): KernelBatch {
  const coded = withCodedTimestamps(b, rng);
  const lead = options.lead ?? 0;
  const entries = coded.ts!.length;
  const codes = [...Array.from({ length: lead }, () => rng.int(0, entries - 1)), ...coded.tsCodes!];
  const records: bigint[] = [];
  for (let at = 0; at < codes.length; ) {
    let end = Math.min(codes.length, at + rng.int(1, 40));
    if (rng.next() < 0.3) {
      // One code for the whole run: as far as it repeats.
      end = at + 1;
      while (end < codes.length && codes[end] === codes[at]) end++;
      records.push(BigInt(at), 0n, BigInt(codes[at]), 0n);
    } else {
      const max = Math.max(...codes.slice(at, end));
      const width = Math.min(32, Math.max(1, Math.ceil(Math.log2(max + 1))) + rng.int(0, 3));
      const skip = rng.int(0, 9); // codes before the run's first row (a window entering a run part-way)
      const bytes = new Uint8Array(Math.ceil(((skip + end - at) * width) / 8) + 1);
      const put = (index: number, code: number) => {
        for (let q = 0; q < width; q++)
          if (Math.floor(code / 2 ** q) % 2) bytes[(index * width + q) >> 3] |= 1 << ((index * width + q) & 7);
      };
      for (let i = 0; i < skip; i++) put(i, rng.int(0, 2 ** Math.min(width, 20) - 1));
      for (let i = at; i < end; i++) put(skip + i - at, codes[i]);
      keep.push(bytes);
      records.push(BigInt(at), BigInt(width), BigInt(ptr(bytes)), BigInt(skip));
    }
    at = end;
  }
  // The dictionary one byte past an 8-byte boundary: the driver reads it where it lies, as it does a page's.
  const dictionary = new Uint8Array(8 * entries + 1);
  const view = new DataView(dictionary.buffer);
  for (const [i, t] of coded.ts!.entries()) view.setBigInt64(1 + 8 * i, t, true);
  keep.push(dictionary);
  const tsRuns = { records: BigInt64Array.from(records), dictionaryAt: ptr(dictionary) + 1, entries, valueBytes: 8 };
  return { ...coded, ts: null, tsCodes: null, tsRuns, tsRow0: lead };
}

/**
 * Runs partitions through `run` in batches cut at `cuts(partitionLength)`; `afterPartition` sees the
 * run after each one's end; `batchFor` may hand the driver each batch in another form.
 */
export function runPartitions(
  run: KernelRun,
  k: LoadedKernel,
  partitions: ReferenceRow[][],
  cuts: (n: number) => number[],
  afterPartition?: (run: KernelRun, p: number) => void,
  batchFor: (b: KernelBatch) => KernelBatch = (b) => b,
) {
  partitions.forEach((rows, p) => {
    let start = 0;
    for (const end of [...cuts(rows.length), rows.length]) {
      if (end <= start) continue;
      run.run(batchFor(batchOf(k, rows.slice(start, end), p % 2 ? ["PE", "CE"] : ["CE", "PE"])));
      start = end;
    }
    run.endPartition();
    afterPartition?.(run, p);
  });
  return { totals: run.totals(), tradeList: run.takeTrades() };
}

export function randomPartitions(rng: SeededRandom, count: number): ReferenceRow[][] {
  const parts: ReferenceRow[][] = [];
  let ts = 1_700_000_000_000_000_000n;
  for (let p = 0; p < count; p++) {
    const rows: ReferenceRow[] = [];
    const segments = rng.int(1, 40);
    for (let s = 0; s < segments; s++) {
      // Adjacent segments often share a strike under another expiry or type.
      const expiry = 20_000 + rng.int(0, 2);
      const optType = rng.next() < 0.02 ? null : rng.next() < 0.5 ? "CE" : "PE";
      const strike = rng.next() < 0.02 ? null : 100 * rng.int(1, 3);
      const len = rng.next() < 0.2 ? rng.int(1, 2) : rng.int(1, 300);
      let price = 50 + rng.next() * 200;
      for (let i = 0; i < len; i++) {
        price = Math.max(0.05, price + (rng.next() - 0.5) * 2);
        const mid = price;
        const spread = rng.next() < 0.5 ? 0.05 : 0.05 * rng.int(1, 10);
        const r = rng.next();
        rows.push({
          expiry,
          optType,
          strike,
          price: r < 0.03 ? null : r < 0.05 ? 0 : r < 0.06 ? -price : Math.round(price * 20) / 20,
          bp0: rng.next() < 0.03 ? null : Math.round((mid - spread / 2) * 20) / 20,
          sp0: rng.next() < 0.03 ? null : Math.round((mid + spread / 2) * 20) / 20,
          volume: rng.next() < 0.03 ? null : rng.int(0, 3),
          ts: (ts += 1_000_000_000n),
        });
      }
    }
    parts.push(rows);
  }
  return parts;
}
