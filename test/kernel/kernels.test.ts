import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { midReversionReference, type QuoteRow } from "../../examples/mid_reversion.ts";
import { KernelError, KernelRun, loadKernel, type LoadedKernel } from "../../kernel/strategy-kernel.ts";
import { columnAs, type KernelBatch } from "../../kernel/kernel-batch.ts";
import { stableOptCode } from "../../lib/packed/opt-type.ts";
import { GridError, expandAxes, parseGridFile, parseGridSpec, resolveParamSets } from "../../lib/bench/grid.ts";
import { SeededRandom } from "../../lib/random.ts";
import { privateKernelCache } from "../helpers/kernel-cache.ts";

const EXAMPLE = join(import.meta.dir, "..", "..", "examples", "mid_reversion.c");
const dir = mkdtempSync(join(tmpdir(), "tickpack-kernels-"));
const GCC = Bun.which("gcc");
const kernelBuilds = privateKernelCache();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bitmap(values: (number | null)[]): Uint8Array | null {
  if (values.every((v) => v !== null)) return null;
  const bits = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) bits[i >> 3] |= 1 << (i & 7);
  });
  return bits;
}

describe("example kernel: mid_reversion", () => {
  /** Random quotes in partitions, with their segment keys. */
  function quotes(seed: number) {
    const rng = new SeededRandom(seed);
    const partitions: QuoteRow[][] = [];
    const keys: { expiry: number; opt: string; strike: number }[][] = [];
    for (let p = 0; p < 4; p++) {
      const rows: QuoteRow[] = [];
      const ks: { expiry: number; opt: string; strike: number }[] = [];
      for (let s = 0; s < 30; s++) {
        const key = {
          expiry: 20_000 + rng.int(0, 1),
          opt: rng.next() < 0.5 ? "CE" : "PE",
          strike: 100 * rng.int(1, 3),
        };
        let mid = 50 + rng.next() * 100;
        for (let i = rng.int(1, 400); i > 0; i--) {
          mid = Math.max(1, mid + (rng.next() - 0.5));
          const half = 0.025 * rng.int(1, 3);
          rows.push({
            key: `${key.expiry}|${key.opt}|${key.strike}`,
            bp0: rng.next() < 0.03 ? null : rng.next() < 0.01 ? 0 : mid - half,
            sp0: rng.next() < 0.03 ? null : mid + half,
          });
          ks.push(key);
        }
      }
      partitions.push(rows);
      keys.push(ks);
    }
    return { partitions, keys };
  }

  /** Every set of `values` over the quotes, in random batches (the same cuts for the same seed). */
  function run(kernel: LoadedKernel, values: number[][], seed: number, blockRows?: number) {
    const { partitions, keys } = quotes(seed);
    const rng = new SeededRandom(seed + 1);
    const r = new KernelRun(kernel, values, 16, { blockRows });
    partitions.forEach((rows, p) => {
      for (let start = 0; start < rows.length; ) {
        const end = Math.min(rows.length, start + rng.int(1, 500));
        const slice = rows.slice(start, end);
        const k = keys[p].slice(start, end);
        const batch: KernelBatch = {
          length: slice.length,
          expiry: Int32Array.from(k, (x) => x.expiry),
          expiryValid: null,
          opt: Int32Array.from(k, (x) => (x.opt === "CE" ? 0 : 1)),
          optValid: null,
          optMap: Int32Array.from(["CE", "PE"], stableOptCode),
          strike: Float32Array.from(k, (x) => x.strike),
          strikeValid: null,
          columns: (["bp0", "sp0"] as const).map((c) => ({
            values: Float64Array.from(slice, (r) => r[c] ?? 0),
            valid: bitmap(slice.map((r) => r[c])),
          })),
          ts: null,
        };
        r.run(batch);
        start = end;
      }
      r.endPartition();
    });
    return { partitions, totals: r.totals(), trades: r.takeTrades() };
  }

  const sets = expandAxes(parseGridSpec("lookback=5,20,50;band=0.0005,0.002"));

  test("equals its TS reference on random quotes, for a grid of sets, across batch cuts and blocks", () => {
    const kernel = loadKernel(EXAMPLE);
    expect(kernel.columns).toEqual(["bp0", "sp0"]);
    expect(kernel.columnTypes).toEqual(["f64", "f64"]);
    expect(kernel.params.map((p) => p.name)).toEqual(["lookback", "band"]);
    const values = resolveParamSets(EXAMPLE, kernel.params, sets);
    for (const blockRows of [1, 7, undefined]) {
      const { partitions, totals } = run(kernel, values, 9, blockRows);
      sets.forEach((set, k) => {
        const ref = midReversionReference(partitions, set.lookback, set.band);
        expect(totals[k].validRows).toBe(ref.validRows);
        expect(totals[k].trades).toBe(ref.trades);
        expect(totals[k].pnl).toBe(ref.pnl);
      });
      expect(totals.some((t) => t.trades > 0)).toBe(true);
    }
  });

  test.skipIf(!GCC)(`built by gcc, bit-identical to TinyCC${GCC ? "" : " (skipped: no gcc on PATH)"}`, () => {
    const tcc = loadKernel(EXAMPLE);
    const gcc = loadKernel(EXAMPLE, "gcc");
    expect(kernelBuilds().length).toBeGreaterThan(0); // built here, not opened from an earlier run's cache
    const values = resolveParamSets(EXAMPLE, tcc.params, [...sets, { lookback: 13.3, band: 0.00137 }]);
    const a = run(tcc, values, 21);
    const b = run(gcc, values, 21);
    expect(b.totals).toEqual(a.totals);
    for (const [k, t] of a.totals.entries()) expect(Object.is(b.totals[k].pnl, t.pnl)).toBe(true);
    expect(b.trades).toEqual(a.trades);
  });
});

