/**
 * Partitions built contract by contract, row groups stitched into one file, and a partition's
 * contracts split across workers: the output is the same rows in the same order whatever the worker
 * count, merges into existing partitions agree with a repack of the union, DuckDB reads every file
 * (rows, order, statistics, ZSTD), and a part that is not contract-major is still merged correctly.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { PACKED_COLUMNS } from "../../lib/packed/schema.ts";
import { firstUnsortedRow } from "../../lib/packed/sort-order.ts";
import { encodeRowGroup, packedFileMetadata, PartWriter } from "../../lib/packed/part-writer.ts";
import { takeBatch } from "../../lib/parquet/column-batch.ts";
import { encodeParquet } from "../../lib/parquet/io.ts";
import { ParquetStitcher, readFileMetaData, readFileMetaDataAt, rowGroupRowsOf } from "../../lib/parquet/stitch.ts";
import { decodeStruct, encodeStruct } from "../../lib/parquet/thrift-compact.ts";
import { compareWithDuckDB, expectPackedAsRaw, type RawFileSpec } from "../helpers/duckdb.ts";
import { cleanupTempDirs, genFixture, packedRows, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(90_000);
afterAll(() => (process.env.KEEP ? undefined : cleanupTempDirs()));

function rawFiles(...dirs: string[]): RawFileSpec[] {
  return dirs.flatMap((dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
      .map((e) => ({ path: join(e.parentPath, e.name) })),
  );
}

// One day: fewer partitions than twice the workers, so repack splits each partition's contracts.
const ONE_DAY = { days: 1, strikesEachSide: 2, tickProb: 0.05 };

describe("contract-by-contract packing split across workers", () => {
  let a: string;
  let b: string;
  beforeAll(async () => {
    a = tempDir("s-a");
    b = tempDir("s-b");
    await genFixture(a, ONE_DAY);
    // The same contracts and day with other ticks: merging interleaves them with a's rows.
    await genFixture(b, { ...ONE_DAY, seed: 11 });
  });

  test("2 workers (sliced, stitched) write exactly the rows, order and files of 1 worker", async () => {
    const one = tempDir("s-one");
    const two = tempDir("s-two");
    const s1 = await repackFixture([a], one, { workers: 1, rowGroupSize: 900 });
    const s2 = await repackFixture([a], two, { workers: 2, rowGroupSize: 900 });
    expect(s2.workers).toBeGreaterThan(s1.workers);
    expect(s2.rows_out).toBe(s1.rows_out);
    expect(await packedRows(two)).toEqual(await packedRows(one));
    for (const p of listPackedPartitions(two)) expect(p.parts.length).toBe(1);
    // Split across workers: some partition has a row group cut short at a share's end.
    const cut = listPackedPartitions(two).some((p) => {
      const { rows, rowGroupRows } = rowGroupRowsOf(readFileMetaDataAt(p.parts[0]));
      return rowGroupRows.length > Math.ceil(rows / 900);
    });
    expect(cut).toBe(true);
  });

  test("merging into existing partitions, sliced, equals a repack of the union; DuckDB agrees", async () => {
    const seq = tempDir("s-seq");
    await repackFixture([a], seq, { workers: 2, rowGroupSize: 700 });
    const second = await repackFixture([b], seq, {
      workers: 2,
      rowGroupSize: 700,
      calendarPath: join(a, "expiry_calendar.csv"),
    });
    expect(second.files_failed).toBe(0);
    const union = tempDir("s-union");
    await repackFixture([a, b], union, { workers: 1, rowGroupSize: 700 });
    expect(await packedRows(seq)).toEqual(await packedRows(union));
    expectPackedAsRaw(await compareWithDuckDB(rawFiles(a, b), seq));
    // A rerun of the same inputs from another folder (not in the manifest): every row is a duplicate.
    const again = await repackFixture([b], seq, {
      workers: 2,
      rowGroupSize: 700,
      calendarPath: join(a, "expiry_calendar.csv"),
    });
    expect(again.files_in).toBe(0);
  });

  test("an existing part that is not contract-major is merged the whole-partition way", async () => {
    const out = tempDir("s-shuffled");
    await repackFixture([a], out, { workers: 2, rowGroupSize: 700 });
    const p = listPackedPartitions(out).find((x) => x.underlying === "NIFTY")!;
    const rows = await readPackedRows(p.parts[0]);
    // Contracts in reverse order (each contract's rows still in time order).
    const order: number[] = [];
    const strike = rows.columns.get("strike")!.values as Float32Array;
    const starts = [0];
    for (let i = 1; i < rows.length; i++) if (strike[i] !== strike[i - 1]) starts.push(i);
    starts.push(rows.length);
    for (let k = starts.length - 2; k >= 0; k--) for (let i = starts[k]; i < starts[k + 1]; i++) order.push(i);
    const shuffled = takeBatch(rows, Int32Array.from(order));
    writeFileSync(
      p.parts[0],
      encodeParquet([shuffled], PACKED_COLUMNS, {
        rowGroupSize: 700,
        metadata: packedFileMetadata(rows.length, { date: p.date, underlying: p.underlying }),
      }),
    );
    const s = await repackFixture([b], out, {
      workers: 2,
      rowGroupSize: 700,
      calendarPath: join(a, "expiry_calendar.csv"),
    });
    expect(s.files_failed).toBe(0);
    const merged = await readPackedRows(listPackedPartitions(out).find((x) => x.underlying === "NIFTY")!.parts[0]);
    expect(firstUnsortedRow(merged)).toBe(-1);
    const union = tempDir("s-union2");
    await repackFixture([a, b], union, { workers: 1, rowGroupSize: 700 });
    expect(merged.length).toBe((await packedRows(union)).get(`${p.date}/NIFTY`)!.length);
  });
});

describe("a sliced pack killed at any point", () => {
  test("rerun equals a clean run: at each commit step of the stitched part, and while slices are being written", async () => {
    const old = tempDir("k-old");
    const fresh = tempDir("k-new");
    await genFixture(old, { days: 1, underlyings: ["NIFTY"], seed: 7, tickProb: 0.03 });
    await genFixture(fresh, { days: 1, underlyings: ["NIFTY"], seed: 8, tickProb: 0.03 });
    const flags = ["--workers", "2", "--row-group-size", "1000"];
    const opts = { workers: 2, rowGroupSize: 1000 };
    const start = async (label: string) => {
      const out = tempDir(label);
      await repackFixture([old], out, opts);
      return out;
    };
    const ref = await start("k-ref");
    await repackFixture([fresh], ref, { ...opts, calendarPath: join(old, "expiry_calendar.csv") });
    const clean = await packedRows(ref);
    const repackArgs = (out: string) => [fresh, "--out", out, "--calendar", join(old, "expiry_calendar.csv"), ...flags];
    const leftovers = (out: string) =>
      readdirSync(out, { recursive: true })
        .map(String)
        .filter((f) => /\.tmp-\d+-/.test(f));
    let killed = 0;
    for (let step = 1; step < 10; step++) {
      const out = await start(`k-step${step}`);
      const r = runScript("repack.ts", repackArgs(out), undefined, { TICKPACK_TEST_KILL_AT_COMMIT_STEP: String(step) });
      if (r.code === 0) break;
      killed++;
      expect(runScript("repack.ts", repackArgs(out)).code).toBe(0);
      expect(await packedRows(out)).toEqual(clean);
      expect(leftovers(out)).toEqual([]);
    }
    expect(killed).toBeGreaterThan(0);
    // Killed once a worker has written its segment file (no journal yet): the old partition stands.
    const out = await start("k-mid");
    const mid = runScript("repack.ts", repackArgs(out), undefined, { TICKPACK_TEST_KILL_AFTER_SEGMENT: "1" });
    expect(mid.code).toBeNull(); // killed, not finished
    expect(readdirSync(join(out, "2025-11-17", "NIFTY")).some((f) => f.startsWith(".slice.tmp-"))).toBe(true);
    expect(runScript("repack.ts", repackArgs(out)).code).toBe(0);
    expect(await packedRows(out)).toEqual(clean);
    expect(leftovers(out)).toEqual([]);
  });
});

describe("stitching and the Thrift codec", () => {
  test("a footer decodes and re-encodes to the same bytes", async () => {
    const out = tempDir("t-footer");
    const raw = tempDir("t-raw");
    await genFixture(raw, { days: 1, underlyings: ["BANKNIFTY"] });
    await repackFixture([raw], out, { rowGroupSize: 500 });
    const part = listPackedPartitions(out)[0].parts[0];
    const bytes = readFileSync(part);
    const len = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
    const footer = bytes.subarray(bytes.length - 8 - len, bytes.length - 8);
    expect(encodeStruct(decodeStruct(footer))).toEqual(footer);
  });

  test("row groups encoded one by one and stitched read back as one file with every row in order", async () => {
    const raw = tempDir("t2-raw");
    await genFixture(raw, { days: 1, underlyings: ["NIFTY"] });
    const out = tempDir("t2-out");
    await repackFixture([raw], out);
    const rows = await readPackedRows(listPackedPartitions(out)[0].parts[0]);
    const path = join(out, "stitched.parquet");
    const st = new ParquetStitcher(path);
    const step = Math.ceil(rows.length / 3);
    for (let s = 0; s < rows.length; s += step)
      st.appendBuffer(
        encodeRowGroup(
          takeBatch(
            rows,
            Int32Array.from({ length: Math.min(step, rows.length - s) }, (_, i) => s + i),
          ),
          step,
        ),
      );
    st.finish(packedFileMetadata(rows.length));
    const file = readFileSync(path);
    const meta = readFileMetaData({ size: file.length, read: (o, n) => file.subarray(o, o + n) });
    expect(Number(meta.get(3)!.value)).toBe(rows.length);
    const back = await readPackedRows(path);
    expect(back.length).toBe(rows.length);
    for (const c of ["timestamp", "price", "symbol", "vol_delta"]) {
      const x = rows.columns.get(c)!;
      const y = back.columns.get(c)!;
      if (x.kind === "dict")
        expect(Array.from(y.values as Int32Array, (v) => y.dictionary![v])).toEqual(
          Array.from(x.values as Int32Array, (v) => x.dictionary![v]),
        );
      else {
        // Values under a null are unspecified: compare cells.
        const cells = (col: typeof x) =>
          Array.from(col.values as ArrayLike<unknown>, (v, i) => (col.valid && col.valid[i] === 0 ? null : v));
        expect(cells(y)).toEqual(cells(x));
      }
    }
    // Listed part sizes, zeros included (a rewrite that keeps an empty file), are kept exactly.
    const pw = new PartWriter({
      dir: out,
      layout: "seed",
      date: null,
      underlying: "NIFTY",
      rowGroupSize: 2,
      partSizes: [0, 3, 0, 2],
      partPath: (i) => join(out, `p${i}.parquet`),
    });
    pw.add(takeBatch(rows, Int32Array.from([0, 1])));
    pw.add(takeBatch(rows, Int32Array.from([2, 3, 4])));
    const parts = pw.finish(takeBatch(rows, new Int32Array(0)));
    expect(parts.map((p) => p.rows)).toEqual([0, 3, 0, 2]);
    expect(
      parts.map((p) => rowGroupRowsOf(readFileMetaDataAt(p.temp)).rowGroupRows.reduce((a, b) => a + b, 0)),
    ).toEqual([0, 3, 0, 2]);
    expect(Math.max(...parts.map((p) => Math.max(0, ...rowGroupRowsOf(readFileMetaDataAt(p.temp)).rowGroupRows)))).toBe(
      2,
    );
  });
});
