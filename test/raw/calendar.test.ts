import { describe, expect, test } from "bun:test";
import {
  CalendarError,
  ExpiryResolutionError,
  formatExpiryCalendar,
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
