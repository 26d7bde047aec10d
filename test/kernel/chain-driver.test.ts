/**
 * The C chain driver (kernel/chain-driver.c through ChainRun) against the TypeScript reference
 * (kernel/chain-reference.ts): partitions as column views, through the lib's partitionStream (key
 * scan, contract table, selection), then the native build; every total and every leg bit for bit.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { ironCondorChainKernel } from "../../examples/iron_condor.ts";
import {
  type ChainMerge,
  type ChainLegColumns,
  type ChainPartitionResult,
  ChainRun,
  type LoadedChainKernel,
  loadChainKernel,
} from "../../kernel/chain-kernel.ts";
import { ChainOrderError, SHORT_STRADDLE_SOURCE } from "../../kernel/kernel-abi.ts";
import {
  type ChainKernelReference,
  type ChainLegLog,
  type ChainRow,
  type ChainRunResult,
  openNsOfDay,
  runChainReference,
} from "../../kernel/chain-reference.ts";
import { emaCrossReference, type ReferenceRow } from "../../kernel/ema_cross.ts";
import type { FillRule } from "../../kernel/strategy-kernel.ts";
import { shortStraddleChainKernel } from "../../kernel/short_straddle.ts";
import { type BenchFilters, SegmentSelector } from "../../lib/read/filters.ts";
import { partitionStream } from "../../lib/chain/partition-stream.ts";
import { OPT_CE, OPT_PE } from "../../lib/packed/opt-type.ts";
import { SeededRandom } from "../../lib/random.ts";
import { afterOpen, randomChainPartition } from "../helpers/chain-partitions.ts";
import { chainViews, type DeclaredColumn, sortedRuns } from "../helpers/chain-views.ts";
import { privateKernelCache } from "../helpers/kernel-cache.ts";

setDefaultTimeout(60_000);

const DAY = 20_000; // 2024-10-04
const OPEN_NS = openNsOfDay(DAY);
const IRON_CONDOR_SOURCE = join(import.meta.dir, "../../examples/iron_condor.c");
const PROBE_SOURCE = join(import.meta.dir, "chain/probe_chain.c");
const EMA_CHAIN_SOURCE = join(import.meta.dir, "chain/ema_cross_chain.c");

/** oi / 1000, or 0.0005 for a null: what the probe adds to a leg's lots. */
const auxLots = (aux: number | null) => (aux === null ? 0.0005 : aux / 1000);

/** test/kernel/chain/probe_chain.c, line for line. */
const probeChainKernel: ChainKernelReference = {
  columns: ["oi"],
  params: [
    { name: "scale", defaultValue: 1 },
    { name: "fail_at_start", defaultValue: 0 },
    { name: "fail_at_end", defaultValue: 0 },
  ],
  stateSize: 0,
  contractStateSize: 0,
  start(p, _s, c) {
    if (p[1] !== 0) c.open(-1, 0, 1);
  },
  instant(p, _s, c) {
    for (let i = 0; i < c.nrows && i < 60; i++) {
      if (!c.rowValid[i]) continue;
      const pos = c.openAt(-1, i, p[0] * (i + 1 + 1000 * c.nrows) + auxLots(c.rowColumn[0][i]));
      c.closeLegAt(pos, 0, i);
    }
  },
  end(p, _s, c) {
    if (p[2] !== 0) c.open(-1, 0, 1);
    for (let k = 0; k < c.ncontracts && k < 30; k++)
      if (c.has[k]) c.open(-1, k, p[0] * (k + 1) + auxLots(c.asofColumn[0][k]));
    for (let k = 0; k < c.nrows && k < 30; k++) if (c.rowValid[k]) c.openAt(-1, k, -p[0] * (k + 1 + 1000 * c.nrows));
  },
};

/** A double as text that tells every bit apart (String alone writes −0 as 0). */
const exact = (x: number) => (Object.is(x, -0) ? "-0" : String(x));

type LegTuple = (string | bigint | number)[];

/** The C driver's legs as tuples: set, position, leg, contract key, lots, entry/exit ts and price, pnl. */
function driverLegs(legs: ChainLegColumns | null): LegTuple[] {
  if (!legs) throw new Error("no legs kept");
  return Array.from({ length: legs.length }, (_, i) => [
    legs.set[i],
    legs.position[i],
    legs.leg[i],
    legs.expiry[i],
    legs.optCode[i],
    exact(legs.strike[i]),
    exact(legs.lots[i]),
    legs.entryTs[i],
    legs.exitTs[i],
    exact(legs.entryPrice[i]),
    exact(legs.exitPrice[i]),
    exact(legs.pnl[i]),
  ]);
}

