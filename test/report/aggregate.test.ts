import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { BenchSummary, ReportSumsBlock, TradeBlock } from "../../lib/bench/bench.ts";
import { reportSumsReference } from "../../kernel/report-sums.ts";
import { estimateAtm } from "../../lib/report/atm.ts";
import { maxBinsFor, ReportAggregator } from "../../lib/report/aggregate.ts";
import { ATM_BUCKETS, ATM_SPAN, DTE_BUCKETS, expiryTypeFromCalendar } from "../../lib/report/buckets.ts";
import { parseExpiryCalendar } from "../../lib/raw/calendar.ts";
import { renderReportHtml } from "../../lib/report/html.ts";
import { buildReportData, heatmapAxes } from "../../lib/report/report-data.ts";
import { TimeBins } from "../../lib/report/time-bins.ts";
import { istWallClockToEpochNs, parseIsoDate } from "../../lib/ist-time.ts";
import { SeededRandom } from "../../lib/random.ts";
import { NULL_KEY } from "../../kernel/segment-key.ts";

// Seconds of CPU work each on a quiet machine: the suite must also pass on a loaded one.
setDefaultTimeout(60_000);

const mulberry32 = (seed: number) => {
  const r = new SeededRandom(seed);
  return () => r.next();
};

interface T {
  set?: number;
  expiry: string | null;
  opt: number;
  strike: number;
  entry: [string, number];
  exit: [string, number];
  entryPrice?: number;
  pnl: number;
}
/** A trade block from readable trades (times: IST date and seconds after midnight). */
function block(date: string, underlying: string, trades: T[]): TradeBlock {
  const n = trades.length;
  const ts = (d: string, s: number) => istWallClockToEpochNs(parseIsoDate(d), s);
  return {
    date,
    underlying,
    length: n,
    set: Float64Array.from(trades, (t) => t.set ?? 0),
    expiry: Float64Array.from(trades, (t) => (t.expiry === null ? NULL_KEY : parseIsoDate(t.expiry))),
    optCode: Float64Array.from(trades, (t) => t.opt),
    strike: Float64Array.from(trades, (t) => t.strike),
    entryTs: BigInt64Array.from(trades, (t) => ts(...t.entry)),
    exitTs: BigInt64Array.from(trades, (t) => ts(...t.exit)),
    entryPrice: Float64Array.from(trades, (t) => t.entryPrice ?? 100),
    exitPrice: Float64Array.from(trades, (t) => (t.entryPrice ?? 100) + t.pnl),
    pnl: Float64Array.from(trades, (t) => t.pnl),
  };
}

/** A partition's report sums from readable trades (the driver's sums, by their reference), for a run of `sets` sets. */
function sums(date: string, underlying: string, trades: T[], sets = 1): ReportSumsBlock {
  const b = block(date, underlying, trades);
  return { date, underlying, sums: reportSumsReference(b, sets), spillTrades: null };
}

function summaryOf(
  grid: { params: Record<string, number>; pnl: number; trades: number }[],
  extra: Record<string, unknown> = {},
): BenchSummary {
  const g = grid.map((x) => ({ ...x, rows: 100, valid_rows: 90, by_underlying: {} }));
  return {
    rows: 100,
    valid_rows: 90,
    trades: g.reduce((a, x) => a + x.trades, 0),
    pnl: g.reduce((a, x) => a + x.pnl, 0),
    elapsed_s: 1.5,
    rows_per_s: 66.7,
    row_sets_per_s: 66.7 * g.length,
    files: 2,
    partitions: 2,
    workers: 2,
    kernel: "/k/ema_cross.c",
    params: g[0].params,
    by_underlying: {},
    sets: g.length,
    grid: g,
    columns_read: [],
    cache: null,
    ...extra,
  } as unknown as BenchSummary;
}

