/**
 * repack's output checked against an independent reading of the raw files (DuckDB): every raw row
 * is packed with equal values, timestamps in UTC ns (naive raw = IST wall clock), the IST date,
 * sorted, vol_delta as recomputed in SQL, ZSTD and statistics on every column chunk.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as arrow from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_DEFECTS, DEFAULT_QUIRKS } from "../../lib/gen/gen.ts";
import { epochDaysOf, istWallClockToEpochNs } from "../../lib/ist-time.ts";
import { encodeArrowColumns } from "../../lib/parquet/io.ts";
import { compareWithDuckDB, expectPackedAsRaw, type RawFileSpec } from "../helpers/duckdb.ts";
import { cleanupTempDirs, genFixture, packedRows, repackFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);
afterAll(() => (process.env.KEEP ? undefined : cleanupTempDirs()));

describe("repack against DuckDB's reading of the raw files", () => {
  let raw: string;
  beforeAll(async () => {
    raw = tempDir("dk-raw");
    await genFixture(raw);
  });

  test("generated files (naive µs timestamps): every raw row packed with equal values, on its IST day", async () => {
    const out = tempDir("dk-out");
    const s = await repackFixture([raw], out, { rowGroupSize: 3000 });
    expect(s.files_failed).toBe(0);
    const files: RawFileSpec[] = readdirSync(raw, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
      .map((e) => ({ path: join(e.parentPath, e.name) }));
    expectPackedAsRaw(await compareWithDuckDB(files, out), s.rows_out);
  });
});

describe("quirky data (gen's default defect and quirk rates) against DuckDB", () => {
  test("every raw row is packed or rejected for its reason (kept under _tickpack/rejected/), computed columns as the names and calendar say", async () => {
    const raw = tempDir("dk-quirky-raw");
    // Seed 4 gives epoch-zero first rows, volume resets and pre-open rows at the default rates.
    await genFixture(raw, { seed: 4, defects: { ...DEFAULT_DEFECTS, ...DEFAULT_QUIRKS } });
    // BANKNIFTY's November contracts expire on the first day: its second day is after their expiry.
    const cal = join(raw, "expiry_calendar.csv");
    writeFileSync(
      cal,
      readFileSync(cal, "utf8").replace(/BANKNIFTY,monthly,2025-11-\d\d/, "BANKNIFTY,monthly,2025-11-17"),
    );
    // A file of the feed's worst: a null timestamp among good rows (gen writes none).
    const ms = [1763353800000n, 0n, 1763353860000n, 1763353920000n]; // 2025-11-17 10:00–10:02 IST as naive ms
    const f64 = (v: number[]) =>
      arrow.makeData({ type: new arrow.Float64(), length: v.length, data: Float64Array.from(v) });
    writeFileSync(
      join(raw, "NIFTY", "NIFTY25NOV99950CE.parquet"),
      encodeArrowColumns(
        {
          timestamp: arrow.makeData({
            type: new arrow.TimestampMillisecond(),
            length: 4,
            nullCount: 1,
            data: BigInt64Array.from(ms.map((t) => t + 19_800_000n)),
            nullBitmap: Uint8Array.of(0b1101),
          } as never),
          price: f64([1, 2, 3, 4]),
          volume: arrow.makeData({ type: new arrow.Int64(), length: 4, data: BigInt64Array.of(5n, 6n, 4n, 9n) }),
          bp0: f64([1, 2, 3, 4]),
          sp0: f64([1.1, 2.1, 3.1, 4.1]),
        },
        { rowGroupSize: 4, metadata: new Map() },
      ),
    );
    const out = tempDir("dk-quirky-out");
    const s = await repackFixture([raw], out);
    expect(s.files_failed).toBe(0);
    const files: RawFileSpec[] = readdirSync(raw, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
      .map((e) => ({ path: join(e.parentPath, e.name) }));
    const c = await compareWithDuckDB(files, out);
    expectPackedAsRaw(c, s.rows_out);
    expect(c.rejectedByReason.before_2000).toBeGreaterThan(0);
    expect(c.rejectedByReason.after_expiry).toBeGreaterThan(0);
    expect(c.rejectedByReason.null_timestamp).toBe(1);
    expect(Object.fromEntries(Object.entries(s.rows_rejected).filter(([, n]) => n > 0))).toEqual(c.rejectedByReason);
    // The quirks are there to be handled: volume resets and pre-open rows in the raw files.
    const db = await (await DuckDBInstance.create(":memory:")).connect();
    const list = files.map((f) => `'${f.path}'`).join(", ");
    const [quirks] = (
      await db.runAndReadAll(
        `SELECT count(*) FILTER (WHERE volume < pv)::INTEGER AS resets, count(*) FILTER (WHERE hour("timestamp") = 9 AND minute("timestamp") < 15)::INTEGER AS pre_open
        FROM (SELECT volume, "timestamp", lag(volume) OVER (PARTITION BY filename, "timestamp"::DATE ORDER BY "timestamp") AS pv
          FROM read_parquet([${list}], filename = true) WHERE "timestamp" >= '2000-01-01')`,
      )
    ).getRowObjectsJS();
    db.closeSync();
    expect(Number(quirks.resets)).toBeGreaterThan(0);
    expect(Number(quirks.pre_open)).toBeGreaterThan(0);
  });
});

describe("raw timestamp encodings", () => {
  const day17 = epochDaysOf(2025, 11, 17);
  // IST wall-clock instants, ms-granular, around both midnights and the 05:30 that separates IST and UTC days.
  const secondsOfDay = [
    10 * 60,
    5 * 3600 + 20 * 60,
    5 * 3600 + 40 * 60,
    9 * 3600 + 15 * 60 + 0.123,
    12 * 3600 + 0.5,
    15 * 3600 + 29 * 60 + 59.999,
    23 * 3600 + 59 * 60 + 59.999,
  ];
  const instantsMs: bigint[] = [];
  for (const d of [day17, day17 + 1])
    for (const s of secondsOfDay) instantsMs.push(istWallClockToEpochNs(d, s) / 1_000_000n);
  // Out of time order on purpose.
  instantsMs.reverse();
  const n = instantsMs.length;

  type Encoding = {
    label: string;
    type: arrow.DataType;
    value: (utcMs: bigint) => bigint;
    unit?: RawFileSpec["int64Unit"];
  };
  const IST_MS = 19_800_000n;
  const encodings: Encoding[] = [
    { label: "INT64 ns", type: new arrow.Int64(), value: (ms) => ms * 1_000_000n + 789n, unit: "ns" },
    { label: "INT64 µs", type: new arrow.Int64(), value: (ms) => ms * 1_000n, unit: "us" },
    { label: "INT64 ms", type: new arrow.Int64(), value: (ms) => ms, unit: "ms" },
    { label: "INT64 s", type: new arrow.Int64(), value: (ms) => ms / 1000n, unit: "s" },
    { label: "TIMESTAMP(ms) naive", type: new arrow.TimestampMillisecond(), value: (ms) => ms + IST_MS },
    { label: "TIMESTAMP(µs) naive", type: new arrow.TimestampMicrosecond(), value: (ms) => (ms + IST_MS) * 1_000n },
    {
      label: "TIMESTAMP(ns) naive",
      type: new arrow.TimestampNanosecond(),
      value: (ms) => (ms + IST_MS) * 1_000_000n + 42n,
    },
    { label: "TIMESTAMP(ms) UTC", type: new arrow.TimestampMillisecond("UTC"), value: (ms) => ms },
    { label: "TIMESTAMP(µs) UTC", type: new arrow.TimestampMicrosecond("UTC"), value: (ms) => ms * 1_000n },
    { label: "TIMESTAMP(ns) UTC", type: new arrow.TimestampNanosecond("UTC"), value: (ms) => ms * 1_000_000n + 7n },
  ];

  function writeRaw(
    path: string,
    enc: Encoding,
    values: bigint[] = instantsMs.map(enc.value),
    lastTrade: bigint[] = instantsMs.map((ms) => enc.value(ms - 1000n)),
  ) {
    const len = values.length;
    const time = (v: bigint[]) => arrow.makeData({ type: enc.type, length: len, data: BigInt64Array.from(v) } as never);
    const f64 = (f: (i: number) => number) =>
      arrow.makeData({
        type: new arrow.Float64(),
        length: len,
        data: Float64Array.from({ length: len }, (_, i) => f(i)),
      });
    writeFileSync(
      path,
      encodeArrowColumns(
        {
          timestamp: time(values),
          lastTradeTime: time(lastTrade),
          price: f64((i) => 100 + i),
          volume: arrow.makeData({
            type: new arrow.Int64(),
            length: len,
            data: BigInt64Array.from({ length: len }, (_, i) => BigInt(1000 - i * 10)),
          }),
          bp0: f64((i) => 99.5 + i),
          sp0: f64((i) => 100.5 + i),
        },
        { rowGroupSize: 5, metadata: new Map() },
      ),
    );
  }

  test("INT64 epochs in s/ms/µs/ns and naive or UTC TIMESTAMPs are packed at the same instants, on their IST days", async () => {
    const raw = tempDir("enc-raw");
    writeFileSync(join(raw, "expiry_calendar.csv"), "underlying,expiry_type,expiry_date\nNIFTY,monthly,2025-11-25\n");
    const specs: RawFileSpec[] = encodings.map((enc, k) => {
      const path = join(raw, `NIFTY25NOV${24000 + 50 * k}CE.parquet`);
      writeRaw(path, enc);
      return { path, int64Unit: enc.unit };
    });
    const out = tempDir("enc-out");
    const s = await repackFixture([raw], out);
    expect(s.errors).toEqual([]);
    expect(s.rows_in).toBe(n * encodings.length);
    // IST days 17 and 18 (00:10 and 05:20 IST are the previous UTC day), never 1970.
    expect(
      readdirSync(out)
        .filter((d) => !d.startsWith("_"))
        .sort(),
    ).toEqual(["2025-11-17", "2025-11-18"]);
    expectPackedAsRaw(await compareWithDuckDB(specs, out), s.rows_out);
    // DuckDB compares µs; the nanoseconds of the ns encodings (789, 42 and 7 past the ms) are kept.
    const rows = [...(await packedRows(out)).values()].flat();
    for (const ns of ["789", "042", "007"])
      expect(rows.filter((r) => r.split("|")[0].endsWith(`000${ns}`)).length).toBe(n);
  });

  test("an INT64 time column in two units, or in none, fails its file with the reason", async () => {
    const raw = tempDir("enc-bad");
    writeFileSync(join(raw, "expiry_calendar.csv"), "underlying,expiry_type,expiry_date\nNIFTY,monthly,2025-11-25\n");
    const ns = encodings[0];
    const mixed = instantsMs.map((ms, i) => (i < 10 ? ms * 1_000_000n : ms));
    writeRaw(join(raw, "NIFTY25NOV24000CE.parquet"), ns, mixed);
    writeRaw(
      join(raw, "NIFTY25NOV24050CE.parquet"),
      ns,
      instantsMs.map((_, i) => BigInt(12_345 + i)),
    );
    writeRaw(
      join(raw, "NIFTY25NOV24100CE.parquet"),
      ns,
      undefined,
      instantsMs.map((ms) => ms),
    ); // lastTradeTime in ms, timestamp in ns: fine
    const s = await repackFixture([raw], tempDir("enc-bad-out"));
    const err = (name: string) => s.errors.find((e) => e.file.endsWith(name))?.error;
    expect(err("NIFTY25NOV24000CE.parquet")).toContain(
      "column timestamp: INT64 epoch values in more than one unit (nanoseconds before, milliseconds at row 10",
    );
    expect(err("NIFTY25NOV24050CE.parquet")).toContain(
      "column timestamp: cannot tell the unit of INT64 epoch value 12345 at row 0",
    );
    expect(err("NIFTY25NOV24100CE.parquet")).toBeUndefined();
    expect(s.files_failed).toBe(2);
    expect(s.rows_in).toBe(n);
    expect(s.rows_out).toBe(n);
  });
});