/** The reference's legs as the same tuples. */
function referenceLegs(legs: ChainLegLog[]): LegTuple[] {
  return legs.map((l) => [
    l.set,
    l.position,
    l.leg,
    l.expiry,
    l.opt,
    exact(l.strike),
    exact(l.lots),
    l.entryTs,
    l.exitTs,
    exact(l.entryPrice),
    exact(l.exitPrice),
    exact(l.pnl),
  ]);
}

interface DriverOptions {
  splits?: number[];
  instantRows?: number;
  logRows?: number;
  sel?: SegmentSelector | null;
  /** How the parts store the kernel's f64 columns (the driver converts i32 and f32 exactly). */
  storeF64As?: "f64" | "i32" | "f32";
  merge?: ChainMerge;
  fill?: FillRule;
}

/** Runs a compiled chain kernel over `rows` split into parts, from column views through partitionStream. */
function runDriver(
  kernel: LoadedChainKernel,
  rows: ChainRow[],
  sets: number[][],
  o: DriverOptions = {},
): ChainPartitionResult & { streamRows: number; contracts: number } {
  // The kernel's columns stored as it declares them (i64 or f64 here); --fill touch's quotes as packed (f64).
  const touch = o.fill === "touch";
  const declared = [
    ...kernel.columns.map(
      (name, k): DeclaredColumn => ({ name, type: kernel.columnTypes[k] === "i64" ? "i64" : (o.storeF64As ?? "f64") }),
    ),
    ...(touch
      ? (["bp0", "sp0"] as const)
          .filter((name) => !kernel.columns.includes(name))
          .map((name): DeclaredColumn => ({ name, type: "f64" }))
      : []),
  ];
  const { views, columns } = chainViews(rows, o.splits ?? [], declared);
  const paths = views.map((_, q) => `part-${q}.parquet`);
  const stream = partitionStream(views, columns, kernel.columns, paths, o.sel ?? null, OPEN_NS, touch);
  const run = new ChainRun(kernel, sets, true, {
    instantRows: o.instantRows,
    logRows: o.logRows,
    merge: o.merge,
    fill: o.fill,
  });
  return { ...run.runPartition(stream), streamRows: stream.rows, contracts: stream.contracts.length };
}

/** Asserts the driver's result is the reference's: totals and every leg, bit for bit. */
function expectSameRun(got: ChainPartitionResult, want: ChainRunResult) {
  expect(got.sets.map((s) => [s.trades, exact(s.pnl), s.validRows, s.fillsAtLast])).toEqual(
    want.sets.map((s) => [s.trades, exact(s.pnl), s.validRows, s.fillsAtLast]),
  );
  expect(driverLegs(got.legs)).toEqual(referenceLegs(want.legs));
}

/** 1–3 parts: split points anywhere, a 1-row part now and then. */
function randomSplits(rng: SeededRandom, n: number): number[] {
  if (n < 2) return [];
  const want = rng.int(0, 2);
  const splits = new Set<number>();
  for (let k = 0; k < want; k++) {
    const r = rng.next();
    splits.add(r < 0.2 ? 1 : r < 0.4 ? n - 1 : rng.int(1, n - 1));
  }
  return [...splits].sort((a, b) => a - b);
}

/**
 * A random partition with an oi value (null now and then) on each row, its contracts' runs in time
 * order; now and then its runs in another order than SPEC §3's (a legacy file): the contract table
 * is sorted whatever the file's order.
 */
