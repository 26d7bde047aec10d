import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TradeBlock } from "../../lib/bench/bench.ts";
import { DuckDBInstance } from "@duckdb/node-api";
import { csvField, openTradeLog } from "../../lib/bench/trade-log.ts";
import { decimalText, roundedTo9Decimals } from "../../lib/bench/trade-row.ts";
import { SeededRandom } from "../../lib/random.ts";
import { NULL_KEY } from "../../kernel/segment-key.ts";
import { closeParquet, openParquet, withRows } from "../../lib/parquet/io.ts";

// Seconds of CPU work each on a quiet machine: the suite must also pass on a loaded one.
setDefaultTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), "tickpack-trade-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TradeRow {
  set: number;
  underlying: string;
  expiry: number | null;
  opt: number | null;
  strike: number | null;
  entryTs: bigint;
  exitTs: bigint;
  entryPrice: number;
  exitPrice: number;
  pnl: number;
}
const NIFTY_EXPIRY = 20_417; // 2025-11-25
const trade = (i: number, extra: Partial<TradeRow> = {}): TradeRow => ({
  set: i % 3,
  underlying: "NIFTY",
  expiry: NIFTY_EXPIRY,
  opt: i % 2,
  strike: 24500 + (i % 7) * 50,
  entryTs: 1_763_350_000_000_000_000n + BigInt(i) * 1000n,
  exitTs: 1_763_350_000_000_000_001n + BigInt(i) * 1000n,
  entryPrice: 100 + (i % 13),
  exitPrice: 99.5 + (i % 11),
  pnl: 99.5 + (i % 11) - (100 + (i % 13)),
  ...extra,
});
/** One partition's block (the underlying of its first row) of trades as the driver reports them (null keys: NULL_KEY). */
function block(rows: TradeRow[], date = "2025-11-17"): TradeBlock {
  const f = (g: (r: TradeRow) => number | null) => Float64Array.from(rows, (r) => g(r) ?? NULL_KEY);
  return {
    length: rows.length,
    date,
    underlying: rows[0]?.underlying ?? "NIFTY",
    set: f((r) => r.set),
    expiry: f((r) => r.expiry),
    optCode: f((r) => r.opt),
    strike: f((r) => r.strike),
    entryTs: BigInt64Array.from(rows, (r) => r.entryTs),
    exitTs: BigInt64Array.from(rows, (r) => r.exitTs),
    entryPrice: f((r) => r.entryPrice),
    exitPrice: f((r) => r.exitPrice),
    pnl: f((r) => r.pnl),
  };
}

