/**
 * `bench --report` opened in a real browser: Debian's headless Chromium driven by puppeteer-core (which
 * never downloads a browser). No console errors, every chart drawn, the header equal to `--json`.
 * Chromium missing is a failure, not a skip: `.ci/run` installs it (apt), and a report nobody opened is
 * not tested. TICKPACK_CHROMIUM names another binary; TICKPACK_REPORT_PNG=docs/report.png also saves
 * the README's screenshot from the single-set report.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";
import { duck } from "../bench/duckdb-reference.ts";
import { listPackedPartitions, partFileName } from "../../lib/packed/layout.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..", "..");
// page.evaluate's callback runs in the page: the DOM types are not in this project's lib.
// biome-ignore lint/suspicious/noExplicitAny: the page's DOM, untyped here
declare const document: any;
// biome-ignore lint/suspicious/noExplicitAny: the page's window, untyped here
declare const window: any;
const CHROMIUM = process.env.TICKPACK_CHROMIUM ?? "/usr/bin/chromium";

let packed: string;
let out: string;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM}: no Chromium to open the report in (apt-get install -y chromium, as .ci/run does; or set TICKPACK_CHROMIUM)`,
    );
  const raw = tempDir("report-raw");
  // Sample-like: both underlyings, weekly and monthly expiries, dense enough ticks for many trades.
  await genFixture(raw, { tickProb: 0.5, days: 3, strikesEachSide: 2 });
  packed = tempDir("report-packed");
  await repackFixture([raw], packed);
  out = tempDir("report-out");
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
});
afterAll(async () => {
  await browser?.close();
  cleanupTempDirs();
});

/** bench with --report and --json: the summary, and the report's path. */
function benchReport(name: string, args: string[]): { json: Record<string, unknown>; html: string } {
  const html = join(out, `${name}.html`);
  const r = runScript("bench.ts", [packed, "--workers", "2", "--no-cache", "--report", html, "--json", ...args]);
  if (r.code !== 0) throw new Error(`bench exited ${r.code}: ${r.stderr}`);
  expect(r.stderr).toContain(`Report written: ${html}`);
  return { json: JSON.parse(r.stdout), html };
}

/** The data a report page carries (its JSON <script>). */
function reportData(html: string) {
  return JSON.parse(
    /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(readFileSync(html, "utf8"))![1],
  );
}

interface Opened {
  errors: string[];
  rendered: string | null;
  charts: { name: string; kind: string; drawn: boolean; empty: string | null }[];
  header: { json: string; value: string; text: string }[];
  requests: string[];
  /**
   * Per uPlot chart: its points, and at 19 places across the plot how often the point the cursor
   * picks there is not the one nearest in time to the instant the axis puts there (0 on a time axis;
   * an axis spaced by points picks by index instead).
   */
  timeAxes: Record<string, { points: number; offTime: number }>;
  /** The top sets' chart: each series' legend label, stroke and dash as uPlot drew them. */
  topSeries: { label: string; stroke: string; dash: string }[];
}

