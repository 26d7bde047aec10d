import { describe, expect, test } from "bun:test";
import { RunStatistics, seriesStatistics, type SetStatistics } from "../../lib/money/statistics.ts";
import { SeededRandom } from "../../lib/random.ts";

const ROOT_252 = Math.sqrt(252);

/** One set's statistics from its days (each a list of position nets; [] is a day without trades), fed day by day. */
function statsOfDays(days: number[][]): SetStatistics {
  const s = new RunStatistics(1);
  days.forEach((nets, i) => {
    const date = `2025-11-${String(10 + i).padStart(2, "0")}`;
    s.addDay(date);
    for (const net of nets) s.addPosition(0, date, net);
  });
  return s.statisticsOf(0);
}

/** The plain reading of SPEC §7, from arrays: the reference the accumulator is compared with. */
function referenceStatistics(
  partitionDates: string[],
  positions: { set: number; date: string; net: number }[],
  set: number,
): SetStatistics {
  const days = [...new Set(partitionDates.concat(positions.map((p) => p.date)))].sort();
  const daily = days.map((d) => positions.filter((p) => p.set === set && p.date === d).reduce((a, p) => a + p.net, 0));
  const n = daily.length;
  const mean = daily.reduce((a, x) => a + x, 0) / n;
  const sd = Math.sqrt(daily.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const flat = daily.every((x) => x === daily[0]);
  const equity = daily.map((_, i) => daily.slice(0, i + 1).reduce((a, x) => a + x, 0));
  const drawdowns = equity.map((e, i) => Math.max(0, ...equity.slice(0, i + 1)) - e);
  const nets = positions.filter((p) => p.set === set).map((p) => p.net);
  const won = nets.filter((x) => x > 0);
  const lost = nets.filter((x) => x < 0);
  return {
    days: n,
    sharpe: n < 2 || flat ? null : (mean / sd) * ROOT_252,
    max_drawdown: Math.max(0, ...drawdowns),
    profit_factor:
      lost.length === 0 ? null : won.reduce((a, x) => a + x, 0) / Math.abs(lost.reduce((a, x) => a + x, 0)),
    win_rate: nets.length === 0 ? null : won.length / nets.length,
  };
}

/** Equal up to floating-point summation order (nulls exactly). */
function expectClose(got: SetStatistics, want: SetStatistics) {
  for (const k of Object.keys(want) as (keyof SetStatistics)[]) {
    const [g, w] = [got[k], want[k]];
    if (w === null || g === null) expect({ [k]: g }).toEqual({ [k]: w });
    else expect({ [k]: Math.abs(g - w) <= 1e-9 * Math.max(1, Math.abs(w)) }).toEqual({ [k]: true });
  }
}

describe("statistics of a set's daily net series (hand-computed)", () => {
  test("a rising series: mean 200, sample deviation 100; no drawdown", () => {
    const s = statsOfDays([[100], [150, 50], [300]]);
    expect(s.days).toBe(3);
    expect(s.sharpe).toBeCloseTo(2 * ROOT_252, 12);
    expect(s.max_drawdown).toBe(0);
    expect([s.profit_factor, s.win_rate]).toEqual([null, 1]); // winners only: no finite ratio
  });

  test("a falling series: the drawdown is measured from equity's start at 0", () => {
    const s = statsOfDays([[-100], [-200], [-300]]);
    expect(s.sharpe).toBeCloseTo(-2 * ROOT_252, 12);
    expect(s.max_drawdown).toBe(600);
    expect([s.profit_factor, s.win_rate]).toEqual([0, 0]);
  });

  test("a flat series has no Sharpe ratio (zero deviation), also where (x − mean)² leaves rounding noise", () => {
    for (const day of [0, 50, 0.1]) {
      const s = statsOfDays([[day], [day], [day]]);
      expect(s.sharpe).toBeNull();
      expect(s.max_drawdown).toBe(0);
    }
    expect(statsOfDays([[-5], [-5]]).max_drawdown).toBe(10);
  });

  test("one day: no Sharpe ratio; a loss on it is a drawdown", () => {
    expect(statsOfDays([[250]])).toEqual({
      days: 1,
      sharpe: null,
      max_drawdown: 0,
      profit_factor: null,
      win_rate: 1,
    });
    expect(statsOfDays([[-250, 100]])).toEqual({
      days: 1,
      sharpe: null,
      max_drawdown: 150,
      profit_factor: 0.4,
      win_rate: 0.5,
    });
  });

  test("days without trades are 0 in the series; flat positions count in win_rate", () => {
    // Daily [0, 200, 0, -50]: mean 37.5; squares 1406.25 + 26406.25 + 1406.25 + 7656.25 = 36875.
    const s = statsOfDays([[], [300, -100, 0], [], [-50]]);
    expect(s.days).toBe(4);
    expect(s.sharpe).toBeCloseTo((37.5 / Math.sqrt(36875 / 3)) * ROOT_252, 12);
    expect(s.max_drawdown).toBe(50);
    expect(s.profit_factor).toBe(2); // 300 / |−100 − 50|
    expect(s.win_rate).toBe(0.25);
  });

  test("the running peak: a later, deeper fall from a higher peak is the maximum", () => {
    // Equity −50, 50, 20, 170, 40: falls 50 (from 0), 30 (from 50), 130 (from 170).
    expect(seriesStatistics([-50, 100, -30, 150, -130]).max_drawdown).toBe(130);
  });

  test("no positions and no days", () => {
    expect(new RunStatistics(2).statisticsOf(1)).toEqual({
      days: 0,
      sharpe: null,
      max_drawdown: 0,
      profit_factor: null,
      win_rate: null,
    });
    expect(statsOfDays([[], []])).toEqual({
      days: 2,
      sharpe: null,
      max_drawdown: 0,
      profit_factor: null,
      win_rate: null,
    });
  });

  test("partitions in any order of days: one day per date (two underlyings sum), series in date order; sets apart", () => {
    const s = new RunStatistics(2);
    s.addPosition(0, "2025-11-18", -40);
    s.addDay("2025-11-17");
    s.addPosition(1, "2025-11-17", 10);
    s.addPosition(0, "2025-11-17", 100); // NIFTY
    s.addPosition(0, "2025-11-17", 20); // BANKNIFTY, the same day
    s.addDay("2025-11-19");
    expect(s.days()).toEqual(["2025-11-17", "2025-11-18", "2025-11-19"]);
    expect([...s.dailyNetOf(0)]).toEqual([120, -40, 0]);
    expect([...s.dailyNetOf(1)]).toEqual([10, 0, 0]);
    expect(s.statisticsOf(0).max_drawdown).toBe(40);
    expect(s.allStatistics()).toEqual([s.statisticsOf(0), s.statisticsOf(1)]);
  });

  test("a partition's trade rows: a chain kernel's legs summed per set and position (legs need not be adjacent)", () => {
    const legs = new RunStatistics(2);
    legs.addPartition("2025-11-17", {
      set: [0, 0, 1, 0, 1, 0],
      position: [0, 1, 0, 0, 0, 1],
      net: [100, 30, 5, -150, 5, -10],
    });
    legs.addPartition("2025-11-18", { set: [], position: [], net: [] });
    // Set 0: position 0 = 100 − 150 = −50, position 1 = 30 − 10 = 20; set 1: one position of 10.
    expect(legs.statisticsOf(0)).toMatchObject({ days: 2, win_rate: 0.5, profit_factor: 0.4, max_drawdown: 30 });
    expect(legs.statisticsOf(1)).toMatchObject({ days: 2, win_rate: 1, profit_factor: null });
    expect([...legs.dailyNetOf(0)]).toEqual([-30, 0]);
    // Without positions every row is a position (a per-contract kernel's trades).
    const rows = new RunStatistics(1);
    rows.addPartition("2025-11-17", { set: [0, 0, 0], net: [100, -150, 30] });
    expect(rows.statisticsOf(0)).toMatchObject({ days: 1, win_rate: 2 / 3, max_drawdown: 20 });
  });

  test("a set that does not exist, or a net that is not finite, is refused", () => {
    const s = new RunStatistics(2);
    expect(() => s.addPosition(2, "2025-11-17", 1)).toThrow("no set 2");
    expect(() => s.addPosition(0, "2025-11-17", Number.NaN)).toThrow("finite");
    expect(() => s.statisticsOf(-1)).toThrow("no set -1");
    expect(() => new RunStatistics(0)).toThrow("sets");
    expect(s.days()).toEqual([]); // nothing refused was counted
  });
});

describe("statistics fed partition by partition equal the plain recomputation from arrays", () => {
  test("random runs: sets, days (some without trades), underlyings, positions", () => {
    const rng = new SeededRandom(20251117);
    for (let run = 0; run < 200; run++) {
      const sets = rng.int(1, 4);
      const dates = Array.from(
        { length: rng.int(1, 30) },
        (_, i) => `2025-${10 + Math.floor(i / 28)}-${String(1 + (i % 28)).padStart(2, "0")}`,
      );
      const underlyings = rng.int(1, 3);
      // Partitions in path order (date, then underlying); some runs shuffled (folders outside one layout).
      const partitions = dates.flatMap((date) => Array.from({ length: underlyings }, () => date));
      if (rng.next() < 0.3) partitions.sort(() => rng.next() - 0.5);
      const positions: { set: number; date: string; net: number }[] = [];
      const s = new RunStatistics(sets);
      for (const date of partitions) {
        s.addDay(date);
        for (let set = 0; set < sets; set++) {
          const count = rng.next() < 0.3 ? 0 : rng.int(1, 5);
          for (let k = 0; k < count; k++) {
            // Rupee nets with paise, some exactly 0.
            const net = rng.next() < 0.05 ? 0 : Math.round(rng.normal() * 150_000 + 2_000) / 100;
            positions.push({ set, date, net });
            s.addPosition(set, date, net);
          }
        }
      }
      for (let set = 0; set < sets; set++)
        expectClose(s.statisticsOf(set), referenceStatistics(partitions, positions, set));
    }
  });
});
