import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TradeBlock } from "../../lib/bench/bench.ts";
import { csvField, openTradeLog } from "../../lib/bench/trade-log.ts";
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
function block(rows: TradeRow[]): TradeBlock {
  const f = (g: (r: TradeRow) => number | null) => Float64Array.from(rows, (r) => g(r) ?? NULL_KEY);
  return {
    length: rows.length,
    date: "2025-11-17",
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
      "0,2025-11-17,NIFTY,2025-11-25,CE,24500,2025-11-17T03:26:40.000000000Z,2025-11-17T03:26:40.000000001Z,100,99.5,-0.5",
    );
    expect(lines[250_001]).toBe(
      "0,2025-11-17,'=cmd|' /C calc'!A0,2025-11-25,CE,24500,2025-11-17T03:26:40.000000000Z,2025-11-17T03:26:40.000000001Z,100,99.5,-2",
    );
    expect(lines[250_002]).toBe(
      "1,2025-11-17,'=cmd|' /C calc'!A0,,,,2025-11-17T03:26:40.000001000Z,2025-11-17T03:26:40.000001001Z,101,100.5,-0.5",
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
    const first = await withRows(
      source,
      ["underlying", "expiry", "opt_type", "entry_time", "strike"],
      { rowGroups: [0] },
      (t) =>
        ["underlying", "expiry", "opt_type", "entry_time", "strike"].map((c) =>
          c === "entry_time" ? (t.getChild(c)!.data[0].values as BigInt64Array)[1] : t.getChild(c)!.get(1),
        ),
    );
    expect(first).toEqual(["NIFTY", "2025-11-25", "PE", 1_763_350_000_000_001_000n, 24550]);
    closeParquet(source);

    const aborted = openTradeLog(join(dir, "gone.csv"));
    await aborted.append(block([trade(1)]));
    aborted.abort();
    const abortedPq = openTradeLog(join(dir, "gone.parquet"));
    await abortedPq.append(block([trade(1)]));
    abortedPq.abort();
    expect(readdirSync(dir).filter((n) => n.includes("gone"))).toEqual([]);
  });
});