describe("trade log writer", () => {
  test("CSV fields: RFC 4180 quoting where needed; text starting with = + - @ is neutralised; numbers stay numbers", () => {
    expect(csvField("NIFTY")).toBe("NIFTY");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField("+1")).toBe("'+1");
    expect(csvField("-X")).toBe("'-X");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField(-1.5)).toBe("-1.5");
    expect(csvField(null)).toBe("");
  });

  test("250k trades in one append (more than a spread can pass) stream to CSV; only the file remains", async () => {
    const path = join(dir, "big.csv");
    const log = openTradeLog(path);
    const rows = Array.from({ length: 250_000 }, (_, i) => trade(i));
    await log.append(block(rows));
    await log.append(
      block([
        trade(0, { underlying: "=cmd|' /C calc'!A0", pnl: -2 }),
        trade(1, { expiry: null, opt: null, strike: null }),
      ]),
    );
    await log.commit();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines.length).toBe(250_003);
    expect(lines[0]).toBe("set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl");
    expect(lines[1]).toBe(
      "0,2025-11-17,NIFTY,2025-11-25,CE,24500,2025-11-17T08:56:40.000000000+05:30,2025-11-17T08:56:40.000000001+05:30,100,99.5,-0.5",
    );
    expect(lines[250_001]).toBe(
      "0,2025-11-17,'=cmd|' /C calc'!A0,2025-11-25,CE,24500,2025-11-17T08:56:40.000000000+05:30,2025-11-17T08:56:40.000000001+05:30,100,99.5,-2",
    );
    expect(lines[250_002]).toBe(
      "1,2025-11-17,'=cmd|' /C calc'!A0,,,,2025-11-17T08:56:40.000001000+05:30,2025-11-17T08:56:40.000001001+05:30,101,100.5,-0.5",
    );
    expect(readdirSync(dir).filter((n) => n.includes("big"))).toEqual(["big.csv"]);
  });

  test("Parquet is written row group by row group as appends come; an aborted log leaves nothing", async () => {
    const path = join(dir, "big.parquet");
    const log = openTradeLog(path);
    for (let chunk = 0; chunk < 5; chunk++)
      await log.append(block(Array.from({ length: 60_000 }, (_, i) => trade(chunk * 60_000 + i))));
    await log.commit();
    const source = await openParquet(path);
    expect(source.numRows).toBe(300_000);
    expect(source.rowGroupRows.length).toBeGreaterThanOrEqual(3);
    const columns = ["date", "underlying", "expiry", "opt_type", "entry_time", "strike"];
    const first = await withRows(source, columns, { rowGroups: [0] }, (t) =>
      columns.map((c) =>
        // DATE and TIMESTAMP as stored: days and nanoseconds since 1970 (UTC).
        ["date", "expiry", "entry_time"].includes(c)
          ? (t.getChild(c)!.data[0].values as Int32Array | BigInt64Array)[1]
          : t.getChild(c)!.get(1),
      ),
    );
    expect(first).toEqual([20_409, "NIFTY", NIFTY_EXPIRY, "PE", 1_763_350_000_000_001_000n, 24550]);
    expect(source.fields.map((f) => `${f.name} ${f.type}`).slice(1, 8)).toEqual([
      "date Date32<DAY>",
      "underlying Utf8",
      "expiry Date32<DAY>",
      "opt_type Utf8",
      "strike Float64",
      "entry_time Timestamp<NANOSECOND, UTC>",
      "exit_time Timestamp<NANOSECOND, UTC>",
    ]);
    closeParquet(source);

    const aborted = openTradeLog(join(dir, "gone.csv"));
    await aborted.append(block([trade(1)]));
    aborted.abort();
    const abortedPq = openTradeLog(join(dir, "gone.parquet"));
    await abortedPq.append(block([trade(1)]));
    abortedPq.abort();
    expect(readdirSync(dir).filter((n) => n.includes("gone"))).toEqual([]);
  });

  test("prices and PnL are rounded to 9 decimals: the shortest text of the nearest double", () => {
    expect(String(roundedTo9Decimals(-33.549999999999955))).toBe("-33.55");
    expect(String(roundedTo9Decimals(0.1 + 0.2))).toBe("0.3");
    expect(String(roundedTo9Decimals(24_550.05))).toBe("24550.05");
    expect(String(roundedTo9Decimals(123_456_789.12))).toBe("123456789.12"); // x * 1e9 would not be exact here
    expect(String(roundedTo9Decimals(1e-10))).toBe("0");
    expect(Object.is(roundedTo9Decimals(-1e-10), 0)).toBe(true); // not −0
    expect(roundedTo9Decimals(0.000_000_001_4)).toBe(1e-9);
    // CSV's text takes a shortcut where the value has at most 9 decimals already: the same text.
    const rng = new SeededRandom(9);
    const values = [-0, 1e21, -1.5e-7, 5e-324, 123_456_789.12, 2 ** 53 + 2, 4_503_599.627_370_497];
    for (let i = 0; i < 20_000; i++) {
      const scale = 10 ** rng.int(-12, 12);
      const a = Math.round(rng.normal() * 1e4) / 100;
      values.push(rng.normal() * scale, a - Math.round(rng.normal() * 1e4) / 100, a * scale);
    }
    for (const x of values) expect({ x, text: decimalText(x) }).toEqual({ x, text: String(roundedTo9Decimals(x)) });
  });

  test("DuckDB reads CSV and Parquet alike: IST times as the Parquet instants, DATE columns, numbers without binary noise", async () => {
    const rows = [
      trade(0, {
        entryTs: 1_763_351_400_123_456_000n,
        exitTs: 1_763_351_500_000_000_001n,
        entryPrice: 289.65,
        exitPrice: 256.1,
        pnl: 256.1 - 289.65,
      }),
      trade(1, { entryPrice: 0.1 + 0.2, pnl: -33.549999999999955 }),
      trade(2, { expiry: null, opt: null, strike: null, exitTs: 1_763_404_199_999_999_000n }), // 23:59:59.999999 IST
    ];
    const outside = [trade(3, { underlying: "X" })]; // a file outside a date folder: no date
    const paths = ["alike.csv", "alike.parquet"].map((f) => join(dir, f));
    for (const path of paths) {
      const log = openTradeLog(path);
      await log.append(block(rows));
      await log.append(block(outside, ""));
      await log.commit();
    }
    const csvLines = readFileSync(paths[0], "utf8").trimEnd().split("\n");
    expect(csvLines[1]).toBe(
      "0,2025-11-17,NIFTY,2025-11-25,CE,24500,2025-11-17T09:20:00.123456000+05:30,2025-11-17T09:21:40.000000001+05:30,289.65,256.1,-33.55",
    );
    expect(csvLines[3].split(",").slice(3, 8)).toEqual([
      "",
      "",
      "",
      "2025-11-17T08:56:40.000002000+05:30",
      "2025-11-17T23:59:59.999999000+05:30",
    ]);
    expect(csvLines[4].split(",").slice(0, 3)).toEqual(["0", "", "X"]);

    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    try {
      const [csv, pq] = paths.map((p) => `'${p}'`);
      const types = async (from: string) =>
        (await c.runAndReadAll(`DESCRIBE SELECT date, expiry, entry_time, exit_time FROM ${from}`))
          .getRows()
          .map((r) => `${r[0]} ${r[1]}`);
      const expected = [
        "date DATE",
        "expiry DATE",
        "entry_time TIMESTAMP WITH TIME ZONE",
        "exit_time TIMESTAMP WITH TIME ZONE",
      ];
      expect(await types(`read_csv(${csv})`)).toEqual(expected);
      expect(await types(`read_parquet(${pq})`)).toEqual(expected);
      // Every column equal, both ways (DuckDB keeps µs: these instants have no finer part but the exits' 1 ns).
      const cols =
        "set, date, underlying, expiry, opt_type, strike, entry_time, date_trunc('microsecond', exit_time), entry_price, exit_price, pnl";
      for (const [a, b] of [
        [csv, pq],
        [pq, csv],
      ]) {
        const diff = await c.runAndReadAll(
          `SELECT count(*) FROM (SELECT ${cols} FROM read_csv(${a}) EXCEPT ALL SELECT ${cols} FROM read_csv(${b}))`.replaceAll(
            `read_csv(${pq})`,
            `read_parquet(${pq})`,
          ),
        );
        expect(Number(diff.getRows()[0][0])).toBe(0);
      }
      const pnl = await c.runAndReadAll(
        `SELECT CAST(pnl AS VARCHAR), CAST(entry_price AS VARCHAR), CAST(entry_time AT TIME ZONE 'Asia/Kolkata' AS VARCHAR), CAST(date AS VARCHAR), CAST(expiry AS VARCHAR) FROM read_parquet(${pq}) WHERE expiry IS NOT NULL AND date IS NOT NULL ORDER BY entry_price DESC`,
      );
      expect(pnl.getRows().slice(0, 2)).toEqual([
        ["-33.55", "289.65", "2025-11-17 09:20:00.123456", "2025-11-17", "2025-11-25"],
        ["-33.55", "0.3", "2025-11-17 08:56:40.000001", "2025-11-17", "2025-11-25"],
      ]);
      const undated = await c.runAndReadAll(
        `SELECT count(*) FROM read_parquet(${pq}) WHERE date IS NULL AND underlying = 'X'`,
      );
      expect(Number(undated.getRows()[0][0])).toBe(1);
    } finally {
      c.closeSync();
    }
  });

  test("a chain kernel's log: the leg columns after the trade columns, both formats alike, across row groups", async () => {
    // 150k legs (two Parquet row groups): position k has legs 0 (short 2 lots) and 1 (long 1 lot).
    const rows = Array.from({ length: 150_000 }, (_, i) => trade(i));
    const legs = {
      position: Float64Array.from(rows, (_, i) => Math.floor(i / 2)),
      leg: Float64Array.from(rows, (_, i) => i % 2),
      lots: Float64Array.from(rows, (_, i) => (i % 2 === 0 ? -2 : 1)),
    };
    const paths = ["legs.csv", "legs.parquet"].map((f) => join(dir, f));
    for (const path of paths) {
      const log = openTradeLog(path, { legs: true });
      await log.append({ ...block(rows), legs });
      await log.commit();
    }
    const lines = readFileSync(paths[0], "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(
      "set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl,position,leg,side,lots",
    );
    expect(lines[149_999].split(",").slice(-4)).toEqual(["74999", "0", "short", "2"]);
    expect(lines[150_000].split(",").slice(-4)).toEqual(["74999", "1", "long", "1"]);
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    try {
      const [csv, pq] = [`read_csv('${paths[0]}')`, `read_parquet('${paths[1]}')`];
      for (const [a, b] of [
        [csv, pq],
        [pq, csv],
      ]) {
        const diff = await c.runAndReadAll(`SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`);
        expect(Number(diff.getRows()[0][0])).toBe(0);
      }
      const sides = await c.runAndReadAll(`SELECT side, sum(lots), count(*) FROM ${pq} GROUP BY side ORDER BY side`);
      expect(sides.getRows().map(([side, lots, n]) => [side, Number(lots), Number(n)])).toEqual([
        ["long", 75_000, 75_000],
        ["short", 150_000, 75_000],
      ]);
    } finally {
      c.closeSync();
    }
  });
});
