/**
 * What the report page shows, as plain JSON: the run's summary fields (the header: the same values as
 * `--json`), the aggregator's curves reduced to the bins where something changed, the featured set's
 * breakdowns, and for a grid the heatmap and the top sets' curves.
 */
import type { BenchSummary, DailyMoney, GridResult } from "../bench/bench.ts";
import { formatEpochDays, parseIsoDate } from "../ist-time.ts";
import { COST_COMPONENTS } from "../money/fill-costs.ts";
import { strikeDecimal } from "../packed/strike.ts";
import { ATM_METHOD } from "./atm.ts";
import type { ReportAggregator } from "./aggregate.ts";
import { ATM_BUCKETS, DTE_BUCKETS, EXPIRY_TYPES, type ExpiryTypeOf, HOLD_BUCKETS, OPT_TYPES } from "./buckets.ts";
import type { EpochSeconds } from "./time-bins.ts";
import { groupedCount } from "../grouped-count.ts";

/** How many sets of a grid get their own equity curve. */
export const TOP_SETS = 5;

/** A header line: its label, the `--json` field it shows (if any), the value and its text. */
export interface HeaderField {
  label: string;
  /** Path in the `--json` object (`rows`, `params`, `filters` …), or null for a value of the report's own. */
  json: string | null;
  value: unknown;
  text: string;
}

/**
 * The line styles of a grid's top sets, best first: each a colour and a dash pattern of its own, so
 * that the curves can be told apart in colour and in grey.
 */
export const TOP_SET_STYLES: readonly { color: string; dash: number[] }[] = [
  { color: "#1f77b4", dash: [] },
  { color: "#d62728", dash: [8, 4] },
  { color: "#2ca02c", dash: [2, 3] },
  { color: "#9467bd", dash: [12, 3, 3, 3] },
  { color: "#ff7f0e", dash: [5, 5] },
];
if (TOP_SET_STYLES.length !== TOP_SETS) throw new Error("TOP_SET_STYLES needs one style per top set");

/** Cumulative PnL (price points, or ₹ for the money curves) and its drawdown from the running peak, at shared x points. */
export interface CurveSeries {
  name: string;
  cum: number[];
  dd: number[];
  /** A top set's line style (TOP_SET_STYLES); absent: the page's default colours. */
  color?: string;
  dash?: number[];
}

/** Curves over shared x (epoch seconds at bin ends, only where some series changed). */
export interface Curves {
  x: EpochSeconds[];
  series: CurveSeries[];
  binSeconds: number;
}

/** A bucket's sums for the featured set. */
export interface BucketRow {
  bucket: string;
  pnl: number;
  trades: number;
  wins: number;
}

/** What ranks a grid's sets: PnL in points (summed over underlyings), or with money the ₹ net or the Sharpe ratio (bench --rank). */
export type ReportRank = "pnl" | "net" | "sharpe";

/** A set's statistics of SPEC §7 (from its daily ₹ net and its positions). */
export interface MoneyStatistics {
  days: number;
  sharpe: number | null;
  max_drawdown: number;
  profit_factor: number | null;
  win_rate: number | null;
}

/** A grid's top set, best first by the rank, with its figures (the money ones with money) and its curve's style. */
export interface TopSetRow {
  set: number;
  params: string;
  trades: number;
  pnl: number;
  net: number | null;
  statistics: MoneyStatistics | null;
  color: string;
  dash: number[];
}

/** The featured set's money (SPEC §7, ₹), with money asked for. */
export interface MoneyData {
  gross: number;
  costs: number;
  net: number;
  /** COST_COMPONENTS in order, each with its ₹. */
  costsByComponent: { component: string; rupees: number }[];
  statistics: MoneyStatistics;
  /** Cumulative gross and net by trading day, one point per day at its close (15:30 IST). */
  equity: Curves;
  days: string[];
}

