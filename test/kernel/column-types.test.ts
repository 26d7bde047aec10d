import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { C_TYPE, COLUMN_TYPES, type ColumnType } from "../../kernel/column-types.ts";
import { KernelError, KernelRun, loadKernel } from "../../kernel/strategy-kernel.ts";
import type { KernelBatch } from "../../kernel/kernel-batch.ts";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { privateKernelCache } from "../helpers/kernel-cache.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);
const GCC = Bun.which("gcc");
const kernelBuilds = privateKernelCache();

let packed: string;
let kernels: string;
beforeAll(async () => {
  packed = await packedFixture("coltypes", { days: 1 });
  kernels = tempDir("coltypes-kernels");
});
afterAll(cleanupTempDirs);

/**
 * A kernel declaring `columns` whose tickpack_run reads `TP_COLUMN(r, k, T)` as `read` gives it and
 * counts the rows whose value is > 0 as valid (a kernel misreading its column counts none, or all).
 */
function kernel(name: string, columns: string, read: string): string {
  const path = join(kernels, name);
  writeFileSync(
    path,
    `#include "tickpack.h"
const char *tickpack_columns(void) { return "${columns}"; }
const char *tickpack_params(void) { return ""; }
int tickpack_state_size(void) { return 0; }
void tickpack_segment_start(const double *p, double *s) {}
void tickpack_run(const double *p, double *s, tp_rows_t *r) {
  ${read};
  long long i;
  for (i = r->start; i < r->end; i++)
    if (v[i] > 0) {
      r->nvalid++;
      r->last_valid = i;
    }
}
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`,
  );
  return path;
}

const bench = (args: string[]) => runScript("bench.ts", args);

describe("a column read as a C type other than its declared one is a named error, never a wrong result", () => {
  const cases = [
    {
      what: "f64 read as long long",
      columns: "price",
      read: "const long long *v = TP_COLUMN(r, 0, long long)",
      error:
        "TP_COLUMN(r, 0, long long) reads column price, declared f64, as long long: read it as double, or declare it price:i64",
    },
    {
      what: "i64 read as double",
      columns: "price,volume:i64",
      read: "const double *v = TP_COLUMN(r, 1, double)",
      error:
        "TP_COLUMN(r, 1, double) reads column volume, declared i64, as double: read it as long long, or declare it volume:f64",
    },
  ];
  const compilers = ["tcc", ...(GCC ? ["gcc"] : [])];
  for (const c of cases)
    test(`${c.what}: bench --kernel exits 2 naming the kernel, column, declared type and C type, with ${compilers.join(" and ")}${GCC ? "" : " (gcc skipped: not on PATH)"}`, () => {
      const k = kernel(`${c.what.replaceAll(" ", "-")}.c`, c.columns, c.read);
      for (const cc of compilers) {
        const before = kernelBuilds().length;
        const r = bench([packed, "--kernel", k, "--cc", cc, "--workers", "2", "--json"]);
        expect({ cc, code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
          cc,
          code: 2,
          stderr: `bench: ${realpathSync(k)}: ${c.error}\n`,
          stdout: "",
        });
        if (cc === "gcc") expect(kernelBuilds().length).toBe(before + 1); // built, not an earlier run's build
      }
    });

  test("the same kernels reading their columns in the declared types run, with the same result under tcc and gcc", () => {
    const k = kernel(
      "matching.c",
      "price,volume:i64",
      "const double *v = TP_COLUMN(r, 0, double); const long long *w = TP_COLUMN(r, 1, long long); (void)w",
    );
    const totals = [];
    for (const cc of ["tcc", ...(GCC ? ["gcc"] : [])]) {
      const r = bench([packed, "--kernel", k, "--cc", cc, "--json"]);
      expect({ cc, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ cc, code: 0, stderr: "" });
      const s = JSON.parse(r.stdout) as { rows: number; grid: { valid_rows: number }[] };
      expect(s.grid[0].valid_rows).toBeGreaterThan(0);
      totals.push(s.grid);
    }
    if (totals.length > 1) expect(totals[1]).toEqual(totals[0]);
  });
});

