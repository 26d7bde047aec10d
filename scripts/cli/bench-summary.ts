/**
 * bench's human summary of the results: trades and PnL per underlying. PnL is in price points, and
 * a NIFTY point is not a BANKNIFTY point: points are never added across underlyings,
 * and a grid's sets are ranked per underlying (`--json` keeps SPEC §5's summed `pnl`).
 */
import type { BenchSummary, ByUnderlying } from "../../lib/bench/bench.ts";

/** Lines a grid's top sets may take: per underlying, this many shared out (at least one each). */
const TOP_LINES = 10;

const n = (x: number) => x.toLocaleString("en-US");

/** `fast=5 slow=21 …` */
const formatParams = (p: Record<string, number>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/** Underlyings of a run, in name order. */
const underlyingsOf = (byUnderlying: ByUnderlying[]) =>
  [...new Set(byUnderlying.flatMap((b) => Object.keys(b)))].sort();

/** The summary's lines on trades and PnL (parameters, trades, per-underlying PnL; a grid's top sets per underlying). */
export function resultLines(summary: BenchSummary): string[] {
  if (summary.sets === 1) {
    const lines = [
      `Parameters:     ${formatParams(summary.params)}`,
      `Total trades:   ${n(summary.trades)}`,
      "PnL:            in price points, per underlying (points of different underlyings do not add up)",
    ];
    for (const u of underlyingsOf([summary.by_underlying])) {
      const r = summary.by_underlying[u];
      lines.push(`  ${u.padEnd(12)}  ${n(r.rows)} rows, ${n(r.trades)} trades, PnL ${r.pnl.toFixed(2)}`);
    }
    return lines;
  }
  const underlyings = underlyingsOf(summary.grid.map((g) => g.by_underlying));
  const top = Math.min(summary.sets, Math.max(1, Math.floor(TOP_LINES / Math.max(1, underlyings.length))));
  const lines = [
    underlyings.length > 1
      ? `Parameter sets: ${summary.sets} (top ${top} per underlying by its PnL in points)`
      : `Parameter sets: ${summary.sets} (top ${top} by PnL in points)`,
  ];
  for (const u of underlyings) {
    lines.push(`  ${u}`);
    const ranked = summary.grid
      .map((g, k) => ({ k, params: g.params, r: g.by_underlying[u] ?? { rows: 0, trades: 0, pnl: 0 } }))
      .sort((a, b) => b.r.pnl - a.r.pnl || a.k - b.k)
      .slice(0, top);
    for (const { k, params, r } of ranked)
      lines.push(
        `  #${String(k).padEnd(4)} ${formatParams(params).padEnd(48)} ${n(r.trades).padStart(9)} trades  PnL ${r.pnl.toFixed(2)}`,
      );
  }
  lines.push(`Total trades:   ${n(summary.trades)} over all sets`);
  return lines;
}
