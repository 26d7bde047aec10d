import { describe, expect, test } from "bun:test";
import {
  expiryTypesOf,
  FilterError,
  filtersJson,
  partitionMaySelect,
  parseFilters,
  SegmentSelector,
  selectedRanges,
  sortedKeyBounds,
  type RowGroupKeyStats,
} from "../../lib/read/filters.ts";
import { GridError, gridFileFilters, parseGridFile } from "../../lib/bench/grid.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import type { KeyRunColumns } from "../../lib/read/key-scan.ts";
import { calendarExpiryType } from "../../lib/raw/calendar.ts";

const d = parseIsoDate;
const always = () => "weekly" as const;

describe("parseFilters", () => {
  test("reads every flag; none given is null", () => {
    expect(parseFilters({})).toBeNull();
    expect(
      parseFilters({
        from: "2025-11-17",
        to: "2025-11-18",
        underlyings: "nifty, BANKNIFTY",
        "expiry-type": "Weekly",
        expiries: "2025-11-25,2025-11-18,2025-11-25",
        dte: "0:3",
        "opt-type": "pe",
        strikes: "25000.5:26000",
      }),
    ).toEqual({
      from: "2025-11-17",
      to: "2025-11-18",
      underlyings: ["NIFTY", "BANKNIFTY"],
      expiryType: "weekly",
      expiries: ["2025-11-18", "2025-11-25"],
      dte: [0, 3],
      optType: "PE",
      strikes: [25000.5, 26000],
    });
    expect(filtersJson(parseFilters({ "expiry-type": "monthly", "opt-type": "CE" }))).toEqual({
      expiry_type: "monthly",
      opt_type: "CE",
    });
  });

  test("malformed values throw naming the flag (or where it came from)", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ strikes: "5:" }, /^--strikes: expected LO:HI/],
      [{ strikes: "5" }, /^--strikes/],
      [{ strikes: "6:5" }, /^--strikes: LO 6 is above HI 5/],
      [{ dte: "1.5:2" }, /^--dte/],
      [{ "expiry-type": "daily" }, /^--expiry-type: expected weekly or monthly/],
      [{ "opt-type": "C" }, /^--opt-type/],
      [{ from: "2025-02-30" }, /^--from: no such date/],
      [{ to: "17-11-2025" }, /^--to/],
      [{ from: "2025-11-19", to: "2025-11-18" }, /^--from 2025-11-19 is after --to 2025-11-18/],
      [{ underlyings: "NIFTY,," }, /^--underlyings/],
      [{ expiries: "2025-11-18,x" }, /^--expiries/],
    ];
    for (const [raw, message] of bad) expect(() => parseFilters(raw)).toThrow(message);
    expect(() => parseFilters({ strikes: "a:b" }, (f) => `--grid-file g.json: filters.${f}`)).toThrow(
      /^--grid-file g.json: filters.strikes/,
    );
    expect(() => parseFilters({ strikes: ":" })).toThrow(FilterError);
  });
});

describe("partition pruning by path", () => {
  test("day range, underlyings, expiries and dte windows", () => {
    const f = parseFilters({ from: "2025-11-18", to: "2025-11-19", underlyings: "NIFTY" });
    expect(partitionMaySelect(f, "2025-11-17", "NIFTY")).toBe(false);
    expect(partitionMaySelect(f, "2025-11-18", "NIFTY")).toBe(true);
    expect(partitionMaySelect(f, "2025-11-18", "BANKNIFTY")).toBe(false);
    expect(partitionMaySelect(f, "2025-11-20", "NIFTY")).toBe(false);
    // A path that does not say cannot be pruned here.
    expect(partitionMaySelect(f, null, null)).toBe(true);
    const e = parseFilters({ expiries: "2025-11-25", dte: "0:2" });
    expect(partitionMaySelect(e, "2025-11-26", "NIFTY")).toBe(false); // after the expiry
    expect(partitionMaySelect(e, "2025-11-20", "NIFTY")).toBe(false); // 5 days out
    expect(partitionMaySelect(e, "2025-11-24", "NIFTY")).toBe(true);
    expect(partitionMaySelect(parseFilters({ dte: "-3:-1" }), "2025-11-24", "NIFTY")).toBe(false);
    expect(partitionMaySelect(null, "2025-11-24", "NIFTY")).toBe(true);
  });
});

