import { describe, expect, test } from "bun:test";
import type { BenchFilters } from "../../lib/read/filters.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { PACKED_SORT_ORDER } from "../../lib/packed/schema.ts";
import type { CColumn } from "../../lib/parquet/c-data.ts";
import type { FooterStats, RowGroupStats } from "../../lib/parquet/footer.ts";
import { keyWindowSteps } from "../../lib/read/key-windows.ts";
import type { ColumnViews, PartSource } from "../../lib/read/part-source.ts";
import { describePlan, planFromFooters, unfilteredPlan, type PartitionFilter } from "../../lib/read/read-plan.ts";

const EXPIRY = parseIsoDate("2025-11-25");

/** A row group's footer statistics: one expiry, an opt_type range and a strike range, no null key. */
function group(rows: number, opt: [string, string], strike: [number, number], expiry = EXPIRY): RowGroupStats {
  return {
    rows,
    minMax: new Map<string, { min: number | string | boolean; max: number | string | boolean }>([
      ["expiry", { min: expiry, max: expiry }],
      ["opt_type", { min: opt[0], max: opt[1] }],
      ["strike", { min: strike[0], max: strike[1] }],
      ["is_weekly", { min: true, max: true }],
    ]),
    nullCount: new Map([
      ["expiry", 0],
      ["opt_type", 0],
      ["strike", 0],
    ]),
  };
}

const sorted = (...rowGroups: RowGroupStats[]): FooterStats => ({
  rowGroups,
  keyValue: new Map([["tickpack.sort", PACKED_SORT_ORDER]]),
});

const on = (filters: BenchFilters): PartitionFilter => ({ filters, date: "2025-11-17", underlying: "NIFTY" });

describe("planFromFooters", () => {
  test("without a filter every part is read whole", () => {
    expect(describePlan(unfilteredPlan(2))).toEqual(["all", "all"]);
  });

  test("a strike band skips the groups outside it, and reads whole the ones its statistics show wholly inside (*)", () => {
    const part = sorted(
      group(10, ["CE", "CE"], [0, 50]),
      group(10, ["CE", "CE"], [100, 200]),
      group(10, ["CE", "CE"], [150, 300]),
      group(10, ["CE", "PE"], [400, 500]),
    );
    const plan = planFromFooters([part, null], on({ strikes: [100, 200] }));
    // The part whose footer could not be read is read whole; the decode names its problem.
    expect(describePlan(plan)).toEqual(["skip whole* whole skip", "all"]);
    expect(plan.nothing).toBe(false);
    expect(plan.groups).toBe(4);
    expect(plan.sel).not.toBeNull();
  });

  test("an opt_type filter skips the other series, and a filter on nothing of the key needs no selector", () => {
    const part = sorted(group(5, ["CE", "CE"], [0, 100]), group(5, ["PE", "PE"], [0, 100]));
    expect(describePlan(planFromFooters([part], on({ optType: "PE" })))).toEqual(["skip whole*"]);
    const byDay = planFromFooters([part], on({ from: "2025-11-17" }));
    expect(byDay.sel).toBeNull();
    expect(describePlan(byDay)).toEqual(["whole* whole*"]);
  });

  test("a sorted part's groups are bounded by their neighbours; a part that does not say it is sorted, only by their own statistics", () => {
    // The middle group's own ranges (CE..PE, 0..500) hold the band; its neighbours say it runs from
    // CE 300 (where the one before ends) to PE 100 (where the one after starts): no strike of 150–200.
    const groups = [
      group(10, ["CE", "CE"], [0, 300]),
      group(10, ["CE", "PE"], [0, 500]),
      group(10, ["PE", "PE"], [100, 500]),
    ];
    expect(describePlan(planFromFooters([sorted(...groups)], on({ strikes: [150, 200] })))).toEqual([
      "whole skip whole",
    ]);
    const unsorted: FooterStats = { rowGroups: groups, keyValue: new Map() };
    expect(describePlan(planFromFooters([unsorted], on({ strikes: [150, 200] })))).toEqual(["whole whole whole"]);
  });

  test("a partition its day or underlying rules out, or whose every group is skipped, is nothing", () => {
    const part = sorted(group(5, ["CE", "CE"], [0, 100]), group(7, ["PE", "PE"], [0, 100]));
    const other = planFromFooters([part], on({ underlyings: ["BANKNIFTY"] }));
    expect(describePlan(other)).toEqual(["nothing"]);
    expect(other.groups).toBe(2);
    expect(planFromFooters([part], on({ to: "2025-11-16" })).nothing).toBe(true);
    expect(planFromFooters([part], on({ strikes: [500, 600] })).nothing).toBe(true);
  });
});

