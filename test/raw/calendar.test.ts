import { describe, expect, test } from "bun:test";
import {
  CalendarConflictError,
  CalendarError,
  ExpiryResolutionError,
  formatExpiryCalendar,
  lotSizeOf,
  mergeExpiryCalendars,
  parseExpiryCalendar,
  resolveExpiry,
} from "../../lib/raw/calendar.ts";
import { parseContractName } from "../../lib/raw/contract-name.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";

const CSV = `underlying,expiry_type,expiry_date
NIFTY,monthly,2025-11-25
NIFTY,weekly,2025-11-11
NIFTY,weekly,2025-11-18
BANKNIFTY,monthly,2025-11-25
M&M,monthly,2025-11-25
`;

describe("expiry calendar", () => {
  const cal = parseExpiryCalendar(CSV, "cal.csv");

  test("monthly expiry comes from the calendar", () => {
    expect(resolveExpiry(cal, parseContractName("BANKNIFTY25NOV49000PE"))).toBe(parseIsoDate("2025-11-25"));
    expect(resolveExpiry(cal, parseContractName("M&M25NOV3200CE"))).toBe(parseIsoDate("2025-11-25"));
  });

  test("weekly expiry comes from the name and must be listed when the underlying has weeklies", () => {
    expect(resolveExpiry(cal, parseContractName("NIFTY25N1824500CE"))).toBe(parseIsoDate("2025-11-18"));
    expect(() => resolveExpiry(cal, parseContractName("NIFTY25N1924500CE"))).toThrow(ExpiryResolutionError);
  });

  test("weekly of an underlying without listed weeklies is taken from the name", () => {
    expect(resolveExpiry(cal, parseContractName("BANKNIFTY25N1849000CE"))).toBe(parseIsoDate("2025-11-18"));
  });

  test("a missing monthly names the underlying and year-month", () => {
    expect(() => resolveExpiry(cal, parseContractName("NIFTY25DEC24500CE"))).toThrow("NIFTY 2025-12");
    expect(() => resolveExpiry(cal, parseContractName("FINNIFTY25NOV24500CE"))).toThrow("FINNIFTY 2025-11");
  });

  test("round-trips through formatExpiryCalendar", () => {
    const again = parseExpiryCalendar(formatExpiryCalendar(cal), "x");
    expect(again).toEqual(cal);
  });

  const bad: [string, string][] = [
    ["date,type\n", "line 1: header"],
    ["underlying,expiry_type,expiry_date\nNIFTY,monthly\n", "line 2: expected 3 fields"],
    ["underlying,expiry_type,expiry_date\nNIFTY,quarterly,2025-11-25\n", "line 2: expiry_type"],
    ["underlying,expiry_type,expiry_date\nNIFTY,monthly,2025-02-30\n", "line 2: no such date"],
    ["underlying,expiry_type,expiry_date\nNIFTY,monthly,25/11/2025\n", "line 2: not a YYYY-MM-DD"],
    [
      "underlying,expiry_type,expiry_date\nNIFTY,monthly,2025-11-25\nNIFTY,monthly,2025-11-27\n",
      "line 3: second monthly expiry",
    ],
  ];
  for (const [text, message] of bad) {
    test(`rejects: ${message}`, () => {
      expect(() => parseExpiryCalendar(text, "bad.csv")).toThrow(CalendarError);
      expect(() => parseExpiryCalendar(text, "bad.csv")).toThrow(`bad.csv: ${message}`);
    });
  }
});

const WITH_LOTS = `underlying,expiry_type,expiry_date,lot_size
NIFTY,weekly,2025-12-23,75
NIFTY,monthly,2025-12-30,75
NIFTY,weekly,2026-01-06,65
BANKNIFTY,monthly,2025-12-30,35
BANKNIFTY,monthly,2026-01-27,
M&M,monthly,2025-12-30,700
`;

