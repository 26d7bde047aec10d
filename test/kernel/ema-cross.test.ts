import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { emaCrossReference, type EmaCrossParams, type ReferenceRow } from "../../kernel/ema_cross.ts";
import { EMA_CROSS_SOURCE, KernelRun, loadKernel } from "../../kernel/strategy-kernel.ts";
import { privateKernelCache } from "../helpers/kernel-cache.ts";
import { randomPartitions, runGrid, runPartitions, values } from "../helpers/kernel-batches.ts";
import { SeededRandom } from "../../lib/random.ts";
import type { KernelBatch } from "../../kernel/kernel-batch.ts";
import { stableOptCode } from "../../lib/packed/opt-type.ts";

// The randomised tests run thousands of batches through the kernel: seconds, more on a busy machine.
setDefaultTimeout(60_000);
const kernel = loadKernel(EMA_CROSS_SOURCE);
const GCC = Bun.which("gcc");
const kernelBuilds = privateKernelCache();

/** One set through the TinyCC kernel. */
function runKernel(
  partitions: ReferenceRow[][],
  params: EmaCrossParams,
  cuts: (n: number) => number[],
  logCapacity = 0,
  blockRows?: number,
) {
  const r = runGrid(kernel, partitions, [params], cuts, logCapacity, blockRows);
  return { ...r.totals[0], tradeList: r.tradeList };
}

