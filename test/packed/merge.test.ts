import { describe, expect, test } from "bun:test";
import { nullColumn, type Column, type ColumnBatch } from "../../lib/parquet/column-batch.ts";
import { PACKED_COLUMNS } from "../../lib/packed/schema.ts";
import { gatherRows, mergePartition } from "../../lib/packed/merge.ts";
import { firstUnsortedRow } from "../../lib/packed/sort-order.ts";

interface Row {
  expiry: number;
  opt: "CE" | "PE";
  strike: number;
  ts: number;
  volume: number | null;
  price?: number;
}

/** A packed-schema batch of the given rows; opt_type dictionaries can be given in any order. */
function batchOf(rows: Row[], dictOrder: string[] = ["CE", "PE"]): ColumnBatch {
  const n = rows.length;
  const columns = new Map<string, Column>();
  for (const spec of PACKED_COLUMNS) columns.set(spec.name, nullColumn(spec.kind, n));
  const set = (name: string, f: (r: Row) => number | bigint | null) => {
    const c = columns.get(name)!;
    rows.forEach((r, i) => {
      const v = f(r);
      if (v === null) return;
      (c.values as unknown as (number | bigint)[])[i] = v;
      c.valid![i] = 1;
    });
  };
  set("expiry", (r) => r.expiry);
  set("strike", (r) => r.strike);
  set("timestamp", (r) => BigInt(r.ts));
  set("volume", (r) => (r.volume === null ? null : BigInt(r.volume)));
  set("price", (r) => r.price ?? 100);
  const opt = columns.get("opt_type")!;
  opt.dictionary = dictOrder;
  rows.forEach((r, i) => {
    (opt.values as Int32Array)[i] = dictOrder.indexOf(r.opt);
    opt.valid![i] = 1;
  });
  return { length: n, columns };
}

function merged(batches: ColumnBatch[]) {
  const m = mergePartition(batches);
  const out = gatherRows(m, 0, m.length);
  const col = (name: string) => out.columns.get(name)!;
  const rows = Array.from({ length: out.length }, (_, i) => ({
    expiry: (col("expiry").values as Int32Array)[i],
    opt: col("opt_type").dictionary![(col("opt_type").values as Int32Array)[i]],
    strike: (col("strike").values as Float32Array)[i],
    ts: Number((col("timestamp").values as BigInt64Array)[i]),
    price: (col("price").values as Float64Array)[i],
    volDelta: Number((col("vol_delta").values as BigInt64Array)[i]),
  }));
  return { m, out, rows };
}

