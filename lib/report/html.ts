/**
 * The report page: one self-contained HTML file. The plotting libraries (uPlot for the long equity
 * and drawdown series, Observable Plot on d3 for bars and the heatmap) are inlined from node_modules,
 * so the file opens with no network; the data goes in as JSON and `client.js` draws it in the browser.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import type { ReportData } from "./report-data.ts";

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

/** The inlined assets, read and made safe for a <script> element once per process (~0.6 MB). */
let assets: { css: string; scripts: string[]; client: string } | null = null;
function loadAssets() {
  const nm = (path: string) => readFileSync(packageFile(path), "utf8");
  return (assets ??= {
    css: nm("uplot/dist/uPlot.min.css"),
    scripts: [
      nm("uplot/dist/uPlot.iife.min.js"),
      nm("d3/dist/d3.min.js"),
      nm("@observablehq/plot/dist/plot.umd.min.js"),
    ].map(scriptSafe),
    client: scriptSafe(readFileSync(new URL("./client.js", import.meta.url), "utf8")),
  });
}

/** Reads the page's inlined libraries ahead of `renderReportHtml` (bench does it while the workers run: ~5 ms less after the run). */
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
    ["Trades", s.trades.toLocaleString("en-US")],
    ["PnL", s.pnl.toFixed(2)],
    [
      "Win rate",
      s.win_rate === null
        ? "–"
        : `${(100 * s.win_rate).toFixed(1)} % (${s.wins.toLocaleString("en-US")} wins, ${s.losses.toLocaleString("en-US")} losses, ${(s.trades - s.wins - s.losses).toLocaleString("en-US")} flat)`,
    ],
    ["Average win", f(s.avg_win)],
    ["Average loss", f(s.avg_loss)],
    ["Average holding time", s.avg_hold_s === null ? "–" : `${f(s.avg_hold_s, 1)} s`],
  ];
  return `<table id="stats">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="num">${escapeHtml(v)}</td></tr>`).join("")}</table>`;
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

/** The page for `data` as one HTML string. */
export function renderReportHtml(data: ReportData): string {
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
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${a.css}${PAGE_CSS}</style>
${a.scripts.map((s) => `<script>${s}</script>`).join("\n")}
</head><body>
<h1>${escapeHtml(data.title)}</h1>
<table id="header">${header}</table>
<p class="note">Generated ${escapeHtml(data.generated)}. PnL in price points, one unit per trade, no costs. Curves and breakdowns: ${escapeHtml(data.featured.label)}.</p>
<h2>Equity and drawdown</h2>
${chart("equity", "Cumulative PnL by exit time: total and per underlying")}
${chart("drawdown", "Drawdown from the running peak")}
<p class="note">${escapeHtml(data.notes.curves)}</p>
<h2>Where the PnL came from</h2>
${chart("by-day", "PnL by day")}
<div class="row">${chart("by-dte", "PnL by days to expiry")}${chart("by-expiry-type", "PnL by expiry type")}${chart("by-opt", "PnL by option type")}</div>
<p class="note">${escapeHtml(data.notes.expiryType)}</p>
${chart("by-atm", "PnL by strike distance from the day's ATM (strike steps)")}
<p class="note">${escapeHtml(data.notes.atm)}</p>
${atmTable(data)}
<h2>Trades</h2>
<div class="row"><div>${statsTable(data)}</div>${chart("holding", "Holding time: trades per bucket")}</div>
${grid ? `<h2>Parameter grid</h2>${data.heatmap ? `${chart("heatmap", "PnL heatmap")}<p class="note">${escapeHtml(data.notes.heatmap ?? "")}</p>` : `<p class="note">No heatmap: fewer than two parameters vary.</p>`}${data.topSets ? chart("top-sets", `Cumulative PnL of the top ${data.topSets.series.length} sets`) : ""}` : ""}
<script type="application/json" id="report-data">${jsonInScript(data)}</script>
<script>${a.client}</script>
</body></html>
`;
}

/** Writes the report page to `path` atomically (a temp file beside it, renamed into place). */
export function writeReport(path: string, data: ReportData): void {
  writeFileAtomic(path, new TextEncoder().encode(renderReportHtml(data)));
}
