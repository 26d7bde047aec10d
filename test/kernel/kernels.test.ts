import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { midReversionReference, type QuoteRow } from "../../examples/mid_reversion.ts";
import { KernelError, KernelRun, loadKernel, stableOptCode, type KernelBatch } from "../../kernel/strategy-kernel.ts";
import { GridError, expandAxes, parseGridFile, parseGridSpec, resolveParamSets } from "../../lib/bench/grid.ts";
import { SeededRandom } from "../../lib/random.ts";

const EXAMPLE = join(import.meta.dir, "..", "..", "examples", "mid_reversion.c");
const dir = mkdtempSync(join(tmpdir(), "tickpack-kernels-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bitmap(values: (number | null)[]): Uint8Array | null {
  if (values.every((v) => v !== null)) return null;
  const bits = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => { if (v !== null) bits[i >> 3] |= 1 << (i & 7); });
  return bits;
}

describe("example kernel: mid_reversion", () => {
  test("equals its TS reference on random quotes, for a grid of sets, across batch cuts", () => {
    const kernel = loadKernel(EXAMPLE);
    expect(kernel.columns).toEqual(["bp0", "sp0"]);
    expect(kernel.params.map((p) => p.name)).toEqual(["lookback", "band"]);
    const rng = new SeededRandom(9);
    const partitions: QuoteRow[][] = [];
    const keys: { expiry: number; opt: string; strike: number }[][] = [];
    for (let p = 0; p < 4; p++) {
      const rows: QuoteRow[] = [];
      const ks: { expiry: number; opt: string; strike: number }[] = [];
      for (let s = 0; s < 30; s++) {
        const key = { expiry: 20_000 + rng.int(0, 1), opt: rng.next() < 0.5 ? "CE" : "PE", strike: 100 * rng.int(1, 3) };
        let mid = 50 + rng.next() * 100;
        for (let i = rng.int(1, 400); i > 0; i--) {
          mid = Math.max(1, mid + (rng.next() - 0.5));
          const half = 0.025 * rng.int(1, 3);
          rows.push({ key: `${key.expiry}|${key.opt}|${key.strike}`, bp0: rng.next() < 0.03 ? null : rng.next() < 0.01 ? 0 : mid - half, sp0: rng.next() < 0.03 ? null : mid + half });
          ks.push(key);
        }
      }
      partitions.push(rows);
      keys.push(ks);
    }
    const sets = expandAxes(parseGridSpec("lookback=5,20,50;band=0.0005,0.002"));
    const values = resolveParamSets(EXAMPLE, kernel.params, sets);
    const run = new KernelRun(kernel, values);
    partitions.forEach((rows, p) => {
      for (let start = 0; start < rows.length; ) {
        const end = Math.min(rows.length, start + rng.int(1, 500));
        const slice = rows.slice(start, end);
        const k = keys[p].slice(start, end);
        const batch: KernelBatch = {
          length: slice.length,
          expiry: Int32Array.from(k, (x) => x.expiry), expiryValid: null,
          opt: Int32Array.from(k, (x) => (x.opt === "CE" ? 0 : 1)), optValid: null, optMap: Int32Array.from(["CE", "PE"], stableOptCode),
          strike: Float32Array.from(k, (x) => x.strike), strikeValid: null,
          columns: (["bp0", "sp0"] as const).map((c) => ({ values: Float64Array.from(slice, (r) => r[c] ?? 0), valid: bitmap(slice.map((r) => r[c])) })),
          ts: null,
        };
        run.run(batch);
        start = end;
      }
      run.endPartition();
    });
    const totals = run.totals();
    sets.forEach((set, k) => {
      const ref = midReversionReference(partitions, set.lookback, set.band);
      expect(totals[k].validRows).toBe(ref.validRows);
      expect(totals[k].trades).toBe(ref.trades);
      expect(Math.abs(totals[k].pnl - ref.pnl)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.pnl)));
    });
    expect(totals.some((t) => t.trades > 0)).toBe(true);
  });
});

describe("kernel errors are user errors", () => {
  const write = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };
  const ok = `#include "tickpack.h"
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return "threshold"; }
int tickpack_state_size(void) { return 1; }
void tickpack_segment_start(const double *p, double *s) { s[0] = 0; }
int tickpack_row(const double *p, double *s, const tp_row_t *r, tp_event *ev) { return TP_OK(r, 0); }
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`;

  test("a syntax error names the file and line with TinyCC's diagnostic", () => {
    const path = write("syntax.c", ok.replace("return TP_OK(r, 0);", "return TP_OK(r, 0)\n  oops;"));
    expect(() => loadKernel(path)).toThrow(KernelError);
    expect(() => loadKernel(path)).toThrow(new RegExp(`${path}:7: error`));
  });

  test("a missing function is reported", () => {
    const path = write("missing.c", ok.replace(/void tickpack_segment_end[^\n]*\n/, ""));
    expect(() => loadKernel(path)).toThrow(/tickpack_segment_end/);
  });

  test("an unknown column is reported with the known ones", () => {
    const path = write("column.c", ok.replace('"price"', '"price,bid_price"'));
    expect(() => loadKernel(path)).toThrow(/declares unknown column bid_price \(known: timestamp, price/);
  });

  test("parameters: unset without default, unknown in the grid, bad grid syntax", () => {
    const kernel = loadKernel(write("params.c", ok));
    expect(() => resolveParamSets("k.c", kernel.params, [{}])).toThrow("parameter threshold has no default and the grid does not set it");
    expect(resolveParamSets("k.c", kernel.params, [{ threshold: 2 }])).toEqual([[2]]);
    expect(() => resolveParamSets("k.c", kernel.params, [{ threshold: 1, fast: 3 }])).toThrow(/the grid sets fast, which the kernel does not declare/);
    expect(() => parseGridSpec("fast=3,x")).toThrow(GridError);
    expect(() => parseGridSpec("fast")).toThrow(GridError);
    expect(() => loadKernel(join(dir, "nope.c"))).toThrow("kernel file not found");
  });

  test("grid specs and files expand to the cartesian product", () => {
    expect(expandAxes(parseGridSpec("a=1,2;b=3,4,5")).length).toBe(6);
    expect(expandAxes(parseGridSpec("a=1,2;b=3"))).toEqual([{ a: 1, b: 3 }, { a: 2, b: 3 }]);
    expect(parseGridFile('{"a": [1, 2], "b": 3}', "g.json")).toEqual([{ a: 1, b: 3 }, { a: 2, b: 3 }]);
    expect(parseGridFile('[{"a": 1}, {"a": 7, "b": 2}]', "g.json")).toEqual([{ a: 1 }, { a: 7, b: 2 }]);
    expect(() => parseGridFile('{"a": ["x"]}', "g.json")).toThrow("g.json: a: not a number");
  });
});
