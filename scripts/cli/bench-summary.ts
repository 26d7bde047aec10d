/**
 * bench's human summary of the results: trades and PnL per underlying. PnL is in price points, and
 * a NIFTY point is not a BANKNIFTY point: points are never added across underlyings,
 * and a grid's sets are ranked per underlying (`--json` keeps SPEC §5's summed `pnl`).
 */
import type { BenchSummary, ByUnderlying, GridResult } from "../../lib/bench/bench.ts";
import { groupedCount } from "../../lib/grouped-count.ts";

/** What a grid's top sets are ranked by: PnL in points (per underlying), or with money the set's ₹ net or Sharpe ratio. */
export type Rank = "pnl" | "net" | "sharpe";
export const RANKS: readonly Rank[] = ["pnl", "net", "sharpe"];

/** Lines a grid's top sets may take: per underlying, this many shared out (at least one each). */
const TOP_LINES = 10;

const n = groupedCount;

/** `fast=5 slow=21 …` */
const formatParams = (p: Record<string, number>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/** Underlyings of a run, in name order. */
const underlyingsOf = (byUnderlying: ByUnderlying[]) =>
  [...new Set(byUnderlying.flatMap((b) => Object.keys(b)))].sort();

/** ₹ with two decimals and grouping: `₹-1,234.50`. */
const rupees = (x: number) => `₹${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const ratio = (x: number | null | undefined) => (x === null || x === undefined ? "n/a" : x.toFixed(2));

/** A set's money and statistics in a line (₹ do add up across underlyings). */
function moneyLine(g: Pick<GridResult, "gross" | "costs" | "net">): string {
  return `gross ${rupees(g.gross ?? 0)}, costs ${rupees(g.costs ?? 0)}, net ${rupees(g.net ?? 0)}`;
}
function statisticsLine(g: GridResult | BenchSummary): string {
  const win = g.win_rate === null || g.win_rate === undefined ? "n/a" : `${(100 * g.win_rate).toFixed(1)}%`;
  return `${g.days} days, Sharpe ${ratio(g.sharpe)}, max drawdown ${rupees(g.max_drawdown ?? 0)}, profit factor ${ratio(g.profit_factor)}, win rate ${win}`;
}

/** The fill rule's line, with --fill touch. */
function fillLines(summary: BenchSummary): string[] {
  return summary.fill === "touch"
    ? [
        `Fills:          at the touch (buys at the ask, sells at the bid); ${n(summary.fills_at_last ?? 0)} without a quote, at price`,
      ]
    : [];
}

/**
 * The summary's lines on trades and PnL (parameters, trades, per-underlying PnL; a grid's top sets
 * per underlying by points, or with money by `rank`: the set's ₹ net or Sharpe ratio).
 */
export function resultLines(summary: BenchSummary, rank: Rank = "pnl"): string[] {
  const money = summary.net !== undefined;
  if (summary.sets === 1) {
    const lines = [
      `Parameters:     ${formatParams(summary.params)}`,
      `Total trades:   ${n(summary.trades)}`,
      ...fillLines(summary),
      "PnL:            in price points, per underlying (points of different underlyings do not add up)",
    ];
    for (const u of underlyingsOf([summary.by_underlying])) {
      const r = summary.by_underlying[u];
      lines.push(
        `  ${u.padEnd(12)}  ${n(r.rows)} rows, ${n(r.trades)} trades, PnL ${r.pnl.toFixed(2)}${money ? `, net ${rupees(r.net ?? 0)}` : ""}`,
      );
    }
    if (money) lines.push(`Money:          ${moneyLine(summary)}`, `Statistics:     ${statisticsLine(summary)}`);
    return lines;
  }
  if (money && rank !== "pnl") {
    // ₹ add up across underlyings: one ranking of the sets, by net or Sharpe (n/a last).
    const key = (g: GridResult) => (rank === "net" ? (g.net ?? 0) : (g.sharpe ?? Number.NEGATIVE_INFINITY));
    const ranked = summary.grid
      .map((g, k) => ({ g, k }))
      .sort((a, b) => key(b.g) - key(a.g) || a.k - b.k)
      .slice(0, TOP_LINES);
    const lines = [
      `Parameter sets: ${summary.sets} (top ${ranked.length} by ${rank === "net" ? "net ₹" : "Sharpe ratio"})`,
    ];
    for (const { g, k } of ranked)
      lines.push(
        `  #${String(k).padEnd(4)} ${formatParams(g.params).padEnd(48)} ${n(g.trades).padStart(9)} trades  net ${rupees(g.net ?? 0)}  Sharpe ${ratio(g.sharpe)}`,
      );
    lines.push(`Total trades:   ${n(summary.trades)} over all sets`, ...fillLines(summary));
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
  lines.push(`Total trades:   ${n(summary.trades)} over all sets`, ...fillLines(summary));
  return lines;
}
