import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseIsoDate } from "../../lib/ist-time.ts";
import {
  LotSizeError,
  LotSizeOverrideError,
  loadLotSizes,
  lotSizeFor,
  lotSizesOfCalendar,
  parseLotSizeOverrides,
} from "../../lib/money/lot-sizes.ts";
import { keptCalendarPath } from "../../lib/packed/kept-calendar.ts";
import { parseExpiryCalendar } from "../../lib/raw/calendar.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

afterAll(cleanupTempDirs);

const CALENDAR = `underlying,expiry_type,expiry_date,lot_size
NIFTY,monthly,2025-12-30,75
NIFTY,weekly,2026-01-06,65
BANKNIFTY,monthly,2025-12-30,35
BANKNIFTY,monthly,2026-01-27,30
SBIN,monthly,2025-12-30,
`;
const day = parseIsoDate;

describe("parseLotSizeOverrides", () => {
  test("reads UNDERLYING=N pairs, any case and spacing", () => {
    expect([...parseLotSizeOverrides("NIFTY=65,BANKNIFTY=30")]).toEqual([
      ["NIFTY", 65],
      ["BANKNIFTY", 30],
    ]);
    expect([...parseLotSizeOverrides(" nifty = 75 , m&m=700,BAJAJ-AUTO=75")]).toEqual([
      ["NIFTY", 75],
      ["M&M", 700],
      ["BAJAJ-AUTO", 75],
    ]);
  });

  const bad: [string, string][] = [
    ["", '--lot-size: expected UNDERLYING=N,…, got ""'],
    ["NIFTY", '--lot-size: expected UNDERLYING=N, got "NIFTY"'],
    ["NIFTY=65,", '--lot-size: expected UNDERLYING=N, got ""'],
    ["NIFTY=65;BANKNIFTY=30", 'the lot size of NIFTY must be a positive whole number, got "65;BANKNIFTY=30"'],
    ["=65", '--lot-size: expected UNDERLYING=N, got "=65"'],
    ["NIFTY=0", 'the lot size of NIFTY must be a positive whole number, got "0"'],
    ["NIFTY=-65", 'the lot size of NIFTY must be a positive whole number, got "-65"'],
    ["NIFTY=6.5", 'the lot size of NIFTY must be a positive whole number, got "6.5"'],
    ["NIFTY=sixty", 'the lot size of NIFTY must be a positive whole number, got "sixty"'],
    ["NIFTY 50=65", '--lot-size: expected UNDERLYING=N, got "NIFTY 50=65"'],
    ["NIF|TY=65", '--lot-size: bad underlying "NIF|TY" in "NIF|TY=65"'],
    ["NIFTY=65,nifty=75", "--lot-size: NIFTY is given twice"],
  ];
  for (const [text, message] of bad)
    test(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseLotSizeOverrides(text)).toThrow(LotSizeOverrideError);
      expect(() => parseLotSizeOverrides(text)).toThrow(message);
    });
});

describe("lotSizeFor", () => {
  const lots = lotSizesOfCalendar(parseExpiryCalendar(CALENDAR, "cal.csv"), "packed/_tickpack/calendar.csv");
  const none = new Map<string, number>();

  test("takes the calendar's size of the contract's expiry, across a change", () => {
    expect(lotSizeFor(lots, none, "NIFTY", day("2025-12-30"))).toBe(75);
    expect(lotSizeFor(lots, none, "NIFTY", day("2026-01-06"))).toBe(65);
    expect(lotSizeFor(lots, none, "BANKNIFTY", day("2025-12-30"))).toBe(35);
    expect(lotSizeFor(lots, none, "BANKNIFTY", day("2026-01-27"))).toBe(30);
  });

  test("an override wins over the calendar for every expiry of its underlying, and only its underlying", () => {
    const o = parseLotSizeOverrides("NIFTY=50,SBIN=750");
    expect(lotSizeFor(lots, o, "NIFTY", day("2025-12-30"))).toBe(50);
    expect(lotSizeFor(lots, o, "NIFTY", day("2026-01-06"))).toBe(50);
    expect(lotSizeFor(lots, o, "NIFTY", day("2026-03-31"))).toBe(50);
    expect(lotSizeFor(lots, o, "SBIN", day("2025-12-30"))).toBe(750);
    expect(lotSizeFor(lots, o, "BANKNIFTY", day("2026-01-27"))).toBe(30);
  });

  test("unknown is a LotSizeError naming the contract and where it looked", () => {
    const unknown = (u: string, d: string) => () => lotSizeFor(lots, none, u, day(d));
    expect(unknown("SBIN", "2025-12-30")).toThrow(LotSizeError);
    expect(unknown("SBIN", "2025-12-30")).toThrow(
      "no lot size for SBIN expiry 2025-12-30: packed/_tickpack/calendar.csv gives none for that expiry: pass --lot-size SBIN=N",
    );
    expect(unknown("NIFTY", "2026-01-13")).toThrow("no lot size for NIFTY expiry 2026-01-13");
    expect(unknown("FINNIFTY", "2025-12-30")).toThrow("no lot size for FINNIFTY expiry 2025-12-30");
  });
});

describe("loadLotSizes", () => {
  test("reads the packed folder's kept calendar", () => {
    const dir = tempDir("lots-kept");
    mkdirSync(join(dir, "_tickpack"));
    writeFileSync(keptCalendarPath(dir), CALENDAR);
    const lots = loadLotSizes(dir);
    expect(lots.source).toBe(keptCalendarPath(dir));
    expect(lots.lotSizeOf("NIFTY", day("2026-01-06"))).toBe(65);
    expect(lots.lotSizeOf("SBIN", day("2025-12-30"))).toBeNull();
  });

  test("a folder without one knows no lot size", () => {
    const lots = loadLotSizes(tempDir("lots-none"));
    expect(lots.source).toBeNull();
    expect(lots.lotSizeOf("NIFTY", day("2025-12-30"))).toBeNull();
    expect(lotSizeFor(lots, parseLotSizeOverrides("NIFTY=75"), "NIFTY", day("2025-12-30"))).toBe(75);
  });

  test("a corrupt kept calendar is a LotSizeError naming the file and line", () => {
    const dir = tempDir("lots-corrupt");
    mkdirSync(join(dir, "_tickpack"));
    writeFileSync(keptCalendarPath(dir), `${CALENDAR}NIFTY,weekly,2026-01-13,many\n`);
    expect(() => loadLotSizes(dir)).toThrow(LotSizeError);
    expect(() => loadLotSizes(dir)).toThrow(
      `${keptCalendarPath(dir)}: line 7: lot_size must be a positive whole number`,
    );
  });
});