function randomRows(rng: SeededRandom): ChainRow[] {
  // Quotes around the price, missing (null or ≤ 0) now and then: what --fill touch fills at.
  const quote = (price: number | null, side: number) => {
    const u = rng.next();
    if (u < 0.1) return null;
    if (u < 0.15) return 0;
    return price !== null && price > 0 ? Math.max(0.05, price + side * rng.int(1, 4) * 0.05) : rng.int(1, 9);
  };
  const raw = randomChainPartition(rng, DAY, OPEN_NS).map((r) => ({
    ...r,
    values: { oi: rng.next() < 0.2 ? null : rng.int(1, 9), bp0: quote(r.price, -1), sp0: quote(r.price, 1) },
  }));
  if (rng.next() < 0.7) return sortedRuns(raw);
  const runs: ChainRow[][] = [];
  const same = (a: ChainRow, b: ChainRow) =>
    a.expiry !== null &&
    a.opt !== null &&
    a.strike !== null &&
    a.expiry === b.expiry &&
    a.opt === b.opt &&
    a.strike === b.strike;
  for (const r of raw) {
    const last = runs.at(-1);
    if (last && same(last[0], r)) last.push(r);
    else runs.push([r]);
  }
  for (let i = runs.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [runs[i], runs[j]] = [runs[j], runs[i]];
  }
  // Two runs of one contract may now meet: sorted after the shuffle, each run is in time order.
  return sortedRuns(runs.flat());
}

const pick = <T>(rng: SeededRandom, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)];

function straddleSets(rng: SeededRandom): number[][] {
  return Array.from({ length: rng.int(2, 4) }, () => [
    pick(rng, [0, 3, 5, 12]),
    pick(rng, [8, 15, 25, 360]),
    pick(rng, [0, 0.05, 0.3]),
    pick(rng, [0, 0.05, 0.5]),
  ]);
}

function condorSets(rng: SeededRandom): number[][] {
  return Array.from({ length: rng.int(2, 4) }, () => [
    pick(rng, [0, 3, 5, 12]),
    pick(rng, [8, 15, 25, 360]),
    pick(rng, [0, 0, 1]),
    pick(rng, [1, 1, 2]),
    pick(rng, [0.05, 0.5]),
    pick(rng, [0.05, 0.5]),
  ]);
}

/** A contract selection for the lib (SegmentSelector) and the same predicate for the reference. */
function randomSelection(rng: SeededRandom): SegmentSelector | null {
  const filters: BenchFilters[] = [{ strikes: [24000, 24100] }, { optType: "CE" }, { optType: "PE" }, { dte: [0, 3] }];
  return rng.next() < 0.6 ? null : new SegmentSelector(pick(rng, filters), DAY, () => "weekly");
}

/** Rows a selection keeps: a key with no null, selected. */
const selectedRows = (rows: ChainRow[], sel: SegmentSelector) =>
  rows.filter((r) => r.expiry !== null && r.opt !== null && r.strike !== null && sel.selects(r.expiry, r.opt, r.strike))
    .length;

describe("the C chain driver against the reference on random partitions", () => {
  // Name, source, TypeScript port, parameter sets, partitions, and the fewest trades they must make.
  const kernels: [string, string, ChainKernelReference, (rng: SeededRandom) => number[][], number, number][] = [
    ["short_straddle", SHORT_STRADDLE_SOURCE, shortStraddleChainKernel, straddleSets, 300, 200],
    // A condor needs three strikes or more with prices on both sides: fewer partitions trade.
    ["iron_condor", IRON_CONDOR_SOURCE, ironCondorChainKernel, condorSets, 1200, 50],
    [
      "the stream probe",
      PROBE_SOURCE,
      probeChainKernel,
      (rng) => [
        [1, 0, 0],
        [rng.int(2, 5), 0, 0],
      ],
      300,
      10_000,
    ],
  ];
  for (const [name, source, reference, paramSets, partitions, minTrades] of kernels) {
    test(`${name}: totals and every leg, bit for bit, over 1–3 parts, small buffers and selections`, () => {
      const kernel = loadChainKernel(source);
      expect(kernel.compiler).toBe("tcc");
      // The C kernel declares what its TypeScript port does.
      expect(kernel.params.map((p) => [p.name, p.defaultValue])).toEqual(
        reference.params.map((p) => [p.name, p.defaultValue]),
      );
      let trades = 0;
      for (let seed = 1; seed <= partitions; seed++) {
        const rng = new SeededRandom(7_000 + seed);
        const rows = randomRows(rng);
        const splits = randomSplits(rng, rows.length);
        const instantRows = rng.int(1, 4);
        const logRows = rng.next() < 0.3 ? 1 : undefined;
        const sel = randomSelection(rng);
        const sets = paramSets(rng);
        const storeF64As = pick(rng, ["f64", "i32", "f32"] as const);
        // Either merge (a heap from the start, or a pass per instant throughout) and either fill rule.
        const merge = pick(rng, ["auto", "scan", "heap"] as const);
        const fill = pick(rng, ["last", "touch"] as const);
        const got = runDriver(kernel, rows, sets, { splits, instantRows, logRows, sel, storeF64As, merge, fill });
        const want = runChainReference(rows, reference, sets, {
          openNs: OPEN_NS,
          select: sel ? (e, o, s) => sel.selects(e, o, s) : undefined,
          fill,
        });
        expectSameRun(got, want);
        expect(got.streamRows).toBe(sel ? selectedRows(rows, sel) : rows.length);
        trades += want.sets.reduce((n, s) => n + s.trades, 0);
      }
      // The runs traded: the equality is not one of empty logs.
      expect(trades).toBeGreaterThan(minTrades);
    });
  }
});