describe("time bins", () => {
  test("sums survive coarsening and out-of-order blocks; never more bins than the cap", () => {
    const rnd = mulberry32(3);
    const bins = new TimeBins(64);
    const s = bins.addSeries();
    let total = 0;
    const t0 = 1_763_350_000;
    for (let k = 0; k < 40; k++) {
      // Blocks in shuffled time order, spanning up to a month.
      const from = t0 + Math.floor(rnd() * 30 * 86_400);
      const times = Array.from({ length: 50 }, () => from + rnd() * 6 * 3600);
      bins.cover(Math.min(...times), Math.max(...times));
      for (const t of times) {
        const v = Math.round(rnd() * 200 - 100) / 4;
        bins.add(s, t, v);
        total += v;
      }
      expect(bins.length).toBeLessThanOrEqual(64);
    }
    const sums = bins.sums(s);
    expect(sums.reduce((a, b) => a + b, 0)).toBeCloseTo(total, 6);
    expect(bins.widthS).toBeGreaterThan(60);
    const ends = Array.from({ length: bins.length }, (_, k) => bins.binEnd(k));
    expect(ends.every((e, i) => i === 0 || e - ends[i - 1] === bins.widthS)).toBe(true);
  });

  test("fitSpan: the narrowest power-of-two width whose bins hold the span, before any value only", () => {
    const bins = new TimeBins(8192);
    // 26 IST days: 37,440 minutes need 8-minute bins (4,681 touched at most); 4 minutes would need 9,361.
    bins.fitSpan(26 * 86_400);
    expect(bins.widthS).toBe(480);
    const one = new TimeBins(8192);
    one.fitSpan(86_400);
    expect(one.widthS).toBe(60);
    const tiny = new TimeBins(4);
    tiny.fitSpan(3 * 60);
    // 3 minutes starting inside a bin touch 4 one-minute bins: they fit.
    expect(tiny.widthS).toBe(60);
    tiny.fitSpan(4 * 60);
    expect(tiny.widthS).toBe(120); // 4 minutes may touch 5
    tiny.fitSpan(60);
    expect(tiny.widthS).toBe(120); // a later call widens, never narrows
    const used = new TimeBins(64);
    used.addSeries();
    used.cover(1_000_000, 1_000_100);
    used.fitSpan(30 * 86_400);
    expect(used.widthS).toBe(60); // bins holding values are left as they are
  });

  test("bins fitted to the run's days hold the same sums as bins that coarsened to the same width", () => {
    const rnd = mulberry32(9);
    const t0 = 1_763_337_600; // 2025-11-17 00:00 UTC
    const values: [number, number][] = [];
    for (let k = 0; k < 2000; k++)
      values.push([t0 + Math.floor(rnd() * 20 * 86_400), Math.round(rnd() * 400 - 200) / 4]);
    const coarsened = new TimeBins(256);
    const fitted = new TimeBins(256);
    fitted.fitSpan(20 * 86_400);
    for (const bins of [coarsened, fitted]) {
      const s = bins.addSeries();
      for (let k = 0; k < values.length; k += 100) {
        const block = values.slice(k, k + 100);
        bins.cover(Math.min(...block.map((v) => v[0])), Math.max(...block.map((v) => v[0])));
        for (const [t, v] of block) bins.add(s, t, v);
      }
    }
    expect(fitted.widthS).toBe(coarsened.widthS);
    // Quarter points: every partial sum is exact, whatever the order of the additions.
    const ends = (b: TimeBins) => Array.from({ length: b.length }, (_, k) => b.binEnd(k));
    expect(ends(fitted)).toEqual(ends(coarsened));
    expect(fitted.sums(0)).toEqual(coarsened.sums(0));
  });

  test("cap per series shrinks with the number of series, within 512–8192", () => {
    expect(maxBinsFor(2)).toBe(8192);
    expect(maxBinsFor(1024)).toBe(4096);
    expect(maxBinsFor(100_000)).toBe(512);
  });
});

