import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CostScheduleError,
  parseCostSchedule,
  RATE_FIELDS,
  ratesOn,
  readCostSchedule,
  type CostRates,
} from "../../lib/money/cost-schedule.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

afterAll(cleanupTempDirs);

const SHIPPED = join(import.meta.dir, "../../costs/nse-index-options.json");

const RATES: CostRates = {
  brokerage_per_order: 20,
  stt_sell: 0.000625,
  exchange: 0.0005,
  sebi: 0.000001,
  ipft: 0.000005,
  stamp_buy: 0.00003,
  gst: 0.18,
};
const row = (from: unknown, over: Record<string, unknown> = {}) => ({ from, ...RATES, ...over });
const text = (rows: unknown) => JSON.stringify(rows);

/** The message of the CostScheduleError that `f` throws (fails the test when it throws anything else or nothing). */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CostScheduleError);
    return (e as Error).message;
  }
  throw new Error("expected a CostScheduleError, nothing was thrown");
}
const parseError = (rows: unknown) => errorOf(() => parseCostSchedule(text(rows), "my.json"));

describe("parseCostSchedule", () => {
  test("rows keep their rates and dates, in order", () => {
    const s = parseCostSchedule(text([row("2024-04-01"), row("2024-10-01", { stt_sell: 0.001 })]), "my.json");
    expect(s.source).toBe("my.json");
    expect(s.rows.map((r) => [r.from, r.fromDay, r.stt_sell])).toEqual([
      ["2024-04-01", parseIsoDate("2024-04-01"), 0.000625],
      ["2024-10-01", parseIsoDate("2024-10-01"), 0.001],
    ]);
    expect(s.rows[0]).toMatchObject(RATES);
  });

  test("zero rates, brokerage over 1 rupee, a note and sources are accepted", () => {
    const s = parseCostSchedule(
      text([
        row("2024-04-01", {
          brokerage_per_order: 0,
          stamp_buy: 0,
          note: "no brokerage",
          sources: { stt_sell: "Finance Act" },
        }),
      ]),
      "my.json",
    );
    expect(s.rows[0].brokerage_per_order).toBe(0);
    expect(parseCostSchedule(text([row("2024-04-01", { brokerage_per_order: 47.5 })]), "x").rows[0]).toMatchObject({
      brokerage_per_order: 47.5,
    });
  });

  test("an unknown field names the file, the row and the field", () => {
    expect(parseError([row("2024-04-01"), row("2024-10-01", { stt: 0.001 })])).toMatch(
      /^my\.json: row 2: stt: unknown field/,
    );
  });

  test("a missing date", () => {
    const { from: _, ...noFrom } = row("2024-04-01");
    expect(parseError([noFrom])).toMatch(/^my\.json: row 1: from: missing/);
  });

  test.each([
    ["2024-13-01", /from: no such date: 2024-13-01/],
    ["2024-02-30", /from: no such date: 2024-02-30/],
    ["01-10-2024", /from: not a YYYY-MM-DD date: "01-10-2024"/],
    ["2024-10-1", /from: not a YYYY-MM-DD date/],
    ["", /from: not a YYYY-MM-DD date/],
    [20241001, /from: not a YYYY-MM-DD date: 20241001/],
    [null, /from: not a YYYY-MM-DD date: null/],
  ])("a garbled date %p", (from, message) => {
    expect(parseError([row("2023-04-01"), row(from)])).toMatch(new RegExp(`^my\\.json: row 2: ${message.source}`));
  });

  test.each(RATE_FIELDS)("a missing rate: %s", (name) => {
    const r: Record<string, unknown> = row("2024-10-01");
    delete r[name];
    expect(parseError([row("2024-04-01"), r])).toBe(
      `my.json: row 2 (from 2024-10-01): ${name}: missing (every row gives all 7 rates)`,
    );
  });

  test.each(RATE_FIELDS)("a negative rate: %s", (name) => {
    expect(parseError([row("2024-04-01", { [name]: -0.001 })])).toBe(
      `my.json: row 1 (from 2024-04-01): ${name}: negative rate -0.001`,
    );
  });

  test.each([["0.1%"], [null], [true], [[0.001]]])("a rate that is not a number: %p", (v) => {
    expect(parseError([row("2024-04-01", { stt_sell: v })])).toBe(
      `my.json: row 1 (from 2024-04-01): stt_sell: not a number: ${JSON.stringify(v)}`,
    );
  });

  test("a fraction over 1 (a percentage written as one) is refused; brokerage is rupees, not a fraction", () => {
    expect(parseError([row("2024-04-01", { gst: 18 })])).toMatch(
      /^my\.json: row 1 \(from 2024-04-01\): gst: 18 is over 1; rates are fractions/,
    );
    expect(parseError([row("2024-04-01", { exchange: 1.5 })])).toMatch(/exchange: 1\.5 is over 1/);
    expect(parseCostSchedule(text([row("2024-04-01", { gst: 1 })]), "x").rows[0].gst).toBe(1);
  });

  test("unsorted dates name both rows", () => {
    expect(parseError([row("2024-04-01"), row("2024-10-01"), row("2024-09-30")])).toBe(
      "my.json: row 3: from: 2024-09-30 is before row 2's 2024-10-01 (rows go in date order)",
    );
  });

  test("a duplicate date names both rows", () => {
    expect(parseError([row("2024-04-01"), row("2024-04-01", { stt_sell: 0.001 })])).toBe(
      "my.json: rows 1 and 2: from: the same date twice (2024-04-01)",
    );
  });

  test("an empty list, an empty file, not JSON, not a list, a row that is not an object", () => {
    expect(parseError([])).toBe("my.json: no rows (a schedule needs at least one)");
    expect(errorOf(() => parseCostSchedule("  \n", "my.json"))).toBe("my.json: empty file");
    expect(errorOf(() => parseCostSchedule("[{from: 1}]", "my.json"))).toMatch(/^my\.json: not JSON \(/);
    expect(parseError({ rates: [row("2024-04-01")] })).toMatch(/^my\.json: expected a list of rows/);
    expect(parseError([row("2024-04-01"), [1, 2]])).toMatch(/^my\.json: row 2: not an object/);
    expect(parseError([null])).toMatch(/^my\.json: row 1: not an object/);
  });

  test("sources must name rates of the row, with text; a note is text", () => {
    expect(parseError([row("2024-04-01", { sources: { stt: "x" } })])).toMatch(
      /^my\.json: row 1 \(from 2024-04-01\): sources: stt: not a rate of the row/,
    );
    expect(parseError([row("2024-04-01", { sources: ["Finance Act"] })])).toMatch(
      /^my\.json: row 1 \(from 2024-04-01\): sources: expected an object/,
    );
    expect(parseError([row("2024-04-01", { sources: { gst: 18 } })])).toMatch(/sources: gst: not a string/);
    expect(parseError([row("2024-04-01", { note: 3 })])).toMatch(
      /^my\.json: row 1 \(from 2024-04-01\): note: not a string/,
    );
  });
});

describe("ratesOn", () => {
  const schedule = parseCostSchedule(
    text([
      row("2024-04-01"),
      row("2024-10-01", { stt_sell: 0.001, exchange: 0.0003503 }),
      row("2026-04-01", { stt_sell: 0.0015, exchange: 0.0003503 }),
    ]),
    "my.json",
  );

  test("the row with the latest from on or before the day", () => {
    expect(ratesOn(schedule, "2024-04-01").stt_sell).toBe(0.000625);
    expect(ratesOn(schedule, "2024-09-30")).toMatchObject({ from: "2024-04-01", stt_sell: 0.000625, exchange: 0.0005 });
    expect(ratesOn(schedule, "2024-10-01")).toMatchObject({ from: "2024-10-01", stt_sell: 0.001, exchange: 0.0003503 });
    expect(ratesOn(schedule, "2026-03-31").from).toBe("2024-10-01");
    expect(ratesOn(schedule, "2026-04-01").stt_sell).toBe(0.0015);
    expect(ratesOn(schedule, "2031-01-01").from).toBe("2026-04-01");
  });

  test("a day number gives the same row as its date", () => {
    for (const d of ["2024-04-01", "2024-09-30", "2024-10-01", "2025-11-17", "2026-04-01"])
      expect(ratesOn(schedule, parseIsoDate(d))).toBe(ratesOn(schedule, d));
  });

  test("a day before the first row is an error naming the day and the first row", () => {
    expect(errorOf(() => ratesOn(schedule, "2024-03-31"))).toBe(
      "my.json: no rates for 2024-03-31: its first row is from 2024-04-01 (add a row for earlier days)",
    );
    expect(errorOf(() => ratesOn(schedule, parseIsoDate("2019-01-01")))).toMatch(/no rates for 2019-01-01/);
  });
});

describe("readCostSchedule", () => {
  test("reads a file; a missing file or a folder is a named error", () => {
    const dir = tempDir("costs");
    const file = join(dir, "mine.json");
    writeFileSync(file, text([row("2024-04-01")]));
    expect(readCostSchedule(file).rows).toHaveLength(1);
    expect(readCostSchedule(file, "--costs mine.json").source).toBe("--costs mine.json");
    expect(errorOf(() => readCostSchedule(join(dir, "none.json")))).toBe(
      `${join(dir, "none.json")}: cannot read (no such file or folder (ENOENT))`,
    );
    mkdirSync(join(dir, "sub.json"));
    expect(errorOf(() => readCostSchedule(join(dir, "sub.json"), "--costs sub.json"))).toBe(
      "--costs sub.json: is a folder, expected a JSON file",
    );
    writeFileSync(file, text([row("2024-04-01", { brokerage: 20 })]));
    expect(errorOf(() => readCostSchedule(file, "--costs mine.json"))).toMatch(
      /^--costs mine\.json: row 1: brokerage: unknown field/,
    );
  });
});

describe("the shipped schedule costs/nse-index-options.json", () => {
  const shipped = readCostSchedule(SHIPPED);

  test("has the 1 October 2024 change: STT 0.0625 % → 0.1 %, NSE options 0.05 % → 0.03503 % of premium", () => {
    expect(ratesOn(shipped, "2024-09-30")).toMatchObject({ stt_sell: 0.000625, exchange: 0.0005 });
    expect(ratesOn(shipped, "2024-10-01")).toMatchObject({ from: "2024-10-01", stt_sell: 0.001, exchange: 0.0003503 });
  });

  test("has the 1 April 2026 STT change (0.1 % → 0.15 %) and keeps the rates that did not change", () => {
    expect(ratesOn(shipped, "2026-03-31").stt_sell).toBe(0.001);
    expect(ratesOn(shipped, "2026-04-01")).toMatchObject({ stt_sell: 0.0015, exchange: 0.0003503 });
    for (const r of shipped.rows)
      expect(r).toMatchObject({
        sebi: 0.000001,
        ipft: 0.000005,
        stamp_buy: 0.00003,
        gst: 0.18,
        brokerage_per_order: 20,
      });
  });

  test("every rate of every row cites its source", () => {
    const raw = JSON.parse(readFileSync(SHIPPED, "utf8")) as { sources?: Record<string, string> }[];
    for (const r of raw) {
      expect(Object.keys(r.sources ?? {}).sort()).toEqual([...RATE_FIELDS].sort());
      for (const s of Object.values(r.sources ?? {})) expect(s.length).toBeGreaterThan(20);
    }
  });
});