/** A source over in-memory key columns, one batch per row group (what keyWindowSteps reads through). */
function keySource(groups: { opt: string[]; strike: number[] }[]): PartSource & { reads: string[][] } {
  const reads: string[][] = [];
  const column = (name: string, g: (typeof groups)[number]): CColumn => {
    const n = g.strike.length;
    const base = { length: n, nullCount: 0, validity: null, dictionary: null };
    if (name === "expiry")
      return {
        ...base,
        field: { name, format: "i", dictionaryFormat: null },
        values: new Int32Array(n).fill(EXPIRY),
        strings: null,
      };
    if (name === "strike")
      return {
        ...base,
        field: { name, format: "f", dictionaryFormat: null },
        values: Float32Array.from(g.strike),
        strings: null,
      };
    return { ...base, field: { name, format: "u", dictionaryFormat: null }, values: null, strings: g.opt };
  };
  return {
    kind: "wasm",
    path: "memory.parquet",
    rowGroupRows: groups.map((g) => g.strike.length),
    columns: [],
    reads,
    async read(columns, selection, use) {
      reads.push([...columns]);
      return use(
        selection.rowGroups.map(
          (k): ColumnViews => ({
            length: groups[k].strike.length,
            columns: columns.map((c) => column(c, groups[k])),
          }),
        ),
      );
    },
    close() {},
  };
}

describe("keyWindowSteps", () => {
  test("narrows the groups not wholly selected to the window of their selected rows, in one read of their keys", async () => {
    const part = sorted(
      group(4, ["CE", "CE"], [100, 130]),
      group(6, ["CE", "CE"], [120, 300]),
      group(3, ["CE", "CE"], [150, 400]),
      group(3, ["CE", "PE"], [150, 250]),
    );
    const plan = planFromFooters([part], on({ strikes: [140, 200] }));
    expect(describePlan(plan)).toEqual(["skip whole whole whole"]);
    const source = keySource([
      { opt: ["CE", "CE", "CE", "CE"], strike: [100, 110, 120, 130] },
      { opt: Array(6).fill("CE"), strike: [120, 150, 180, 199, 250, 300] },
      { opt: ["CE", "CE", "CE"], strike: [210, 300, 400] },
      { opt: ["CE", "PE", "PE"], strike: [150, 250, 160] },
    ]);
    const steps = await keyWindowSteps(source, plan.parts[0]!, plan.sel!);
    expect(describePlan({ ...plan, parts: [{ ...plan.parts[0]!, steps }] })).toEqual([
      "skip rows 1..4* skip rows 0..3",
    ]);
    // One read for the part; the mixed group needs every key column, so all read them.
    expect(source.reads).toEqual([["expiry", "opt_type", "strike"]]);
    expect(steps[1]).toEqual({ kind: "window", start: 1, end: 4, allSelected: true });
    expect(steps[3]).toEqual({ kind: "window", start: 0, end: 3, allSelected: false });
    // The plan itself is left as it was: windows are a part's, found when it is read.
    expect(describePlan(plan)).toEqual(["skip whole whole whole"]);
  });

  test("reads only strike when every such group has one expiry and one opt_type", async () => {
    const part = sorted(group(3, ["CE", "CE"], [100, 300]));
    const plan = planFromFooters([part], on({ strikes: [150, 250] }));
    const source = keySource([{ opt: ["CE", "CE", "CE"], strike: [100, 200, 300] }]);
    const steps = await keyWindowSteps(source, plan.parts[0]!, plan.sel!);
    expect(source.reads).toEqual([["strike"]]);
    expect(describePlan({ ...plan, parts: [{ ...plan.parts[0]!, steps }] })).toEqual(["rows 1..2*"]);
  });
});
