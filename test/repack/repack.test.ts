import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as arrow from "apache-arrow";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatEpochDays, istDayOfEpochNs, parseIsoDate } from "../../lib/ist-time.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { PACKED_COLUMNS, PACKED_SORT_ORDER } from "../../lib/packed/schema.ts";
import { closeParquet, encodeArrowColumns, openParquet } from "../../lib/parquet/io.ts";
import { RepackFatalError, RepackUsageError } from "../../lib/repack/repack.ts";
import { firstUnsortedRow } from "../../lib/packed/sort-order.ts";
import {
  cleanupTempDirs,
  genFixture,
  packedRows,
  repackFixture,
  stampToDetectWrites,
  tempDir,
} from "../helpers/fixtures.ts";

// Each case runs real repacks (workers, parquet-wasm): seconds, not milliseconds.
setDefaultTimeout(60_000);

let raw: string;
let clean: string; // one reference repack of `raw`
let genRows: number;

beforeAll(async () => {
  raw = tempDir("raw");
  genRows = (await genFixture(raw)).rows;
  clean = tempDir("clean");
  await repackFixture([raw], clean);
});
afterAll(cleanupTempDirs);

function rawFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe("repack", () => {
  test("every written file is sorted, one day and underlying, with metadata and bounded row groups", async () => {
    const out = tempDir("check");
    const summary = await repackFixture([raw], out, { rowGroupSize: 700 });
    expect(summary.files_failed).toBe(0);
    expect(summary.rows_in).toBe(genRows);
    expect(summary.rows_in).toBe(summary.rows_out + summary.duplicates_dropped + summary.rows_without_timestamp);
    const partitions = listPackedPartitions(out);
    expect(partitions.length).toBe(summary.partitions_written);
    expect(partitions.length).toBe(4); // 2 days × 2 underlyings
    for (const p of partitions) {
      expect(p.layout).toBe("seed");
      expect(p.parts).toEqual([join(out, p.date!, p.underlying!, `part-${p.underlying!.toLowerCase()}-0.parquet`)]);
      const source = await openParquet(p.parts[0]);
      expect(source.keyValueMetadata.get("tickpack.sort")).toBe(PACKED_SORT_ORDER);
      expect(Number(source.keyValueMetadata.get("tickpack.rows"))).toBe(source.numRows);
      expect(source.keyValueMetadata.get("tickpack.date")).toBe(p.date!);
      expect(source.keyValueMetadata.get("tickpack.underlying")).toBe(p.underlying!);
      expect(Math.max(...source.rowGroupRows)).toBeLessThanOrEqual(700);
      expect(source.fields.map((f) => f.name)).toEqual(PACKED_COLUMNS.map((c) => c.name));
      closeParquet(source);
      const b = await readPackedRows(p.parts[0]);
      expect(firstUnsortedRow(b)).toBe(-1);
      const ts = b.columns.get("timestamp")!.values as BigInt64Array;
      const dates = b.columns.get("date")!.values as Int32Array;
      const und = b.columns.get("underlying")!;
      for (let i = 0; i < b.length; i++) {
        expect(formatEpochDays(istDayOfEpochNs(ts[i]))).toBe(p.date!);
        expect(formatEpochDays(dates[i])).toBe(p.date!);
        expect(und.dictionary![(und.values as Int32Array)[i]]).toBe(p.underlying!);
      }
    }
  });

  test("a rerun is a no-op: every input skipped, nothing rewritten", async () => {
    const out = tempDir("rerun");
    await repackFixture([raw], out);
    const before = await packedRows(out);
    const rewritten = stampToDetectWrites(listPackedPartitions(out).flatMap((p) => p.parts));
    const again = await repackFixture([raw], out);
    expect(again.files_in).toBe(0);
    expect(again.files_skipped).toBe(rawFiles(raw).length);
    expect(again.partitions_written).toBe(0);
    expect(rewritten()).toEqual([]);
    expect(await packedRows(out)).toEqual(before);
  });

  test("overlapping raw folders, one after the other, equal a repack of their union, without duplicates", async () => {
    const a = tempDir("raw-a");
    const b = tempDir("raw-b");
    await genFixture(a, { days: 2 }); // Mon, Tue
    await genFixture(b, { days: 2, start: parseIsoDate("2025-11-18") }); // Tue, Wed
    const sequential = tempDir("seq");
    const first = await repackFixture([a], sequential);
    const second = await repackFixture([b], sequential, { calendarPath: join(b, "expiry_calendar.csv") });
    expect(first.files_failed + second.files_failed).toBe(0);
    expect(second.duplicates_dropped).toBeGreaterThan(0); // the shared Tuesday
    const together = tempDir("union");
    const union = await repackFixture([a, b], together);
    expect(union.duplicates_dropped).toBe(second.duplicates_dropped);
    const rows = await packedRows(sequential);
    expect(rows).toEqual(await packedRows(together));
    expect([...rows.keys()].sort()).toEqual([
      "2025-11-17/BANKNIFTY",
      "2025-11-17/NIFTY",
      "2025-11-18/BANKNIFTY",
      "2025-11-18/NIFTY",
      "2025-11-19/BANKNIFTY",
      "2025-11-19/NIFTY",
    ]);
    for (const [, list] of rows) expect(new Set(list).size).toBe(list.length);
    expect(first.rows_in + second.rows_in).toBe(
      first.rows_out +
        second.rows_out +
        first.duplicates_dropped +
        second.duplicates_dropped +
        first.rows_without_timestamp +
        second.rows_without_timestamp,
    );
  });

  test("hive layout holds the same rows; split parts continue the order", async () => {
    const hive = tempDir("hive");
    await repackFixture([raw], hive, { layout: "hive" });
    expect(existsSync(join(hive, "date=2025-11-17", "underlying=NIFTY", "part-0.parquet"))).toBe(true);
    expect(await packedRows(hive)).toEqual(await packedRows(clean));

    const split = tempDir("split");
    await repackFixture([raw], split, { partRows: 2500, rowGroupSize: 1000 });
    const parts = listPackedPartitions(split);
    expect(parts.some((p) => p.parts.length > 2)).toBe(true);
    for (const p of parts) {
      for (const [i, path] of p.parts.entries())
        expect(path.endsWith(`part-${p.underlying!.toLowerCase()}-${i}.parquet`)).toBe(true);
      for (const path of p.parts) expect((await readPackedRows(path)).length).toBeLessThanOrEqual(2500);
    }
    expect(await packedRows(split)).toEqual(await packedRows(clean));
  });

  test("refuses to mix layouts in one output folder", async () => {
    await expect(repackFixture([raw], clean, { layout: "hive" })).rejects.toThrow(RepackUsageError);
  });
});

