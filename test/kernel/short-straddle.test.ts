import { describe, expect, test } from "bun:test";
import {
  type ChainLegLog,
  type ChainRow,
  chainParamValues,
  openNsOfDay,
  runChainReference,
} from "../../kernel/chain-reference.ts";
import {
  SHORT_STRADDLE_DEFAULTS,
  type ShortStraddleParams,
  type ShortStraddleResult,
  shortStraddleChainKernel,
  shortStraddleReference,
} from "../../kernel/short_straddle.ts";
import { OPT_CE, OPT_PE } from "../../lib/packed/opt-type.ts";
import { SeededRandom } from "../../lib/random.ts";
import { afterOpen, randomChainPartition } from "../helpers/chain-partitions.ts";

const DAY = 20_000; // 2024-10-04
const OPEN_NS = openNsOfDay(DAY);
const X = DAY + 3; // the nearest expiry
const Y = DAY + 10;
const at = (minutes: number) => afterOpen(OPEN_NS, minutes);
const row = (
  expiry: number | null,
  opt: number | null,
  strike: number,
  minutes: number | null,
  price: number | null,
) => ({
  timestamp: minutes === null ? null : at(minutes),
  expiry,
  opt,
  strike,
  price,
});
const values = (p: ShortStraddleParams) => chainParamValues(shortStraddleChainKernel, { ...p });

/** What the driver logged for one set, as a straddle: both legs, and the exit instant (the later leg's, never before E). */
function driverStraddle(legs: ChainLegLog[], set: number) {
  const mine = legs.filter((l) => l.set === set).sort((a, b) => a.leg - b.leg);
  if (mine.length === 0) return null;
  const [ce, pe] = mine;
  // The driver closes a leg left open at its contract's last valid row, which may be before E: the trade ends at the later of the two, or E.
  let exitTs = ce.entryTs;
  for (const ts of [ce.exitTs, pe.exitTs]) if (ts > exitTs) exitTs = ts;
  return { ce, pe, exitTs };
}

/** Asserts the driver's result for one set is the literal reference's. */
function expectSameStraddle(ref: ShortStraddleResult, legs: ChainLegLog[], set: number, trades: number, pnl: number) {
  const got = driverStraddle(legs, set);
  expect(trades).toBe(ref.trades);
  if (ref.trades === 0) {
    expect(got).toBeNull();
    expect(pnl).toBe(0);
    return;
  }
  expect(got).not.toBeNull();
  const { ce, pe, exitTs } = got!;
  expect([ce.position, ce.leg, ce.opt, ce.lots, pe.position, pe.leg, pe.opt, pe.lots]).toEqual([
    0,
    0,
    OPT_CE,
    -1,
    0,
    1,
    OPT_PE,
    -1,
  ]);
  expect([ce.expiry, ce.strike, pe.expiry, pe.strike]).toEqual([ref.expiry, ref.strike, ref.expiry, ref.strike]);
  expect([ce.entryTs, pe.entryTs, exitTs]).toEqual([ref.entryTs, ref.entryTs, ref.exitTs]);
  expect([ce.entryPrice, pe.entryPrice, ce.exitPrice, pe.exitPrice]).toEqual([
    ref.ceEntry,
    ref.peEntry,
    ref.ceExit,
    ref.peExit,
  ]);
  // Per-leg sums and P0 − C(exit) round differently.
  expect(Math.abs(pnl - ref.pnl)).toBeLessThan(1e-9);
}