describe("expiry series", () => {
  test("the calendar rule: the month's last expiry of its weekday is monthly", () => {
    expect(calendarExpiryType(d("2025-11-25"))).toBe("monthly");
    expect(calendarExpiryType(d("2025-11-18"))).toBe("weekly");
    expect(calendarExpiryType(d("2025-12-30"))).toBe("monthly");
    expect(calendarExpiryType(d("2025-12-23"))).toBe("weekly");
    expect(calendarExpiryType(d("2026-03-30"))).toBe("monthly"); // a holiday-moved Monday
  });

  test("row groups of one series tell it; mixed or contradicting ones fall back to the rule", () => {
    const g = (lo: string, hi: string, weekly: [boolean, boolean] | null): RowGroupKeyStats => ({
      rows: 10,
      expiry: [d(lo), d(hi)],
      opt: null,
      strike: null,
      weekly,
      keyNullFree: true,
    });
    // The data says 2025-11-18 is monthly (against the rule): the statistics win.
    const typeOf = expiryTypesOf([
      g("2025-11-18", "2025-11-18", [false, false]),
      g("2025-11-18", "2025-11-25", [false, true]),
      g("2025-12-02", "2025-12-02", [true, true]),
      g("2025-12-09", "2025-12-09", [true, true]),
      g("2025-12-09", "2025-12-09", [false, false]),
    ]);
    expect(typeOf(d("2025-11-18"))).toBe("monthly");
    expect(typeOf(d("2025-11-25"))).toBe("monthly"); // only in a mixed group: the rule
    expect(typeOf(d("2025-12-02"))).toBe("weekly");
    expect(typeOf(d("2025-12-09"))).toBe("weekly"); // told both ways: the rule
  });
});

describe("row groups by statistics", () => {
  const stats = (over: Partial<RowGroupKeyStats>): RowGroupKeyStats => ({
    rows: 100,
    expiry: [d("2025-11-18"), d("2025-11-25")],
    opt: ["CE", "PE"],
    strike: [25000, 26000],
    weekly: [false, true],
    keyNullFree: true,
    ...over,
  });
  test("each key column rules a group out on its own; missing statistics never do", () => {
    const sel = (raw: Record<string, string>, day = "2025-11-18") =>
      new SegmentSelector(parseFilters(raw)!, d(day), calendarExpiryType);
    expect(sel({ strikes: "26050:27000" }).rowGroupMayHold(stats({}))).toBe(false);
    expect(sel({ strikes: "26000:27000" }).rowGroupMayHold(stats({}))).toBe(true);
    expect(sel({ strikes: "26050:27000" }).rowGroupMayHold(stats({ strike: null }))).toBe(true);
    expect(sel({ "opt-type": "PE" }).rowGroupMayHold(stats({ opt: ["CE", "CE"] }))).toBe(false);
    expect(sel({ "opt-type": "CE" }).rowGroupMayHold(stats({ opt: ["CE", "CE"] }))).toBe(true);
    expect(sel({ dte: "0:0" }).rowGroupMayHold(stats({}))).toBe(true);
    expect(sel({ dte: "0:0" }, "2025-11-17").rowGroupMayHold(stats({}))).toBe(false);
    expect(sel({ expiries: "2025-12-02" }).rowGroupMayHold(stats({}))).toBe(false);
    expect(sel({ expiries: "2025-11-25" }).rowGroupMayHold(stats({}))).toBe(true);
    expect(
      sel({ "expiry-type": "monthly" }).rowGroupMayHold(
        stats({ expiry: [d("2025-11-18"), d("2025-11-18")], weekly: [true, true] }),
      ),
    ).toBe(false);
    expect(
      sel({ "expiry-type": "weekly" }).rowGroupMayHold(
        stats({ expiry: [d("2025-11-18"), d("2025-11-18")], weekly: [true, true] }),
      ),
    ).toBe(true);
    // Mixed series: any expiry in range of the wanted series (the rule says 2025-11-25 is monthly).
    expect(
      sel({ "expiry-type": "monthly" }).rowGroupMayHold(
        stats({ expiry: [d("2025-11-19"), d("2025-11-23")], weekly: [false, true] }),
      ),
    ).toBe(false);
    expect(sel({ "expiry-type": "monthly" }).rowGroupMayHold(stats({}))).toBe(true);
    expect(sel({ strikes: "0:1e9" }).rowGroupMayHold(stats({ rows: 0 }))).toBe(false);
  });
});