describe("mergePartition", () => {
  test("orders contracts by expiry, CE before PE, strike, then time", () => {
    const a = batchOf([
      { expiry: 20, opt: "PE", strike: 100, ts: 2, volume: 1 },
      { expiry: 20, opt: "PE", strike: 100, ts: 1, volume: 1 },
    ]);
    // Dictionary order PE, CE in this source: must still sort CE first (by string, not code).
    const b = batchOf(
      [
        { expiry: 20, opt: "CE", strike: 200, ts: 5, volume: 1 },
        { expiry: 10, opt: "PE", strike: 50, ts: 9, volume: 1 },
        { expiry: 20, opt: "CE", strike: 100, ts: 7, volume: 1 },
      ],
      ["PE", "CE"],
    );
    const { out, rows } = merged([a, b]);
    expect(rows.map((r) => `${r.expiry}${r.opt}${r.strike}@${r.ts}`)).toEqual([
      "10PE50@9",
      "20CE100@7",
      "20CE200@5",
      "20PE100@1",
      "20PE100@2",
    ]);
    expect(firstUnsortedRow(out)).toBe(-1);
  });

  test("equal strikes under different expiries stay separate contracts", () => {
    const { rows } = merged([
      batchOf([
        { expiry: 30, opt: "CE", strike: 100, ts: 1, volume: 10 },
        { expiry: 20, opt: "CE", strike: 100, ts: 2, volume: 50 },
        { expiry: 30, opt: "CE", strike: 100, ts: 3, volume: 15 },
      ]),
    ]);
    expect(rows.map((r) => [r.expiry, r.ts, r.volDelta])).toEqual([
      [20, 2, 0],
      [30, 1, 0],
      [30, 3, 5],
    ]);
  });

  test("vol_delta: 0 first, difference after, 0 on reset and around nulls", () => {
    const { rows } = merged([
      batchOf([
        { expiry: 1, opt: "CE", strike: 1, ts: 1, volume: 100 },
        { expiry: 1, opt: "CE", strike: 1, ts: 2, volume: 130 },
        { expiry: 1, opt: "CE", strike: 1, ts: 3, volume: 20 }, // reset
        { expiry: 1, opt: "CE", strike: 1, ts: 4, volume: 25 },
        { expiry: 1, opt: "CE", strike: 1, ts: 5, volume: null },
        { expiry: 1, opt: "CE", strike: 1, ts: 6, volume: 40 },
        { expiry: 1, opt: "CE", strike: 1, ts: 7, volume: 41 },
        { expiry: 1, opt: "PE", strike: 1, ts: 1, volume: 500 }, // next contract starts at 0
      ]),
    ]);
    expect(rows.map((r) => r.volDelta)).toEqual([0, 30, 0, 5, 0, 0, 1, 0]);
  });

  test("vol_delta follows time order, not input order", () => {
    const { rows } = merged([
      batchOf([
        { expiry: 1, opt: "CE", strike: 1, ts: 2, volume: 110 },
        { expiry: 1, opt: "CE", strike: 1, ts: 1, volume: 100 },
        { expiry: 1, opt: "CE", strike: 1, ts: 3, volume: 125 },
      ]),
    ]);
    expect(rows.map((r) => [r.ts, r.volDelta])).toEqual([
      [1, 0],
      [2, 10],
      [3, 15],
    ]);
  });

  test("exact duplicates across sources are dropped; equal timestamps with other values are kept in input order", () => {
    const first = batchOf([
      { expiry: 1, opt: "CE", strike: 1, ts: 1, volume: 1, price: 10 },
      { expiry: 1, opt: "CE", strike: 1, ts: 2, volume: 2, price: 11 },
    ]);
    const second = batchOf(
      [
        { expiry: 1, opt: "CE", strike: 1, ts: 2, volume: 2, price: 11 }, // duplicate
        { expiry: 1, opt: "CE", strike: 1, ts: 2, volume: 2, price: 12 }, // same time, other price
        { expiry: 1, opt: "CE", strike: 1, ts: 3, volume: 3, price: 13 },
      ],
      ["PE", "CE"],
    );
    const { m, rows } = merged([first, second]);
    expect(m.duplicatesDropped).toBe(1);
    expect(rows.map((r) => [r.ts, r.price])).toEqual([
      [1, 10],
      [2, 11],
      [2, 12],
      [3, 13],
    ]);
  });

  test("rows are gathered identically in any chunking", () => {
    const rows: Row[] = [];
    for (let i = 0; i < 500; i++)
      rows.push({ expiry: i % 3, opt: i % 2 ? "CE" : "PE", strike: i % 7, ts: (i * 7919) % 1000, volume: i });
    const m = mergePartition([batchOf(rows)]);
    const whole = gatherRows(m, 0, m.length);
    const a = gatherRows(m, 0, 123);
    const b = gatherRows(m, 123, m.length);
    const ts = (x: typeof whole) => Array.from(x.columns.get("timestamp")!.values as BigInt64Array);
    expect([...ts(a), ...ts(b)]).toEqual(ts(whole));
    expect(firstUnsortedRow(whole)).toBe(-1);
  });
});

describe("exact duplicates among many rows of one timestamp", () => {
  test("100,000 rows sharing one timestamp: duplicates (nulls equal to nulls, -0 equal to 0) dropped, first kept, input order kept", () => {
    // Comparing each row with every kept row of its timestamp would take minutes here.
    const n = 100_000;
    const rows: Row[] = [];
    for (let i = 0; i < n; i++)
      rows.push({ expiry: 1, opt: "CE", strike: 1, ts: 5, volume: i % 4 === 3 ? null : i % 50_000, price: i % 25_000 });
    const a = batchOf(rows.slice(0, 60_000));
    const b = batchOf(rows.slice(60_000), ["PE", "CE"]);
    (b.columns.get("price")!.values as Float64Array)[75_000 - 60_000] = -0; // row 75,000 repeats row 25,000
    const { m, rows: out } = merged([a, b]);
    const seen = new Set<string>();
    const expected: number[] = [];
    for (const r of rows) {
      const key = `${r.volume}|${r.price}`;
      if (!seen.has(key)) expected.push(r.price!);
      seen.add(key);
    }
    expect(expected.length).toBeLessThan(60_000);
    expect(m.duplicatesDropped).toBe(n - expected.length);
    expect(out.map((r) => r.price)).toEqual(expected);
  });
});