describe("one ChainRun over many partitions, and empty parts", () => {
  test("a ChainRun gives each partition what a fresh one gives (nothing outlives a partition)", () => {
    const kernel = loadChainKernel(PROBE_SOURCE);
    const straddle = loadChainKernel(SHORT_STRADDLE_SOURCE);
    const sets = [
      [1, 0, 0],
      [2, 0, 0],
    ];
    const straddleSets = [
      [0, 15, 0.05, 0.05],
      [5, 360, 0.3, 0.5],
    ];
    const reused = new ChainRun(kernel, sets, true, { instantRows: 2, logRows: 1 });
    const reusedStraddle = new ChainRun(straddle, straddleSets, true);
    for (let seed = 1; seed <= 30; seed++) {
      const rng = new SeededRandom(13_000 + seed);
      const rows = randomRows(rng);
      const { views, columns } = chainViews(rows, randomSplits(rng, rows.length), [{ name: "oi", type: "f64" }]);
      const paths = views.map((_, q) => `part-${q}`);
      const stream = partitionStream(views, columns, kernel.columns, paths, null, OPEN_NS);
      const want = runChainReference(rows, probeChainKernel, sets, { openNs: OPEN_NS });
      expectSameRun(reused.runPartition(stream), want);
      const plain = partitionStream(views, columns, [], paths, null, OPEN_NS);
      const wantStraddle = runChainReference(rows, shortStraddleChainKernel, straddleSets, { openNs: OPEN_NS });
      expectSameRun(reusedStraddle.runPartition(plain), wantStraddle);
    }
  });

  test("a part with no rows takes no part", () => {
    const kernel = loadChainKernel(PROBE_SOURCE);
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new SeededRandom(15_000 + seed);
      const rows = randomRows(rng);
      const k = rng.int(0, rows.length);
      const got = runDriver(kernel, rows, [[1, 0, 0]], { splits: [0, k, k, rows.length] });
      expectSameRun(got, runChainReference(rows, probeChainKernel, [[1, 0, 0]], { openNs: OPEN_NS }));
    }
  });
});

/** A random partition for ema_cross: every key and timestamp non-null, sorted as SPEC §3; bp0, sp0 and volume with nulls. */
function emaPartition(rng: SeededRandom): ChainRow[] {
  const rows: ChainRow[] = [];
  const expiries = [DAY + 1, DAY + 8].filter(() => rng.next() < 0.7);
  for (const expiry of expiries.length ? expiries : [DAY + 3])
    for (const opt of [OPT_CE, OPT_PE, 2])
      for (const strike of [24000, 24050, 24100.5].slice(0, rng.int(1, 3))) {
        if (opt === 2 && rng.next() < 0.7) continue;
        let price = 100 + rng.normal() * 20;
        const seconds = Array.from({ length: rng.int(0, 50) }, () => rng.int(0, 120)).sort((a, b) => a - b);
        for (const second of seconds) {
          price = Math.max(1, price * Math.exp(rng.normal() * 0.02));
          const px = Math.round(price * 20) / 20;
          const kind = rng.next();
          const spread = rng.next() < 0.7 ? 0.0002 : 0.002;
          rows.push({
            timestamp: afterOpen(OPEN_NS, 0, second),
            expiry,
            opt,
            strike,
            price: kind < 0.04 ? null : kind < 0.07 ? 0 : kind < 0.08 ? -px : px,
            values: {
              bp0: rng.next() < 0.05 ? null : px * (1 - spread / 2),
              sp0: rng.next() < 0.05 ? null : px * (1 + spread / 2),
              volume: rng.next() < 0.05 ? null : rng.int(0, 3),
            },
          });
        }
      }
  return rows;
}