/** Everything the page draws. */
export interface ReportData {
  title: string;
  generated: string;
  header: HeaderField[];
  /** The set whose curves and breakdowns are shown: the only one, or a grid's best by `rank`. */
  featured: { set: number; label: string };
  rank: ReportRank;
  notes: { atm: string; expiryType: string; curves: string; heatmap: string | null; money: string | null };
  /** Where expiry types came from: the calendar kept with the data, the weekday rule, or both (expiries the calendar lacks). */
  expiryTypeFrom: "calendar" | "weekday rule" | "calendar and weekday rule";
  curves: Curves;
  topSets: Curves | null;
  /** A grid's top sets (TOP_SETS of them at most), best first. */
  topSetRows: TopSetRow[] | null;
  money: MoneyData | null;
  byDay: { date: string; pnl: number; trades: number; wins: number }[];
  byDte: BucketRow[];
  byExpiryType: BucketRow[];
  byOpt: BucketRow[];
  /** By strike distance from ATM, per option type (CE, PE; "other" left out when empty). */
  byAtm: (BucketRow & { opt: string })[];
  byHold: BucketRow[];
  stats: {
    trades: number;
    wins: number;
    losses: number;
    win_rate: number | null;
    avg_win: number | null;
    avg_loss: number | null;
    avg_hold_s: number | null;
    pnl: number;
  };
  atm: {
    date: string;
    underlying: string;
    expiry: string | null;
    strike: number | null;
    step: number | null;
    gap: number | null;
    pairs: number;
  }[];
  /** Each cell's `value` is the rank's (PnL points, net ₹ or Sharpe; null: Sharpe undefined). */
  heatmap: {
    x: string;
    y: string;
    rank: ReportRank;
    cells: { x: number; y: number; value: number | null; pnl: number; trades: number; set: number }[];
  } | null;
}

/** Options of the page: the grid's heatmap axes (null: the first two with more than one value). */
export interface ReportOptions {
  axes: [string, string] | null;
  /** The kernel's label as the summary prints it (`ema_cross (built-in)`, a file). */
  kernelLabel: string;
  /** With money (SPEC §7): each day's ₹ gross and net per set; null or absent without. */
  daily?: DailyMoney | null;
  /** What ranks a grid's sets (bench --rank; default pnl): the featured set, the heatmap's value, the top sets. */
  rank?: ReportRank;
  /**
   * The expiry types the data says (built from the calendar repack keeps with the packed data,
   * `expiryTypeFromCalendar(readKeptCalendar(dir))`); null or absent: none kept, the weekday rule decides.
   */
  expiryTypeOf?: ExpiryTypeOf | null;
}

/** How a rank is named on the page. */
const RANK_NAMES: Record<ReportRank, string> = { pnl: "PnL", net: "net ₹", sharpe: "Sharpe ratio" };

/** A set's value under `rank` (null: not defined, e.g. Sharpe of a set without two days, or no money). */
export function rankValue(g: GridResult, rank: ReportRank): number | null {
  if (rank === "pnl") return g.pnl;
  const v = rank === "net" ? g.net : g.sharpe;
  return v === undefined || v === null ? null : v;
}

/** Set indices best first by `rank`: higher values first, undefined values last, ties by index (as bench's summary). */
export function rankedSets(grid: GridResult[], rank: ReportRank): number[] {
  const key = (k: number) => rankValue(grid[k], rank) ?? Number.NEGATIVE_INFINITY;
  return grid.map((_, k) => k).sort((a, b) => key(b) - key(a) || a - b);
}

/** A set's SPEC §7 statistics, or null when it has none (no money asked for). */
function moneyStatisticsOf(g: GridResult | BenchSummary): MoneyStatistics | null {
  if (g.days === undefined) return null;
  return {
    days: g.days,
    sharpe: g.sharpe ?? null,
    max_drawdown: g.max_drawdown ?? 0,
    profit_factor: g.profit_factor ?? null,
    win_rate: g.win_rate ?? null,
  };
}

/** The instant a trading day's money is placed at on a time axis: its close, 15:30 IST (10:00 UTC). */
export function dayCloseSeconds(date: string): EpochSeconds {
  return parseIsoDate(date) * 86_400 + 36_000;
}

