/**
 * The report page: one self-contained HTML file. The plotting libraries (uPlot for the long equity
 * and drawdown series, Observable Plot on d3 for bars and the heatmap) are inlined from node_modules,
 * so the file opens with no network; the data goes in as JSON and `client.js` draws it in the browser.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import { type ReportData, rupeesText } from "./report-data.ts";
import { groupedCount } from "../grouped-count.ts";

/**
 * A file inside an installed package, found in the nearest node_modules above this module (d3's and
 * Plot's `exports` maps do not export their UMD builds as subpaths, so module resolution cannot be used).
 */
function packageFile(path: string): string {
  for (let dir = import.meta.dir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", path);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir)
      throw new Error(`${path}: not found in any node_modules above ${import.meta.dir} (run bun install)`);
  }
}

/**
 * The inlined assets, read, made safe for a <script> element and encoded once per process (~0.6 MB):
 * the page is assembled as bytes around them, so only its own few kilobytes of text are encoded per
 * page (encoding one 0.6 MB string took 5–10 ms, after the run).
 */
let assets: { css: Uint8Array; scripts: Uint8Array; client: Uint8Array } | null = null;
function loadAssets() {
  const nm = (path: string) => scriptSafeBytes(readFileSync(packageFile(path)));
  return (assets ??= {
    css: nm("uplot/dist/uPlot.min.css"),
    scripts: joinBytes(
      ["uplot/dist/uPlot.iife.min.js", "d3/dist/d3.min.js", "@observablehq/plot/dist/plot.umd.min.js"].flatMap(
        (path, k) => [k > 0 ? "\n<script>" : "<script>", nm(path), "</script>"],
      ),
    ),
    client: scriptSafeBytes(readFileSync(new URL("./client.js", import.meta.url))),
  });
}

/**
 * UTF-8 text made safe for a <script> element (scriptSafe's rewrites); the bytes themselves when
 * nothing needs one, as in the libraries tickpack ships (no decoding and encoding of ~0.6 MB).
 */
export function scriptSafeBytes(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let unsafe = b.includes("<!--") || b.includes("\u2028") || b.includes("\u2029");
  for (let at = b.indexOf("</"); !unsafe && at >= 0; at = b.indexOf("</", at + 2))
    unsafe = b.toString("latin1", at + 2, at + 8).toLowerCase() === "script";
  return unsafe ? new TextEncoder().encode(scriptSafe(b.toString("utf8"))) : bytes;
}

