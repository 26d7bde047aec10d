/**
 * What the report page shows, as plain JSON: the run's summary fields (the header: the same values as
 * `--json`), the aggregator's curves reduced to the bins where something changed, the featured set's
 * breakdowns, and for a grid the heatmap and the top sets' curves.
 */
import type { BenchSummary, DailyMoney, GridResult } from "../bench/bench.ts";
import { formatEpochDays } from "../ist-time.ts";
import { strikeDecimal } from "../packed/strike.ts";
import { ATM_METHOD } from "./atm.ts";
import type { ReportAggregator } from "./aggregate.ts";
import { ATM_BUCKETS, DTE_BUCKETS, EXPIRY_TYPES, HOLD_BUCKETS, OPT_TYPES } from "./buckets.ts";
import type { EpochSeconds } from "./time-bins.ts";

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

/** Cumulative PnL (price points) and its drawdown from the running peak, at shared x points. */
export interface CurveSeries {
  name: string;
  cum: number[];
  dd: number[];
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

/** Everything the page draws. */
export interface ReportData {
  title: string;
  generated: string;
  header: HeaderField[];
  /** The set whose curves and breakdowns are shown: the only one, or a grid's best by PnL. */
  featured: { set: number; label: string };
  notes: { atm: string; expiryType: string; curves: string; heatmap: string | null };
  curves: Curves;
  topSets: Curves | null;
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
  heatmap: { x: string; y: string; cells: { x: number; y: number; pnl: number; trades: number; set: number }[] } | null;
}

/** Options of the page: the grid's heatmap axes (null: the first two with more than one value). */
export interface ReportOptions {
  axes: [string, string] | null;
  /** The kernel's label as the summary prints it (`ema_cross (built-in)`, a file). */
  kernelLabel: string;
  /** With money (SPEC §7): each day's ₹ gross and net per set; null or absent without. */
  daily?: DailyMoney | null;
}

const fmtInt = (x: number) => x.toLocaleString("en-US");
const fmtParams = (p: Record<string, number>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Cumulative sums and drawdowns of per-bin sums, kept at the indices in `keep`. */
function curveOf(name: string, sums: Float64Array, keep: number[]): CurveSeries {
  const cum: number[] = [];
  const dd: number[] = [];
  let c = 0;
  let peak = 0;
  let k = 0;
  for (let b = 0; b < sums.length && k < keep.length; b++) {
    c += sums[b];
    peak = Math.max(peak, c);
    if (b === keep[k]) {
      cum.push(round2(c));
      dd.push(round2(c - peak));
      k++;
    }
  }
  return { name, cum, dd };
}

/** Curves of several per-bin sum series, at the bins where any of them changed (plus the first and last). */
function curvesOf(agg: ReportAggregator, named: { name: string; sums: Float64Array }[]): Curves {
  const ends = agg.bins.binEnds();
  const keep: number[] = [];
  for (let b = 0; b < ends.length; b++)
    if (b === 0 || b === ends.length - 1 || named.some((s) => s.sums[b] !== 0)) keep.push(b);
  return {
    x: keep.map((b) => ends[b]),
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
  const ranked = grid.map((g, k) => ({ g, k })).sort((a, b) => b.g.pnl - a.g.pnl);
  const featured = ranked[0].k;
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
      text: `${summary.sets} (featured below: #${featured}, the best PnL: ${fmtParams(grid[featured].params)})`,
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
  header.push(
    {
      label: single ? "Trades" : "Trades (all sets)",
      json: "trades",
      value: summary.trades,
      text: fmtInt(summary.trades),
    },
    { label: single ? "PnL" : "PnL (all sets)", json: "pnl", value: summary.pnl, text: summary.pnl.toFixed(2) },
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
  const topSets = single
    ? null
    : curvesOf(
        agg,
        ranked
          .slice(0, TOP_SETS)
          .map(({ g, k }) => ({ name: `#${k} ${fmtParams(g.params)}`, sums: setSums(agg, k).total })),
      );

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
    // Several sets share a cell when other axes vary too: the cell shows the best of them.
    const cells = new Map<string, { x: number; y: number; pnl: number; trades: number; set: number }>();
    grid.forEach((g, k) => {
      const key = `${g.params[axes[0]]}\0${g.params[axes[1]]}`;
      const c = cells.get(key);
      if (!c || g.pnl > c.pnl)
        cells.set(key, { x: g.params[axes[0]], y: g.params[axes[1]], pnl: round2(g.pnl), trades: g.trades, set: k });
    });
    heatmap = { x: axes[0], y: axes[1], cells: [...cells.values()] };
  }
  return {
    title: `tickpack bench report: ${options.kernelLabel}${single ? "" : `, ${summary.sets}-set grid`}`,
    generated: new Date().toISOString(),
    header,
    featured: {
      set: featured,
      label: single
        ? fmtParams(summary.params)
        : `#${featured} ${fmtParams(grid[featured].params)} (best PnL of ${summary.sets} sets)`,
    },
    notes: {
      atm: ATM_METHOD,
      expiryType:
        "Expiry type without a calendar: an expiry is monthly when the same weekday a week later falls in the next month (NSE's monthly contract expires on the last expiry day of its month), weekly otherwise.",
      curves: `PnL is summed into bins of ${agg.bins.widthS} s by exit time (the width doubles as the run's span grows, so a curve has at most ${agg.bins.maxBins} bins); the curve is exact at every bin's end, and drawdown is measured at bin ends (a dip inside a bin is not seen).`,
      heatmap: axes
        ? `PnL over ${axes[0]} × ${axes[1]}${grid.length > new Set(grid.map((g) => `${g.params[axes[0]]}\0${g.params[axes[1]]}`)).size ? " (each cell: the best set among those sharing its two values)" : ""}.`
        : null,
    },
    curves,
    topSets,
    byDay: agg.dayPnl(featured).map((d) => ({ ...d, pnl: round2(d.pnl) })),
    byDte: keepNonEmpty(rows(DTE_BUCKETS, agg.byDte)),
    byExpiryType: keepNonEmpty(rows(EXPIRY_TYPES, agg.byExpiryType)),
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

/** A summary's `filters` (lib/bench/filters.ts filtersJson, whatever their shape) as one line. */
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