/** Opens a report: console errors, each chart's state, the header's cells; optionally a screenshot. */
async function open(html: string, screenshot?: string): Promise<Opened> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${(e as Error).message}`));
  page.on("request", (r) => {
    // Only the page itself (file:) and what it makes inline (data: images) may load: no network.
    if (!/^(file|data):/.test(r.url())) requests.push(r.url());
  });
  try {
    await page.setViewport({ width: 1100, height: 800 });
    await page.goto(`file://${html}`, { waitUntil: "load" });
    await page.waitForSelector("html[data-rendered]", { timeout: 15_000 });
    const result = await page.evaluate(() => {
      const charts = [...document.querySelectorAll("[data-chart]")].map((el) => {
        const canvas = el.querySelector("canvas");
        let drawn = false;
        let kind = "none";
        if (canvas) {
          kind = "canvas";
          const ctx = canvas.getContext("2d");
          const px = ctx ? ctx.getImageData(0, 0, canvas.width, canvas.height).data : new Uint8ClampedArray();
          let painted = 0;
          for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
          drawn = painted > 500;
        } else if (el.querySelector("svg")) {
          kind = "svg";
          // Plot draws marks as rect/path groups with the aria-label of the mark.
          drawn = el.querySelectorAll("svg [aria-label^='bar'] rect, svg [aria-label^='cell'] rect").length > 0;
        }
        return { name: el.dataset.chart!, kind, drawn, empty: el.getAttribute("data-empty") };
      });
      const header = [...document.querySelectorAll("#header td[data-json]")].map((td) => ({
        json: td.dataset.json!,
        value: td.dataset.value!,
        text: td.textContent!,
      }));
      const timeAxes: Record<string, { points: number; offTime: number }> = {};
      // biome-ignore lint/suspicious/noExplicitAny: a uPlot instance in the page
      for (const [name, u] of Object.entries(window.tickpackCharts as Record<string, any>)) {
        const xs: number[] = Array.from(u.data[0]);
        const width = u.over.clientWidth;
        let offTime = 0;
        for (let f = 1; f < 20; f++) {
          const left = (f / 20) * width;
          u.setCursor({ left, top: 10 });
          const t = u.posToVal(left, "x");
          let nearest = 0;
          for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i] - t) < Math.abs(xs[nearest] - t)) nearest = i;
          if (u.cursor.idx !== nearest && Math.abs(xs[u.cursor.idx] - t) !== Math.abs(xs[nearest] - t)) offTime++;
        }
        // The cursor off the plot again (the screenshot shows none).
        u.setCursor({ left: -10, top: -10 });
        timeAxes[name] = { points: xs.length, offTime };
      }
      const top = window.tickpackCharts["top-sets"];
      const topSeries = top
        ? // biome-ignore lint/suspicious/noExplicitAny: uPlot's series in the page
          top.series.slice(1).map((s: any, i: number) => ({
            label: String(s.label),
            stroke: String(typeof s.stroke === "function" ? s.stroke(top, i + 1) : s.stroke),
            dash: (s.dash ?? []).join(","),
          }))
        : [];
      return {
        rendered: document.documentElement.getAttribute("data-rendered"),
        charts,
        header,
        timeAxes,
        topSeries,
      };
    });
    if (screenshot) await page.screenshot({ path: screenshot, clip: { x: 0, y: 0, width: 1100, height: 760 } });
    return { errors, requests, ...result };
  } finally {
    await page.close();
  }
}

/** The value at a header's JSON path (`rows`, `grid.3.pnl`) in a `--json` object. */
const atPath = (json: Record<string, unknown>, path: string): unknown =>
  path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], json);

/** The checks every report passes: drawn, no errors, no network, header = JSON, time axes. */
function expectGood(o: Opened, json: Record<string, unknown>, charts: string[]) {
  expect(o.errors).toEqual([]);
  expect(o.requests).toEqual([]);
  expect(o.rendered).toBe("ok");
  expect(o.charts.map((c) => c.name).sort()).toEqual([...charts].sort());
  for (const c of o.charts)
    expect({ name: c.name, drawn: c.drawn, empty: c.empty }).toEqual({ name: c.name, drawn: true, empty: null });
  expect(o.header.length).toBeGreaterThanOrEqual(8);
  for (const h of o.header)
    expect({ field: h.json, value: JSON.parse(h.value) }).toEqual({ field: h.json, value: atPath(json, h.json) });
  // A grid's trades and PnL are its best set's (`grid.K.trades`), a single set's the run's.
  const cell = (field: string) => o.header.find((h) => h.json === field || h.json.endsWith(`.${field}`))!;
  const text = (field: string) => cell(field).text;
  expect(text("rows")).toBe((json.rows as number).toLocaleString("en-US"));
  expect(text("trades")).toBe((atPath(json, cell("trades").json) as number).toLocaleString("en-US"));
  expect(text("pnl")).toBe((atPath(json, cell("pnl").json) as number).toFixed(2));
  // Every curve is drawn against time: a point sits where its instant falls, nights and gaps included.
  for (const [name, a] of Object.entries(o.timeAxes))
    if (a.points > 2) expect({ name, offTime: a.offTime }).toEqual({ name, offTime: 0 });
  expect(text("elapsed_s")).toStartWith(`${(json.elapsed_s as number).toFixed(3)} s`);
  expect(text("rows_per_s")).toBe(`${Math.round(json.rows_per_s as number).toLocaleString("en-US")} rows/s`);
  expect(text("partitions")).toStartWith(`${json.partitions} (${json.files} files)`);
}