describe("column types", () => {
  test("a column stored in the declared type is passed as it is; others are converted exactly or refused", () => {
    const f = Float64Array.from([1, 2.5]);
    expect(columnAs(f, null, "f64")).toBe(f);
    const big = BigInt64Array.from([-3n, 2n ** 40n]);
    expect(columnAs(big, null, "i64")).toBe(big);
    expect(Array.from(columnAs(big, null, "f64") as Float64Array)).toEqual([-3, 2 ** 40]);
    expect(Array.from(columnAs(Float64Array.from([-5, 2 ** 40 + 1, 0]), null, "i64") as BigInt64Array)).toEqual([
      -5n,
      2n ** 40n + 1n,
      0n,
    ]);
    expect(Array.from(columnAs(Int32Array.from([-7, 8]), null, "i64") as BigInt64Array)).toEqual([-7n, 8n]);
    expect(columnAs(f, null, "i64")).toBe("value 2.5 at row 1 is not an integer that int64 holds exactly");
    // A null slot holds anything: only non-null values must fit.
    expect(Array.from(columnAs(f, Uint8Array.from([1]), "i32") as Int32Array)).toEqual([1, 0]);
    expect(columnAs(Int32Array.from([1, 40000]), null, "i16")).toBe("value 40000 at row 1 does not fit i16 exactly");
    expect(columnAs(Float64Array.from([0.1]), null, "f32")).toBe("value 0.1 at row 0 does not fit f32 exactly");
    expect(Array.from(columnAs(Float64Array.from([0.5]), null, "f32") as Float32Array)).toEqual([0.5]);
  });

  test("a batch whose column is not in the declared type is refused, not misread", () => {
    const kernel = loadKernel(join(import.meta.dir, "..", "..", "kernel", "ema_cross.c"));
    const run = new KernelRun(kernel, [[5, 21, 0.0005, 1]]);
    const n = 2;
    const batch: KernelBatch = {
      length: n,
      expiry: new Int32Array(n),
      expiryValid: null,
      opt: new Int32Array(n),
      optValid: null,
      optMap: Int32Array.from([0]),
      strike: new Float32Array(n),
      strikeValid: null,
      ts: null,
      columns: [0, 1, 2, 3].map(() => ({ values: new Float64Array(n), valid: null })),
    };
    expect(() => run.run(batch)).toThrow(/column volume is declared i64 but came as Float64Array/);
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
void tickpack_run(const double *p, double *s, tp_rows_t *r) { r->nvalid = TP_OK(TP_BITS(r, 0), r->start); }
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`;

  test("a syntax error names the file and line with TinyCC's diagnostic", () => {
    const path = write("syntax.c", ok.replace("r->start); }", "r->start)\n  oops; }"));
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

  test("an unknown column type, or a column declared twice, is reported", () => {
    expect(() => loadKernel(write("type.c", ok.replace('"price"', '"price:u8"')))).toThrow(
      /column price has unknown type "u8" \(known: f64, i64, i32, f32, i16\)/,
    );
    expect(() => loadKernel(write("twice.c", ok.replace('"price"', '"price,price:i64"')))).toThrow(
      /declares price twice/,
    );
    expect(
      loadKernel(write("typed.c", ok.replace('"price"', '"price:f64, volume:i64 ,strike:f32"'))).columnTypes,
    ).toEqual(["f64", "i64", "f32"]);
  });

  test.skipIf(!GCC)(
    `gcc: a syntax error names the file and line; a missing function is a link error, not a crash${GCC ? "" : " (skipped: no gcc on PATH)"}`,
    () => {
      const syntax = write("gcc-syntax.c", ok.replace("r->start); }", "r->start)\n  oops; }"));
      expect(() => loadKernel(syntax, "gcc")).toThrow(
        new RegExp(`${syntax}: kernel does not compile \\(gcc\\):\n[^]*${syntax}:7:\\d+: error`),
      );
      const missing = write("gcc-missing.c", ok.replace(/void tickpack_segment_end[^\n]*\n/, ""));
      expect(() => loadKernel(missing, "gcc")).toThrow(/tickpack_segment_end/);
    },
  );

  test("tickpack_params(): a name declared twice, an empty or non-decimal default is refused; plain decimals are taken", () => {
    const params = (name: string, text: string) =>
      loadKernel(write(name, ok.replace('return "threshold";', `return ${JSON.stringify(text)};`))).params;
    expect(() => params("p-twice.c", "a=1,b=7,a=2")).toThrow(/p-twice\.c: tickpack_params\(\) declares a twice/);
    expect(() => params("p-twice-bare.c", "a,a")).toThrow(/declares a twice/);
    for (const [i, bad] of ["", "0x10", "Infinity", "-Infinity", "NaN", "1e999", "1=2", "- 1", "1e"].entries())
      expect(() => params(`p-bad-${i}.c`, `a=${bad}`), bad).toThrow(
        new RegExp(`p-bad-${i}\\.c: tickpack_params\\(\\): default of a is not a finite decimal number`),
      );
    expect(params("p-good.c", "a=-1.5e-3, b=+2,c=.5,d=7.,e=1E2,f")).toEqual([
      { name: "a", defaultValue: -0.0015 },
      { name: "b", defaultValue: 2 },
      { name: "c", defaultValue: 0.5 },
      { name: "d", defaultValue: 7 },
      { name: "e", defaultValue: 100 },
      { name: "f", defaultValue: undefined },
    ]);
  });

  test("tickpack_columns(): an empty column name is refused; no columns at all is allowed", () => {
    for (const [i, bad] of ["price,,bp0", "price,", ":i64", " ,price"].entries())
      expect(() => loadKernel(write(`c-empty-${i}.c`, ok.replace('"price"', JSON.stringify(bad)))), bad).toThrow(
        /tickpack_columns\(\) has an empty column name/,
      );
    expect(
      loadKernel(write("c-none.c", ok.replace('"price"', '""').replace("TP_OK(TP_BITS(r, 0), r->start)", "0"))).columns,
    ).toEqual([]);
  });

  test("a compiler that is not installed is named", () => {
    const absent = (["clang", "gcc"] as const).find((c) => !Bun.which(c));
    if (!absent) return; // both installed: nothing to check here
    expect(() => loadKernel(write("cc.c", ok), absent)).toThrow(
      `--cc ${absent}: ${absent} is not installed (not found on PATH)`,
    );
  });

  test("parameters: unset without default, unknown in the grid, bad grid syntax", () => {
    const kernel = loadKernel(write("params.c", ok));
    expect(() => resolveParamSets("k.c", kernel.params, [{}])).toThrow(
      "parameter threshold has no default and the grid does not set it",
    );
    expect(resolveParamSets("k.c", kernel.params, [{ threshold: 2 }])).toEqual([[2]]);
    expect(() => resolveParamSets("k.c", kernel.params, [{ threshold: 1, fast: 3 }])).toThrow(
      /the grid sets fast, which the kernel does not declare/,
    );
    expect(() => parseGridSpec("fast=3,x")).toThrow(GridError);
    expect(() => parseGridSpec("fast")).toThrow(GridError);
    expect(() => loadKernel(join(dir, "nope.c"))).toThrow("kernel file not found");
  });

  test("grid specs and files expand to the cartesian product", () => {
    expect(expandAxes(parseGridSpec("a=1,2;b=3,4,5")).length).toBe(6);
    expect(expandAxes(parseGridSpec("a=1,2;b=3"))).toEqual([
      { a: 1, b: 3 },
      { a: 2, b: 3 },
    ]);
    expect(parseGridFile('{"a": [1, 2], "b": 3}', "g.json")).toEqual([
      { a: 1, b: 3 },
      { a: 2, b: 3 },
    ]);
    expect(parseGridFile('[{"a": 1}, {"a": 7, "b": 2}]', "g.json")).toEqual([{ a: 1 }, { a: 7, b: 2 }]);
    expect(() => parseGridFile('{"a": ["x"]}', "g.json")).toThrow("g.json: a: not a number");
  });
});

describe("kernel builds", () => {
  /** A kernel over `price` that opens on one valid row and closes on the next with PnL `pnlExpr` (of px and the entry e). */
  const kernelSource = (pnlExpr: string, prelude = "", params = "") => `#include "tickpack.h"
${prelude}
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return ${JSON.stringify(params)}; }
int tickpack_state_size(void) { return 2; }
void tickpack_segment_start(const double *p, double *s) { s[0] = 0; }
void tickpack_run(const double *p, double *s, tp_rows_t *r) {
  const double *price = TP_COLUMN(r, 0, double);
  long long i;
  for (i = r->start; i < r->end; i++) {
    double px = price[i], e = s[1];
    r->nvalid++;
    r->last_valid = i;
    if (s[0] == 0) { s[0] = 1; s[1] = px; TP_EMIT_OPEN(r, i, px); }
    else { s[0] = 0; TP_EMIT_CLOSE(r, i, px, ${pnlExpr}); }
  }
}
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`;
  const write = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };
  /** Total PnL of one set over one segment of `prices`. */
  const pnlOver = (kernel: LoadedKernel, prices: number[]) => {
    const n = prices.length;
    const run = new KernelRun(kernel, [kernel.params.map((p) => p.defaultValue ?? 0)]);
    run.run({
      length: n,
      expiry: new Int32Array(n),
      expiryValid: null,
      opt: new Int32Array(n),
      optValid: null,
      optMap: Int32Array.from([0]),
      strike: new Float32Array(n),
      strikeValid: null,
      ts: null,
      columns: [{ values: Float64Array.from(prices), valid: null }],
    });
    run.endPartition();
    return run.totals()[0].pnl;
  };

  test.skipIf(!GCC)(
    `gcc: a header the kernel includes is part of the build, so an edited header is a new build${GCC ? "" : " (skipped: no gcc on PATH)"}`,
    () => {
      const header = write("rules.h", "#define SCALE 3.0\n");
      const body = kernelSource("(px - e) * SCALE", '#include "rules.h"');
      // Two paths of the same bytes: the second load compiles (a thread keeps what it loaded by path).
      const before = loadKernel(write("with-header-1.c", body), "gcc");
      expect(pnlOver(before, [10, 12])).toBe(6);
      writeFileSync(header, "#define SCALE 5.0\n");
      const after = loadKernel(write("with-header-2.c", body), "gcc");
      expect(pnlOver(after, [10, 12])).toBe(10);
      expect(pnlOver(loadKernel(join(dir, "with-header-2.c")), [10, 12])).toBe(10);
      expect(kernelBuilds().length).toBeGreaterThanOrEqual(2);
    },
  );

  test.skipIf(!GCC)(
    `gcc links libm as TinyCC resolves it: a kernel calling log() gives the same PnL${GCC ? "" : " (skipped: no gcc on PATH)"}`,
    () => {
      const path = write("libm.c", kernelSource("log(px / e)", "#include <math.h>"));
      const tcc = pnlOver(loadKernel(path), [2, 2 * Math.E ** 2, 3, 5]);
      expect(tcc).toBe(Math.log((2 * Math.E ** 2) / 2) + Math.log(5 / 3));
      expect(Object.is(pnlOver(loadKernel(path, "gcc"), [2, 2 * Math.E ** 2, 3, 5]), tcc)).toBe(true);
    },
  );

  test.skipIf(!GCC)(
    `gcc: an undefined function is a link error naming the kernel's file and line, not the build's own files${GCC ? "" : " (skipped: no gcc on PATH)"}`,
    () => {
      const path = write("undefined.c", kernelSource("no_such_function(px)", "double no_such_function(double);"));
      let message = "";
      try {
        loadKernel(path, "gcc");
      } catch (e) {
        expect(e).toBeInstanceOf(KernelError);
        message = (e as Error).message;
      }
      expect(message).toMatch(new RegExp(`^${path}: kernel does not compile \\(gcc\\):\n`));
      expect(message).toMatch(new RegExp(`${path}:15: undefined reference to .no_such_function'`));
      expect(message).not.toMatch(/unit\.c|tickpack-kernel-|\.o:/);
    },
  );

  test("a kernel may use the names the driver's own helpers had (the driver's are all tpd_/TPD_), with either compiler", () => {
    // Each of these collided with the driver in one translation unit; so did macros such as `block`.
    const prelude = `enum { H_NSETS, H_SIZE, T_SIZE, C_FIRST, TPR_SETS, TPS_SIZE };
typedef struct { int x; } tp_staged;
typedef struct { int y; } tp_sum_event;
static int key_at(int i) { return i + H_SIZE + T_SIZE + C_FIRST + TPR_SETS + TPS_SIZE; }
static int same_key(int i) { return key_at(i) - key_at(i); }
static long long set_block(double *st) { return 0; }
static long long staged_cap(double *st) { return 0; }
static long long floor_div(long long a, long long b) { return a / b; }
static void tp_log(void) {}
long long tp_run(void) { return 0; }
void tp_flush(void) {}
#define block 1
#define starts nothing
#define st nothing`;
    const path = write("old-driver-names.c", kernelSource("px - e + same_key(3)", prelude));
    expect(pnlOver(loadKernel(path), [10, 12, 1, 4])).toBe(5);
    if (GCC) expect(pnlOver(loadKernel(path, "gcc"), [10, 12, 1, 4])).toBe(5);
  });
});
