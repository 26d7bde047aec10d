import { describe, expect, test } from "bun:test";
import { type ChainRow, chainParamValues, openNsOfDay, runChainReference } from "../../kernel/chain-reference.ts";
import { ironCondorChainKernel } from "../../examples/iron_condor.ts";
import { OPT_CE, OPT_PE } from "../../lib/packed/opt-type.ts";
import { afterOpen, randomChainPartition } from "../helpers/chain-partitions.ts";
import { SeededRandom } from "../../lib/random.ts";

const DAY = 20_000;
const OPEN_NS = openNsOfDay(DAY);
const X = DAY + 3;
const at = (minutes: number) => afterOpen(OPEN_NS, minutes);
const row = (opt: number, strike: number, minutes: number, price: number | null): ChainRow => ({
  timestamp: at(minutes),
  expiry: X,
  opt,
  strike,
  price,
});

// Five strikes of one expiry, all quoted at 09:16 (before the entry):
//   strike   23900 23950 24000 24050 24100
//   CE         160   125    95    70    50
//   PE          45    62    90   120   155
const quotes: [number, number, number][] = [
  [23900, 160, 45],
  [23950, 125, 62],
  [24000, 95, 90],
  [24050, 70, 120],
  [24100, 50, 155],
];
const rows: ChainRow[] = [
  ...quotes.map(([k, ce]) => row(OPT_CE, k, 1, ce)),
  ...quotes.map(([k, , pe]) => row(OPT_PE, k, 1, pe)),
  row(OPT_CE, 24000, 5, 96), // 09:20, the entry instant: |CE − PE| at 24000 = |96 − 90| = 6, the smallest → ATM 24000
  row(OPT_CE, 24050, 8, 80), // 09:23, two legs move at one instant
  row(OPT_CE, 24100, 8, 56),
  row(OPT_PE, 23900, 9, 0), // 09:24, invalid: PE 23900 stays 45
  row(OPT_CE, 24000, 9, 120), // 09:24
  row(OPT_CE, 24050, 15, 100), // 09:30
];
const params = (overrides: Record<string, number>) => chainParamValues(ironCondorChainKernel, overrides);
const legTuple = (l: { position: number; leg: number; opt: number; strike: number; lots: number }) => [
  l.position,
  l.leg,
  l.opt === OPT_CE ? "CE" : "PE",
  l.strike,
  l.lots,
];

