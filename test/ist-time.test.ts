import { describe, expect, test } from "bun:test";
import {
  formatEpochDays,
  formatIstInstant,
  istDayOfEpochNs,
  istDaysOfTimestamps,
  istWallClockToEpochNs,
  parseIsoDate,
  weekdayOf,
} from "../lib/ist-time.ts";
import { SeededRandom } from "../lib/random.ts";

const utc = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

describe("IST trading days", () => {
  test("day boundary is 18:30 UTC", () => {
    expect(formatEpochDays(istDayOfEpochNs(utc("2025-11-17T18:29:59.999Z")))).toBe("2025-11-17");
    expect(formatEpochDays(istDayOfEpochNs(utc("2025-11-17T18:30:00.000Z")))).toBe("2025-11-18");
    expect(formatEpochDays(istDayOfEpochNs(utc("2025-11-17T18:30:00.000Z") - 1n))).toBe("2025-11-17");
    expect(formatEpochDays(istDayOfEpochNs(utc("2025-11-17T03:45:00Z")))).toBe("2025-11-17"); // 09:15 IST
  });

  test("an instant as IST wall-clock text: offset +05:30, nanoseconds, across midnight and before 1970", () => {
    expect(formatIstInstant(utc("2025-11-17T03:50:00Z") + 123_456_789n)).toBe("2025-11-17T09:20:00.123456789+05:30");
    expect(formatIstInstant(utc("2025-11-17T18:30:00Z") - 1n)).toBe("2025-11-17T23:59:59.999999999+05:30");
    expect(formatIstInstant(utc("2025-11-17T18:30:00Z"))).toBe("2025-11-18T00:00:00.000000000+05:30");
    expect(formatIstInstant(-19_800_000_000_001n)).toBe("1969-12-31T23:59:59.999999999+05:30");
    // The text reads back as the same instant.
    expect(Date.parse(formatIstInstant(utc("2025-11-17T03:50:00.250Z")))).toBe(Date.parse("2025-11-17T03:50:00.250Z"));
  });

  test("before 1970 floors, not truncates", () => {
    expect(formatEpochDays(istDayOfEpochNs(utc("1969-12-31T12:00:00Z")))).toBe("1969-12-31");
  });

  test("bulk conversion agrees with the exact one, including 1 ns either side of midnight", () => {
    const mid = istWallClockToEpochNs(parseIsoDate("2025-11-18"), 0);
    const ts = new BigInt64Array([
      mid - 1n,
      mid,
      mid + 1n,
      mid + 5_000_000n,
      utc("2025-11-17T10:00:00Z"),
      mid - 86_400_000_000_000n,
    ]);
    const bulk = istDaysOfTimestamps(ts, null);
    for (let i = 0; i < ts.length; i++) expect(bulk[i]).toBe(istDayOfEpochNs(ts[i]));
    expect(formatEpochDays(bulk[0])).toBe("2025-11-17");
    expect(formatEpochDays(bulk[1])).toBe("2025-11-18");
  });

  test("bulk conversion on random instants", () => {
    const rnd = new SeededRandom(20251117);
    const ts = new BigInt64Array(5000);
    for (let i = 0; i < ts.length; i++)
      ts[i] =
        utc("2025-01-01T00:00:00Z") +
        BigInt(Math.floor(rnd.next() * 3e7)) * 1_000_000_000n +
        BigInt(Math.floor(rnd.next() * 1e9));
    const bulk = istDaysOfTimestamps(ts, null);
    for (let i = 0; i < ts.length; i++) expect(bulk[i]).toBe(istDayOfEpochNs(ts[i]));
  });

  test("dates and weekdays", () => {
    expect(formatEpochDays(parseIsoDate("2025-11-25"))).toBe("2025-11-25");
    expect(weekdayOf(parseIsoDate("2025-11-25"))).toBe(2); // a Tuesday
    expect(() => parseIsoDate("2025-13-01")).toThrow();
  });
});