describe("ema_cross kernel", () => {
  const tradeTuple = (t: {
    entryTs: bigint;
    exitTs: bigint;
    entryPrice: number;
    exitPrice: number;
    expiry: number;
    optCode: number;
    strike: number;
  }) => [t.entryTs, t.exitTs, t.entryPrice, t.exitPrice, t.expiry, t.optCode, t.strike];
  const cutters = (rng: SeededRandom): ((n: number) => number[])[] => [
    () => [],
    (n) => Array.from({ length: n }, (_, i) => i + 1), // 1-row batches
    (n) => Array.from({ length: 5 }, () => rng.int(0, n)).sort((a, b) => a - b),
  ];
  const randomParams = (rng: SeededRandom): EmaCrossParams => ({
    fast: rng.int(2, 8),
    slow: rng.int(9, 30),
    max_spread: [0.0005, 0.001, 0.01][rng.int(0, 2)],
    min_volume: rng.int(0, 2),
  });

  test("TinyCC kernel equals the TS reference exactly on random data, whatever the batch and block boundaries", () => {
    const rng = new SeededRandom(42);
    for (let round = 0; round < 20; round++) {
      const parts = randomPartitions(rng, 5);
      const params = randomParams(rng);
      const ref = emaCrossReference(parts, params);
      for (const cuts of cutters(rng)) {
        // Blocks of 1 row make the smallest trade log (4 closes), so the driver stops and resumes mid-batch.
        for (const blockRows of [1, 3, 64, 2048]) {
          const got = runKernel(parts, params, cuts, 2, blockRows);
          expect(got.rows).toBe(ref.rows);
          expect(got.validRows).toBe(ref.validRows);
          expect(got.trades).toBe(ref.trades);
          expect(got.pnl).toBe(ref.pnl); // same operations in the same order: bit-identical
          expect(got.tradeList.map(tradeTuple)).toEqual(ref.tradeList.map(tradeTuple));
        }
        const noLog = runKernel(parts, params, cuts);
        expect([noLog.trades, noLog.pnl, noLog.validRows]).toEqual([ref.trades, ref.pnl, ref.validRows]);
      }
    }
  });

  test("a grid: every set equals its reference, and the trade log (by row, then set) does not depend on batches or blocks", () => {
    const rng = new SeededRandom(7);
    for (let round = 0; round < 6; round++) {
      const parts = randomPartitions(rng, 4);
      const sets = Array.from({ length: 9 }, () => randomParams(rng));
      let first: (number | bigint)[][] | null = null;
      for (const cuts of cutters(rng)) {
        for (const blockRows of [1, 5, 256, 100_000]) {
          const got = runGrid(kernel, parts, sets, cuts, 8, blockRows);
          sets.forEach((params, k) => {
            const ref = emaCrossReference(parts, params);
            expect([got.totals[k].rows, got.totals[k].validRows, got.totals[k].trades, got.totals[k].pnl]).toEqual([
              ref.rows,
              ref.validRows,
              ref.trades,
              ref.pnl,
            ]);
            expect(got.tradeList.filter((t) => t.set === k).map(tradeTuple)).toEqual(ref.tradeList.map(tradeTuple));
          });
          const log = got.tradeList.map((t) => [t.set, ...tradeTuple(t)]);
          first ??= log;
          expect(log).toEqual(first);
        }
      }
    }
  });

  test.skipIf(!GCC)(
    `--cc gcc gives bit-identical results to TinyCC: totals and every trade${GCC ? "" : " (skipped: no gcc on PATH)"}`,
    () => {
      const gcc = loadKernel(EMA_CROSS_SOURCE, "gcc");
      expect(gcc.compiler).toBe("gcc");
      expect(kernelBuilds()).toHaveLength(1); // built here, not opened from an earlier run's cache
      const rng = new SeededRandom(11);
      for (let round = 0; round < 8; round++) {
        const parts = randomPartitions(rng, 4);
        const sets = Array.from({ length: 5 }, () => randomParams(rng));
        // Non-round parameters make every rounding step count: a fused multiply-add would show here.
        sets.push({ fast: 3.7, slow: 17.3, max_spread: 0.0123, min_volume: 0.5 });
        for (const cuts of cutters(rng)) {
          const a = runGrid(kernel, parts, sets, cuts, 8, 64);
          const b = runGrid(gcc, parts, sets, cuts, 8, 64);
          a.totals.forEach((t, k) => {
            expect([b.totals[k].rows, b.totals[k].validRows, b.totals[k].trades]).toEqual([
              t.rows,
              t.validRows,
              t.trades,
            ]);
            expect(Object.is(b.totals[k].pnl, t.pnl)).toBe(true);
          });
          expect(b.tradeList).toEqual(a.tradeList);
        }
      }
    },
  );

  const row = (price: number | null, extra: Partial<ReferenceRow> = {}): ReferenceRow => ({
    expiry: 1,
    optType: "CE",
    strike: 100,
    price,
    bp0: price === null ? 99.975 : price - 0.025,
    sp0: price === null ? 100.025 : price + 0.025,
    volume: 5,
    ...extra,
  });
  const both = (parts: ReferenceRow[][], params: EmaCrossParams) => {
    const ref = emaCrossReference(parts, params);
    const got = runKernel(parts, params, () => []);
    expect(got.trades).toBe(ref.trades);
    expect(got.pnl).toBe(ref.pnl);
    return ref;
  };

  test("hand-computed: enter on a rise, exit when the slow EMA catches up", () => {
    // fast=1 (αf=1: emaF = price), slow=3 (αs=0.5).
    const p = { fast: 1, slow: 3, max_spread: 1, min_volume: 1 };
    // 10 → emaS 10; 12: emaF 12 > emaS 11 → enter at 12; 11: emaS 11, emaS ≥ emaF → exit at 11: pnl -1.
    const r = both([[row(10), row(12), row(11)]], p);
    expect(r.trades).toBe(1);
    expect(r.pnl).toBeCloseTo(-1, 12);
  });

  test("docs/strategy.md's worked example", () => {
    const quoted = (price: number | null) =>
      row(price, {
        bp0: price === null ? null : price - 0.02,
        sp0: price === null ? null : price + 0.02,
        volume: 10,
      });
    const segment = [100, null, 102, 104, 103, 101, 102].map(quoted);
    const r = both([segment], { fast: 2, slow: 3, max_spread: 0.0005, min_volume: 1 });
    expect({ rows: r.rows, validRows: r.validRows, trades: r.trades }).toEqual({ rows: 7, validRows: 6, trades: 1 });
    expect(r.tradeList.map((t) => [t.entryPrice, t.exitPrice])).toEqual([[102, 101]]);
    expect(r.pnl).toBe(-1);
  });

  test("hand-computed: a position open at the segment's end closes at its last valid price", () => {
    const p = { fast: 1, slow: 3, max_spread: 1, min_volume: 1 };
    // Enter at 12 (emaS 11), 14 keeps it (emaS 12.5), invalid rows after are skipped: close at 14 → +2.
    const r = both([[row(10), row(12), row(14), row(null), row(0)]], p);
    expect(r.trades).toBe(1);
    expect(r.pnl).toBeCloseTo(2, 12);
  });

  test("hand-computed: an entry on the segment's last row is a zero-PnL trade", () => {
    const r = both([[row(10), row(12)]], { fast: 1, slow: 3, max_spread: 1, min_volume: 1 });
    expect(r.trades).toBe(1);
    expect(r.pnl).toBe(0);
  });

  test("hand-computed: spread exactly at the limit enters, just above does not", () => {
    const p = { fast: 1, slow: 3, max_spread: 0.5, min_volume: 1 };
    // bp 9, sp 15: (15-9)/12 = 0.5 exactly.
    expect(both([[row(10), row(12, { bp0: 9, sp0: 15 })]], p).trades).toBe(1);
    expect(both([[row(10), row(12, { bp0: 9, sp0: 15.01 })]], p).trades).toBe(0);
  });

  test("hand-computed: volume below the minimum, or null bid, blocks entry", () => {
    const p = { fast: 1, slow: 3, max_spread: 1, min_volume: 2 };
    expect(both([[row(10), row(12, { volume: 1 })]], p).trades).toBe(0);
    expect(both([[row(10), row(12, { volume: 2 })]], p).trades).toBe(1);
    expect(both([[row(10), row(12, { bp0: null })]], p).trades).toBe(0);
  });

  test("hand-computed: invalid rows between valid ones leave the EMAs alone", () => {
    const p = { fast: 1, slow: 3, max_spread: 1, min_volume: 1 };
    // Same as the first case with junk in between: 10, (null, 0, -5), 12 → enter, 11 → exit: -1.
    const r = both([[row(10), row(null), row(0), row(-5), row(12), row(null), row(11)]], p);
    expect(r.validRows).toBe(3);
    expect(r.rows).toBe(7);
    expect(r.pnl).toBeCloseTo(-1, 12);
  });

  test("a strike of -0 continues a segment of 0, NaN strikes never match (each row its own segment), in blocks of more than 64 rows", () => {
    const p = { fast: 2, slow: 5, max_spread: 1, min_volume: 0 };
    const wave = (i: number) => 100 + 5 * Math.sin(i / 3);
    const rows = [
      ...Array.from({ length: 130 }, (_, i) => row(wave(i), { strike: i % 2 ? -0 : 0 })),
      ...Array.from({ length: 70 }, (_, i) => row(wave(i), { strike: NaN })),
      ...Array.from({ length: 80 }, (_, i) => row(wave(i), { strike: 100 })),
    ];
    const ref = emaCrossReference([rows], p);
    expect(ref.trades).toBeGreaterThan(3);
    for (const k of [kernel, ...(GCC ? [loadKernel(EMA_CROSS_SOURCE, "gcc")] : [])]) {
      for (const blockRows of [2048, 100, 1]) {
        const got = runGrid(k, [rows], [p], () => [], 8, blockRows);
        expect([got.totals[0].rows, got.totals[0].validRows, got.totals[0].trades, got.totals[0].pnl]).toEqual([
          ref.rows,
          ref.validRows,
          ref.trades,
          ref.pnl,
        ]);
        expect(got.tradeList.map(tradeTuple)).toEqual(ref.tradeList.map(tradeTuple));
      }
    }
  });

  test("the driver's key scan: a segment starts anywhere in its windows of rows; -0 and 0 are one strike, NaN none; two codes of one type are one", () => {
    // Segments of lengths about the scan's windows (64 rows with either compiler), so that starts
    // fall at every place in a window and windows hold none; rows' keys as stored, no nulls.
    const lengths = [1, 2, 63, 64, 65, 127, 128, 129, 700, 2500];
    const wave = (i: number) => 100 + 5 * Math.sin(i / 7) + 3 * Math.sin(i / 29);
    const rng = new SeededRandom(23);
    expect(kernel.compiler).toBe("tcc");
    const builds = [kernel, ...(GCC ? [loadKernel(EMA_CROSS_SOURCE, "gcc")] : [])];
    for (let round = 0; round < 4; round++) {
      const rows: ReferenceRow[] = [];
      for (let s = 0; s < 40; s++) {
        const len = lengths[rng.int(0, lengths.length - 1)];
        const kind = rng.next();
        const expiry = 1 + rng.int(0, 1);
        const optType = rng.next() < 0.5 ? "CE" : "PE";
        const strike = kind < 0.15 ? NaN : kind < 0.35 ? 0 : 100 * rng.int(1, 3);
        for (let i = 0; i < len; i++)
          rows.push(row(wave(rows.length), { expiry, optType, strike: strike === 0 && i % 3 === 1 ? -0 : strike }));
      }
      const p = { fast: 2, slow: 7, max_spread: 1, min_volume: 0 };
      const ref = emaCrossReference([rows], p);
      expect(ref.trades).toBeGreaterThan(20);
      // CE rows under either of two dictionary codes that both mean CE, as a batch's own dictionary may say.
      const twoCodes = (b: KernelBatch): KernelBatch => {
        const ce = b.optMap.indexOf(stableOptCode("CE"));
        return {
          ...b,
          opt: b.opt.map((c) => (c === ce && rng.next() < 0.5 ? b.optMap.length : c)),
          optMap: Int32Array.from([...b.optMap, b.optMap[ce]]),
        };
      };
      for (const k of builds)
        for (const blockRows of [2048, 100, 1])
          for (const cuts of [
            () => [],
            (n: number) => Array.from({ length: 7 }, () => rng.int(0, n)).sort((a, b) => a - b),
          ]) {
            const run = new KernelRun(k, [values(p)], 8, { blockRows });
            const got = runPartitions(run, k, [rows], cuts, undefined, twoCodes);
            const t = got.totals[0];
            expect([t.rows, t.validRows, t.trades, t.pnl]).toEqual([ref.rows, ref.validRows, ref.trades, ref.pnl]);
            expect(got.tradeList.map(tradeTuple)).toEqual(ref.tradeList.map(tradeTuple));
          }
    }
  });

  test("segments break on expiry even with equal strike and type, and never span partitions", () => {
    const p = { fast: 1, slow: 3, max_spread: 1, min_volume: 1 };
    const a = [row(10), row(12)]; // enters at 12 on its last row → closes at 12
    const b = [row(11, { expiry: 2 }), row(20, { expiry: 2 })]; // new segment: enters at 20
    const r = both([[...a, ...b]], p);
    expect(r.trades).toBe(2);
    expect(r.pnl).toBe(0);
    expect(both([a, [row(13), row(15)]], p).trades).toBe(2);
  });
});