describe("ATM estimate", () => {
  test("the strike where the first CE and PE entries are closest, on the nearest expiry", () => {
    // Spot ~ 25,120: at 25,100 CE 60 / PE 40 (gap 20), at 25,150 CE 35 / PE 65 (gap 30), at 25,050 CE 95 / PE 25.
    const trades: T[] = [
      {
        expiry: "2025-11-18",
        opt: 0,
        strike: 25_100,
        entry: ["2025-11-17", 33_400],
        exit: ["2025-11-17", 33_500],
        entryPrice: 60,
        pnl: 1,
      },
      {
        expiry: "2025-11-18",
        opt: 0,
        strike: 25_100,
        entry: ["2025-11-17", 40_000],
        exit: ["2025-11-17", 40_100],
        entryPrice: 10,
        pnl: 1,
      }, // later: ignored
      {
        expiry: "2025-11-18",
        opt: 1,
        strike: 25_100,
        entry: ["2025-11-17", 33_500],
        exit: ["2025-11-17", 33_600],
        entryPrice: 40,
        pnl: -1,
      },
      {
        expiry: "2025-11-18",
        opt: 0,
        strike: 25_150,
        entry: ["2025-11-17", 33_450],
        exit: ["2025-11-17", 33_600],
        entryPrice: 35,
        pnl: 1,
      },
      {
        expiry: "2025-11-18",
        opt: 1,
        strike: 25_150,
        entry: ["2025-11-17", 33_460],
        exit: ["2025-11-17", 33_600],
        entryPrice: 65,
        pnl: 1,
      },
      {
        expiry: "2025-11-18",
        opt: 0,
        strike: 25_050,
        entry: ["2025-11-17", 33_470],
        exit: ["2025-11-17", 33_600],
        entryPrice: 95,
        pnl: 1,
      },
      {
        expiry: "2025-11-18",
        opt: 1,
        strike: 25_050,
        entry: ["2025-11-17", 33_480],
        exit: ["2025-11-17", 33_600],
        entryPrice: 25,
        pnl: 1,
      },
      // A later expiry with a closer pair does not count; nor does a null key.
      {
        expiry: "2025-11-25",
        opt: 0,
        strike: 25_300,
        entry: ["2025-11-17", 33_400],
        exit: ["2025-11-17", 33_600],
        entryPrice: 50,
        pnl: 1,
      },
      {
        expiry: "2025-11-25",
        opt: 1,
        strike: 25_300,
        entry: ["2025-11-17", 33_400],
        exit: ["2025-11-17", 33_600],
        entryPrice: 50,
        pnl: 1,
      },
      { expiry: null, opt: 0, strike: 1, entry: ["2025-11-17", 33_400], exit: ["2025-11-17", 33_600], pnl: 1 },
    ];
    const b = block("2025-11-17", "NIFTY", trades);
    const entryS = Float64Array.from(b.entryTs, (x) => Number(x) / 1e9);
    const atm = estimateAtm({ ...b, entryS }, parseIsoDate("2025-11-17"));
    expect(atm).toEqual({ expiry: parseIsoDate("2025-11-18"), strike: 25_100, step: 50, gap: 20, pairs: 3 });
    expect(
      estimateAtm({ ...block("2025-11-17", "X", trades.slice(0, 2)), entryS: entryS.slice(0, 2) }, null).strike,
    ).toBeNull();
  });
});