/** Cumulative ₹ gross and net by day of one set, with the net's drawdown from its running peak (from 0, as max_drawdown). */
function moneyCurves(daily: DailyMoney, set: number): Curves {
  const series = (name: string, perDay: Float64Array): CurveSeries => {
    const cum: number[] = [];
    const dd: number[] = [];
    let c = 0;
    let peak = 0;
    for (const v of perDay) {
      c += v;
      peak = Math.max(peak, c);
      cum.push(round2(c));
      dd.push(round2(c - peak));
    }
    return { name, cum, dd };
  };
  return {
    x: daily.days.map(dayCloseSeconds),
    series: [series("net", daily.net[set]), series("gross", daily.gross[set])],
    binSeconds: 86_400,
  };
}

const fmtInt = groupedCount;
/** ₹ as the page writes them: the sign first, grouped as bench's summary groups them (`-₹1,234.50`). */
export const rupeesText = (x: number) =>
  `${x < 0 ? "-" : ""}₹${Math.abs(x).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const fmtParams = (p: Record<string, number>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Cumulative sums and drawdowns of per-bin sums at the indices in `keep` (ascending), which hold
 * every bin whose sum is not zero: the others change neither the sum nor its peak.
 */
function curveOf(name: string, sums: Float64Array, keep: number[]): CurveSeries {
  const cum: number[] = [];
  const dd: number[] = [];
  let c = 0;
  let peak = 0;
  for (let k = 0; k < keep.length; k++) {
    c += sums[keep[k]];
    peak = Math.max(peak, c);
    cum.push(round2(c));
    dd.push(round2(c - peak));
  }
  return { name, cum, dd };
}

/** Curves of several per-bin sum series, at the bins where any of them changed (plus the first and last). */
function curvesOf(agg: ReportAggregator, named: { name: string; sums: Float64Array }[]): Curves {
  const n = agg.bins.length;
  const keep: number[] = [];
  // Plain loops: this runs once per page, cold, over thousands of bins.
  for (let b = 0; b < n; b++) {
    let changed = b === 0 || b === n - 1;
    for (let s = 0; s < named.length && !changed; s++) changed = named[s].sums[b] !== 0;
    if (changed) keep.push(b);
  }
  return {
    x: keep.map((b) => agg.bins.binEnd(b)),
    series: named.map((s) => curveOf(s.name, s.sums, keep)),
    binSeconds: agg.bins.widthS,
  };
}

/** A set's curve sums: every underlying's, and their total. */
function setSums(agg: ReportAggregator, set: number): { total: Float64Array; byUnderlying: Float64Array[] } {
  const byUnderlying = agg.underlyings.map((_, u) => agg.bins.sums(u * agg.sets + set));
  const total = new Float64Array(agg.bins.length);
  for (const s of byUnderlying) for (let b = 0; b < s.length; b++) total[b] += s[b];
  return { total, byUnderlying };
}

/** The heatmap axes: `wanted` if given, else the first two parameters with more than one value (null: fewer than two). */
export function heatmapAxes(grid: GridResult[], wanted: [string, string] | null): [string, string] | null {
  if (wanted) return wanted;
  const names = Object.keys(grid[0]?.params ?? {});
  const varying = names.filter((n) => new Set(grid.map((g) => g.params[n])).size > 1);
  return varying.length >= 2 ? [varying[0], varying[1]] : null;
}

/** The report's data for a finished run: its summary and the trades its aggregator took. */
export function buildReportData(summary: BenchSummary, agg: ReportAggregator, options: ReportOptions): ReportData {
  const grid = summary.grid;
  const single = grid.length === 1;
  const rank = options.rank ?? "pnl";
  const ranked = rankedSets(grid, rank).map((k) => ({ g: grid[k], k }));
  const featured = ranked[0].k;
  const bestText = `best set #${featured} by ${RANK_NAMES[rank]}`;
  const moneySource: GridResult | BenchSummary = single ? summary : grid[featured];
  const money = moneySource.gross !== undefined;
  // A grid's figures are the featured set's, at its path in --json (`grid.K.trades`); the run's total adds sets up.
  const at = (field: string) => (single ? field : `grid.${featured}.${field}`);
  const dates = [...agg.dates].filter((d) => d !== "unknown").sort();
  const header: HeaderField[] = [
    {
      label: "Data range",
      json: null,
      value: dates.length ? [dates[0], dates[dates.length - 1]] : null,
      text: dates.length
        ? `${dates[0]} … ${dates[dates.length - 1]} (${dates.length} trading days)`
        : "no partitions with a date",
    },
    {
      label: "Partitions",
      json: "partitions",
      value: summary.partitions,
      text: `${fmtInt(summary.partitions)} (${fmtInt(summary.files)} files)`,
    },
    { label: "Rows", json: "rows", value: summary.rows, text: fmtInt(summary.rows) },
    { label: "Valid rows", json: "valid_rows", value: summary.valid_rows, text: fmtInt(summary.valid_rows) },
    { label: "Kernel", json: "kernel", value: summary.kernel, text: options.kernelLabel },
  ];
  if (single)
    header.push({ label: "Parameters", json: "params", value: summary.params, text: fmtParams(summary.params) });
  else
    header.push({
      label: "Parameter sets",
      json: "sets",
      value: summary.sets,
      text: `${summary.sets} (featured below and in the figures: #${featured}, the best by ${RANK_NAMES[rank]}: ${fmtParams(grid[featured].params)})`,
    });
  // Issue 13's slice filters, whatever fields they come to have; absent or null: no filter line.
  const filters = (summary as { filters?: unknown }).filters;
  if (filters !== undefined && filters !== null) {
    header.push({ label: "Filters", json: "filters", value: filters, text: filtersText(filters) });
    if (typeof summary.partitions_pruned === "number")
      header.push({
        label: "Partitions pruned",
        json: "partitions_pruned",
        value: summary.partitions_pruned,
        text: fmtInt(summary.partitions_pruned),
      });
    if (typeof summary.row_groups_skipped === "number")
      header.push({
        label: "Row groups skipped",
        json: "row_groups_skipped",
        value: summary.row_groups_skipped,
        text: `${fmtInt(summary.row_groups_skipped)} of ${fmtInt(summary.row_groups_skipped + (summary.row_groups_read ?? 0))}`,
      });
  }
  const of = single ? "" : ` (${bestText})`;
  header.push(
    { label: `Trades${of}`, json: at("trades"), value: moneySource.trades, text: fmtInt(moneySource.trades) },
    { label: `PnL, points${of}`, json: at("pnl"), value: moneySource.pnl, text: moneySource.pnl.toFixed(2) },
  );
  if (money) {
    const rupees = (label: string, field: "gross" | "costs" | "net") =>
      header.push({
        label: `${label}${of}`,
        json: at(field),
        value: moneySource[field],
        text: rupeesText(moneySource[field] as number),
      });
    rupees("Gross ₹", "gross");
    rupees("Costs ₹", "costs");
    rupees("Net ₹", "net");
  }
  if (summary.fill === "touch")
    header.push({
      label: "Fills",
      json: "fills_at_last",
      value: summary.fills_at_last ?? 0,
      text: `at the touch (buys at the ask, sells at the bid); ${fmtInt(summary.fills_at_last ?? 0)} without a quote, at price (all sets)`,
    });
  header.push(
    {
      label: "Elapsed",
      json: "elapsed_s",
      value: summary.elapsed_s,
      text: `${summary.elapsed_s.toFixed(3)} s with ${summary.workers} worker(s)`,
    },
    {
      label: "Throughput",
      json: "rows_per_s",
      value: summary.rows_per_s,
      text: `${fmtInt(Math.round(summary.rows_per_s))} rows/s`,
    },
  );
  if (!single)
    header.push({
      label: "Rows × sets",
      json: "row_sets_per_s",
      value: summary.row_sets_per_s,
      text: `${fmtInt(Math.round(summary.row_sets_per_s))} rows×sets/s`,
    });

  const sums = setSums(agg, featured);
  // By name: the aggregator met them in the order partitions finished, which varies from run to run.
  const perUnderlying = agg.underlyings
    .map((u, k) => ({ name: u, sums: sums.byUnderlying[k] }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const curves = curvesOf(agg, [{ name: "total", sums: sums.total }, ...perUnderlying]);
  const top = single ? [] : ranked.slice(0, TOP_SETS);
  const topSets = single
    ? null
    : curvesOf(
        agg,
        top.map(({ g, k }) => ({ name: `#${k} ${fmtParams(g.params)}`, sums: setSums(agg, k).total })),
      );
  for (const [i, s] of (topSets?.series ?? []).entries()) Object.assign(s, TOP_SET_STYLES[i]);
  const topSetRows = single
    ? null
    : top.map(({ g, k }, i) => ({
        set: k,
        params: fmtParams(g.params),
        trades: g.trades,
        pnl: round2(g.pnl),
        net: g.net ?? null,
        statistics: moneyStatisticsOf(g),
        ...TOP_SET_STYLES[i],
      }));
  const daily = options.daily ?? null;
  const moneyData: MoneyData | null =
    money && daily
      ? {
          gross: moneySource.gross as number,
          costs: moneySource.costs as number,
          net: moneySource.net as number,
          costsByComponent: COST_COMPONENTS.map((c) => ({
            component: c,
            rupees: moneySource.costs_by_component?.[c] ?? 0,
          })),
          statistics: moneyStatisticsOf(moneySource) as MoneyStatistics,
          equity: moneyCurves(daily, featured),
          days: daily.days,
        }
      : null;
  const expiryTypes = agg.expiryTypeSums(featured, options.expiryTypeOf ?? null);
  const expiryTypeFrom = !options.expiryTypeOf
    ? "weekday rule"
    : expiryTypes.byRule === 0
      ? "calendar"
      : "calendar and weekday rule";

  const rows = (names: readonly string[], b: { of(set: number): { pnl: number; trades: number; wins: number }[] }) =>
    b.of(featured).map((s, i) => ({ bucket: names[i], pnl: round2(s.pnl), trades: s.trades, wins: s.wins }));
  const keepNonEmpty = <T extends { trades: number; bucket: string }>(r: T[]) =>
    r.filter((x) => x.trades > 0 || x.bucket !== "unknown");
  const A = ATM_BUCKETS.length;
  const atmRows = agg.byAtm.of(featured).map((s, i) => ({
    opt: OPT_TYPES[Math.floor(i / A)],
    bucket: ATM_BUCKETS[i % A],
    pnl: round2(s.pnl),
    trades: s.trades,
    wins: s.wins,
  }));
  const st = agg.stats[featured];
  let heatmap: ReportData["heatmap"] = null;
  const axes = single ? null : heatmapAxes(grid, options.axes);
  if (axes) {
    // Several sets share a cell when other axes vary too: the cell shows the best of them by the rank
    // (the first met, in rank order, is the best).
    const cells = new Map<string, NonNullable<ReportData["heatmap"]>["cells"][number]>();
    for (const { g, k } of ranked) {
      const key = `${g.params[axes[0]]}\0${g.params[axes[1]]}`;
      if (cells.has(key)) continue;
      const v = rankValue(g, rank);
      cells.set(key, {
        x: g.params[axes[0]],
        y: g.params[axes[1]],
        value: v === null ? null : rank === "sharpe" ? round4(v) : round2(v),
        pnl: round2(g.pnl),
        trades: g.trades,
        set: k,
      });
    }
    heatmap = { x: axes[0], y: axes[1], rank, cells: [...cells.values()].sort((a, b) => a.set - b.set) };
  }
  return {
    title: `tickpack bench report: ${options.kernelLabel}${single ? "" : `, ${summary.sets}-set grid`}`,
    generated: new Date().toISOString(),
    header,
    featured: {
      set: featured,
      label: single
        ? fmtParams(summary.params)
        : `#${featured} ${fmtParams(grid[featured].params)} (the best of ${summary.sets} sets by ${RANK_NAMES[rank]})`,
    },
    rank,
    notes: {
      atm: ATM_METHOD,
      expiryType:
        expiryTypeFrom === "calendar"
          ? "Expiry type as the data says it: the expiry calendar repack kept with the packed data."
          : expiryTypeFrom === "weekday rule"
            ? `No expiry calendar kept with the packed data (a folder packed before repack kept one): expiry type by the weekday rule, ${WEEKDAY_RULE}`
            : `Expiry type from the expiry calendar repack kept with the packed data; ${expiryTypes.byRule} of ${expiryTypes.expiries} traded expiries are not in it and go by the weekday rule, ${WEEKDAY_RULE}`,
      curves: `PnL is summed into bins of ${agg.bins.widthS} s by exit time (the width doubles as the run's span grows, so a curve has at most ${agg.bins.maxBins} bins); the curve is exact at every bin's end, and drawdown is measured at bin ends (a dip inside a bin is not seen).`,
      money: moneyData
        ? `₹ by trading day (${moneyData.days.length} days): each day's gross and net (after costs) summed, one point per day at its close (15:30 IST); the drawdown is the net's fall from its running peak (starting at 0), as max drawdown.`
        : null,
      heatmap: axes
        ? `${rank === "pnl" ? "PnL" : rank === "net" ? "Net ₹" : "Sharpe ratio"} over ${axes[0]} × ${axes[1]}${grid.length > new Set(grid.map((g) => `${g.params[axes[0]]}\0${g.params[axes[1]]}`)).size ? " (each cell: the best set among those sharing its two values)" : ""}.`
        : null,
    },
    expiryTypeFrom,
    curves,
    topSets,
    topSetRows,
    money: moneyData,
    byDay: agg.dayPnl(featured).map((d) => ({ ...d, pnl: round2(d.pnl) })),
    byDte: keepNonEmpty(rows(DTE_BUCKETS, agg.byDte)),
    byExpiryType: keepNonEmpty(
      expiryTypes.sums.map((x, i) => ({ bucket: EXPIRY_TYPES[i], pnl: round2(x.pnl), trades: x.trades, wins: x.wins })),
    ),
    byOpt: rows(OPT_TYPES, agg.byOpt).filter((r) => r.trades > 0 || r.bucket !== "other"),
    byAtm: atmRows.filter((r) => r.opt !== "other" || r.trades > 0),
    byHold: rows(HOLD_BUCKETS, agg.byHold),
    stats: {
      trades: st.trades,
      wins: st.wins,
      losses: st.losses,
      pnl: round2(st.pnl),
      win_rate: st.trades ? st.wins / st.trades : null,
      // Rounded: the last digits of a float sum depend on the order partitions finished in.
      avg_win: st.wins ? round4(st.winPnl / st.wins) : null,
      avg_loss: st.losses ? round4(st.lossPnl / st.losses) : null,
      avg_hold_s: st.trades ? round4(st.holdSumS / st.trades) : null,
    },
    atm: [...agg.atm]
      .sort((a, b) => (a.date === b.date ? (a.underlying < b.underlying ? -1 : 1) : a.date < b.date ? -1 : 1))
      .map((a) => ({
        date: a.date,
        underlying: a.underlying,
        expiry: a.expiry === null ? null : formatEpochDays(a.expiry),
        strike: a.strike === null ? null : strikeDecimal(a.strike),
        step: a.step,
        gap: a.gap === null ? null : round2(a.gap),
        pairs: a.pairs,
      })),
    heatmap,
  };
}

const WEEKDAY_RULE =
  "an expiry is monthly when the same weekday a week later falls in the next month (NSE's monthly contract expires on the last expiry day of its month), weekly otherwise.";

/** A summary's `filters` (lib/read/filters.ts filtersJson, whatever their shape) as one line. */
function filtersText(filters: unknown): string {
  if (typeof filters !== "object" || filters === null) return String(filters);
  const parts = Object.entries(filters as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    // Ranges (dte, strikes) as LO:HI, as their flags take them; lists comma-separated.
    .map(
      ([k, v]) =>
        `${k}=${Array.isArray(v) ? v.join(k === "dte" || k === "strikes" ? ":" : ",") : typeof v === "object" ? JSON.stringify(v) : String(v)}`,
    );
  return parts.length ? parts.join(" ") : "none";
}
