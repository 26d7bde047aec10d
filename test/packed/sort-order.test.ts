import { describe, expect, test } from "bun:test";
import { nullColumn, type Column, type ColumnBatch } from "../../lib/parquet/column-batch.ts";
import { comparePackedKeys, firstUnsortedRow, type PackedSortKey } from "../../lib/packed/sort-order.ts";
import { compareContractKeys, type ContractKey } from "../../lib/packed/contract-key.ts";

function keys(rows: [number, string, number, bigint][], dictionary: string[]): ColumnBatch {
  const n = rows.length;
  const col = (kind: Column["kind"], values: Column["values"]): Column => ({ kind, values, valid: null });
  return {
    length: n,
    columns: new Map<string, Column>([
      [
        "expiry",
        col(
          "date32",
          Int32Array.from(rows, (r) => r[0]),
        ),
      ],
      [
        "opt_type",
        { kind: "dict", values: Int32Array.from(rows, (r) => dictionary.indexOf(r[1])), valid: null, dictionary },
      ],
      [
        "strike",
        col(
          "f32",
          Float32Array.from(rows, (r) => r[2]),
        ),
      ],
      [
        "timestamp",
        col(
          "ts_ns",
          BigInt64Array.from(rows, (r) => r[3]),
        ),
      ],
    ]),
  };
}

describe("firstUnsortedRow", () => {
  const rows: [number, string, number, bigint][] = [
    [1, "CE", 100, 5n],
    [1, "CE", 100, 6n],
    [1, "PE", 50, 1n],
    [2, "CE", 10, 1n],
  ];

  test("compares opt_type by string, whatever the dictionary order", () => {
    expect(firstUnsortedRow(keys(rows, ["CE", "PE"]))).toBe(-1);
    // Codes CE=1, PE=0: comparing codes (the prototype's mistake) would call row 2 unsorted.
    expect(firstUnsortedRow(keys(rows, ["PE", "CE"]))).toBe(-1);
  });

  test("finds the first row out of order in each key", () => {
    expect(firstUnsortedRow(keys([rows[1], rows[0]], ["CE", "PE"]))).toBe(1);
    expect(firstUnsortedRow(keys([rows[2], rows[1]], ["PE", "CE"]))).toBe(1);
    expect(firstUnsortedRow(keys([rows[3], rows[2]], ["CE", "PE"]))).toBe(1);
    expect(
      firstUnsortedRow(
        keys(
          [
            [1, "CE", 200, 1n],
            [1, "CE", 100, 2n],
          ],
          ["CE"],
        ),
      ),
    ).toBe(1);
  });

  test("nulls sort first", () => {
    const b = keys(rows, ["CE", "PE"]);
    b.columns.set("expiry", { ...nullColumn("date32", 4), valid: Uint8Array.from([0, 1, 1, 1]) });
    (b.columns.get("expiry")!.values as Int32Array).set([0, 1, 1, 2]);
    expect(firstUnsortedRow(b)).toBe(-1);
  });
});

describe("one order for merges and checks", () => {
  test("a NaN strike sorts after every number and ties with itself, in the merge's order and the check's", () => {
    expect(
      firstUnsortedRow(
        keys(
          [
            [1, "CE", 100, 1n],
            [1, "CE", NaN, 2n],
            [1, "CE", NaN, 3n],
            [1, "PE", 5, 1n],
          ],
          ["CE", "PE"],
        ),
      ),
    ).toBe(-1);
    expect(
      firstUnsortedRow(
        keys(
          [
            [1, "CE", NaN, 1n],
            [1, "CE", 100, 2n],
          ],
          ["CE"],
        ),
      ),
    ).toBe(1);
  });

  test("compareContractKeys (merges) and comparePackedKeys (checks) agree on every pair, nulls and NaN included", () => {
    const keysOf: ContractKey[] = [];
    for (const expiry of [-Infinity, 1, 2])
      for (const optType of ["", "CE", "PE", "XX"])
        for (const strike of [-Infinity, 50, 100, NaN]) keysOf.push({ expiry, optType, strike });
    const packed = (k: ContractKey): PackedSortKey => ({
      expiry: k.expiry === -Infinity ? null : k.expiry,
      optType: k.optType === "" ? null : k.optType,
      strike: k.strike === -Infinity ? null : k.strike,
      timestamp: 0n,
    });
    const sorted = [...keysOf].sort(compareContractKeys);
    for (let i = 0; i < sorted.length; i++)
      for (let j = 0; j < sorted.length; j++) {
        const c = Math.sign(compareContractKeys(sorted[i], sorted[j]));
        expect(c).toBe(Math.sign(i - j));
        expect(Math.sign(comparePackedKeys(packed(sorted[i]), packed(sorted[j])))).toBe(c);
      }
    expect(sorted.slice(0, 4).map((k) => k.strike)).toEqual([-Infinity, 50, 100, NaN]);
  });
});
