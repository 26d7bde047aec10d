import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { noCacheStats, type CacheSettings } from "../../lib/cache/cache-stats.ts";
import { PartCache } from "../../lib/cache/part-cache.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { isValidAt } from "../../lib/parquet/c-data.ts";
import { fillingSource } from "../../lib/read/cache-fill.ts";
import { cacheSource, selectedRowRanges } from "../../lib/read/cache-source.ts";
import { openDecodeSource } from "../../lib/read/decode-source.ts";
import { StrategyInputError } from "../../lib/read/input-error.ts";
import { openWasmSource } from "../../lib/read/wasm-source.ts";
import type { ColumnViews, PartSource, RowSelection } from "../../lib/read/part-source.ts";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);

/** Every kind a source hands over: a string dictionary, date32, float32, int64, float64 with nulls. */
const COLUMNS = ["expiry", "opt_type", "strike", "timestamp", "price", "bp0"];

let part: string;
let fd: number;
let settings: CacheSettings;

beforeAll(async () => {
  const packed = await packedFixture("part-source", { tickProb: 0.3, days: 1, underlyings: ["NIFTY"] });
  const first = listPackedPartitions(packed)[0];
  part = first.parts[0];
  fd = openSync(part, "r");
  settings = { dir: tempDir("part-source-cache"), verifyAll: true };
});

afterAll(() => {
  closeSync(fd);
  cleanupTempDirs();
});

/** A batch as plain values per column, row by row: null where invalid, a dictionary's string, an int64 as a bigint. */
function plain(batches: ColumnViews[]): unknown[][][] {
  return batches.map((b) =>
    b.columns.map((c) =>
      Array.from({ length: b.length }, (_, i) => {
        if (!isValidAt(c.validity, i)) return null;
        if (c.dictionary && c.values) return c.dictionary[Number(c.values[i])];
        if (c.strings) return c.strings[i];
        return c.values ? c.values[i] : undefined;
      }),
    ),
  );
}

/** The part's cache filled through a decode source (every row group read whole), then served from it. */
async function filledCacheSource(): Promise<{ source: PartSource; release: () => void }> {
  const stats = noCacheStats();
  const filling = fillingSource(
    await openDecodeSource(part, fd, COLUMNS),
    new PartCache(part, fd, settings, COLUMNS, stats),
    COLUMNS,
  );
  try {
    for (let g = 0; g < filling.rowGroupRows.length; g++) await filling.read(COLUMNS, { rowGroups: [g] }, () => {});
    filling.commitFill();
  } finally {
    filling.close();
  }
  expect(stats.errors).toEqual([]);
  const cache = new PartCache(part, fd, settings, COLUMNS, stats);
  expect(cache.complete(COLUMNS)).toBe(true);
  return { source: cacheSource(part, cache, COLUMNS), release: () => cache.release() };
}

describe("part sources", () => {
  test("every source gives parquet-wasm's views for the same selection", async () => {
    // parquet-wasm is the reference; the others are the cache and whatever openDecodeSource picks for the part.
    const wasm = await openWasmSource(part, fd);
    const cached = await filledCacheSource();
    const decoded = await openDecodeSource(part, fd, COLUMNS);
    try {
      expect(wasm.kind).toBe("wasm");
      expect(cached.source.kind).toBe("cache");
      expect(decoded.kind).toBe("native");
      expect(cached.source.columns.map((c) => c.name)).toEqual(COLUMNS);
      expect(decoded.columns.map((c) => c.name)).toEqual(wasm.columns.map((c) => c.name));
      const groups = wasm.rowGroupRows.length;
      expect(groups).toBeGreaterThanOrEqual(3);
      const last = groups - 1;
      const selections: RowSelection[] = [
        { rowGroups: [0] },
        { rowGroups: [1, last] },
        { rowGroups: [last], offset: 3, limit: 5 },
        { rowGroups: [1], offset: wasm.rowGroupRows[1] - 1, limit: 1 },
        { rowGroups: [] },
      ];
      // Columns in an order of their own: each source answers in the order asked.
      const asked = ["price", "strike", "opt_type", "timestamp", "expiry", "bp0"];
      for (const source of [cached.source, decoded]) {
        expect(source.rowGroupRows).toEqual(wasm.rowGroupRows);
        for (const selection of selections) {
          const got = await source.read(asked, selection, plain);
          expect(got).toEqual(await wasm.read(asked, selection, plain));
          // One batch per row group that keeps rows.
          expect(got.length).toBe(selectedRowRanges(wasm.rowGroupRows, selection).length);
        }
      }
      // Somewhere in the part there are nulls (the generator's defects), so validity is compared too.
      const all = await wasm.read(["price", "bp0"], { rowGroups: [...wasm.rowGroupRows.keys()] }, plain);
      expect(all.flat(2).some((v) => v === null)).toBe(true);
    } finally {
      decoded.close();
      cached.release();
      wasm.close();
    }
  });

  test("selectedRowRanges counts offset and limit over the selected groups' rows", () => {
    const rows = [10, 20, 30];
    expect(selectedRowRanges(rows, { rowGroups: [1] })).toEqual([[10, 30]]);
    expect(selectedRowRanges(rows, { rowGroups: [0, 2], offset: 5, limit: 10 })).toEqual([
      [5, 10],
      [30, 35],
    ]);
    expect(selectedRowRanges(rows, { rowGroups: [2], offset: 30 })).toEqual([]);
    expect(() => selectedRowRanges(rows, { rowGroups: [3] })).toThrow(RangeError);
  });

  test("a fill that reads a window, or skips a group, is abandoned: the part stays uncached", async () => {
    const dir = tempDir("part-source-partial");
    const stats = noCacheStats();
    // Every row group but one read whole, in order: the first read short of a row, or the second skipped.
    const plans = [
      (rows: readonly number[]): RowSelection[] =>
        rows.map((n, g) => (g === 0 ? { rowGroups: [0], offset: 0, limit: n - 1 } : { rowGroups: [g] })),
      (rows: readonly number[]): RowSelection[] => rows.flatMap((_, g) => (g === 1 ? [] : [{ rowGroups: [g] }])),
    ];
    for (const reads of plans) {
      const filling = fillingSource(
        await openDecodeSource(part, fd, COLUMNS),
        new PartCache(part, fd, { dir, verifyAll: true }, COLUMNS, stats),
        COLUMNS,
      );
      try {
        for (const r of reads(filling.rowGroupRows)) await filling.read(COLUMNS, r, () => {});
        filling.commitFill();
      } finally {
        filling.close();
      }
      const cache = new PartCache(part, fd, { dir, verifyAll: true }, COLUMNS, stats);
      expect(cache.mapped.size).toBe(0);
      cache.release();
    }
    expect(stats.bytesWritten).toBe(0);
    expect(stats.errors).toEqual([]);
  });

  test("openDecodeSource names the file and the columns it lacks", async () => {
    const missing = openDecodeSource(part, fd, ["expiry", "no_such", "nor_this"]);
    await expect(missing).rejects.toThrow(StrategyInputError);
    await expect(missing).rejects.toThrow(`${part}: missing columns no_such, nor_this`);
    const notParquet = join(tempDir("part-source-bad"), "bad.parquet");
    await Bun.write(notParquet, "not parquet at all");
    const bad = openSync(notParquet, "r");
    try {
      await expect(openDecodeSource(notParquet, bad, ["expiry"])).rejects.toThrow(`${notParquet}: `);
    } finally {
      closeSync(bad);
    }
  });
});