describe("iron_condor through the reference chain driver", () => {
  test("width 1, wing 1: stopped out at 09:30", () => {
    // Short CE 24050 @70, short PE 23950 @62, long CE 24100 @50, long PE 23900 @45:
    // credit = 70 + 62 − 50 − 45 = 37; stop 0.5 → buy back at ≥ 55.5, target 0.5 → at ≤ 18.5.
    // 09:23: cost = 80 + 62 − 56 − 45 = 41. 09:24: no valid row of a leg (CE 24000 is no leg; PE 23900 is invalid).
    // 09:30: cost = 100 + 62 − 56 − 45 = 61 ≥ 55.5 → close all four.
    // PnL per leg = (exit − entry) × lots: −(100 − 70) = −30, −(62 − 62) = 0, (56 − 50) = 6, (45 − 45) = 0 → −24 = 37 − 61.
    const run = runChainReference(rows, ironCondorChainKernel, [params({ width: 1, wing: 1 })], { openNs: OPEN_NS });
    expect(run.sets).toEqual([{ trades: 1, pnl: -24, validRows: 15, rows: 16, fillsAtLast: 0 }]);
    expect(run.legs.map(legTuple)).toEqual([
      [0, 0, "CE", 24050, -1],
      [0, 1, "PE", 23950, -1],
      [0, 2, "CE", 24100, 1],
      [0, 3, "PE", 23900, 1],
    ]);
    expect(run.legs.map((l) => [l.entryPrice, l.exitPrice, l.pnl])).toEqual([
      [70, 100, -30],
      [62, 62, -0], // (62 − 62) × −1: a short leg that did not move logs −0
      [50, 56, 6],
      [45, 45, 0],
    ]);
    for (const l of run.legs) expect([l.expiry, l.entryTs, l.exitTs]).toEqual([X, at(5), at(15)]);
  });

  test("exit_min 8: out on time at 09:23", () => {
    // 09:23 is the first instant with a valid row of a leg at or after 09:15 + 8: cost 41 → PnL 37 − 41 = −4
    // (−(80 − 70) + 0 + (56 − 50) + 0).
    const run = runChainReference(rows, ironCondorChainKernel, [params({ width: 1, wing: 1, exit_min: 8 })], {
      openNs: OPEN_NS,
    });
    expect(run.sets[0].pnl).toBe(-4);
    expect(run.legs.map((l) => [l.strike, l.exitPrice, l.exitTs])).toEqual([
      [24050, 80, at(8)],
      [23950, 62, at(8)],
      [24100, 56, at(8)],
      [23900, 45, at(8)],
    ]);
  });

  test("width 0, wing 2 (a butterfly): held to the end, each leg closed at its contract's last valid price", () => {
    // Short CE 24000 @96, short PE 24000 @90, long CE 24100 @50, long PE 23900 @45: credit 91 (stop at ≥ 136.5,
    // target at ≤ 45.5). 09:23: cost 96 + 90 − 56 − 45 = 85; 09:24: 120 + 90 − 56 − 45 = 109; 09:30 moves no leg.
    // The driver closes at the end: CE 24000 at 120 (09:24), PE 24000 at 90, CE 24100 at 56 (09:23), PE 23900 at 45
    // → −24 + 0 + 6 + 0 = −18. Both PEs last traded at 09:16, before the entry: they close at the entry's time, 09:20.
    const run = runChainReference(rows, ironCondorChainKernel, [params({ width: 0, wing: 2 })], { openNs: OPEN_NS });
    expect(run.sets[0]).toMatchObject({ trades: 1, pnl: -18 });
    expect(run.legs.map((l) => [...legTuple(l), l.exitPrice, l.exitTs])).toEqual([
      [0, 0, "CE", 24000, -1, 120, at(9)],
      [0, 1, "PE", 24000, -1, 90, at(5)],
      [0, 2, "CE", 24100, 1, 56, at(8)],
      [0, 3, "PE", 23900, 1, 45, at(5)],
    ]);
  });

  test("no trade when a wing is not listed, and none after the entry instant either", () => {
    // Width 2 puts the short CE at 24100, the last listed CE: no long CE above it.
    const run = runChainReference(rows, ironCondorChainKernel, [params({ width: 2, wing: 1 })], { openNs: OPEN_NS });
    expect(run.sets[0]).toMatchObject({ trades: 0, pnl: 0 });
    expect(run.legs).toEqual([]);
  });

  test("a grid runs every set over one stream, each with its own positions", () => {
    const overrides: Record<string, number>[] = [
      { width: 1, wing: 1 },
      { width: 2, wing: 1 },
      { width: 0, wing: 2 },
      {},
    ];
    const sets = overrides.map((o) => params(o));
    const run = runChainReference(rows, ironCondorChainKernel, sets, { openNs: OPEN_NS });
    // Defaults: width 2, wing 2 → short CE 24100 has no wing either.
    expect(run.sets.map((s) => [s.trades, s.pnl])).toEqual([
      [1, -24],
      [0, 0],
      [1, -18],
      [0, 0],
    ]);
    expect(run.legs.map((l) => l.set)).toEqual([0, 0, 0, 0, 2, 2, 2, 2]);
  });

  test("on random partitions every condor is four legs of the nearest expiry, shorts inside the wings", () => {
    const rng = new SeededRandom(5);
    let condors = 0;
    for (let round = 0; round < 300; round++) {
      const day = DAY + round;
      const openNs = openNsOfDay(day);
      const rows = randomChainPartition(rng, day, openNs);
      const nearest = Math.min(
        ...rows.filter((r) => r.opt !== null && r.strike !== null).map((r) => r.expiry ?? Infinity),
      );
      const sets = [0, 1].map((width) => params({ width, wing: 1, entry_min: rng.int(0, 10), exit_min: 20 }));
      const run = runChainReference(rows, ironCondorChainKernel, sets, { openNs });
      run.sets.forEach((totals, set) => {
        const legs = run.legs.filter((l) => l.set === set);
        expect(legs.length).toBe(4 * totals.trades);
        if (totals.trades === 0) return;
        condors++;
        expect(legs.map((l) => [l.position, l.leg, l.opt, l.lots, l.expiry])).toEqual([
          [0, 0, OPT_CE, -1, nearest],
          [0, 1, OPT_PE, -1, nearest],
          [0, 2, OPT_CE, 1, nearest],
          [0, 3, OPT_PE, 1, nearest],
        ]);
        const [shortCe, shortPe, longCe, longPe] = legs.map((l) => l.strike);
        expect(longPe < shortPe && shortPe <= shortCe && shortCe < longCe).toBe(true);
        if (set === 0) expect(shortCe).toBe(shortPe);
        expect(totals.pnl).toBe(legs.reduce((sum, l) => sum + l.pnl, 0));
      });
    }
    expect(condors).toBeGreaterThan(10);
  });
});