describe("aggregator", () => {
  test("buckets: days to expiry, expiry type without a calendar, option type, ATM distance, holding time; sums per set", () => {
    const agg = new ReportAggregator(2);
    const base = { entry: ["2025-11-17", 36_000] as [string, number] };
    agg.add(
      sums(
        "2025-11-17",
        "NIFTY",
        [
          {
            ...base,
            expiry: "2025-11-18",
            opt: 0,
            strike: 25_100,
            exit: ["2025-11-17", 36_000.5],
            entryPrice: 50,
            pnl: 2,
          }, // dte 1, weekly, ATM, <1 s
          {
            ...base,
            expiry: "2025-11-18",
            opt: 1,
            strike: 25_100,
            exit: ["2025-11-17", 36_030],
            entryPrice: 52,
            pnl: -1,
          }, // 15–60 s
          { ...base, expiry: "2025-11-25", opt: 1, strike: 25_300, exit: ["2025-11-17", 36_000 + 4 * 3600], pnl: 3 }, // dte 8, monthly (last Tuesday), +4 steps of 50, ≥3 h
          { ...base, expiry: "2025-11-25", opt: 1, strike: 25_350, exit: ["2025-11-17", 36_000 + 4 * 3600], pnl: 0 }, // makes the step 50
          { ...base, set: 1, expiry: "2025-11-25", opt: 0, strike: 26_000, exit: ["2025-11-17", 37_000], pnl: -4 }, // > +10 steps
          { ...base, set: 1, expiry: null, opt: NULL_KEY, strike: NULL_KEY, exit: ["2025-11-17", 37_000], pnl: 5 },
        ],
        2,
      ),
    );
    agg.add(sums("2025-11-18", "BANKNIFTY", [], 2));
    expect(agg.partitions).toBe(2);
    expect([...agg.dates].sort()).toEqual(["2025-11-17", "2025-11-18"]);
    const s0 = agg.stats[0];
    expect([s0.trades, s0.wins, s0.losses, s0.pnl, s0.winPnl, s0.lossPnl]).toEqual([4, 2, 1, 4, 5, -1]);
    expect(agg.byDte.of(0)[1]).toEqual({ pnl: 1, trades: 2, wins: 1 });
    expect(agg.byDte.of(0)[8]).toEqual({ pnl: 3, trades: 2, wins: 1 });
    expect(agg.byDte.of(1)[DTE_BUCKETS.length - 1]).toEqual({ pnl: 5, trades: 1, wins: 1 });
    expect(agg.expiryTypeSums(0, null).sums.map((b) => b.trades)).toEqual([2, 2, 0]);
    expect(agg.byOpt.of(1).map((b) => b.pnl)).toEqual([-4, 0, 5]);
    const A = ATM_BUCKETS.length;
    const atm0 = agg.byAtm.of(0);
    expect(atm0[0 * A + ATM_SPAN + 1].trades).toBe(1); // CE at ATM
    expect(atm0[1 * A + ATM_SPAN + 1 + 4].pnl).toBe(3); // PE +4 steps
    expect(agg.byAtm.of(1)[0 * A + A - 2].pnl).toBe(-4); // CE beyond +10
    expect(agg.byAtm.of(1)[2 * A + A - 1].pnl).toBe(5); // null key: other, unknown
    expect(agg.byHold.of(0).map((b) => b.trades)).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 2]);
    expect(agg.dayPnl(1)).toEqual([
      { date: "2025-11-17", pnl: 1, trades: 2, wins: 1 },
      { date: "2025-11-18", pnl: 0, trades: 0, wins: 0 },
    ]);
    expect(agg.atm).toEqual([
      {
        date: "2025-11-17",
        underlying: "NIFTY",
        expiry: parseIsoDate("2025-11-18"),
        strike: 25_100,
        step: 50,
        gap: 2,
        pairs: 1,
      },
    ]);
  });

  test("1M trades over a year: bounded curves, a report of a few MB; the header shows the summary's values and filters", () => {
    const sets = 4;
    const agg = new ReportAggregator(sets);
    const rnd = mulberry32(11);
    let day = parseIsoDate("2025-01-01");
    let total = 0;
    const perSet = new Float64Array(sets);
    for (let p = 0; p < 250; p++, day += 1 + (p % 5 === 0 ? 2 : 0)) {
      const n = 4000;
      const date = new Date(day * 86_400_000).toISOString().slice(0, 10);
      const trades: T[] = [];
      for (let k = 0; k < n; k++) {
        const entry = 33_300 + rnd() * 22_000;
        const pnl = Math.round((rnd() - 0.49) * 40) / 20;
        const set = k % sets;
        perSet[set] += pnl;
        total += pnl;
        trades.push({
          set,
          expiry: new Date((day + (k % 9)) * 86_400_000).toISOString().slice(0, 10),
          opt: k % 2,
          strike: 25_000 + 50 * (k % 21),
          entry: [date, entry],
          exit: [date, entry + rnd() * 600],
          entryPrice: 20 + rnd() * 100,
          pnl,
        });
      }
      agg.add(sums(date, k(p), trades, sets));
    }
    function k(p: number) {
      return p % 2 ? "NIFTY" : "BANKNIFTY";
    }
    expect(agg.stats.reduce((a, s) => a + s.trades, 0)).toBe(1_000_000);
    expect(agg.bins.length).toBeLessThanOrEqual(agg.bins.maxBins);
    const grid = Array.from({ length: sets }, (_, s) => ({
      params: { fast: 3 + s, slow: 21, max_spread: 0.0005, min_volume: s % 2 },
      pnl: perSet[s],
      trades: 250_000,
    }));
    const summary = summaryOf(grid, {
      filters: { underlyings: ["NIFTY"], dte: [0, 7] },
      partitions_pruned: 3,
      row_groups_read: 10,
      row_groups_skipped: 5,
    });
    const data = buildReportData(summary, agg, { axes: null, kernelLabel: "ema_cross (built-in)" });
    const best = [...perSet.keys()].sort((a, b) => perSet[b] - perSet[a])[0];
    expect(data.featured.set).toBe(best);
    const totalCurve = data.curves.series[0];
    expect(totalCurve.cum[totalCurve.cum.length - 1]).toBeCloseTo(perSet[best], 0);
    expect(data.curves.x.length).toBeLessThanOrEqual(agg.bins.maxBins);
    expect(Math.min(...totalCurve.dd)).toBeLessThanOrEqual(0);
    expect(data.topSets!.series.length).toBe(sets);
    expect(data.heatmap!.x).toBe("fast");
    expect(data.heatmap!.y).toBe("min_volume");
    expect(data.byDay.reduce((a, d) => a + d.trades, 0)).toBe(250_000);
    const field = (json: string) => data.header.find((h) => h.json === json)!;
    expect(field("row_groups_skipped").text).toBe("5 of 15");
    expect(field("rows").value).toBe(100);
    expect(field("elapsed_s").value).toBe(1.5);
    expect(field("filters").text).toBe("underlyings=NIFTY dte=0:7");
    const html = renderReportHtml(data);
    expect(html.length).toBeLessThan(3 * 2 ** 20);
    expect(total).not.toBe(0);
  });

  test("a partition whose exits fall on two IST days is flagged, and its curve comes from its trades", () => {
    const agg = new ReportAggregator(1);
    const b = block("2025-11-17", "NIFTY", [
      { expiry: "2025-11-18", opt: 0, strike: 1, entry: ["2025-11-17", 86_000], exit: ["2025-11-17", 86_300], pnl: 2 },
      { expiry: "2025-11-18", opt: 0, strike: 1, entry: ["2025-11-18", 100], exit: ["2025-11-18", 400], pnl: -5 },
    ]);
    const s = reportSumsReference(b, 1);
    expect(s.spilled).toBe(true);
    agg.add({ date: "2025-11-17", underlying: "NIFTY", sums: s, spillTrades: b });
    expect([...agg.bins.sums(0)].filter((v) => v !== 0)).toEqual([2, -5]);
    expect(agg.stats[0].pnl).toBe(-3);
  });

  test("heatmap axes: the named ones, else the first two that vary, else none", () => {
    const g = (fast: number, slow: number, band: number) => ({
      params: { fast, slow, band },
      rows: 0,
      valid_rows: 0,
      trades: 0,
      pnl: 0,
      by_underlying: {},
    });
    expect(heatmapAxes([g(3, 21, 1), g(5, 21, 2)], null)).toEqual(["fast", "band"]);
    expect(heatmapAxes([g(3, 21, 1), g(5, 21, 1)], null)).toBeNull();
    expect(heatmapAxes([g(3, 21, 1)], ["slow", "band"])).toEqual(["slow", "band"]);
  });

  test("the page keeps its data and scripts inside their <script> elements", () => {
    const agg = new ReportAggregator(1);
    agg.add(
      sums("2025-11-17", "</script><b>x", [
        {
          expiry: "2025-11-18",
          opt: 0,
          strike: 1,
          entry: ["2025-11-17", 36_000],
          exit: ["2025-11-17", 36_100],
          pnl: 1,
        },
      ]),
    );
    const html = renderReportHtml(
      buildReportData(summaryOf([{ params: { a: 1 }, pnl: 1, trades: 1 }]), agg, { axes: null, kernelLabel: "k<i>" }),
    );
    expect(html).not.toContain("</script><b>");
    expect(html).toContain("k&#60;i&#62;");
  });
});