describe("row groups by their neighbours in a sorted part", () => {
  /** Row groups of `size` rows over sorted keys [expiry, opt rank, strike], with their statistics. */
  function groupsOf(
    keys: [number, number, number][],
    size: number,
  ): { stats: RowGroupKeyStats[]; rows: [number, number, number][][] } {
    const rows: [number, number, number][][] = [];
    for (let i = 0; i < keys.length; i += size) rows.push(keys.slice(i, i + size));
    const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
    const stats = rows.map((r) => {
      const o = range(r.map((k) => k[1]));
      return {
        rows: r.length,
        expiry: range(r.map((k) => k[0])),
        opt: [["CE", "PE"][o[0]], ["CE", "PE"][o[1]]] as [string, string],
        strike: range(r.map((k) => k[2])),
        weekly: [true, true] as [boolean, boolean],
        keyNullFree: true,
      };
    });
    return { stats, rows };
  }
  const E = d("2025-11-18");

  test("a group straddling CE→PE or two expiries is skipped when neither side reaches the band", () => {
    // Two expiries a day apart (no expiry can lie between them), strikes 100..900 each side, 3 rows per contract, 4 rows per group.
    const keys: [number, number, number][] = [];
    for (const e of [E, E + 1])
      for (const o of [0, 1]) for (let s = 100; s <= 900; s += 100) for (let t = 0; t < 3; t++) keys.push([e, o, s]);
    const { stats, rows } = groupsOf(keys, 4);
    const sel = new SegmentSelector(parseFilters({ strikes: "400:500" })!, E, always);
    const bounds = sortedKeyBounds(stats);
    const kept = stats.map((g, i) => sel.sortedGroupMayHold(g, bounds[i]));
    const holds = rows.map((r) => r.some((k) => k[2] >= 400 && k[2] <= 500));
    expect(kept).toEqual(holds);
    // The per-column ranges alone keep the straddling groups (their strikes span 100..900).
    expect(stats.filter((g) => sel.rowGroupMayHold(g)).length).toBeGreaterThan(holds.filter(Boolean).length);
  });

  test("never skips a group holding a selected key (randomised sorted parts and filters)", () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 300; trial++) {
      const keys: [number, number, number][] = [];
      const expiries = [E, E + 7, E + 14, E + 35].filter(() => rand() < 0.7);
      for (const e of expiries)
        for (const o of [0, 1]) {
          if (rand() < 0.2) continue;
          for (let s = 100; s <= 2000; s += 50) {
            const n = rand() < 0.3 ? 0 : 1 + Math.floor(rand() * 6);
            for (let t = 0; t < n; t++) keys.push([e, o, s]);
          }
        }
      if (keys.length === 0) continue;
      const { stats, rows } = groupsOf(keys, 1 + Math.floor(rand() * 40));
      const lo = 100 + Math.floor(rand() * 40) * 50;
      const raw: Record<string, string> = { strikes: `${lo}:${lo + Math.floor(rand() * 10) * 50}` };
      if (rand() < 0.5) raw["opt-type"] = rand() < 0.5 ? "CE" : "PE";
      if (rand() < 0.5) raw.expiries = "2025-11-25";
      if (rand() < 0.3) delete raw.strikes;
      const f = parseFilters(raw);
      if (!f) continue;
      const sel = new SegmentSelector(f, E, always);
      const bounds = sortedKeyBounds(stats);
      rows.forEach((r, i) => {
        const holds = r.some((k) => sel.selects(k[0], k[1], k[2]));
        if (holds) expect(sel.sortedGroupMayHold(stats[i], bounds[i])).toBe(true);
      });
    }
  });

  test("no bounds where a neighbour may hold nulls or the statistics are out of order", () => {
    const g = (e: number, o: [string, string], s: [number, number], keyNullFree = true): RowGroupKeyStats => ({
      rows: 5,
      expiry: [e, e],
      opt: o,
      strike: s,
      weekly: [true, true],
      keyNullFree,
    });
    expect(
      sortedKeyBounds([g(E, ["CE", "CE"], [1, 5]), g(E, ["CE", "PE"], [1, 9]), g(E, ["PE", "PE"], [3, 9])])[1],
    ).toEqual({ after: { expiry: E, opt: 0, strike: 5 }, before: { expiry: E, opt: 1, strike: 3 } });
    expect(
      sortedKeyBounds([g(E, ["CE", "CE"], [1, 5], false), g(E, ["CE", "PE"], [1, 9]), g(E, ["PE", "PE"], [3, 9])])[1],
    ).toBeNull();
    expect(sortedKeyBounds([g(E, ["PE", "PE"], [1, 5]), g(E, ["CE", "CE"], [1, 9])])).toEqual([null, null]);
    expect(sortedKeyBounds([g(E + 7, ["CE", "CE"], [1, 5]), g(E, ["CE", "CE"], [1, 9])])).toEqual([null, null]);
  });
});

