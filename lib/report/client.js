// The report page's drawing code (runs in the browser; uPlot, d3 and Plot are inlined before it).
// Each chart draws into its [data-chart] element; a chart that fails says so in the page and on the
// console (the browser test fails on any console error). When all are done, <html data-rendered>.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var COLORS = ["#222222", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
  var failed = 0;
  // The drawn uPlot charts by name, for the browser test to read their scales.
  window.tickpackCharts = {};

  function draw(name, fn) {
    var el = document.querySelector('[data-chart="' + name + '"]');
    if (!el) return;
    try {
      fn(el);
    } catch (e) {
      failed++;
      el.className += " failed";
      el.textContent = "This chart failed to draw: " + e;
      console.error("chart " + name + ": " + (e && e.stack ? e.stack : e));
    }
  }
  function widthOf(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width) || 900);
  }
  function empty(el, why) {
    el.setAttribute("data-empty", why);
    el.textContent = why;
  }

  // Long series: uPlot on a canvas, a stepped line (the cumulative value is exact at each bin end),
  // over a time axis: a gap of nights or days without trades takes its room.
  function lines(el, name, curves, key, height, unit) {
    if (curves.x.length === 0) return empty(el, "no trades");
    var x = curves.x.length === 1 ? [curves.x[0] - curves.binSeconds, curves.x[0]] : curves.x;
    var pad = function (ys) { return curves.x.length === 1 ? [0, ys[0]] : ys; };
    var opts = {
      width: widthOf(el),
      height: height,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Asia/Kolkata"); },
      scales: { x: { time: true } },
      series: [{ label: unit === "₹" ? "day's close (IST)" : "exit time (IST)" }].concat(
        curves.series.map(function (s, i) {
          return {
            label: s.name,
            stroke: s.color || COLORS[i % COLORS.length],
            dash: s.dash && s.dash.length ? s.dash : undefined,
            width: s.color ? 2 : i === 0 ? 2 : 1,
            paths: uPlot.paths.stepped({ align: 1 }),
            value: function (u, v) { return v == null ? "–" : v.toFixed(2); },
          };
        }),
      ),
      axes: [{}, { label: unit || "points", size: 80 }],
      legend: { live: true },
    };
    window.tickpackCharts[name] = new uPlot(opts, [x].concat(curves.series.map(function (s) { return pad(s[key]); })), el);
  }

  // Bars of PnL by an ordinal bucket (Observable Plot, SVG); green above zero, red below.
  function bars(el, rows, opts) {
    rows = rows || [];
    if (!rows.some(function (r) { return r.trades > 0; })) return empty(el, "no trades");
    var y = opts.y || "pnl";
    var marks = [
      Plot.barY(rows, {
        x: "bucket", y: y, fy: opts.fy,
        fill: y === "pnl" ? function (d) { return d.pnl >= 0 ? "#2a9d8f" : "#e76f51"; } : "#4c78a8",
        title: function (d) { return d.bucket + (d.opt ? " " + d.opt : "") + ": PnL " + d.pnl.toFixed(2) + ", " + d.trades + " trades, " + d.wins + " wins"; },
      }),
      Plot.ruleY([0]),
    ];
    el.appendChild(Plot.plot({
      width: opts.width || widthOf(el), height: opts.height || 240, marginLeft: 60, marginBottom: opts.marginBottom || 40,
      x: { domain: Array.from(new Set(rows.map(function (r) { return r.bucket; }))), label: opts.xLabel, tickRotate: opts.tickRotate || 0 },
      y: { label: opts.yLabel || "PnL (points)", grid: true },
      fy: opts.fy ? { label: null } : undefined,
      marks: marks,
    }));
  }

  draw("money-equity", function (el) { lines(el, "money-equity", data.money.equity, "cum", 300, "₹"); });
  draw("money-drawdown", function (el) { lines(el, "money-drawdown", { x: data.money.equity.x, binSeconds: data.money.equity.binSeconds, series: [data.money.equity.series[0]] }, "dd", 200, "₹"); });
  draw("equity", function (el) { lines(el, "equity", data.curves, "cum", 300); });
  draw("drawdown", function (el) { lines(el, "drawdown", data.curves, "dd", 200); });
  draw("by-day", function (el) {
    var rows = data.byDay.map(function (d) { return { bucket: d.date, pnl: d.pnl, trades: d.trades, wins: d.wins }; });
    bars(el, rows, { xLabel: "trading day", tickRotate: rows.length > 12 ? -45 : 0, marginBottom: rows.length > 12 ? 70 : 40 });
  });
  draw("by-dte", function (el) { bars(el, data.byDte, { xLabel: "days to expiry" }); });
  draw("by-expiry-type", function (el) { bars(el, data.byExpiryType, { xLabel: "expiry type", width: 260 }); });
  draw("by-opt", function (el) { bars(el, data.byOpt, { xLabel: "option type", width: 260 }); });
  draw("by-atm", function (el) { bars(el, data.byAtm, { fy: "opt", xLabel: "strike − ATM (steps)", height: 320 }); });
  draw("holding", function (el) { bars(el, data.byHold, { y: "trades", yLabel: "trades", xLabel: "holding time", tickRotate: -30, marginBottom: 60 }); });
  draw("heatmap", function (el) {
    var h = data.heatmap;
    var label = h.rank === "net" ? "net ₹" : h.rank === "sharpe" ? "Sharpe ratio" : "PnL (points)";
    var fmt = function (v) { return v === null ? "n/a" : h.rank === "sharpe" ? v.toFixed(2) : v.toFixed(0); };
    // A cell without a value (Sharpe undefined) is left blank, with its text saying so.
    var valued = h.cells.filter(function (c) { return c.value !== null; });
    el.appendChild(Plot.plot({
      width: Math.min(widthOf(el), 720), height: 80 + 40 * new Set(h.cells.map(function (c) { return c.y; })).size, marginLeft: 70,
      padding: 0.05,
      x: { label: h.x, type: "band" }, y: { label: h.y, type: "band" },
      color: { type: "diverging", scheme: "RdYlGn", pivot: 0, legend: valued.length > 0, label: label },
      marks: [
        Plot.cell(valued, { x: "x", y: "y", fill: "value", title: function (c) { return "#" + c.set + ": " + label + " " + fmt(c.value) + ", PnL " + c.pnl.toFixed(2) + " points, " + c.trades + " trades"; } }),
        Plot.text(h.cells, { x: "x", y: "y", text: function (c) { return fmt(c.value); }, fill: "black" }),
      ],
    }));
  });
  draw("top-sets", function (el) { lines(el, "top-sets", data.topSets, "cum", 300); });

  document.documentElement.setAttribute("data-rendered", failed ? "with-errors" : "ok");
})();
