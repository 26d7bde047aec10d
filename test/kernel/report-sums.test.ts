import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { EmaCrossParams, ReferenceRow } from "../../kernel/ema_cross.ts";
import { reportSumsReference, type ReportSums } from "../../kernel/report-sums.ts";
import {
  EMA_CROSS_SOURCE,
  KernelRun,
  loadKernel,
  TimestampCodeError,
  type KernelTradeColumns,
  type LoadedKernel,
} from "../../kernel/strategy-kernel.ts";
import type { KernelBatch } from "../../kernel/kernel-batch.ts";
import { SeededRandom } from "../../lib/random.ts";
import {
  batchOf,
  randomPartitions,
  runPartitions,
  values,
  withCodedTimestamps,
  withRunTimestamps,
} from "../helpers/kernel-batches.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writePerSegmentKernel } from "../helpers/per-segment-kernel.ts";

setDefaultTimeout(60_000);
const emaCross = loadKernel(EMA_CROSS_SOURCE);
const midReversion = loadKernel(join(import.meta.dir, "..", "..", "examples", "mid_reversion.c"));

/** Sums with adjacent segments of one key merged (the reference sees one where the driver may keep two), as plain arrays. */
function canonical(s: ReportSums) {
  const g = s.segments;
  const S = s.sets;
  const out: { key: number[]; ts: bigint; price: number; perSet: number[] }[] = [];
  for (let i = 0; i < g.length; i++) {
    const key = [g.expiry[i], g.optCode[i], g.strike[i]];
    const perSet = Array.from(g.perSet.subarray(i * 3 * S, (i + 1) * 3 * S));
    const last = out[out.length - 1];
    if (last?.key.every((k, q) => k === key[q])) {
      for (const [q, v] of perSet.entries()) last.perSet[q] += v;
      const [ts, price] = [g.firstEntryTs[i], g.firstEntryPrice[i]];
      if (ts < last.ts || (ts === last.ts && (price < last.price || Number.isNaN(last.price))))
        [last.ts, last.price] = [ts, price];
    } else {
      out.push({ key, ts: g.firstEntryTs[i], price: g.firstEntryPrice[i], perSet });
    }
  }
  return {
    segments: out,
    setSums: Array.from(s.setSums),
    spilled: s.spilled,
    curve: s.spilled ? null : { day: s.curveDay, lo: s.curveLo, hi: s.curveHi, sums: Array.from(s.curve) },
  };
}

/** Random partitions whose timestamps sometimes repeat (ties between entries) and that sometimes cross an IST midnight. */
function partitions(rng: SeededRandom, count: number): ReferenceRow[][] {
  const parts = randomPartitions(rng, count);
  // Start most runs in the middle of an IST day, some half an hour before its end.
  const base = BigInt(Math.floor((20_400 * 86_400 - 19_800 + (rng.next() < 0.3 ? 84_600 : 14_400)) * 1e9));
  for (const rows of parts) {
    let t = 0n;
    rows.forEach((r, i) => {
      if (i === 0 || rng.next() > 0.1) t += BigInt(rng.int(1, 3)) * 400_000_000n;
      r.ts = base + t;
    });
  }
  return parts;
}

const randomParams = (rng: SeededRandom): EmaCrossParams => ({
  fast: rng.int(2, 8),
  slow: rng.int(9, 30),
  max_spread: [0.0005, 0.001, 0.01][rng.int(0, 2)],
  min_volume: rng.int(0, 2),
});