describe("selectedRanges", () => {
  /** A batch from rows of [expiry day, opt code, strike] (null = a null key value). */
  function batch(rows: [number | null, number | null, number | null][]): KeyRunColumns {
    const n = rows.length;
    const bits = (k: number) => {
      if (rows.every((r) => r[k] !== null)) return null;
      const b = new Uint8Array((n + 7) >> 3);
      for (const [i, r] of rows.entries()) if (r[k] !== null) b[i >> 3] |= 1 << (i & 7);
      return b;
    };
    return {
      length: n,
      expiry: Int32Array.from(rows, (r) => r[0] ?? 0),
      expiryValid: bits(0),
      // Dictionary codes 0 → PE, 1 → CE: selection goes through the batch's map, never the raw code.
      opt: Int32Array.from(rows, (r) => (r[1] === null ? 0 : 1 - r[1])),
      optValid: bits(1),
      optMap: Int32Array.from([1, 0]),
      strike: Float32Array.from(rows, (r) => r[2] ?? 0),
      strikeValid: bits(2),
    };
  }
  const E = d("2025-11-18");
  test("runs of selected keys, adjacent selected segments merged, nulls never selected by a filter on them", () => {
    const b = batch([
      [E, 0, 100],
      [E, 0, 100],
      [E, 0, 200],
      [E, 0, 300],
      [E, 0, 300],
      [E, 1, 100],
      [E, 1, 200],
      [E, 1, null],
      [E, null, 200],
      [E, 1, 200],
    ]);
    const sel = new SegmentSelector(parseFilters({ strikes: "150:250" })!, E, always);
    expect(selectedRanges(b, sel)).toEqual([
      [2, 3],
      [6, 7],
      [8, 10],
    ]);
    const ce = new SegmentSelector(parseFilters({ "opt-type": "CE" })!, E, always);
    expect(selectedRanges(b, ce)).toEqual([[0, 5]]);
    const pe = new SegmentSelector(parseFilters({ "opt-type": "PE" })!, E, always);
    expect(selectedRanges(b, pe)).toEqual([
      [5, 8],
      [9, 10],
    ]);
    const none = new SegmentSelector(parseFilters({ strikes: "1:2" })!, E, always);
    expect(selectedRanges(b, none)).toEqual([]);
    expect(selectedRanges(batch([]), sel)).toEqual([]);
  });
  test("dte and series on the expiry, with a null expiry", () => {
    const b = batch([
      [E, 0, 1],
      [E + 7, 0, 1],
      [null, 0, 1],
      [E, 0, 1],
    ]);
    expect(selectedRanges(b, new SegmentSelector(parseFilters({ dte: "0:0" })!, E, always))).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(
      selectedRanges(b, new SegmentSelector(parseFilters({ "expiry-type": "monthly" })!, E, calendarExpiryType)),
    ).toEqual([[1, 2]]);
    // Without a known day a dte filter selects nothing.
    expect(selectedRanges(b, new SegmentSelector(parseFilters({ dte: "0:9" })!, null, always))).toEqual([]);
  });
});

describe("grid file filters", () => {
  test('read from the object form\'s "filters", which is not a parameter axis', () => {
    const text = JSON.stringify({
      fast: [3, 5],
      filters: { strikes: "1:2", expiry_type: "weekly", underlyings: ["NIFTY", "BANKNIFTY"], dte: "0:0" },
    });
    expect(parseGridFile(text, "g.json")).toEqual([{ fast: 3 }, { fast: 5 }]);
    expect(gridFileFilters(text, "g.json")).toEqual({
      strikes: "1:2",
      "expiry-type": "weekly",
      underlyings: "NIFTY,BANKNIFTY",
      dte: "0:0",
    });
    expect(gridFileFilters(JSON.stringify([{ fast: 3 }]), "g.json")).toEqual({});
    expect(() => gridFileFilters(JSON.stringify({ fast: [3], filters: { strike: "1:2" } }), "g.json")).toThrow(
      GridError,
    );
    expect(() => gridFileFilters(JSON.stringify({ fast: [3], filters: "x" }), "g.json")).toThrow(
      /filters: expected an object/,
    );
    expect(() => parseGridFile(JSON.stringify({ filters: { strikes: "1:2" } }), "g.json")).toThrow(/empty grid/);
  });
});
