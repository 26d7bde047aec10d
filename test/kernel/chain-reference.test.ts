import { describe, expect, test } from "bun:test";
import {
  type ChainKernelReference,
  type ChainRow,
  type ChainView,
  MAX_OPEN_LEGS,
  openNsOfDay,
  runChainReference,
} from "../../kernel/chain-reference.ts";
import { OPT_CE, OPT_OTHER, OPT_PE } from "../../lib/packed/opt-type.ts";
import { afterOpen } from "../helpers/chain-partitions.ts";

const DAY = 20_000;
const OPEN_NS = openNsOfDay(DAY);
const X = DAY + 3;
const Y = DAY + 10;
const at = (minutes: number) => afterOpen(OPEN_NS, minutes);
const row = (
  expiry: number | null,
  opt: number | null,
  strike: number | null,
  minutes: number | null,
  price: number | null,
  values?: Record<string, number | null>,
): ChainRow => ({ timestamp: minutes === null ? null : at(minutes), expiry, opt, strike, price, values });

/** A kernel of no parameters that runs `instant` (and optionally `end`) for every set. */
function scripted(
  instant: (c: ChainView, s: Float64Array) => void,
  more: Partial<ChainKernelReference> = {},
): ChainKernelReference {
  return {
    columns: [],
    params: [],
    stateSize: 1,
    contractStateSize: 0,
    start() {},
    instant: (_p, s, c) => instant(c, s),
    end() {},
    ...more,
  };
}
const run = (rows: ChainRow[], kernel: ChainKernelReference, sets = 1) =>
  runChainReference(
    rows,
    kernel,
    Array.from({ length: sets }, () => []),
    { openNs: OPEN_NS },
  );

