import { describe, expect, test } from "bun:test";
import type { BenchSummary } from "../../lib/bench/bench.ts";
import { ReportAggregator } from "../../lib/report/aggregate.ts";
import { renderReportHtml, scriptSafeBytes } from "../../lib/report/html.ts";
import { buildReportData } from "../../lib/report/report-data.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("the page's inlined assets", () => {
  test("bytes that need no rewrite are used as they are, not decoded and encoded", () => {
    const clean = utf8('var a = "<b>x</b>" < 2; // – non-ASCII ✓ </scrip t>');
    expect(scriptSafeBytes(clean)).toBe(clean);
  });

  test("whatever could end or confuse a <script> element is rewritten, in any case and anywhere", () => {
    const cases: [string, string][] = [
      ["x</script>y", "x<\\/script>y"],
      ["x</SCRIPT >y", "x<\\/SCRIPT >y"],
      ["a</b></ScRiPt", "a</b><\\/ScRiPt"],
      ["<!-- c", "<\\!-- c"],
      ["a\u2028b\u2029c", "a\\u2028b\\u2029c"],
      ["end </script", "end <\\/script"],
    ];
    for (const [raw, safe] of cases) expect(text(scriptSafeBytes(utf8(raw)))).toBe(safe);
  });

  test("a view into a larger buffer is read within its bounds", () => {
    const whole = utf8("</script>clean text</script>");
    const view = whole.subarray(9, 19);
    expect(scriptSafeBytes(view)).toBe(view);
    expect(text(scriptSafeBytes(whole.subarray(0, 12)))).toBe("<\\/script>cle");
  });

  test("the libraries go in once each, each in its own <script> element", () => {
    const page = renderReportHtml(minimalData());
    expect(page.match(/<script>/g)?.length).toBe(4); // uPlot, d3, Plot, client.js
    expect(page).toContain("</script>\n<script>");
  });
});

function minimalData() {
  const summary = {
    partitions: 0,
    files: 0,
    rows: 0,
    valid_rows: 0,
    kernel: "ema_cross",
    params: { fast: 5 },
    sets: 1,
    trades: 0,
    pnl: 0,
    elapsed_s: 0,
    rows_per_s: 0,
    row_sets_per_s: 0,
    workers: 1,
    grid: [{ params: { fast: 5 }, trades: 0, pnl: 0 }],
  } as unknown as BenchSummary;
  return buildReportData(summary, new ReportAggregator(1), { axes: null, kernelLabel: "ema_cross", daily: null });
}