describe("ema_cross as a chain kernel: the merge loses nothing within a contract", () => {
  test("the per-contract reference's trades, contract by contract, for every set", () => {
    const kernel = loadChainKernel(EMA_CHAIN_SOURCE);
    const sets = [
      [5, 21, 0.0005, 1],
      [2, 5, 0.001, 2],
      [3, 8, 0.01, 0],
    ];
    let trades = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const rng = new SeededRandom(9_000 + seed);
      const rows = emaPartition(rng);
      const got = runDriver(kernel, rows, sets, {
        splits: randomSplits(rng, rows.length),
        instantRows: rng.int(1, 4),
        logRows: rng.next() < 0.3 ? 1 : undefined,
      });
      const refRows: ReferenceRow[] = rows.map((r) => ({
        expiry: r.expiry,
        optType: r.opt === null ? null : ["CE", "PE", "XX"][r.opt],
        strike: r.strike,
        price: r.price,
        bp0: r.values?.bp0 ?? null,
        sp0: r.values?.sp0 ?? null,
        volume: r.values?.volume ?? null,
        ts: r.timestamp ?? undefined,
      }));
      const legs = driverLegs(got.legs);
      sets.forEach(([fast, slow, max_spread, min_volume], set) => {
        const want = emaCrossReference([refRows], { fast, slow, max_spread, min_volume });
        const byContract = (list: { key: string; trade: LegTuple }[]) => {
          const m = new Map<string, LegTuple[]>();
          for (const { key, trade } of list) m.set(key, [...(m.get(key) ?? []), trade]);
          return m;
        };
        const mine = legs
          .filter((l) => l[0] === set)
          .map((l) => ({ key: `${l[3]}|${l[4]}|${l[5]}`, trade: [l[7], l[8], l[9], l[10], l[11]] }));
        for (const l of legs.filter((l) => l[0] === set)) expect([l[2], l[6]]).toEqual([0, "1"]);
        const theirs = want.tradeList.map((t) => ({
          key: `${t.expiry}|${t.optCode}|${exact(t.strike)}`,
          trade: [t.entryTs, t.exitTs, exact(t.entryPrice), exact(t.exitPrice), exact(t.exitPrice - t.entryPrice)],
        }));
        expect(byContract(mine)).toEqual(byContract(theirs));
        expect(got.sets[set].trades).toBe(want.trades);
        expect(got.sets[set].validRows).toBe(want.validRows);
        expect(got.sets[set].pnl).toBeCloseTo(want.pnl, 6);
        trades += want.trades;
      });
    }
    expect(trades).toBeGreaterThan(100);
  });
});