describe("the driver's report sums", () => {
  const cutters = (rng: SeededRandom): ((n: number) => number[])[] => [
    () => [],
    (n) => Array.from({ length: 6 }, () => rng.int(0, n)).sort((a, b) => a - b),
  ];

  /** Runs `sets` over `parts` with the trade log and the sums; checks each partition's sums against the reference of its logged trades. */
  function check(
    k: LoadedKernel,
    parts: ReferenceRow[][],
    sets: number[][],
    cuts: (n: number) => number[],
    blockRows: number | undefined,
    capacity: number | undefined,
  ) {
    const run = new KernelRun(k, sets, 16, { blockRows, reportSums: true, reportRecordCapacity: capacity });
    const got: ReturnType<typeof canonical>[] = [];
    let spilled = 0;
    runPartitions(run, k, parts, cuts, (r) => {
      const trades = r.takeTradeColumns();
      const sums = r.takeReportSums();
      expect(canonical(sums)).toEqual(canonical(reportSumsReference(trades, sets.length)));
      expect(sums.segments.length).toBeGreaterThanOrEqual(canonical(sums).segments.length);
      if (sums.spilled) spilled++;
      got.push(canonical(sums));
    });
    return { got, spilled };
  }

  test("equal the TypeScript reference of the logged trades (ema_cross grids), whatever the batches, blocks and record drains", () => {
    const rng = new SeededRandom(5);
    let spilled = 0;
    let trades = 0;
    for (let round = 0; round < 12; round++) {
      const parts = partitions(rng, 3);
      const sets = Array.from({ length: rng.int(1, 6) }, () => values(randomParams(rng)));
      let first: unknown = null;
      for (const cuts of cutters(rng)) {
        for (const [blockRows, capacity] of [
          [undefined, undefined],
          [1, 3],
          [7, 9],
          [64, 66],
        ] as const) {
          const r = check(emaCross, parts, sets, cuts, blockRows, capacity);
          spilled += r.spilled;
          trades += r.got.reduce((a, p) => a + p.setSums[0], 0);
          // The sums do not depend on where batches, blocks or drains fall.
          first ??= r.got;
          expect(r.got).toEqual(first as typeof r.got);
        }
      }
    }
    expect(trades).toBeGreaterThan(500);
    expect(spilled).toBeGreaterThan(0); // some partitions crossed a midnight: their curves are flagged incomplete
  });

  test("a user kernel (examples/mid_reversion.c) and a sums-only run (no trade log) give the same sums", () => {
    const rng = new SeededRandom(9);
    for (let round = 0; round < 6; round++) {
      const parts = partitions(rng, 3);
      const sets = Array.from({ length: 3 }, () => [rng.int(5, 60), [0.001, 0.002, 0.01][rng.int(0, 2)]]);
      const withLog = check(midReversion, parts, sets, () => [], undefined, undefined).got;
      const alone = new KernelRun(midReversion, sets, 0, { reportSums: true });
      const sums: ReturnType<typeof canonical>[] = [];
      runPartitions(
        alone,
        midReversion,
        parts,
        () => [],
        (r) => sums.push(canonical(r.takeReportSums())),
      );
      expect(sums).toEqual(withLog);
    }
  });

  /**
   * Each round's partitions run twice with the trade log and the sums, their batches' timestamps as
   * values and as `form` makes them: the logs and sums must be equal. Returns the trades logged.
   */
  function sameWithTimestampsAs(seed: number, form: (b: KernelBatch, rng: SeededRandom) => KernelBatch): number {
    const rng = new SeededRandom(seed);
    let trades = 0;
    for (let round = 0; round < 6; round++) {
      const parts = partitions(rng, 3);
      const sets = Array.from({ length: rng.int(1, 4) }, () => values(randomParams(rng)));
      const cutsOf = parts.map((rows) =>
        Array.from({ length: 4 }, () => rng.int(0, rows.length)).sort((a, b) => a - b),
      );
      const results = [false, true].map((coded) => {
        const run = new KernelRun(emaCross, sets, 16, { blockRows: 64, reportSums: true });
        const out: { log: KernelTradeColumns; sums: ReturnType<typeof canonical> }[] = [];
        let p = 0;
        runPartitions(
          run,
          emaCross,
          parts,
          () => cutsOf[p],
          (r) => {
            p++;
            out.push({ log: r.takeTradeColumns(), sums: canonical(r.takeReportSums()) });
          },
          coded ? (b) => form(b, rng) : undefined,
        );
        return out;
      });
      expect(results[1]).toEqual(results[0]);
      trades += results[0].reduce((a, x) => a + x.log.exitTs.length, 0);
    }
    return trades;
  }

  test("timestamps as codes into a dictionary give the same trade log and sums as the timestamps themselves", () => {
    expect(sameWithTimestampsAs(21, withCodedTimestamps)).toBeGreaterThan(50);
  });

  test("timestamps as runs of codes (any widths, runs entered part-way, batch row 0 past the runs' start) give the same trade log and sums", () => {
    const keep: Uint8Array[] = [];
    const trades = sameWithTimestampsAs(22, (b, rng) => withRunTimestamps(b, rng, keep, { lead: rng.int(0, 20) }));
    expect(trades).toBeGreaterThan(50);
  });

  /** A report run of one random set and a random partition's batch with its timestamps as runs (`keep` holds the runs' bytes). */
  function runOverCodeRuns(seed: number) {
    const rng = new SeededRandom(seed);
    const keep: Uint8Array[] = [];
    const parts = partitions(rng, 1);
    const run = new KernelRun(emaCross, [values(randomParams(rng))], 0, { reportSums: true });
    const whole = withRunTimestamps(batchOf(emaCross, parts[0], ["CE", "PE"]), rng, keep);
    return { rng, keep, run, whole };
  }

  test("a run of codes past the dictionary (a garbled file) is a TimestampCodeError, not a timestamp", () => {
    // `keep` holds the bytes the runs point into, as long as the test runs.
    const { rng, keep, run, whole } = runOverCodeRuns(23);
    // A dictionary of one value: every code but 0 is past it, and the first trade's lookups meet one.
    const broken = { ...whole, tsRuns: { ...whole.tsRuns!, entries: 1 } };
    expect(() => run.run(broken)).toThrow(TimestampCodeError);
    // The same runs with their whole dictionary run.
    const again = new KernelRun(emaCross, [values(randomParams(rng))], 0, { reportSums: true });
    again.run(whole);
    again.endPartition();
    expect(again.totals()[0].trades).toBeGreaterThan(0);
    keep.length = 0;
  });

  test("runs of codes with no record (a garbled file) are a TimestampCodeError, not values read from the dictionary", () => {
    const { run, whole } = runOverCodeRuns(24);
    const none = { ...whole, tsRuns: { ...whole.tsRuns!, records: new BigInt64Array(4).subarray(0, 0) } };
    expect(() => run.run(none)).toThrow(TimestampCodeError);
  });

  test("an exit in the first minute after an IST midnight marks the curve incomplete, as the reference does", () => {
    // Two contracts of one trade each (in at the first row, out at the segment's end): out at
    // 23:59:30 IST, then at 00:00:30 the next day — minute 1440 of the first close's day, one past
    // the curve's last bin.
    const dir = mkdtempSync(join(tmpdir(), "tickpack-report-sums-"));
    try {
      const perSegment = loadKernel(writePerSegmentKernel(dir));
      const midnightNs = BigInt(20_401 * 86_400 - 19_800) * 1_000_000_000n;
      const row = (strike: number, seconds: number): ReferenceRow => ({
        expiry: 20_410,
        optType: "CE",
        strike,
        price: 100 + seconds / 100,
        bp0: 99,
        sp0: 101,
        volume: 1,
        ts: midnightNs + BigInt(seconds) * 1_000_000_000n,
      });
      const rows = [row(100, -90), row(100, -60), row(100, -30), row(200, -20), row(200, 0), row(200, 30)];
      const { got, spilled } = check(perSegment, [rows], [[]], () => [], undefined, undefined);
      expect(got[0].setSums[0]).toBe(2);
      expect(spilled).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the curve's range leaves out end minutes whose closes sum to zero, and a partition with none has no range", () => {
    // One trade per contract (in at its first row, out at its last): +1 and −1 out in minute 600,
    // +2 in minute 605, +0.5 and −0.5 in minute 610 of the IST day; the range is minute 605 alone.
    const dir = mkdtempSync(join(tmpdir(), "tickpack-report-sums-"));
    try {
      const perSegment = loadKernel(writePerSegmentKernel(dir));
      const dayNs = BigInt(20_401 * 86_400 - 19_800) * 1_000_000_000n;
      const row = (strike: number, minute: number, price: number): ReferenceRow => ({
        expiry: 20_410,
        optType: "CE",
        strike,
        price,
        bp0: 99,
        sp0: 101,
        volume: 1,
        ts: dayNs + BigInt(minute * 60 + 10) * 1_000_000_000n,
      });
      const trade = (strike: number, minute: number, pnl: number) => [
        row(strike, minute - 1, 100),
        row(strike, minute, 100 + pnl),
      ];
      const rows = [
        ...trade(100, 600, 1),
        ...trade(200, 600, -1),
        ...trade(300, 605, 2),
        ...trade(400, 610, 0.5),
        ...trade(500, 610, -0.5),
      ];
      const flat = [...trade(100, 600, 1), ...trade(200, 600, -1)];
      const { got } = check(perSegment, [rows, flat, rows], [[]], () => [], undefined, undefined);
      expect(got[0].curve).toEqual({ day: 20_401, lo: 605, hi: 605, sums: [2] });
      expect(got[1].curve?.sums).toEqual([]);
      expect(got[1].curve?.lo).toBeNaN();
      // A partition after another starts from a cleared curve.
      expect(got[2]).toEqual(got[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a released run's buffers serve the next run of the thread: the same trades, totals and sums as fresh ones; the released run refuses use", () => {
    const rng = new SeededRandom(31);
    const sets = Array.from({ length: 3 }, () => values(randomParams(rng)));
    const options = { blockRows: 64, reportSums: true, reportRecordCapacity: 80 };
    const outcome = (run: KernelRun, parts: ReferenceRow[][]) => {
      const sums: ReturnType<typeof canonical>[] = [];
      const r = runPartitions(
        run,
        emaCross,
        parts,
        () => [17, 90],
        (x) => sums.push(canonical(x.takeReportSums())),
      );
      return { ...r, sums };
    };
    const bufferOf = (run: KernelRun) => (run as unknown as { st: Float64Array }).st.buffer;
    for (let round = 0; round < 4; round++) {
      const parts = partitions(rng, 3);
      const fresh = outcome(new KernelRun(emaCross, sets, 64, options), parts);
      // Another run leaves its state, trades and sums in its buffers, and releases them.
      const other = new KernelRun(emaCross, sets, 64, options);
      outcome(other, partitions(rng, 2));
      const used = bufferOf(other);
      other.release();
      expect(() => other.totals()).toThrow(/release/);
      expect(() => other.run(batchOf(emaCross, parts[0], ["CE", "PE"]))).toThrow(/release/);
      const again = new KernelRun(emaCross, sets, 64, options);
      expect(bufferOf(again)).toBe(used);
      const reused = outcome(again, parts);
      expect(reused.totals).toEqual(fresh.totals);
      expect(reused.tradeList).toEqual(fresh.tradeList);
      expect(reused.sums).toEqual(fresh.sums);
      expect(fresh.tradeList.length).toBeGreaterThan(0);
      again.release();
    }
  });

  test("a run without reportSums refuses takeReportSums", () => {
    expect(() =>
      new KernelRun(emaCross, [values({ fast: 5, slow: 21, max_spread: 0.0005, min_volume: 1 })]).takeReportSums(),
    ).toThrow(/reportSums/);
  });
});