/** Reads the page's inlined libraries ahead of `renderReportPage` (bench does it while the workers run). */
export function prepareReportAssets(): void {
  loadAssets();
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Text safe inside a <script> element: no `</script`, `<!--` or U+2028/9 can end or confuse it. */
const scriptSafe = (s: string) =>
  s
    .replace(/<\/(script)/gi, "<\\/$1")
    .replace(/<!--/g, "<\\!--")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
const jsonInScript = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");

const PAGE_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:16px auto;max-width:1100px;padding:0 12px;color:#222}
h1{font-size:20px;margin:0 0 8px} h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #ddd}
table{border-collapse:collapse} td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#555} .num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#666;font-size:12px;max-width:1000px} .chart{min-height:40px;margin:4px 0}
.row{display:flex;flex-wrap:wrap;gap:18px} .row>div{flex:1 1 480px;min-width:0}
.failed{color:#b00}`;

/** The stats table, made here so its numbers need no script. */
function statsTable(d: ReportData): string {
  const s = d.stats;
  const f = (x: number | null, digits = 2) => (x === null ? "–" : x.toFixed(digits));
  const rows: [string, string][] = [
    ["Trades", groupedCount(s.trades)],
    ["PnL", s.pnl.toFixed(2)],
    [
      "Win rate",
      s.win_rate === null
        ? "–"
        : `${(100 * s.win_rate).toFixed(1)} % (${groupedCount(s.wins)} wins, ${groupedCount(s.losses)} losses, ${groupedCount(s.trades - s.wins - s.losses)} flat)`,
    ],
    ["Average win", f(s.avg_win)],
    ["Average loss", f(s.avg_loss)],
    ["Average holding time", s.avg_hold_s === null ? "–" : `${f(s.avg_hold_s, 1)} s`],
  ];
  return `<table id="stats">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="num">${escapeHtml(v)}</td></tr>`).join("")}</table>`;
}

const ratioText = (x: number | null) => (x === null ? "n/a" : x.toFixed(2));
const percentText = (x: number | null) => (x === null ? "n/a" : `${(100 * x).toFixed(1)} %`);

/** The SPEC §7 statistics of the featured set (days, Sharpe, max drawdown ₹, profit factor, win rate). */
function moneyStatsTable(d: ReportData): string {
  const m = d.money;
  if (!m) return "";
  const s = m.statistics;
  const rows: [string, string, string, unknown][] = [
    ["Trading days", String(s.days), "days", s.days],
    ["Sharpe ratio (daily net, ×√252)", ratioText(s.sharpe), "sharpe", s.sharpe],
    ["Max drawdown (daily net)", rupeesText(s.max_drawdown), "max_drawdown", s.max_drawdown],
    ["Profit factor (positions)", ratioText(s.profit_factor), "profit_factor", s.profit_factor],
    ["Win rate (positions, net > 0)", percentText(s.win_rate), "win_rate", s.win_rate],
  ];
  return `<table id="money-stats">${rows.map(([k, v, field, value]) => `<tr><th>${escapeHtml(k)}</th><td class="num" data-stat="${field}" data-value="${escapeHtml(JSON.stringify(value))}">${escapeHtml(v)}</td></tr>`).join("")}</table>`;
}

/** The featured set's costs by component, with their share of the total. */
function costsTable(d: ReportData): string {
  const m = d.money;
  if (!m) return "";
  const row = (name: string, rupees: number, attr: string) =>
    `<tr><th>${escapeHtml(name)}</th><td class="num"${attr} data-value="${rupees}">${escapeHtml(rupeesText(rupees))}</td><td class="num">${m.costs ? `${((100 * rupees) / m.costs).toFixed(1)} %` : "–"}</td></tr>`;
  return `<table id="costs">${m.costsByComponent.map((c) => row(c.component, c.rupees, ` data-component="${escapeHtml(c.component)}"`)).join("")}${row("total", m.costs, ' data-component="total"')}</table>`;
}

/** A grid's top sets, each with its curve's line (colour and dash) as the legend of the top sets' chart. */
function topSetsTable(d: ReportData): string {
  const rows = d.topSetRows;
  if (!rows) return "";
  const money = rows.some((r) => r.statistics !== null);
  const head = ["", "set", "parameters", "trades", "PnL (points)"].concat(
    money ? ["net ₹", "days", "Sharpe", "max drawdown ₹", "profit factor", "win rate"] : [],
  );
  const body = rows
    .map((r) => {
      const line = `<svg width="36" height="10" aria-hidden="true"><line x1="0" y1="5" x2="36" y2="5" stroke="${escapeHtml(r.color)}" stroke-width="2" stroke-dasharray="${r.dash.join(" ")}"/></svg>`;
      const s = r.statistics;
      const cells = [
        line,
        `#${r.set}`,
        escapeHtml(r.params),
        groupedCount(r.trades),
        r.pnl.toFixed(2),
        ...(money && s
          ? [
              rupeesText(r.net ?? 0),
              String(s.days),
              ratioText(s.sharpe),
              rupeesText(s.max_drawdown),
              ratioText(s.profit_factor),
              percentText(s.win_rate),
            ].map(escapeHtml)
          : []),
      ];
      return `<tr data-set="${r.set}" data-color="${escapeHtml(r.color)}" data-dash="${r.dash.join(",")}">${cells.map((c, i) => `<td${i > 2 ? ' class="num"' : ""}>${c}</td>`).join("")}</tr>`;
    })
    .join("");
  return `<table id="top-sets">${`<tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`}${body}</table>`;
}