describe("bad input", () => {
  let bad: string;
  let out: string;
  let good: string[];
  let before: Map<string, string[]>;
  let summary: Awaited<ReturnType<typeof repackFixture>>;
  const expected: Record<string, string> = {};

  function writeRawTable(path: string, columns: Record<string, arrow.Data>) {
    writeFileSync(path, encodeArrowColumns(columns, { rowGroupSize: 1000, metadata: new Map() }));
  }

  beforeAll(async () => {
    // Start from a packed store, then add a folder of broken files next to a copy of the good ones.
    out = tempDir("bad-out");
    await repackFixture([raw], out);
    before = await packedRows(out);
    bad = tempDir("bad-raw");
    good = rawFiles(raw);
    const sample = good.find((p) => p.includes("NIFTY25NOV"))!;
    const strike = Number(/NOV(\d+)CE/.exec(sample)?.[1] ?? /NOV(\d+)PE/.exec(sample)![1]);
    const bytes = readFileSync(sample);
    const add = (name: string, content: Uint8Array | string, reason: string) => {
      writeFileSync(join(bad, name), content);
      expected[name] = reason;
    };
    add("junk.parquet", bytes, "not a contract file name");
    add("NIFTY25NOV90000CE.parquet", bytes.subarray(0, bytes.length - 200), "truncated or corrupt");
    add("NIFTY25NOV90050CE.parquet", "this is not parquet at all, just text", "truncated or corrupt");
    add("NIFTY25NOV90100CE.parquet", new Uint8Array(0), "empty file");
    add(`NIFTY25NOV${strike + 5}CE.parquet`, bytes, `file name says strike ${strike + 5}`);
    add("NIFTY27JAN24000CE.parquet", bytes, "no monthly expiry for NIFTY 2027-01");
    const n = 3;
    const ts = arrow.makeData({
      type: new arrow.TimestampMillisecond("UTC"),
      length: n,
      data: new BigInt64Array([1763351100000n, 1763351101000n, 1763351102000n]),
    } as never);
    const f64 = () => arrow.makeData({ type: new arrow.Float64(), length: n, data: new Float64Array([100, 101, 102]) });
    const i64 = () => arrow.makeData({ type: new arrow.Int64(), length: n, data: new BigInt64Array([1n, 2n, 3n]) });
    writeRawTable(join(bad, "NIFTY25NOV90150CE.parquet"), { timestamp: ts, volume: i64(), bp0: f64(), sp0: f64() });
    expected["NIFTY25NOV90150CE.parquet"] = "missing required column price";
    const opt = arrow.vectorFromArray(["CE", "XX", "CE"], new arrow.Utf8()).data[0];
    writeRawTable(join(bad, "NIFTY25NOV90200CE.parquet"), {
      timestamp: ts,
      price: f64(),
      volume: i64(),
      bp0: f64(),
      sp0: f64(),
      opt_type: opt,
    });
    expected["NIFTY25NOV90200CE.parquet"] = 'unknown opt_type "XX"';
    // The calendar of the first folder is used; the bad folder goes second.
    summary = await repackFixture([raw, bad], out);
  });

  test("each bad file fails with its reason, named; the good ones are skipped as unchanged", () => {
    expect(summary.files_failed).toBe(Object.keys(expected).length);
    expect(summary.files_skipped).toBe(good.length);
    for (const [name, reason] of Object.entries(expected)) {
      const err = summary.errors.find((e) => e.file.endsWith(`/${name}`));
      expect(err?.error).toContain(reason);
    }
  });

  test("failed files are not recorded, packed rows are untouched", async () => {
    const manifest = JSON.parse(readFileSync(join(out, "_tickpack", "manifest.json"), "utf8"));
    for (const name of Object.keys(expected))
      expect(Object.keys(manifest.files).some((f) => f.endsWith(`/${name}`))).toBe(false);
    expect(await packedRows(out)).toEqual(before);
  });

  test("a failed file is retried next run", async () => {
    const own = tempDir("bad-rerun");
    cpSync(out, own, { recursive: true });
    const again = await repackFixture([raw, bad], own);
    expect(again.files_failed).toBe(Object.keys(expected).length);
  });

  test("a malformed or missing calendar stops the run before it starts", async () => {
    const cal = join(tempDir("cal"), "cal.csv");
    writeFileSync(cal, "underlying,expiry_type,expiry_date\nNIFTY,monthly,2025-13-40\n");
    await expect(repackFixture([raw], tempDir("o"), { calendarPath: cal })).rejects.toThrow(`${cal}: line 2`);
    await expect(repackFixture([raw], tempDir("o"), { calendarPath: "/nonexistent.csv" })).rejects.toThrow(
      RepackUsageError,
    );
  });

  test("an output folder that cannot be written is a clear error", async () => {
    const file = join(tempDir("ro"), "a-file");
    writeFileSync(file, "x");
    await expect(repackFixture([raw], join(file, "out"))).rejects.toThrow(RepackFatalError);
    await expect(repackFixture([raw], join(file, "out"))).rejects.toThrow("not writable");
  });

  test("a second concurrent run is refused", async () => {
    const o = tempDir("locked");
    mkdirSync(join(o, "_tickpack"), { recursive: true });
    // The lock of a live process (this one).
    writeFileSync(
      join(o, "_tickpack", "lock"),
      JSON.stringify({ pid: process.pid, host: require("node:os").hostname(), since: "now" }),
    );
    await expect(repackFixture([raw], o)).rejects.toThrow("another run");
    // A lock left by a dead process is taken over.
    writeFileSync(
      join(o, "_tickpack", "lock"),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: require("node:os").hostname(), since: "then" }),
    );
    const s = await repackFixture([raw], o);
    expect(s.files_failed).toBe(0);
    expect(existsSync(join(o, "_tickpack", "lock"))).toBe(false);
  });

  test("bad file of an existing contract costs no packed rows", async () => {
    const o = tempDir("existing");
    await repackFixture([raw], o);
    const rows = await packedRows(o);
    const dir = tempDir("corrupt");
    const victim = rawFiles(raw)[0];
    const bytes = new Uint8Array(readFileSync(victim));
    // Same contract, new mtime/size, body garbled past the footer check.
    writeFileSync(join(dir, victim.split("/").pop()!), bytes.subarray(0, bytes.length - 50));
    copyFileSync(join(raw, "expiry_calendar.csv"), join(dir, "expiry_calendar.csv"));
    const s = await repackFixture([dir], o);
    expect(s.files_failed).toBe(1);
    expect(await packedRows(o)).toEqual(rows);
  });

  test("a file whose pages trap parquet-wasm fails alone; its partitions are packed without it", async () => {
    const dir = tempDir("trap");
    cpSync(raw, dir, { recursive: true });
    const victim = rawFiles(dir).find((f) => f.includes("/NIFTY/"))!;
    const bytes = new Uint8Array(readFileSync(victim));
    // Garble the column data, leave the footer: opening works, decoding traps (RuntimeError: Unreachable).
    for (let i = bytes.length >> 2; i < bytes.length >> 1; i++) bytes[i] ^= 0x55;
    writeFileSync(victim, bytes);
    const o = tempDir("trap-out");
    const s = await repackFixture([dir], o);
    expect(s.errors.map((e) => e.file)).toEqual([victim]);
    expect(s.errors[0].error).not.toContain("\n");
    expect(s.duplicates_dropped).toBe(0);
    expect(s.rows_in).toBe(s.rows_out + s.rows_without_timestamp);
    // Same as packing the folder without that file.
    const without = tempDir("trap-without");
    cpSync(raw, without, { recursive: true });
    rmSync(join(without, victim.slice(dir.length)));
    const ref = tempDir("trap-ref");
    await repackFixture([without], ref);
    expect(await packedRows(o)).toEqual(await packedRows(ref));
  });
});