describe("TP_COLUMN's check, every declared type against every C type", () => {
  const VALUES: Record<ColumnType, () => KernelBatch["columns"][number]["values"]> = {
    f64: () => Float64Array.from([1.5, 2.5, 0]),
    i64: () => BigInt64Array.from([1n, 2n, 0n]),
    i32: () => Int32Array.from([1, 2, 0]),
    f32: () => Float32Array.from([1.5, 2.5, 0]),
    i16: () => Int16Array.from([1, 2, 0]),
  };
  const batch = (type: ColumnType): KernelBatch => ({
    length: 3,
    expiry: new Int32Array(3),
    expiryValid: null,
    opt: new Int32Array(3),
    optValid: null,
    optMap: Int32Array.from([0]),
    strike: new Float32Array(3),
    strikeValid: null,
    ts: null,
    columns: [{ values: VALUES[type](), valid: null }],
  });
  /** Valid rows the kernel counted over the batch, or the error's message. */
  const outcome = (path: string, type: ColumnType, compiler: "tcc" | "gcc" = "tcc") => {
    const run = new KernelRun(loadKernel(path, compiler), [[]]);
    try {
      run.run(batch(type));
    } catch (e) {
      expect(e).toBeInstanceOf(KernelError);
      return (e as Error).message;
    }
    return run.totals()[0].validRows;
  };
  const C_TYPES = [...COLUMN_TYPES.map((t) => C_TYPE[t]), "unsigned int", "long double"];

  test("the declared type's C type reads it; any other is refused, naming both", () => {
    for (const declared of COLUMN_TYPES)
      for (const asType of C_TYPES) {
        const path = kernel(
          `${declared}-as-${asType.replaceAll(" ", "-")}.c`,
          `strike:${declared}`,
          `const ${asType} *v = TP_COLUMN(r, 0, ${asType})`,
        );
        const got = outcome(path, declared);
        if (asType === C_TYPE[declared]) expect({ declared, asType, got }).toEqual({ declared, asType, got: 2 });
        else
          expect({ declared, asType, got }).toEqual({
            declared,
            asType,
            got: expect.stringContaining(
              `${realpathSync(path)}: TP_COLUMN(r, 0, ${asType}) reads column strike, declared ${declared}, as ${asType}: read it as ${C_TYPE[declared]}`,
            ),
          });
      }
  });

  test("long, int64_t's type on Linux, reads an i64 column; a column index not declared is refused", () => {
    expect(outcome(kernel("long.c", "volume:i64", "const long *v = TP_COLUMN(r, 0, long)"), "i64")).toBe(2);
    for (const k of [1, -1])
      expect(
        outcome(kernel(`index${k}.c`, "volume:i64", `const long long *v = TP_COLUMN(r, ${k}, long long)`), "i64"),
      ).toBe(
        `${realpathSync(join(kernels, `index${k}.c`))}: TP_COLUMN(r, ${k}, long long): no column ${k}: tickpack_columns() declares 1 (volume), numbered from 0`,
      );
  });

  test("a refused column reads as zeros from the run's first row on, not as the column's bits", () => {
    // The kernel copies what it read into its second column (the host's array): the test's window on it.
    const path = kernel(
      "zeros.c",
      "price,bp0",
      "const long long *v = TP_COLUMN(r, 0, long long); long long j; for (j = r->start; j < r->end; j++) ((double *)r->col[1])[j] = (double)v[j] + 7",
    );
    const b = batch("f64");
    const seen = Float64Array.from([-1, -1, -1]);
    b.columns.push({ values: seen, valid: null });
    expect(() => new KernelRun(loadKernel(path), [[]]).run(b)).toThrow(KernelError);
    expect(Array.from(seen)).toEqual([7, 7, 7]);
  });

  test.skipIf(!GCC)(`gcc: the same check${GCC ? "" : " (skipped: no gcc on PATH)"}`, () => {
    const path = kernel("gcc-i32-as-float.c", "expiry:i32", "const float *v = TP_COLUMN(r, 0, float)");
    expect(outcome(path, "i32", "gcc")).toBe(
      `${realpathSync(path)}: TP_COLUMN(r, 0, float) reads column expiry, declared i32, as float: read it as int, or declare it expiry:f32`,
    );
    expect(outcome(kernel("gcc-i32.c", "expiry:i32", "const int *v = TP_COLUMN(r, 0, int)"), "i32", "gcc")).toBe(2);
  });
});