function atmTable(d: ReportData): string {
  const cell = (v: unknown) => `<td class="num">${v === null ? "–" : escapeHtml(String(v))}</td>`;
  const body = d.atm
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.date)}</td><td>${escapeHtml(a.underlying)}</td><td>${escapeHtml(a.expiry ?? "–")}</td>${cell(a.strike)}${cell(a.step)}${cell(a.gap)}${cell(a.pairs)}</tr>`,
    )
    .join("");
  return `<details><summary>ATM estimate per day (${d.atm.length})</summary><table><tr><th>date</th><th>underlying</th><th>expiry</th><th>ATM strike</th><th>step</th><th>|C−P|</th><th>CE/PE pairs</th></tr>${body}</table></details>`;
}

const heatmapTitle = (rank: ReportData["rank"]) => (rank === "pnl" ? "PnL" : rank === "net" ? "Net ₹" : "Sharpe ratio");

/** The page for `data`, UTF-8. */
export function renderReportPage(data: ReportData): Uint8Array {
  const a = loadAssets();
  const header = data.header
    .map(
      (h) =>
        `<tr><th>${escapeHtml(h.label)}</th><td${h.json ? ` data-json="${escapeHtml(h.json)}" data-value="${escapeHtml(JSON.stringify(h.value))}"` : ""}>${escapeHtml(h.text)}</td></tr>`,
    )
    .join("");
  const chart = (name: string, title: string) =>
    `<div><h3 style="font-size:14px;margin:8px 0 2px">${escapeHtml(title)}</h3><div class="chart" data-chart="${name}"></div></div>`;
  const grid = data.heatmap || data.topSets;
  return joinBytes([
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>`,
    a.css,
    `${PAGE_CSS}</style>
`,
    a.scripts,
    `
</head><body>
<h1>${escapeHtml(data.title)}</h1>
<table id="header">${header}</table>
<p class="note">Generated ${escapeHtml(data.generated)}. ${data.money ? "PnL in price points; gross, costs and net in ₹ (lots × lot size, with the fills and costs asked for)" : "PnL in price points, one unit per trade, no costs"}. ${data.topSetRows ? "The figures above, the curves and the breakdowns are those of " : "Curves and breakdowns: "}${escapeHtml(data.featured.label)}${data.topSetRows ? "; --json's trades and pnl add all sets up" : ""}.</p>
${
  data.money
    ? `<h2>Money by day (₹)</h2>
${chart("money-equity", "Cumulative gross and net (after costs) by trading day, ₹")}
${chart("money-drawdown", "Net drawdown from its running peak by trading day, ₹")}
<p class="note">${escapeHtml(data.notes.money ?? "")}</p>
<div class="row"><div><h3 style="font-size:14px;margin:8px 0 2px">Statistics</h3>${moneyStatsTable(data)}</div><div><h3 style="font-size:14px;margin:8px 0 2px">Costs by component</h3>${costsTable(data)}</div></div>`
    : ""
}
<h2>Equity and drawdown (price points)</h2>
${chart("equity", "Cumulative PnL by exit time: total and per underlying")}
${chart("drawdown", "Drawdown from the running peak")}
<p class="note">${escapeHtml(data.notes.curves)} The x axis is time (IST): a night, a weekend or a day without trades shows as a gap.</p>
<h2>Where the PnL came from</h2>
${chart("by-day", "PnL by day")}
<div class="row">${chart("by-dte", "PnL by days to expiry")}${chart("by-expiry-type", "PnL by expiry type")}${chart("by-opt", "PnL by option type")}</div>
<p class="note">${escapeHtml(data.notes.expiryType)}</p>
${chart("by-atm", "PnL by strike distance from the day's ATM (strike steps)")}
<p class="note">${escapeHtml(data.notes.atm)}</p>
${atmTable(data)}
<h2>Trades</h2>
<div class="row"><div>${statsTable(data)}</div>${chart("holding", "Holding time: trades per bucket")}</div>
${grid ? `<h2>Parameter grid</h2>${data.heatmap ? `${chart("heatmap", `${heatmapTitle(data.heatmap.rank)} heatmap`)}<p class="note">${escapeHtml(data.notes.heatmap ?? "")}</p>` : `<p class="note">No heatmap: fewer than two parameters vary.</p>`}${data.topSets ? `${chart("top-sets", `Cumulative PnL (points) of the top ${data.topSets.series.length} sets by ${heatmapTitle(data.rank)}`)}${topSetsTable(data)}` : ""}` : ""}
<script type="application/json" id="report-data">${jsonInScript(data)}</script>
<script>`,
    a.client,
    `</script>
</body></html>
`,
  ]);
}

/** Text pieces encoded and bytes as they are, in one buffer. */
function joinBytes(parts: (string | Uint8Array)[]): Uint8Array {
  const utf8 = new TextEncoder();
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? utf8.encode(p) : p)));
}

/** The page for `data` as one HTML string. */
export function renderReportHtml(data: ReportData): string {
  return new TextDecoder().decode(renderReportPage(data));
}

/** Writes the report page to `path` atomically (a temp file beside it, renamed into place). */
export function writeReport(path: string, data: ReportData): void {
  writeFileAtomic(path, renderReportPage(data));
}