describe("hand-made partitions", () => {
  const X = DAY + 3;
  const t = (k: number) => afterOpen(OPEN_NS, 1, k);
  const r = (
    opt: number,
    strike: number,
    ts: bigint | null,
    price: number | null,
    oi: number | null = null,
  ): ChainRow => ({
    timestamp: ts,
    expiry: X,
    opt,
    strike,
    price,
    values: { oi },
  });
  // Contracts: 0 CE 24000, 1 CE 24050, 2 PE 24000.
  const rows: ChainRow[] = [
    r(OPT_CE, 24000, t(1), 10, 5),
    r(OPT_CE, 24000, t(1), 11), // equal timestamps within a contract: file order
    r(OPT_CE, 24000, null, 99, 8), // a null timestamp inside a run: no part of the stream
    r(OPT_CE, 24000, t(3), 12, 3),
    r(OPT_CE, 24050, t(1), 20), // ← CE 24050 splits across two parts here
    r(OPT_CE, 24050, t(1), 21, 4),
    r(OPT_CE, 24050, t(2), 22, 6),
    r(OPT_PE, 24000, t(0), 30, 2),
    r(OPT_PE, 24000, t(1), 31),
    r(OPT_PE, 24000, t(1), null, 9), // invalid rows are rows of the instant, but fill nothing and change no as-of value
    r(OPT_PE, 24000, t(1), 0, 7),
  ];
  // The probe's legs: per instant each valid row, lots row + 1 + 1000 × the instant's rows; then the as-of state at the end.
  const leg = (position: number, contract: number, lots: number, ts: bigint, price: number, exitTs = ts): LegTuple => [
    0,
    position,
    0,
    X,
    contract === 2 ? OPT_PE : OPT_CE,
    exact(contract === 1 ? 24050 : 24000),
    exact(lots),
    ts,
    exitTs,
    exact(price),
    exact(price),
    exact((price - price) * lots), // −0 for a short
  ];
  const expected: LegTuple[] = [
    leg(0, 2, 1001 + auxLots(2), t(0), 30),
    // t(1): seven rows, in file order across contracts and within one.
    leg(1, 0, 7001 + auxLots(5), t(1), 10),
    leg(2, 0, 7002 + auxLots(null), t(1), 11),
    leg(3, 1, 7003 + auxLots(null), t(1), 20),
    leg(4, 1, 7004 + auxLots(4), t(1), 21),
    leg(5, 2, 7005 + auxLots(null), t(1), 31),
    leg(6, 1, 1001 + auxLots(6), t(2), 22),
    leg(7, 0, 1001 + auxLots(3), t(3), 12),
    // The end: as-of prices and oi (never the null-timestamp row's 99 and 8, nor the invalid rows' 9 and 7), at the last instant.
    leg(8, 0, 1 + auxLots(3), t(3), 12),
    leg(9, 1, 2 + auxLots(6), t(3), 22),
    leg(10, 2, 3 + auxLots(null), t(3), 31),
    // The end still holds the last instant t(3): its one row, short.
    leg(11, 0, -1001, t(3), 12),
  ];

  const cases: [string, DriverOptions][] = [
    ["one part, roomy buffers", {}],
    [
      "CE 24050 across two parts, 1-row parts, one-row instant buffers and log",
      { splits: [1, 5, 10], instantRows: 1, logRows: 1 },
    ],
    ["instant buffers of 2 (the 7-row instant grows twice)", { splits: [5], instantRows: 2 }],
  ];
  for (const [name, o] of cases)
    test(`equal timestamps, a null timestamp, invalid rows: ${name}`, () => {
      const got = runDriver(loadChainKernel(PROBE_SOURCE), rows, [[1, 0, 0]], o);
      expect(driverLegs(got.legs)).toEqual(expected);
      expect([got.instants, got.sets[0].validRows, got.sets[0].trades, got.contracts]).toEqual([4, 8, 12, 3]);
      expectSameRun(got, runChainReference(rows, probeChainKernel, [[1, 0, 0]], { openNs: OPEN_NS }));
    });

  test("a leg left open closes at its contract's last valid row, never before its entry", () => {
    // The end's legs open at the last instant t(3): CE 24050's last valid row is t(2), so its exit is t(3).
    const got = runDriver(loadChainKernel(PROBE_SOURCE), rows, [[1, 0, 0]]);
    const ends = driverLegs(got.legs).slice(8);
    expect(ends.map((l) => [l[7], l[8]])).toEqual([
      [t(3), t(3)],
      [t(3), t(3)],
      [t(3), t(3)],
      [t(3), t(3)],
    ]);
  });

  test("short_straddle: two strikes whose |CE − PE| tie, the lower is the ATM (tp_atm walks up)", () => {
    // At t(0): |CE − PE| is 10 at 24000 and at 24050, 40 at 24100. Entry at t(0) (entry_min 0), held to the end.
    const tie: ChainRow[] = [
      r(OPT_CE, 24000, t(0), 100),
      r(OPT_CE, 24000, t(5), 104),
      r(OPT_CE, 24050, t(0), 80),
      r(OPT_CE, 24100, t(0), 60),
      r(OPT_PE, 24000, t(0), 90),
      r(OPT_PE, 24050, t(0), 90),
      r(OPT_PE, 24050, t(5), 95),
      r(OPT_PE, 24100, t(0), 100),
    ];
    const sets = [[0, 360, 0.3, 0.5]];
    const got = runDriver(loadChainKernel(SHORT_STRADDLE_SOURCE), tie, sets, { splits: [2] });
    const legs = driverLegs(got.legs);
    expect(legs.map((l) => [l[4], l[5], l[6], l[9], l[10]])).toEqual([
      [OPT_CE, "24000", "-1", "100", "104"],
      [OPT_PE, "24000", "-1", "90", "90"],
    ]);
    expectSameRun(got, runChainReference(tie, shortStraddleChainKernel, sets, { openNs: OPEN_NS }));
  });

  test("a partition with no stream rows: start and end still run, no legs", () => {
    const kernel = loadChainKernel(PROBE_SOURCE);
    const noTs = rows.map((x) => ({ ...x, timestamp: null }));
    const got = runDriver(kernel, noTs, [[1, 0, 0]], { splits: [4] });
    expect([got.instants, got.sets[0].validRows, got.sets[0].trades, got.legs?.length, got.contracts]).toEqual([
      0, 0, 0, 0, 3,
    ]);
    // An order before any price stops the run: so start and end were called.
    expect(() => runDriver(kernel, noTs, [[1, 1, 0]])).toThrow(ChainOrderError);
    expect(() => runDriver(kernel, noTs, [[1, 0, 1]])).toThrow(/no valid price yet/);
    // No contract at all (every key has a null): the end orders on a contract that does not exist.
    const noKey = rows.map((x) => ({ ...x, strike: null }));
    const none = runDriver(kernel, noKey, [[1, 0, 0]]);
    expect([none.instants, none.contracts, none.legs?.length]).toEqual([0, 0, 0]);
    expect(() => runDriver(kernel, noKey, [[1, 0, 1]])).toThrow(/does not exist/);
  });
});

