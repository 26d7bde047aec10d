import { describe, expect, test } from "bun:test";
import {
  ATM_BUCKETS,
  ATM_SPAN,
  atmBucket,
  DTE_BUCKETS,
  dteBucket,
  expiryTypeBucket,
  optBucket,
} from "../../lib/report/buckets.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { NULL_KEY } from "../../kernel/segment-key.ts";

const day = (iso: string) => parseIsoDate(iso);

describe("report buckets", () => {
  test("expiry type by the calendar rule: the last expiry weekday of a month is monthly", () => {
    // 2025-11-25 is NIFTY's monthly (a week later is December), 2025-11-18 a weekly; 2025-12-30 is monthly across a year.
    expect([day("2025-11-25"), day("2025-11-18"), day("2025-12-30"), NULL_KEY].map(expiryTypeBucket)).toEqual([
      1, 0, 1, 2,
    ]);
  });

  test("days to expiry: 0 … 7 one by one, then ranges; expired, null or undated is unknown", () => {
    const t = day("2025-11-17");
    const unknown = DTE_BUCKETS.length - 1;
    expect([0, 1, 7, 8, 14, 15, 30, 31, 400].map((d) => DTE_BUCKETS[dteBucket(t + d, t)])).toEqual([
      "0",
      "1",
      "7",
      "8–14",
      "8–14",
      "15–30",
      "15–30",
      "31+",
      "31+",
    ]);
    expect([dteBucket(t - 1, t), dteBucket(NULL_KEY, t), dteBucket(t, null)]).toEqual([unknown, unknown, unknown]);
  });

  test("ATM distance in steps, clamped; a far strike is the edge bucket (no wrap), no ATM or a null strike unknown", () => {
    const at = (strike: number, atm: number | null = 25_000, step: number | null = 50) =>
      ATM_BUCKETS[atmBucket(strike, atm, step)];
    expect([at(25_000), at(25_100), at(24_900), at(25_024), at(25_026)]).toEqual(["0", "+2", "-2", "0", "+1"]);
    expect([at(25_000 + 50 * (ATM_SPAN + 1)), at(1e15), at(-1e15)]).toEqual([
      `>+${ATM_SPAN}`,
      `>+${ATM_SPAN}`,
      `<−${ATM_SPAN}`,
    ]);
    expect([at(25_000, null), at(NULL_KEY), at(NaN)]).toEqual(["unknown", "unknown", "unknown"]);
  });

  test("option type codes: CE 0, PE 1, anything else other", () => {
    expect([0, 1, 2, NULL_KEY].map(optBucket)).toEqual([0, 1, 2, 2]);
  });
});
