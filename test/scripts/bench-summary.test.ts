import { describe, expect, test } from "bun:test";
import type { BenchSummary, GridResult } from "../../lib/bench/bench.ts";
import { resultLines } from "../../scripts/cli/bench-summary.ts";

/** A set's result: per underlying [trades, pnl]. */
function set(params: Record<string, number>, by: Record<string, [number, number]>): GridResult {
  const by_underlying = Object.fromEntries(
    Object.entries(by).map(([u, [trades, pnl]]) => [u, { rows: 1000, trades, pnl }]),
  );
  const sum = (i: 0 | 1) => Object.values(by).reduce((a, v) => a + v[i], 0);
  return { params, rows: 2000, valid_rows: 2000, trades: sum(0), pnl: sum(1), by_underlying };
}

/** A summary of these sets, as runBench gives it (only the fields the lines read matter). */
function summaryOf(grid: GridResult[]): BenchSummary {
  return {
    sets: grid.length,
    grid,
    params: grid[0].params,
    trades: grid.reduce((a, g) => a + g.trades, 0),
    pnl: grid.reduce((a, g) => a + g.pnl, 0),
    by_underlying: grid.length === 1 ? grid[0].by_underlying : {},
  } as BenchSummary;
}

describe("bench's summary of results: PnL in points is never added across underlyings", () => {
  test("one set: trades in total, PnL per underlying only", () => {
    const lines = resultLines(summaryOf([set({ fast: 5 }, { NIFTY: [8380, -705.65], BANKNIFTY: [6028, 1238.7] })]));
    expect(lines).toEqual([
      "Parameters:     fast=5",
      "Total trades:   14,408",
      "PnL:            in price points, per underlying (points of different underlyings do not add up)",
      "  BANKNIFTY     1,000 rows, 6,028 trades, PnL 1238.70",
      "  NIFTY         1,000 rows, 8,380 trades, PnL -705.65",
    ]);
    expect(lines.join("\n")).not.toContain("533.05"); // the meaningless sum
  });

  test("a grid: the top sets of each underlying by that underlying's PnL, sharing ten lines", () => {
    // Set 0 is best on the sum (1000 − 10), yet last on NIFTY.
    const grid = [
      set({ fast: 3 }, { NIFTY: [5, -10], BANKNIFTY: [7, 1000] }),
      set({ fast: 5 }, { NIFTY: [6, 40], BANKNIFTY: [8, -300] }),
      set({ fast: 8 }, { NIFTY: [4, 25], BANKNIFTY: [9, 200] }),
    ];
    const lines = resultLines(summaryOf(grid));
    expect(lines[0]).toBe("Parameter sets: 3 (top 3 per underlying by its PnL in points)");
    const ranked = (u: string) => {
      const at = lines.indexOf(`  ${u}`);
      return lines.slice(at + 1, at + 4).map((l) => [l.slice(3, 5).trim(), l.slice(l.indexOf("PnL ") + 4)]);
    };
    expect(ranked("NIFTY")).toEqual([
      ["1", "40.00"],
      ["2", "25.00"],
      ["0", "-10.00"],
    ]);
    expect(ranked("BANKNIFTY")).toEqual([
      ["0", "1000.00"],
      ["2", "200.00"],
      ["1", "-300.00"],
    ]);
    expect(lines).toContain("  #1    fast=5                                                   6 trades  PnL 40.00");
    expect(lines.at(-1)).toBe("Total trades:   39 over all sets");
    expect(lines.join("\n")).not.toContain("990.00");
  });

  test("a grid: five sets per underlying of two, ten of one; ties keep set order", () => {
    const many = Array.from({ length: 12 }, (_, k) => set({ k }, { NIFTY: [1, k % 3], BANKNIFTY: [1, -k] }));
    const lines = resultLines(summaryOf(many));
    expect(lines[0]).toBe("Parameter sets: 12 (top 5 per underlying by its PnL in points)");
    expect(lines.filter((l) => l.startsWith("  #")).length).toBe(10);
    const nifty = lines
      .slice(lines.indexOf("  NIFTY") + 1, lines.indexOf("  NIFTY") + 6)
      .map((l) => l.slice(3, 5).trim());
    expect(nifty).toEqual(["2", "5", "8", "11", "1"]);
    const one = resultLines(summaryOf(Array.from({ length: 12 }, (_, k) => set({ k }, { NIFTY: [1, k] }))));
    expect(one[0]).toBe("Parameter sets: 12 (top 10 by PnL in points)");
    expect(one.filter((l) => l.startsWith("  #")).length).toBe(10);
  });
});