describe("money, ranking and the data's expiry types in the report", () => {
  const COMPONENTS = ["brokerage", "stt", "exchange", "sebi", "ipft", "stamp", "gst"] as const;
  /** Three sets with money: by PnL 0, 1, 2; by net 1, 2, 0; by Sharpe 2, 1, 0. */
  function moneyRun() {
    const agg = new ReportAggregator(3);
    const days = ["2025-11-17", "2025-11-18", "2025-11-20"];
    for (const date of days)
      agg.add(
        sums(
          date,
          "NIFTY",
          [0, 1, 2].map((set) => ({
            set,
            expiry: "2025-11-25",
            opt: 0,
            strike: 25_000,
            entry: [date, 36_000] as [string, number],
            exit: [date, 36_600] as [string, number],
            pnl: 3 - set,
          })),
          3,
        ),
      );
    const net = [
      [-100, -300, 50], // a first day below 0: the drawdown counts from 0, not from it
      [400, -100, 300],
      [10, 20, 15],
    ];
    const gross = net.map((d) => d.map((v) => v + 40));
    const costs = (k: number) => Object.fromEntries(COMPONENTS.map((c, i) => [c, (k + 1) * (i + 1)]));
    const stats = [
      { days: 3, sharpe: -0.5, max_drawdown: 300, profit_factor: 0.5, win_rate: 0.66 },
      { days: 3, sharpe: 1.2, max_drawdown: 100, profit_factor: 7, win_rate: 0.66 },
      { days: 3, sharpe: 25.1, max_drawdown: 0, profit_factor: null, win_rate: 1 },
    ];
    const grid = [0, 1, 2].map((k) => ({
      params: { fast: 3 + k, slow: 21 + 13 * (k % 2) },
      pnl: [9, 6, 3][k],
      trades: 3,
      gross: gross[k].reduce((a, v) => a + v, 0),
      costs: 120,
      costs_by_component: costs(k),
      net: net[k].reduce((a, v) => a + v, 0),
      ...stats[k],
    }));
    const summary = summaryOf(grid, { gross: 1, costs: 360, net: 1, ...stats[0] });
    const daily = { days, gross: gross.map((d) => Float64Array.from(d)), net: net.map((d) => Float64Array.from(d)) };
    return { agg, summary, daily, grid, net, stats };
  }

  test("the featured set, the headline, the heatmap and the top sets follow the rank; money by day and its statistics", () => {
    const { agg, summary, daily, grid, net, stats } = moneyRun();
    for (const [rank, best, order] of [
      ["pnl", 0, [0, 1, 2]],
      ["net", 1, [1, 2, 0]],
      ["sharpe", 2, [2, 1, 0]],
    ] as const) {
      const data = buildReportData(summary, agg, { axes: null, kernelLabel: "k", daily, rank });
      expect({ rank, featured: data.featured.set }).toEqual({ rank, featured: best });
      expect(data.topSetRows!.map((r) => r.set)).toEqual([...order]);
      // The headline is the best set's, at its --json path, and says so.
      const h = (path: string) => data.header.find((x) => x.json === path);
      for (const field of ["trades", "pnl", "gross", "costs", "net"] as const) {
        expect(h(`grid.${best}.${field}`)!.value).toBe(grid[best][field]);
        expect(h(`grid.${best}.${field}`)!.label).toContain(`best set #${best} by`);
        expect(h(field)).toBeUndefined();
      }
      expect(h(`grid.${best}.net`)!.text).toBe(["-₹350.00", "₹600.00", "₹45.00"][best]);
      // The heatmap (fast × slow: one set a cell) shows each set's value under the rank.
      expect(data.heatmap!.rank).toBe(rank);
      expect(data.heatmap!.cells.map((c) => c.value)).toEqual(
        grid.map((g) => (rank === "pnl" ? g.pnl : rank === "net" ? g.net : g.sharpe)),
      );
      // Money of the featured set: cumulative ₹ per day at each day's close, its costs and statistics.
      const m = data.money!;
      expect(m.days).toEqual(daily.days);
      expect(m.equity.x).toEqual(daily.days.map((d) => Date.parse(`${d}T15:30:00+05:30`) / 1000));
      let c = 0;
      expect(m.equity.series[0].name).toBe("net");
      expect(m.equity.series[0].cum).toEqual(net[best].map((v) => (c += v)));
      expect(m.equity.series[1].cum[2]).toBe(net[best].reduce((a, v) => a + v, 0) + 120);
      // The net's drawdown, measured from a peak that starts at 0, reaches max_drawdown.
      let peak = 0;
      let deepest = 0;
      c = 0;
      for (const v of net[best]) {
        c += v;
        peak = Math.max(peak, c);
        deepest = Math.max(deepest, peak - c);
      }
      expect(Math.abs(Math.min(...m.equity.series[0].dd))).toBe(deepest);
      expect(m.costsByComponent).toEqual(
        COMPONENTS.map((component, i) => ({ component, rupees: (best + 1) * (i + 1) })),
      );
      expect(m.statistics).toEqual(stats[best]);
      expect(data.topSetRows!.map((r) => r.statistics)).toEqual(order.map((k) => stats[k]));
    }
  });

  test("the page: money tables, statistics, and a top-sets legend whose lines differ", () => {
    const { agg, summary, daily } = moneyRun();
    const data = buildReportData(summary, agg, { axes: null, kernelLabel: "k", daily, rank: "net" });
    const html = renderReportHtml(data);
    expect(html).toContain('data-stat="sharpe" data-value="1.2"');
    expect(html).toContain('data-stat="max_drawdown" data-value="100"');
    expect(html).toContain('data-component="stt" data-value="4"');
    expect(html).toContain('data-component="total" data-value="120"');
    expect(html).toContain('data-chart="money-equity"');
    expect(html).toContain("by trading day");
    const legend = [...html.matchAll(/<tr data-set="(\d+)" data-color="([^"]+)" data-dash="([^"]*)">(.*?)<\/tr>/g)];
    expect(legend.map((r) => Number(r[1]))).toEqual([1, 2, 0]);
    expect(new Set(legend.map((r) => `${r[2]}/${r[3]}`)).size).toBe(3);
    // Each row names its set and parameters, as the curve's series does.
    legend.forEach((r, i) => {
      expect(r[4]).toContain(`#${r[1]}`);
      const k = Number(r[1]);
      expect(data.topSets!.series[i].name).toBe(`#${k} fast=${3 + k} slow=${21 + 13 * (k % 2)}`);
      expect([data.topSets!.series[i].color, data.topSets!.series[i].dash!.join(",")]).toEqual([r[2], r[3]]);
    });
  });

  test("without money: no money data, tables or ₹ lines, a grid's headline still its best set's", () => {
    const plain = summaryOf([
      { params: { fast: 3, slow: 21 }, pnl: 9, trades: 3 },
      { params: { fast: 4, slow: 21 }, pnl: 10, trades: 3 },
    ]);
    const data = buildReportData(plain, new ReportAggregator(2), { axes: null, kernelLabel: "k", daily: null });
    expect(data.money).toBeNull();
    expect(data.featured.set).toBe(1);
    expect(data.header.map((h) => h.json)).toContain("grid.1.pnl");
    expect(data.header.some((h) => /₹/.test(h.label))).toBe(false);
    expect(data.topSetRows!.map((r) => r.statistics)).toEqual([null, null]);
    const html = renderReportHtml(data);
    expect(html).not.toContain('id="money-stats"');
    expect(html).not.toContain('id="costs"');
  });

  test("expiry type: the kept calendar's where it lists the expiry, the weekday rule otherwise, and the page says which", () => {
    const agg = new ReportAggregator(1);
    const t = (expiry: string, pnl: number): T => ({
      expiry,
      opt: 0,
      strike: 1,
      entry: ["2025-11-17", 36_000],
      exit: ["2025-11-17", 36_100],
      pnl,
    });
    // By weekday 2025-11-18 is weekly and 2025-11-25 monthly; this calendar says the opposite for NIFTY.
    agg.add(sums("2025-11-17", "NIFTY", [t("2025-11-18", 1), t("2025-11-25", 2), t("2025-12-02", 4)]));
    agg.add(sums("2025-11-17", "BANKNIFTY", [t("2025-11-25", 8)]));
    const calendar = parseExpiryCalendar(
      "underlying,expiry_type,expiry_date\nNIFTY,monthly,2025-11-18\nNIFTY,weekly,2025-11-25\nBANKNIFTY,monthly,2025-11-25\n",
      "cal.csv",
    );
    const typeOf = expiryTypeFromCalendar(calendar);
    expect([typeOf("NIFTY", parseIsoDate("2025-11-18")), typeOf("NIFTY", parseIsoDate("2025-11-25"))]).toEqual([
      "monthly",
      "weekly",
    ]);
    expect(typeOf("NIFTY", parseIsoDate("2025-12-02"))).toBeNull();
    const summary = summaryOf([{ params: { a: 1 }, pnl: 15, trades: 4 }]);
    const pnlOf = (d: ReturnType<typeof buildReportData>) => d.byExpiryType.map((r) => [r.bucket, r.pnl]);
    const kept = buildReportData(summary, agg, { axes: null, kernelLabel: "k", expiryTypeOf: typeOf });
    // 2025-12-02 is not in the calendar: weekly by the rule.
    expect(pnlOf(kept)).toEqual([
      ["weekly", 2 + 4],
      ["monthly", 1 + 8],
    ]);
    expect(kept.expiryTypeFrom).toBe("calendar and weekday rule");
    expect(kept.notes.expiryType).toContain("1 of 4 traded expiries");
    const ruled = buildReportData(summary, agg, { axes: null, kernelLabel: "k" });
    expect(pnlOf(ruled)).toEqual([
      ["weekly", 1 + 4],
      ["monthly", 2 + 8],
    ]);
    expect(ruled.expiryTypeFrom).toBe("weekday rule");
    expect(renderReportHtml(ruled)).toContain("No expiry calendar kept with the packed data");
  });
});