const SINGLE_CHARTS = ["equity", "drawdown", "by-day", "by-dte", "by-expiry-type", "by-opt", "by-atm", "holding"];

describe("bench --report in headless Chromium", () => {
  test("one set: every chart drawn, header = --json, self-contained and small", async () => {
    const { json, html } = benchReport("single", []);
    expect(json.trades as number).toBeGreaterThan(100);
    const shot = process.env.TICKPACK_REPORT_PNG
      ? join(ROOT, process.env.TICKPACK_REPORT_PNG)
      : join(out, "report.png");
    const o = await open(html, shot);
    expectGood(o, json, SINGLE_CHARTS);
    expect(o.timeAxes.equity.points).toBeGreaterThan(10);
    expect(o.header.find((h) => h.json === "params")!.text).toBe("fast=5 slow=21 max_spread=0.0005 min_volume=1");
    const page = readFileSync(html, "utf8");
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    expect(statSync(html).size).toBeLessThan(2 * 2 ** 20);
    expect(statSync(shot).size).toBeLessThan(400 * 1024);
    // The page's own sums agree with the run's; partitions taken in any order (largest first, as they
    // finish) give the same page as one worker taking them in order.
    const data = reportData(html);
    expect([data.stats.trades, data.byDay.reduce((a: number, d: { trades: number }) => a + d.trades, 0)]).toEqual([
      json.trades,
      json.trades,
    ]);
    expect(data.stats.pnl).toBeCloseTo(json.pnl as number, 1);
    const one = reportData(benchReport("single-1-worker", ["--workers", "1"]).html);
    const drop = ({ generated, header, ...rest }: Record<string, unknown>) => rest;
    expect(drop(one)).toEqual(drop(data));
    // With a trade log beside it (partitions in order, the log and the sums both kept): the same page.
    const logged = reportData(benchReport("single-with-trades", ["--trades", join(out, "single-trades.csv")]).html);
    expect(drop(logged)).toEqual(drop(data));
  });

  test("a partition whose parts hold two days (not one repack writes): its curve comes from a second run with a trade log", () => {
    // Day 2's NIFTY part moved in beside day 1's: one partition whose exits fall on two IST days.
    const two = tempDir("report-two-days");
    cpSync(packed, two, { recursive: true, filter: (src) => !src.includes("_tickpack") });
    const [d1, d2] = listPackedPartitions(two).filter((p) => p.underlying === "NIFTY");
    renameSync(d2.parts[0], join(dirname(d1.parts[0]), partFileName("seed", "NIFTY", 1)));
    rmSync(dirname(d2.parts[0]), { recursive: true });
    const html = join(out, "two-days.html");
    const r = runScript("bench.ts", [two, "--workers", "2", "--no-cache", "--report", html, "--json"]);
    expect(r.code).toBe(0);
    expect(runScript("bench.ts", [two, "--no-cache", "--trades", join(out, "two-days.csv")]).code).toBe(0);
    const json = JSON.parse(r.stdout);
    const data = reportData(html);
    expect(data.stats.trades).toBe(json.trades);
    // Copied without its kept calendar: expiry types by the weekday rule, and the page says so.
    expect(data.expiryTypeFrom).toBe("weekday rule");
    const total = data.curves.series[0];
    expect(total.cum[total.cum.length - 1]).toBeCloseTo(json.pnl, 1);
    // The curve's PnL by exit day equals the trade log's.
    const log = readFileSync(join(out, "two-days.csv"), "utf8").trim().split("\n");
    const cols = log[0].split(",");
    const byDay = new Map<string, number>();
    for (const line of log.slice(1)) {
      const f = line.split(",");
      const day = new Date(Date.parse(f[cols.indexOf("exit_time")]) + 19_800_000).toISOString().slice(0, 10);
      byDay.set(day, (byDay.get(day) ?? 0) + Number(f[cols.indexOf("pnl")]));
    }
    let prev = 0;
    const curveByDay = new Map<string, number>();
    data.curves.x.forEach((x: number, i: number) => {
      // A bin's end is its last instant's next second: its exits are before it.
      const day = new Date((x - 1) * 1000 + 19_800_000).toISOString().slice(0, 10);
      curveByDay.set(day, (curveByDay.get(day) ?? 0) + total.cum[i] - prev);
      prev = total.cum[i];
    });
    // Without the second run, day 2's exits of that partition would be missing from the curve.
    expect([...curveByDay.keys()].filter((d) => Math.abs(curveByDay.get(d)!) > 0).sort()).toEqual(
      [...byDay.keys()].sort(),
    );
    // The page rounds the cumulative PnL to cents.
    for (const [day, pnl] of byDay)
      expect({ day, off: Math.abs(curveByDay.get(day)! - pnl) < 0.02 }).toEqual({ day, off: true });
  });

  test("the ATM estimate from the trades against the data's own: the strike where the first CE and PE prices of the day are closest", async () => {
    const { html } = benchReport("atm", []);
    const data = reportData(html);
    const parts = listPackedPartitions(packed)
      .flatMap((p) => p.parts)
      .map((f) => `'${f}'`);
    const conn = await duck();
    // Per day, underlying and expiry: each strike's first valid CE and PE price of the day (the open).
    const reader = await conn.runAndReadAll(`
      WITH r AS (SELECT date, underlying::VARCHAR u, expiry, opt_type::VARCHAR opt, strike, price, timestamp FROM read_parquet([${parts.join(",")}]) WHERE price > 0),
      f AS (SELECT date, u, expiry, strike, opt, arg_min(price, timestamp) p FROM r GROUP BY ALL),
      g AS (SELECT c.date, c.u, c.expiry, c.strike, abs(c.p - q.p) gap FROM f c JOIN f q ON c.date = q.date AND c.u = q.u AND c.expiry = q.expiry AND c.strike = q.strike AND c.opt = 'CE' AND q.opt = 'PE')
      SELECT date::VARCHAR d, u, expiry::VARCHAR e, arg_min(strike, gap)::DOUBLE atm FROM g GROUP BY ALL ORDER BY ALL`);
    const truth = new Map(reader.getRowObjects().map((r) => [`${r.d}/${r.u}/${r.e}`, Number(r.atm)]));
    const est: { date: string; underlying: string; expiry: string; strike: number | null; step: number | null }[] =
      data.atm;
    // Every partition has one (the ema_cross run trades both sides of some expiry each day).
    expect(est.length).toBe(listPackedPartitions(packed).length);
    // On the expiry the estimate used, against the open's prices: the trades' first entries come
    // minutes after the open, so it may be a strike off, never more.
    let exact = 0;
    for (const a of est) {
      const t = truth.get(`${a.date}/${a.underlying}/${a.expiry}`)!;
      expect({ partition: `${a.date}/${a.underlying}`, off: Math.abs(a.strike! - t) <= a.step! }).toEqual({
        partition: `${a.date}/${a.underlying}`,
        off: true,
      });
      if (a.strike === t) exact++;
    }
    expect(exact).toBeGreaterThanOrEqual(est.length / 2);
  });

  test("a 36-set grid: heatmap over fast × slow (the default axes) and the top sets' curves", async () => {
    const { json, html } = benchReport("grid", [
      "--grid",
      "fast=3,5,8;slow=13,21,34;max_spread=0.0005,0.001;min_volume=1,2",
    ]);
    expect(json.sets).toBe(36);
    const o = await open(html);
    expectGood(o, json, [...SINGLE_CHARTS, "heatmap", "top-sets"]);
    const data = reportData(html);
    expect([data.heatmap.x, data.heatmap.y, data.heatmap.cells.length]).toEqual(["fast", "slow", 9]);
    // Each cell: the best of the 4 sets sharing its fast and slow.
    const grid = json.grid as { params: Record<string, number>; pnl: number }[];
    for (const c of data.heatmap.cells) {
      const best = Math.max(...grid.filter((g) => g.params.fast === c.x && g.params.slow === c.y).map((g) => g.pnl));
      expect(c.pnl).toBeCloseTo(best, 2);
    }
    // The featured set is the best; its curve ends at its PnL.
    const top = grid.reduce((a, g, k) => (g.pnl > grid[a].pnl ? k : a), 0);
    expect(data.featured.set).toBe(top);
    const total = data.curves.series[0].cum;
    expect(total[total.length - 1]).toBeCloseTo(grid[top].pnl, 1);
    // The headline is that set's, not the grid's sum.
    const paths = o.header.map((h) => h.json);
    expect(paths).toContain(`grid.${top}.trades`);
    expect(paths).toContain(`grid.${top}.pnl`);
    expect(paths.filter((p) => p === "trades" || p === "pnl")).toEqual([]);
    // The top sets' curves: each its own colour and dash, the legend naming the set and its parameters.
    const best5 = grid
      .map((g, k) => ({ g, k }))
      .sort((a, b) => b.g.pnl - a.g.pnl || a.k - b.k)
      .slice(0, 5);
    expect(o.topSeries.map((s) => s.label)).toEqual(
      best5.map(
        ({ g, k }) =>
          `#${k} ${Object.entries(g.params)
            .map(([p, v]) => `${p}=${v}`)
            .join(" ")}`,
      ),
    );
    expect(new Set(o.topSeries.map((s) => s.stroke)).size).toBe(5);
    expect(new Set(o.topSeries.map((s) => s.dash)).size).toBe(5);
    const legend = [
      ...readFileSync(html, "utf8").matchAll(/<tr data-set="(\d+)" data-color="([^"]+)" data-dash="([^"]*)">/g),
    ];
    expect(legend.map((r) => [Number(r[1]), r[2], r[3]])).toEqual(
      best5.map(({ k }, i) => [k, o.topSeries[i].stroke, o.topSeries[i].dash]),
    );
    // --report-axes picks others.
    const other = benchReport("grid-axes", [
      "--grid",
      "fast=3,5;slow=13,21;min_volume=1,2",
      "--report-axes",
      "min_volume,fast",
    ]);
    const d2 = reportData(other.html);
    expect([d2.heatmap.x, d2.heatmap.y]).toEqual(["min_volume", "fast"]);
  });

  test("with money (--fill touch, the shipped costs, --rank net): ₹ by day, costs, statistics; expiry types from the kept calendar", async () => {
    const { json, html } = benchReport("money", [
      "--grid",
      "fast=3,5;slow=13,21",
      "--fill",
      "touch",
      "--costs",
      join(ROOT, "costs", "nse-index-options.json"),
      "--rank",
      "net",
    ]);
    const grid = json.grid as (Record<string, unknown> & { net: number; params: Record<string, number> })[];
    const best = grid.reduce((a, g, k) => (g.net > grid[a].net ? k : a), 0);
    const o = await open(html);
    expectGood(o, json, [...SINGLE_CHARTS, "money-equity", "money-drawdown", "heatmap", "top-sets"]);
    const data = reportData(html);
    expect(data.featured.set).toBe(best);
    expect(o.header.find((h) => h.json === `grid.${best}.net`)).toBeDefined();
    // The ₹ curves end at the set's gross and net; the net's drawdown reaches its max drawdown.
    const [net, gross] = data.money.equity.series;
    expect(net.cum.at(-1)).toBeCloseTo(grid[best].net, 1);
    expect(gross.cum.at(-1)).toBeCloseTo(grid[best].gross as number, 1);
    expect(-Math.min(...net.dd)).toBeCloseTo(grid[best].max_drawdown as number, 1);
    expect(data.money.days.length).toBe(grid[best].days);
    const page = readFileSync(html, "utf8");
    for (const field of ["days", "sharpe", "max_drawdown", "profit_factor", "win_rate"]) {
      const v = new RegExp(`data-stat="${field}" data-value="([^"]*)"`).exec(page)![1];
      expect({ field, value: JSON.parse(v.replace(/&#34;/g, '"')) }).toEqual({ field, value: grid[best][field] });
    }
    for (const [component, rupees] of Object.entries(grid[best].costs_by_component as Record<string, number>)) {
      const v = new RegExp(`data-component="${component}" data-value="([^"]*)"`).exec(page)![1];
      expect({ component, rupees: Number(v) }).toEqual({ component, rupees });
    }
    expect(Number(/data-component="total" data-value="([^"]*)"/.exec(page)![1])).toBe(grid[best].costs as number);
    // The heatmap's cells (one set each over fast × slow) are the sets' net ₹.
    expect(data.heatmap.rank).toBe("net");
    for (const c of data.heatmap.cells) expect(c.value).toBeCloseTo(grid[c.set].net, 2);
    // gen's calendar, kept by repack, says each expiry's type.
    expect(data.expiryTypeFrom).toBe("calendar");
    expect(page).toContain("the expiry calendar repack kept with the packed data");
  });

  test("a user kernel (examples/mid_reversion.c): drawn, header = --json", async () => {
    const { json, html } = benchReport("kernel", ["--kernel", join(ROOT, "examples", "mid_reversion.c")]);
    expect(json.trades as number).toBeGreaterThan(10);
    const o = await open(html);
    expectGood(o, json, SINGLE_CHARTS);
  });

  test("a filtered run (slice filters): the header names the filters as --json does", async () => {
    const { json, html } = benchReport("filtered", ["--from", "2025-11-18", "--underlyings", "NIFTY", "--dte", "0:6"]);
    expect(json.filters).toEqual({ from: "2025-11-18", underlyings: ["NIFTY"], dte: [0, 6] });
    expect(json.trades as number).toBeGreaterThan(10);
    const o = await open(html);
    expectGood(o, json, SINGLE_CHARTS);
    expect(o.header.find((h) => h.json === "filters")!.text).toBe("from=2025-11-18 underlyings=NIFTY dte=0:6");
    expect(o.header.map((h) => h.json)).toContain("partitions_pruned");
  });

  test("usage errors: --report-axes without --report, unknown or repeated axes, a folder as FILE", () => {
    const f = join(out, "x.html");
    const cases: [string[], RegExp][] = [
      [["--report-axes", "fast,slow"], /needs --report/],
      [["--report", f, "--report-axes", "fast"], /two different parameter names/],
      [["--report", f, "--report-axes", "fast,fast"], /two different parameter names/],
      [["--report", f, "--report-axes", "fast,nope"], /nope is not a parameter/],
      [["--report", out], /is a folder/],
    ];
    for (const [args, message] of cases) {
      const r = runScript("bench.ts", [packed, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(f)).toBe(false);
  });
});