describe("the native build is the one under test", () => {
  const builds = privateKernelCache();

  test("gcc builds give tcc's results bit for bit", () => {
    const pairs: [string, (rng: SeededRandom) => number[][]][] = [
      [SHORT_STRADDLE_SOURCE, straddleSets],
      [IRON_CONDOR_SOURCE, condorSets],
      [PROBE_SOURCE, () => [[1, 0, 0]]],
    ];
    for (const [source, paramSets] of pairs) {
      const tcc = loadChainKernel(source, "tcc");
      const gcc = loadChainKernel(source, "gcc");
      expect([tcc.compiler, gcc.compiler]).toEqual(["tcc", "gcc"]);
      expect(gcc).not.toBe(tcc);
      let legs = 0;
      for (let seed = 1; seed <= 80; seed++) {
        const rng = new SeededRandom(11_000 + seed);
        const rows = randomRows(rng);
        const sets = paramSets(rng);
        const o = { splits: randomSplits(rng, rows.length), instantRows: rng.int(1, 4) };
        const a = runDriver(tcc, rows, sets, o);
        const b = runDriver(gcc, rows, sets, o);
        expect(driverLegs(b.legs)).toEqual(driverLegs(a.legs));
        expect(b.sets.map((s) => [s.trades, exact(s.pnl), s.validRows])).toEqual(
          a.sets.map((s) => [s.trades, exact(s.pnl), s.validRows]),
        );
        legs += a.legs?.length ?? 0;
      }
      expect(legs).toBeGreaterThan(10);
    }
    // gcc really compiled here (a private cache: nothing was opened from an earlier run).
    expect(builds().length).toBeGreaterThanOrEqual(3);
  });

  test("the loaded kernel is the compiled file: its declarations, and another kernel gives another result", () => {
    const probe = loadChainKernel(PROBE_SOURCE);
    const straddle = loadChainKernel(SHORT_STRADDLE_SOURCE);
    expect([probe.abi, probe.compiler, typeof probe.run]).toEqual(["chain", "tcc", "function"]);
    expect(probe.path.endsWith("probe_chain.c")).toBe(true);
    expect(probe.params.map((p) => p.name)).toEqual(["scale", "fail_at_start", "fail_at_end"]);
    expect(loadChainKernel(PROBE_SOURCE)).toBe(probe);
    const rows = sortedRuns(randomChainPartition(new SeededRandom(5), DAY, OPEN_NS));
    const a = runDriver(probe, rows, [[1, 0, 0]]);
    const b = runDriver(straddle, rows, [[0, 360, 0.3, 0.5]]);
    expect(a.legs?.length).toBeGreaterThan(0);
    expect(driverLegs(b.legs)).not.toEqual(driverLegs(a.legs));
    // The same partition, another scale: the legs' lots follow the parameter the native code read.
    const c = runDriver(probe, rows, [[3, 0, 0]]);
    expect(Array.from(c.legs!.lots, Math.trunc)).toEqual(Array.from(a.legs!.lots, (x) => 3 * Math.trunc(x)));
  });
});