describe("reference chain driver", () => {
  test("09:15 IST of a day in epoch ns", () => {
    expect(openNsOfDay(0)).toBe(BigInt(3 * 3600 + 45 * 60) * 1_000_000_000n);
    expect(new Date(Number(OPEN_NS / 1_000_000n)).toISOString()).toBe("2024-10-04T03:45:00.000Z");
  });

  test("the contract table, the expiries, the stream's instants and their rows", () => {
    const rows = [
      row(Y, OPT_CE, 100, 3, 5),
      row(X, OPT_PE, 100, 1, 7),
      row(X, OPT_CE, 200, 1, 8),
      row(X, OPT_CE, 100, 1, 9),
      row(X, OPT_OTHER, 100, 2, 1),
      row(X, OPT_CE, 100, null, 9), // no timestamp: a contract, never in the stream
      row(X - 1, null, 100, 1, 9), // null keys: neither
      row(null, OPT_CE, 100, 1, 9),
      row(X, OPT_PE, null, 1, 9),
      row(X, OPT_PE, 100, 1, 3),
    ];
    const seen: unknown[] = [];
    let table: unknown = null;
    const result = run(
      rows,
      scripted((c) => {
        table ??= [c.expiry, c.opt, c.strike, c.expiries];
        seen.push([c.ts, c.minute, [...c.rowContract], [...c.rowValid]]);
      }),
    );
    // Sorted by expiry, opt code, strike.
    expect(table).toEqual([
      [X, X, X, X, Y],
      [OPT_CE, OPT_CE, OPT_PE, OPT_OTHER, OPT_CE],
      [100, 200, 100, 100, 100],
      [X, Y],
    ]);
    // Ties in file order: PE 100 (2), CE 200 (1), CE 100 (0), PE 100 again.
    expect(seen).toEqual([
      [at(1), 1, [2, 1, 0, 2], [true, true, true, true]],
      [at(2), 2, [3], [true]],
      [at(3), 3, [4], [true]],
    ]);
    expect(result.sets).toEqual([{ trades: 0, pnl: 0, validRows: 6, rows: 10, fillsAtLast: 0 }]);
  });

  test("a selection leaves other contracts out of the table and the stream", () => {
    const rows = [row(X, OPT_CE, 100, 1, 5), row(X, OPT_CE, 200, 2, 6), row(X, OPT_PE, 200, 3, 7)];
    const strikes: number[][] = [];
    const r = runChainReference(
      rows,
      scripted((c) => strikes.push([...c.strike, c.rowContract.length])),
      [[]],
      { openNs: OPEN_NS, select: (_e, _o, strike) => strike === 200 },
    );
    expect(strikes).toEqual([
      [200, 200, 1],
      [200, 200, 1],
    ]);
    expect(r.sets[0]).toEqual({ trades: 0, pnl: 0, validRows: 2, rows: 3, fillsAtLast: 0 });
  });

  test("as-of state: every row of the instant first; invalid rows change nothing; a column's as-of may be null", () => {
    const rows = [
      row(X, OPT_CE, 100, 1, 10, { oi: 5 }),
      row(X, OPT_CE, 100, 2, 11, { oi: null }),
      row(X, OPT_CE, 100, 2, 12, { oi: null }), // two rows at one instant: the later is the as-of one
      row(X, OPT_CE, 100, 3, 0, { oi: 99 }), // invalid
      row(X, OPT_PE, 100, 1, null, { oi: 7 }), // invalid, before any valid row
      row(X, OPT_PE, 100, 3, 20), // no oi given: null
    ];
    const states: unknown[] = [];
    run(
      rows,
      scripted(
        (c) =>
          states.push([
            c.has.slice(),
            [c.price(0), c.price(1), c.price(7)],
            c.asofTs.slice(),
            c.rowColumn[0].slice(),
            c.asofColumn[0].slice(),
          ]),
        { columns: ["oi"] },
      ),
    );
    expect(states).toEqual([
      [
        [true, false],
        [10, Number.NaN, Number.NaN],
        [at(1), 0n],
        [5, 7],
        [5, null],
      ],
      [
        [true, false],
        [12, Number.NaN, Number.NaN],
        [at(2), 0n],
        [null, null],
        [null, null],
      ],
      [
        [true, true],
        [12, 20, Number.NaN],
        [at(2), at(3)],
        [99, null],
        [null, null],
      ],
    ]);
  });

  test("start and end run once per set, even with no instant; state and contract state are per set", () => {
    const calls: string[] = [];
    const kernel: ChainKernelReference = {
      ...scripted(() => {}),
      contractStateSize: 2,
      start: (_p, s, c) => {
        calls.push(`start ${c.set} ts ${c.ts} rows ${c.nrows} contracts ${c.ncontracts}`);
        s[0] += 1;
      },
      instant: (_p, s, c) => {
        s[0] += 10;
        c.contractState(0)[1] += c.set + 1;
      },
      end: (_p, s, c) => calls.push(`end ${c.set} s ${s[0]} cs ${c.ncontracts > 0 ? [...c.contractState(0)] : "none"}`),
    };
    run([], kernel, 2);
    run([row(X, OPT_CE, 100, 1, 5), row(X, OPT_CE, 100, 2, 5)], kernel, 2);
    expect(calls).toEqual([
      "start 0 ts 0 rows 0 contracts 0",
      "start 1 ts 0 rows 0 contracts 0",
      "end 0 s 1 cs none",
      "end 1 s 1 cs none",
      "start 0 ts 0 rows 0 contracts 1",
      "start 1 ts 0 rows 0 contracts 1",
      "end 0 s 21 cs 0,2",
      "end 1 s 21 cs 0,4",
    ]);
  });

  test("helpers: find, atm (ties to the lower strike, only strikes with both prices), strikeStep", () => {
    const rows = [
      row(X, OPT_CE, 100, 1, 30),
      row(X, OPT_CE, 200, 1, 20),
      row(X, OPT_CE, 300, 1, 10),
      row(X, OPT_CE, 400, 1, 5),
      row(X, OPT_PE, 100, 1, 10),
      row(X, OPT_PE, 200, 1, 30), // |20 − 30| = 10 ties with 300's |10 − 20|: 200
      row(X, OPT_PE, 300, 1, 20),
      row(X, OPT_PE, 400, 1, null), // no price: 400 is not a candidate (|5 − ?|)
      row(Y, OPT_CE, 100, 1, 1),
    ];
    let got: unknown = null;
    run(
      rows,
      scripted((c) => {
        got = [
          c.find(X, OPT_PE, 300),
          c.find(X, OPT_PE, 500),
          c.find(Y, OPT_PE, 100),
          c.atm(X),
          c.atm(Y),
          c.atm(X + 1),
          c.strikeStep(X, OPT_CE, 200, 2),
          c.strikeStep(X, OPT_CE, 200, -1),
          c.strikeStep(X, OPT_CE, 200, -2),
          c.strikeStep(X, OPT_CE, 250, 0),
          c.strikeStep(X, OPT_PE, 400, 0),
        ];
      }),
    );
    expect(got).toEqual([6, -1, -1, 200, Number.NaN, Number.NaN, 400, 100, Number.NaN, Number.NaN, 400]);
  });

  test("orders: fills at as-of or a row's own price, positions and legs, value and entry value, the log", () => {
    const rows = [
      row(X, OPT_CE, 100, 1, 10),
      row(X, OPT_CE, 100, 1, 11), // row 1 of the instant: 11; as-of 11
      row(X, OPT_CE, 100, 2, 14),
      row(X, OPT_CE, 100, 2, 15),
      row(X, OPT_PE, 100, 1, 20),
      row(X, OPT_PE, 100, 3, 26),
    ];
    const seen: unknown[] = [];
    const result = run(
      rows,
      scripted((c) => {
        if (c.ts === at(1)) {
          // The instant's rows: CE 10, CE 11, PE 20.
          const p = c.openAt(-1, 0, 2); // long 2 CE at row 0's own 10
          expect(c.open(p, 1, -1)).toBe(p); // short 1 PE at as-of 20
          expect(c.open(-1, 0, 1)).toBe(1); // a second position, long 1 CE at as-of 11
          seen.push([c.openLegs(0), c.entryValue(0), c.value(0), c.openLegs(1), c.openLegs(9), c.value(9)]);
        } else if (c.ts === at(2)) {
          // Rows CE 14, CE 15 (as-of 15).
          expect(c.closeLegAt(0, 0, 0)).toBe(1); // (14 − 10) × 2 = 8
          seen.push([c.openLegs(0), c.entryValue(0), c.value(0)]);
        } else {
          expect(c.close(1)).toBe(1); // (15 − 11) × 1 = 4, at as-of 15
          expect(c.close(1)).toBe(0);
        }
      }),
    );
    expect(seen).toEqual([
      [2, 2 * 10 - 20, 2 * 11 - 20, 1, 0, 0],
      [1, -20, -20],
    ]);
    // The PE leg is left open: closed after end at its last valid row, 26 at 09:18 → (26 − 20) × −1 = −6.
    expect(result.sets[0]).toMatchObject({ trades: 2, pnl: 8 + 4 - 6 });
    expect(
      result.legs.map((l) => [l.position, l.leg, l.opt, l.lots, l.entryTs, l.exitTs, l.entryPrice, l.exitPrice, l.pnl]),
    ).toEqual([
      [0, 0, OPT_CE, 2, at(1), at(2), 10, 14, 8],
      [1, 0, OPT_CE, 1, at(1), at(3), 11, 15, 4],
      [0, 1, OPT_PE, -1, at(1), at(3), 20, 26, -6],
    ]);
  });

  test("legs left open close after end, in opening order, at their contracts' last valid rows", () => {
    const rows = [row(X, OPT_CE, 100, 1, 10), row(X, OPT_PE, 100, 1, 20), row(X, OPT_PE, 100, 2, 25)];
    const result = run(
      rows,
      scripted(
        (c) => {
          if (c.ts !== at(1)) return;
          c.open(-1, 1, 1);
          c.open(-1, 0, -1);
          c.open(0, 0, 1);
        },
        { end: (_p, _s, c) => void c.closeLeg(0, 1) },
      ),
    );
    // The kernel's end closes position 0 leg 1 at the last instant (09:17); the driver then closes position 0 leg 0,
    // then position 1 leg 0, each at its contract's last valid row.
    expect(result.legs.map((l) => [l.position, l.leg, l.exitTs, l.exitPrice])).toEqual([
      [0, 1, at(2), 10],
      [0, 0, at(2), 25],
      [1, 0, at(1), 10],
    ]);
  });

  test("bad orders throw", () => {
    const rows = [row(X, OPT_CE, 100, 1, 10), row(X, OPT_PE, 100, 1, null), row(X, OPT_CE, 200, 2, 5)];
    const bad = (order: (c: ChainView) => void) => () =>
      run(
        rows,
        scripted((c) => {
          if (c.ts === at(1)) order(c);
        }),
      );
    expect(bad((c) => c.open(-1, 0, 1))).not.toThrow();
    expect(bad((c) => c.open(-1, 3, 1))).toThrow(/no contract 3/);
    expect(bad((c) => c.open(-1, 1, 1))).toThrow(/no price yet/);
    expect(bad((c) => c.open(-1, 0, 0))).toThrow(/0 lots/);
    expect(bad((c) => c.open(-1, 0, Number.NaN))).toThrow(/NaN lots/);
    expect(bad((c) => c.open(0, 0, 1))).toThrow(/no position 0/);
    expect(bad((c) => c.openAt(-1, 1, 1))).toThrow(/row 1 has no valid price/);
    expect(bad((c) => c.openAt(-1, 2, 1))).toThrow(/no instant row 2/);
    expect(bad((c) => c.close(-1))).toThrow(/no position -1/);
    expect(bad((c) => c.close(c.open(-1, 0, 1) + 1))).toThrow(/no position 1/);
    expect(bad((c) => c.closeLeg(c.open(-1, 0, 1), 1))).toThrow(/leg 1 of position 0 is not open/);
    expect(
      bad((c) => {
        const p = c.open(-1, 0, 1);
        c.close(p);
        c.closeLeg(p, 0);
      }),
    ).toThrow(/leg 0 of position 0 is not open/);
    expect(
      bad((c) => {
        const p = c.open(-1, 0, 1);
        c.close(p);
        c.open(p, 0, 1);
      }),
    ).toThrow(/position 0 is closed/);
    expect(bad((c) => c.closeLegAt(c.open(-1, 0, 1), 0, 1))).toThrow(/row 1 has no valid price/);
    expect(
      bad((c) => {
        for (let i = 0; i <= MAX_OPEN_LEGS; i++) c.open(-1, 0, 1);
      }),
    ).toThrow(/more than 64 open legs/);
    // closeLegAt on a row of another contract: at 09:17 the only row is CE 200's.
    expect(() =>
      run(
        rows,
        scripted((c, s) => {
          if (c.ts === at(1)) s[0] = c.open(-1, 0, 1);
          else c.closeLegAt(s[0], 0, 0);
        }),
      ),
    ).toThrow(/row 0 is not of leg 0's contract 0/);
  });
});
