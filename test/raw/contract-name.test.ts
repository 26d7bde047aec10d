import { describe, expect, test } from "bun:test";
import { ContractNameError, formatContractName, parseContractName } from "../../lib/raw/contract-name.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";

describe("parseContractName", () => {
  const cases: [string, object][] = [
    [
      "banknifty24dec49000pe.parquet",
      {
        underlying: "BANKNIFTY",
        year: 2024,
        month: 12,
        expiryType: "monthly",
        weeklyExpiry: null,
        strike: 49000,
        optType: "PE",
      },
    ],
    [
      "NIFTY25NOV24500CE.parquet",
      { underlying: "NIFTY", year: 2025, month: 11, expiryType: "monthly", strike: 24500, optType: "CE" },
    ],
    [
      "NIFTY25N1124500CE.parquet",
      {
        underlying: "NIFTY",
        year: 2025,
        month: 11,
        expiryType: "weekly",
        weeklyExpiry: parseIsoDate("2025-11-11"),
        strike: 24500,
        optType: "CE",
      },
    ],
    [
      "NIFTY2510724500PE",
      {
        underlying: "NIFTY",
        year: 2025,
        month: 1,
        expiryType: "weekly",
        weeklyExpiry: parseIsoDate("2025-01-07"),
        strike: 24500,
      },
    ],
    ["NIFTY25O0724500PE.PARQUET", { month: 10, weeklyExpiry: parseIsoDate("2025-10-07") }],
    ["NIFTY25D3024500PE.parquet", { month: 12, weeklyExpiry: parseIsoDate("2025-12-30") }],
    ["M&M25NOV3200CE.parquet", { underlying: "M&M", strike: 3200, expiryType: "monthly" }],
    ["BAJAJ-AUTO25DEC9000PE.parquet", { underlying: "BAJAJ-AUTO", month: 12 }],
    ["IDEA25NOV102.5CE.parquet", { underlying: "IDEA", strike: 102.5 }],
    ["some/dir/nifty25nov24500ce.parquet", { underlying: "NIFTY", strike: 24500 }],
  ];
  for (const [name, expected] of cases) {
    test(name, () => expect(parseContractName(name)).toMatchObject(expected));
  }

  const junk = [
    "NIFTY.parquet",
    "NIFTY25NOV24500XE.parquet",
    "25NOV24500CE.parquet",
    "NIFTY25XYZ24500CE.parquet",
    "NIFTY25N3124500CE.parquet",
    "NIFTY25N0024500CE.parquet",
    "readme.parquet",
    "NIFTY25NOVCE.parquet",
  ];
  for (const name of junk) {
    test(`rejects ${name}`, () => {
      expect(() => parseContractName(name)).toThrow(ContractNameError);
      expect(() => parseContractName(name)).toThrow(name);
    });
  }

  test("formatContractName is its inverse", () => {
    for (const stem of [
      "NIFTY25N1124500CE",
      "BANKNIFTY24DEC49000PE",
      "M&M25NOV3200CE",
      "IDEA25NOV102.5CE",
      "NIFTY25D3024500PE",
    ]) {
      expect(formatContractName(parseContractName(stem))).toBe(stem);
    }
  });
});