describe("expiry calendar: lot_size", () => {
  const cal = parseExpiryCalendar(WITH_LOTS, "lots.csv");
  const day = parseIsoDate;

  test("gives each expiry's lot size; an empty cell or an expiry not listed is unknown", () => {
    expect(lotSizeOf(cal, "NIFTY", day("2025-12-23"))).toBe(75);
    expect(lotSizeOf(cal, "NIFTY", day("2025-12-30"))).toBe(75);
    expect(lotSizeOf(cal, "NIFTY", day("2026-01-06"))).toBe(65);
    expect(lotSizeOf(cal, "BANKNIFTY", day("2025-12-30"))).toBe(35);
    expect(lotSizeOf(cal, "BANKNIFTY", day("2026-01-27"))).toBeNull();
    expect(lotSizeOf(cal, "M&M", day("2025-12-30"))).toBe(700);
    expect(lotSizeOf(cal, "NIFTY", day("2026-01-13"))).toBeNull();
    expect(lotSizeOf(cal, "FINNIFTY", day("2025-12-30"))).toBeNull();
  });

  test("resolves expiries exactly as a calendar without the column", () => {
    const plain = parseExpiryCalendar(WITH_LOTS.replace(",lot_size", "").replace(/,\d*$/gm, ""), "plain.csv");
    expect(plain.lotSizes.size).toBe(0);
    expect(plain.monthly).toEqual(cal.monthly);
    expect(plain.weekly).toEqual(cal.weekly);
    expect(resolveExpiry(cal, parseContractName("BANKNIFTY26JAN57000CE"))).toBe(day("2026-01-27"));
    expect(resolveExpiry(cal, parseContractName("NIFTY2610626000PE"))).toBe(day("2026-01-06"));
  });

  test("round-trips through formatExpiryCalendar, empty cells included", () => {
    const text = formatExpiryCalendar(cal);
    expect(text.split("\n")[0]).toBe("underlying,expiry_type,expiry_date,lot_size");
    expect(text).toContain("\nBANKNIFTY,monthly,2026-01-27,\n");
    expect(parseExpiryCalendar(text, "x")).toEqual(cal);
  });

  test("a calendar without lot sizes is written in the three-column format, byte for byte", () => {
    expect(formatExpiryCalendar(parseExpiryCalendar(CSV, "cal.csv"))).toBe(
      "underlying,expiry_type,expiry_date\nBANKNIFTY,monthly,2025-11-25\nM&M,monthly,2025-11-25\nNIFTY,weekly,2025-11-11\nNIFTY,weekly,2025-11-18\nNIFTY,monthly,2025-11-25\n",
    );
  });

  const header = "underlying,expiry_type,expiry_date,lot_size\n";
  const bad: [string, string][] = [
    [`${header}NIFTY,monthly,2025-12-30,0\n`, 'line 2: lot_size must be a positive whole number, got "0"'],
    [`${header}NIFTY,monthly,2025-12-30,-75\n`, 'line 2: lot_size must be a positive whole number, got "-75"'],
    [`${header}NIFTY,monthly,2025-12-30,7.5\n`, 'line 2: lot_size must be a positive whole number, got "7.5"'],
    [
      `${header}NIFTY,weekly,2025-12-23,75\nNIFTY,monthly,2025-12-30,lots\n`,
      'line 3: lot_size must be a positive whole number, got "lots"',
    ],
    [`${header}NIFTY,monthly,2025-12-30,1e3\n`, 'line 2: lot_size must be a positive whole number, got "1e3"'],
    [`${header}NIFTY,monthly,2025-12-30,99999999999999999999\n`, "line 2: lot_size must be a positive whole number"],
    [`${header}NIFTY,monthly,2025-12-30\n`, "line 2: expected 4 fields, got 3"],
    ["underlying,expiry_type,expiry_date\nNIFTY,monthly,2025-12-30,75\n", "line 2: expected 3 fields, got 4"],
    [
      `${header}NIFTY,weekly,2025-12-23,75\nNIFTY,weekly,2025-12-23,65\n`,
      "line 3: lot size 65 for NIFTY 2025-12-23, but line 2 gives 75",
    ],
    ["underlying,expiry_type,expiry_date,lot\n", "line 1: header must be"],
  ];
  for (const [text, message] of bad) {
    test(`rejects: ${message}`, () => {
      expect(() => parseExpiryCalendar(text, "bad.csv")).toThrow(CalendarError);
      expect(() => parseExpiryCalendar(text, "bad.csv")).toThrow(`bad.csv: ${message}`);
    });
  }

  test("a repeated row with the same lot size is accepted", () => {
    const twice = parseExpiryCalendar(`${header}NIFTY,weekly,2025-12-23,75\nnifty,weekly,2025-12-23,75\n`, "x");
    expect(lotSizeOf(twice, "NIFTY", day("2025-12-23"))).toBe(75);
  });
});

