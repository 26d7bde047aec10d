import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { syntheticCalendar, underlyingSpec } from "../../lib/gen/market.ts";
import { nseLotSize } from "../../lib/gen/nse-lot-sizes.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { formatExpiryCalendar, lotSizeOf, parseExpiryCalendar, type ExpiryCalendar } from "../../lib/raw/calendar.ts";
import { cleanupTempDirs, genFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);

describe("NSE lot sizes by series", () => {
  // [underlying, expiry type, expiry, lot size]: the last expiry before each change and the first after.
  const cases: [string, "monthly" | "weekly", string, number | null][] = [
    ["NIFTY", "monthly", "2021-06-24", null],
    ["NIFTY", "monthly", "2021-07-29", 50],
    ["NIFTY", "weekly", "2021-07-22", null],
    ["NIFTY", "weekly", "2021-08-05", 50],
    ["NIFTY", "monthly", "2024-04-25", 50],
    ["NIFTY", "weekly", "2024-04-25", 50],
    ["NIFTY", "weekly", "2024-05-02", 25],
    ["NIFTY", "monthly", "2024-05-30", 25],
    ["NIFTY", "weekly", "2024-12-19", 25],
    ["NIFTY", "monthly", "2024-12-26", 25],
    ["NIFTY", "weekly", "2025-01-02", 75],
    ["NIFTY", "monthly", "2025-01-30", 25],
    ["NIFTY", "monthly", "2025-02-27", 75],
    ["NIFTY", "weekly", "2025-12-23", 75],
    ["NIFTY", "monthly", "2025-12-30", 75],
    ["NIFTY", "weekly", "2026-01-06", 65],
    ["NIFTY", "monthly", "2026-01-27", 65],
    ["NIFTY", "monthly", "2026-12-29", 65],
    ["BANKNIFTY", "monthly", "2020-06-25", null],
    ["BANKNIFTY", "weekly", "2020-07-23", null],
    ["BANKNIFTY", "monthly", "2020-07-30", 25],
    ["BANKNIFTY", "monthly", "2023-06-29", 25],
    ["BANKNIFTY", "monthly", "2023-07-27", 15],
    ["BANKNIFTY", "weekly", "2023-07-20", 25],
    ["BANKNIFTY", "weekly", "2023-08-02", 15],
    ["BANKNIFTY", "monthly", "2025-01-29", 15],
    ["BANKNIFTY", "monthly", "2025-02-26", 30],
    ["BANKNIFTY", "monthly", "2025-06-26", 30],
    ["BANKNIFTY", "monthly", "2025-07-31", 35],
    ["BANKNIFTY", "monthly", "2025-12-30", 35],
    ["BANKNIFTY", "monthly", "2026-01-27", 30],
    ["FINNIFTY", "monthly", "2026-01-27", null],
  ];
  for (const [u, type, date, size] of cases)
    test(`${u} ${type} ${date}: ${size}`, () => expect(nseLotSize(u, type, parseIsoDate(date))).toBe(size));
});

describe("syntheticCalendar", () => {
  test("leaves the lot size of a series before the sources' first revision empty", () => {
    const cal = syntheticCalendar([underlyingSpec("NIFTY")], parseIsoDate("2021-06-01"), parseIsoDate("2021-08-31"));
    const text = formatExpiryCalendar(cal);
    // Synthetic expiries are Tuesdays: June's monthly on the 29th, July's on the 27th, August's on the 31st.
    expect(text).toContain("\nNIFTY,monthly,2021-06-29,\n");
    expect(text).toContain("\nNIFTY,weekly,2021-07-20,\n");
    expect(text).toContain("\nNIFTY,monthly,2021-07-27,50\n");
    expect(text).toContain("\nNIFTY,weekly,2021-08-03,50\n");
    expect(parseExpiryCalendar(text, "x")).toEqual(cal);
  });
});

describe("gen --start 2025-12-22 --days 12: the calendar crosses the January 2026 change", () => {
  let raw: string;
  let calendar: ExpiryCalendar;
  let rows: string[];
  beforeAll(async () => {
    raw = tempDir("gen-lots");
    await genFixture(raw, {
      start: parseIsoDate("2025-12-22"),
      days: 12,
      underlyings: ["NIFTY", "BANKNIFTY", "SBIN"],
      strikesEachSide: 0,
      tickProb: 0.002,
    });
    const text = readFileSync(join(raw, "expiry_calendar.csv"), "utf8");
    calendar = parseExpiryCalendar(text, "expiry_calendar.csv");
    rows = text.trim().split("\n");
  });
  afterAll(cleanupTempDirs);

  const size = (u: string, date: string) => lotSizeOf(calendar, u, parseIsoDate(date));

  test("NIFTY: 75 for December 2025's weekly and monthly expiries, 65 from January 2026's", () => {
    expect(size("NIFTY", "2025-12-23")).toBe(75);
    expect(size("NIFTY", "2025-12-30")).toBe(75);
    expect(size("NIFTY", "2026-01-06")).toBe(65);
    expect(size("NIFTY", "2026-01-13")).toBe(65);
    expect(size("NIFTY", "2026-01-27")).toBe(65);
  });

  test("BANKNIFTY: 35 for the November and December 2025 monthlies, 30 from January 2026", () => {
    expect(size("BANKNIFTY", "2025-11-25")).toBe(35);
    expect(size("BANKNIFTY", "2025-12-30")).toBe(35);
    expect(size("BANKNIFTY", "2026-01-27")).toBe(30);
    expect(size("BANKNIFTY", "2026-02-24")).toBe(30);
  });

  test("a synthetic underlying has its own lot for every expiry; every row has a lot size", () => {
    expect(rows[0]).toBe("underlying,expiry_type,expiry_date,lot_size");
    const sbin = rows.filter((r) => r.startsWith("SBIN,"));
    expect(sbin.length).toBeGreaterThan(3);
    for (const r of sbin) expect(r.endsWith(`,${underlyingSpec("SBIN").lot}`)).toBe(true);
    for (const r of rows.slice(1)) expect(r).toMatch(/,\d+$/);
  });

  test("the generated contracts trade on both sides of the change", () => {
    const files = readdirSync(raw, { recursive: true }).map(String);
    // NIFTY weeklies 23 Dec 2025 and 6 Jan 2026; BANKNIFTY's December and January monthlies.
    expect(files.some((f) => /NIFTY25D23\d+(CE|PE)\.parquet$/.test(f))).toBe(true);
    expect(files.some((f) => /NIFTY26106\d+(CE|PE)\.parquet$/.test(f))).toBe(true);
    expect(files.some((f) => /BANKNIFTY25DEC\d+(CE|PE)\.parquet$/.test(f))).toBe(true);
    expect(files.some((f) => /BANKNIFTY26JAN\d+(CE|PE)\.parquet$/.test(f))).toBe(true);
  });
});