describe("short_straddle references", () => {
  // File order: (expiry, opt, strike, timestamp), as a packed file holds it; strikes 24000, 24050, 24100.
  const rows: ChainRow[] = [
    row(X, OPT_CE, 24000, 1, 150),
    row(X, OPT_CE, 24000, 5, 152), // first used row at 09:15 + 5: E = 09:20
    row(X, OPT_CE, 24000, 10, 190),
    row(X, OPT_CE, 24050, 1, 120),
    row(X, OPT_CE, 24050, 5, 118),
    row(X, OPT_CE, 24050, 5, 119), // same contract and timestamp: the later row, 119, is last(CE 24050, E)
    row(X, OPT_CE, 24050, 12, 160),
    row(X, OPT_CE, 24050, null, 500), // no timestamp: no part in the stream
    row(X, OPT_CE, 24100, 2, 90),
    row(X, OPT_CE, 24100, 5, 0), // invalid: last(CE 24100, E) stays 90
    row(X, OPT_PE, 24000, 1, 80),
    row(X, OPT_PE, 24000, 5, 85),
    row(X, OPT_PE, 24050, 3, 100),
    row(X, OPT_PE, 24050, 5, null), // invalid: last(PE 24050, E) stays 100
    row(X, OPT_PE, 24050, 10, 110),
    row(X, OPT_PE, 24050, 12, 130),
    row(X, OPT_PE, 24100, 4, 140),
    row(X, null, 24050, 6, 1), // no opt_type: no part
    row(Y, OPT_CE, 24050, 4.5, 300), // the far expiry: seen by the driver, never traded
    row(Y, OPT_CE, 24050, 5, 310),
    row(Y, OPT_PE, 24050, 20, 50),
  ];
  // At E (09:20), |CE − PE|: 24000 |152 − 85| = 67, 24050 |119 − 100| = 19, 24100 |90 − 140| = 50 → ATM 24050,
  // P0 = 119 + 100 = 219. The instants after E with a row of either leg: 09:25 (PE 110: C = 229) and 09:27
  // (CE 160, PE 130: C = 290).
  const cases: { name: string; params: ShortStraddleParams; want: ShortStraddleResult }[] = [
    {
      // stop 0.3: 219 × 1.3 = 284.7; C(09:25) = 229 is under it, C(09:27) = 290 is not → PnL 219 − 290 = −71.
      name: "stop at 09:27",
      params: SHORT_STRADDLE_DEFAULTS,
      want: trade(at(12), "stop", 160, 130, -71),
    },
    {
      // exit_min 10: 09:25 is the first leg instant at or after 09:25 → PnL 219 − 229 = −10.
      name: "time at 09:25",
      params: { ...SHORT_STRADDLE_DEFAULTS, exit_min: 10 },
      want: trade(at(10), "time", 119, 110, -10),
    },
    {
      // stop 1 (438) and target 0.1 (197.1): neither is hit; the trade ends at the last leg instant, 09:27 → −71.
      name: "end of data at 09:27",
      params: { ...SHORT_STRADDLE_DEFAULTS, stop: 1, target: 0.1 },
      want: trade(at(12), "end", 160, 130, -71),
    },
    {
      // target 0: C ≤ 219 never happens either; stop 0.04 (227.76) is hit by 229 at 09:25 → −10.
      name: "stop at 09:25",
      params: { ...SHORT_STRADDLE_DEFAULTS, stop: 0.04, target: 0 },
      want: trade(at(10), "stop", 119, 110, -10),
    },
    {
      // entry_min 30: no used row at or after 09:45 (the 09:35 row is of the far expiry) → no trade.
      name: "no entry",
      params: { ...SHORT_STRADDLE_DEFAULTS, entry_min: 30, exit_min: 60 },
      want: { trades: 0, pnl: 0 },
    },
  ];
  function trade(
    exitTs: bigint,
    exit: "time" | "stop" | "target" | "end",
    ceExit: number,
    peExit: number,
    pnl: number,
  ) {
    const fills = { ceEntry: 119, peEntry: 100, ceExit, peExit };
    return { trades: 1, pnl, expiry: X, strike: 24050, entryTs: at(5), exitTs, exit, ...fills } as const;
  }

  for (const { name, params, want } of cases) {
    test(`hand-made partition: ${name}`, () => {
      expect(shortStraddleReference(rows, params, OPEN_NS)).toEqual(want);
      const run = runChainReference(rows, shortStraddleChainKernel, [values(params)], { openNs: OPEN_NS });
      // 21 rows; 19 in the stream (no null timestamp, no null opt), 2 of them invalid.
      expect(run.sets[0]).toEqual({ trades: want.trades, pnl: want.pnl, validRows: 17, rows: 21, fillsAtLast: 0 });
      expectSameStraddle(want, run.legs, 0, run.sets[0].trades, run.sets[0].pnl);
    });
  }

  test("every case as one grid over the driver: the same per set", () => {
    const run = runChainReference(
      rows,
      shortStraddleChainKernel,
      cases.map((c) => values(c.params)),
      { openNs: OPEN_NS },
    );
    cases.forEach(({ want }, set) => {
      expectSameStraddle(want, run.legs, set, run.sets[set].trades, run.sets[set].pnl);
    });
  });

  test("the literal rules and the kernel through the reference driver agree on random partitions", () => {
    const rng = new SeededRandom(61);
    const seen = new Map<string, number>();
    const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
    for (let round = 0; round < 400; round++) {
      const day = DAY + round;
      const openNs = openNsOfDay(day);
      const rows = randomChainPartition(rng, day, openNs);
      const paramSets: ShortStraddleParams[] = Array.from({ length: 4 }, () => {
        const entry_min = [0, 2, 5, 30][rng.int(0, 3)];
        return {
          entry_min,
          exit_min: entry_min + [1, 10, 30, 400][rng.int(0, 3)],
          stop: [0, 0.05, 0.3, 1][rng.int(0, 3)],
          target: [0, 0.05, 0.5, 1][rng.int(0, 3)],
        };
      });
      const run = runChainReference(rows, shortStraddleChainKernel, paramSets.map(values), { openNs });
      paramSets.forEach((params, set) => {
        const ref = shortStraddleReference(rows, params, openNs);
        count(ref.trades === 0 ? "no trade" : ref.exit);
        if (ref.trades === 1 && ref.exitTs === ref.entryTs) count("exit at E");
        expectSameStraddle(ref, run.legs, set, run.sets[set].trades, run.sets[set].pnl);
      });
    }
    // The random partitions reach every way a straddle ends.
    for (const what of ["no trade", "time", "stop", "target", "end", "exit at E"])
      expect(seen.get(what) ?? 0).toBeGreaterThan(3);
  });
});