describe("mergeExpiryCalendars", () => {
  const kept = parseExpiryCalendar(WITH_LOTS, "kept.csv");

  test("adds expiries and the lot sizes the kept calendar lacks, keeps the rest", () => {
    const newer = parseExpiryCalendar(
      "underlying,expiry_type,expiry_date,lot_size\nBANKNIFTY,monthly,2026-01-27,30\nNIFTY,weekly,2026-01-13,65\nNIFTY,monthly,2025-12-30,\n",
      "new.csv",
    );
    const merged = mergeExpiryCalendars(kept, "kept.csv", newer, "new.csv");
    expect(lotSizeOf(merged, "BANKNIFTY", parseIsoDate("2026-01-27"))).toBe(30);
    expect(lotSizeOf(merged, "NIFTY", parseIsoDate("2026-01-13"))).toBe(65);
    expect(lotSizeOf(merged, "NIFTY", parseIsoDate("2025-12-30"))).toBe(75);
    expect([...(merged.weekly.get("NIFTY") ?? [])].sort()).toEqual(
      ["2025-12-23", "2026-01-06", "2026-01-13"].map(parseIsoDate),
    );
    expect(merged.monthly.size).toBe(kept.monthly.size);
    // The inputs are left as they were.
    expect(lotSizeOf(kept, "BANKNIFTY", parseIsoDate("2026-01-27"))).toBeNull();
    expect(kept.weekly.get("NIFTY")?.size).toBe(2);
  });

  test("a calendar without lot sizes adds expiries and takes none away", () => {
    const merged = mergeExpiryCalendars(kept, "kept.csv", parseExpiryCalendar(CSV, "cal.csv"), "cal.csv");
    expect(merged.lotSizes).toEqual(kept.lotSizes);
    expect(resolveExpiry(merged, parseContractName("NIFTY25NOV24500CE"))).toBe(parseIsoDate("2025-11-25"));
  });

  test("two lot sizes for one expiry is a conflict naming both files", () => {
    const other = parseExpiryCalendar("underlying,expiry_type,expiry_date,lot_size\nNIFTY,weekly,2026-01-06,75\n", "o");
    const merge = () => mergeExpiryCalendars(kept, "kept.csv", other, "new.csv");
    expect(merge).toThrow(CalendarConflictError);
    expect(merge).toThrow("lot size of NIFTY 2026-01-06: 65 in kept.csv, 75 in new.csv");
  });

  test("two monthly expiries for one month is a conflict naming both files", () => {
    const other = parseExpiryCalendar("underlying,expiry_type,expiry_date\nBANKNIFTY,monthly,2025-12-24\n", "o");
    expect(() => mergeExpiryCalendars(kept, "kept.csv", other, "new.csv")).toThrow(
      "monthly expiry of BANKNIFTY 2025-12: 2025-12-30 in kept.csv, 2025-12-24 in new.csv",
    );
  });
});
