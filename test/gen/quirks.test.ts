/**
 * gen's feed quirks are drawn per contract-day, each from its own stream: a contract-day is the same
 * whatever days are generated around it, pre-open rows leave the session's rows as they were, and
 * each quirk looks as the real feed's does.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_DEFECTS } from "../../lib/gen/gen.ts";
import {
  contractTicks,
  syntheticCalendar,
  syntheticContracts,
  tradingDaysFrom,
  underlyingSpec,
  type TickColumns,
} from "../../lib/gen/market.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";

const spec = underlyingSpec("BANKNIFTY");
const days = tradingDaysFrom(parseIsoDate("2025-11-17"), 3);
const calendar = syntheticCalendar([spec], days[0] - 45, days[2] + 120);
const contract = syntheticContracts(1, [spec], calendar, days, 0).find((c) => c.optType === "CE")!;
const QUIRKS = { ...DEFAULT_DEFECTS, epochZeroRate: 1, volumeResetRate: 1, preOpenRate: 1 };

const DAY_US = 86_400_000_000n;

/** Rows of one IST day as text (naive µs timestamps are IST wall clock; an epoch-zero row is the first row of the next row's day). */
function rowsOfDay(t: TickColumns, day: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const j = t.timestamp[i] === 0n && i + 1 < t.length ? i + 1 : i;
    if (Number(t.timestamp[j] / DAY_US) === day) out.push(`${t.timestamp[i]}|${t.i64.volume[i]}|${t.f64.price[i]}`);
  }
  return out;
}

describe("gen's feed quirks", () => {
  test("each quirk appears as the feed writes it", () => {
    const t = contractTicks(1, spec, { ...contract, days: [days[0]] }, 0.2, QUIRKS);
    // The first row of the contract-day carries an epoch-zero timestamp.
    expect(t.timestamp[0]).toBe(0n);
    // Pre-open rows from 09:10:00 to 09:14:59 IST, volume 0.
    const secondOfDay = (i: number) => Number(t.timestamp[i] % DAY_US) / 1e6;
    const pre = Array.from({ length: t.length }, (_, i) => i).filter(
      (i) => i > 0 && secondOfDay(i) >= 9 * 3600 + 600 && secondOfDay(i) < 9 * 3600 + 900,
    );
    expect(pre.length).toBeGreaterThan(0);
    for (const i of pre) expect(t.i64.volume[i]).toBe(0n);
    // Cumulative volume drops back to 0 once, after the session started.
    let resets = 0;
    for (let i = pre.length + 2; i < t.length; i++) if (t.i64.volume[i] === 0n && t.i64.volume[i - 1] > 0n) resets++;
    expect(resets).toBeGreaterThan(0);
  });

  test("a contract-day is the same whatever days are generated around it", () => {
    const a = contractTicks(1, spec, { ...contract, days: [days[0], days[1]] }, 0.1, QUIRKS);
    const b = contractTicks(1, spec, { ...contract, days: [days[1], days[2]] }, 0.1, QUIRKS);
    const day = days[1];
    expect(rowsOfDay(a, day).length).toBeGreaterThan(0);
    expect(rowsOfDay(a, day)).toEqual(rowsOfDay(b, day));
  });

  test("pre-open rows are added before the session's rows, which stay as they were", () => {
    const clean = {
      nullRate: 0,
      zeroPriceRate: 0,
      disorderRate: 0,
      epochZeroRate: 0,
      volumeResetRate: 0,
      preOpenRate: 0,
    };
    const one = { ...contract, days: [days[0]] };
    const off = contractTicks(1, spec, one, 0.05, clean);
    const on = contractTicks(1, spec, one, 0.05, { ...clean, preOpenRate: 1 });
    const k = on.length - off.length;
    expect(k).toBeGreaterThan(0);
    expect(Number(on.timestamp[k - 1] % DAY_US) / 1e6).toBeLessThan(9 * 3600 + 900);
    expect(Number(off.timestamp[0] % DAY_US) / 1e6).toBeGreaterThanOrEqual(9 * 3600 + 900);
    expect(on.timestamp.subarray(k)).toEqual(off.timestamp);
    expect(on.f64.price.subarray(k)).toEqual(off.f64.price);
    expect(on.i64.volume.subarray(k)).toEqual(off.i64.volume);
  });
});
