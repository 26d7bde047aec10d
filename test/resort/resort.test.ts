import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as arrow from "apache-arrow";
import * as pw from "parquet-wasm/node";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { columnToArrow } from "../../lib/parquet/arrow-columns.ts";
import { takeBatch, type ColumnBatch } from "../../lib/parquet/column-batch.ts";
import { formatEpochDays } from "../../lib/ist-time.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { PACKED_COLUMNS, PACKED_SORT_ORDER } from "../../lib/packed/schema.ts";
import { RAW_COLUMNS } from "../../lib/raw/schema.ts";
import { closeParquet, encodeArrowColumns, encodeParquet, openParquet, withRows } from "../../lib/parquet/io.ts";
import { packedFileMetadata } from "../../lib/packed/part-writer.ts";
import { DEFAULT_PART_ROWS } from "../../lib/packed/writer.ts";
import { resort } from "../../lib/resort/resort.ts";
import { firstUnsortedRow } from "../../lib/packed/sort-order.ts";
import { SeededRandom } from "../../lib/random.ts";
import {
  cleanupTempDirs,
  genFixture,
  packedRows,
  repackFixture,
  stampToDetectWrites,
  tempDir,
} from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..", "..");

let packed: string;
beforeAll(async () => {
  const raw = tempDir("rs-raw");
  await genFixture(raw, { tickProb: 0.2 });
  packed = tempDir("rs-packed");
  await repackFixture([raw], packed, { rowGroupSize: 4000 });
});
afterAll(cleanupTempDirs);

const opts = (dir: string, extra: Partial<Parameters<typeof resort>[0]> = {}) => ({
  dir,
  check: false,
  dryRun: false,
  workers: 2,
  rowGroupSize: 4000,
  partRows: 2_000_000,
  ...extra,
});

function shuffled(b: ColumnBatch, seed: number): ColumnBatch {
  const rng = new SeededRandom(seed);
  const perm = Int32Array.from({ length: b.length }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return takeBatch(b, perm);
}

/** A copy of the packed store with one partition's file replaced by `write(rows)`. */
async function storeWith(
  label: string,
  write: (rows: ColumnBatch, path: string) => void,
): Promise<{ dir: string; path: string }> {
  const dir = tempDir(label);
  cpSync(packed, dir, { recursive: true });
  const path = listPackedPartitions(dir).find((p) => p.underlying === "NIFTY")!.parts[0];
  write(await readPackedRows(path), path);
  return { dir, path };
}

const sortedRows = async (dir: string) => new Map([...(await packedRows(dir))].map(([k, v]) => [k, [...v].sort()]));

describe("resort", () => {
  test("a shuffled file is found (first offending row), repaired, sorted, every row kept; fine files untouched", async () => {
    const { dir, path } = await storeWith("shuffled", (rows, p) =>
      writeFileSync(
        p,
        encodeParquet([shuffled(rows, 1)], PACKED_COLUMNS, {
          rowGroupSize: 4000,
          metadata: packedFileMetadata(rows.length),
        }),
      ),
    );
    const others = listPackedPartitions(dir)
      .flatMap((p) => p.parts)
      .filter((f) => f !== path);
    const rewritten = stampToDetectWrites(others);
    const before = await sortedRows(dir);

    const check = await resort(opts(dir, { check: true }));
    expect(check.problems.length).toBe(1);
    expect(check.problems[0].file).toBe(path);
    expect(check.problems[0].problem).toMatch(/^not sorted: row \d+ \(expiry/);
    expect(check.sorted).toBe(others.length);

    const dry = await resort(opts(dir, { dryRun: true }));
    expect(dry.resorted).toBe(1);
    expect(firstUnsortedRow(await readPackedRows(path))).toBeGreaterThan(0); // dry run changed nothing

    const fixed = await resort(opts(dir));
    expect(fixed.resorted).toBe(1);
    expect(fixed.rewritten).toEqual([path]);
    expect(firstUnsortedRow(await readPackedRows(path))).toBe(-1);
    expect(await sortedRows(dir)).toEqual(before);
    expect(rewritten()).toEqual([]);
    expect((await resort(opts(dir, { check: true }))).problems).toEqual([]);
  });

  test("by default a rewritten partition is one file, whatever its parts were (as repack writes it)", async () => {
    const dir = tempDir("rs-split");
    cpSync(packed, dir, { recursive: true });
    const nifty = listPackedPartitions(dir).find((p) => p.underlying === "NIFTY")!;
    const rows = await readPackedRows(nifty.parts[0]);
    // The partition as two parts, the second holding the first's rows shuffled: a rewrite is needed.
    const half = Math.floor(rows.length / 2);
    const write = (path: string, b: ColumnBatch) =>
      writeFileSync(
        path,
        encodeParquet([b], PACKED_COLUMNS, { rowGroupSize: 4000, metadata: packedFileMetadata(b.length) }),
      );
    const second = nifty.parts[0].replace(/-0\.parquet$/, "-1.parquet");
    write(
      nifty.parts[0],
      takeBatch(
        rows,
        Int32Array.from({ length: half }, (_, i) => i),
      ),
    );
    write(
      second,
      shuffled(
        takeBatch(
          rows,
          Int32Array.from({ length: rows.length - half }, (_, i) => half + i),
        ),
        2,
      ),
    );
    const s = await resort(opts(dir, { partRows: DEFAULT_PART_ROWS }));
    expect(s.resorted).toBe(2);
    const after = listPackedPartitions(dir).find((p) => p.underlying === "NIFTY")!;
    expect(after.parts).toEqual([nifty.parts[0]]);
    expect((await readPackedRows(after.parts[0])).length).toBe(rows.length);
  });

  test("opt_type is compared by string: a row group whose dictionary is [PE, CE] is judged sorted", async () => {
    const { dir, path } = await storeWith("dicts", (rows, p) => {
      // Start at the first expiry's PE rows: the writer then meets PE first and the row group's
      // dictionary reads [PE, CE], so by code the later (expiry 2, CE) → (expiry 2, PE) rows look unsorted.
      const opt = rows.columns.get("opt_type")!;
      const cut = (opt.values as Int32Array).findIndex((c) => opt.dictionary![c] === "PE");
      const tail = takeBatch(
        rows,
        Int32Array.from({ length: rows.length - cut }, (_, i) => cut + i),
      );
      writeFileSync(
        p,
        encodeParquet([tail], PACKED_COLUMNS, { rowGroupSize: tail.length, metadata: packedFileMetadata(tail.length) }),
      );
    });
    const source = await openParquet(path);
    const seen = await withRows(source, ["opt_type", "expiry"], { rowGroups: [0] }, (t) => ({
      dict: t.getChild("opt_type")!.data[0].dictionary!.toArray() as string[],
      expiries: new Set(t.getChild("expiry")!.toArray() as Int32Array).size,
    }));
    closeParquet(source);
    expect(seen.dict).toEqual(["PE", "CE"]); // the trap is really there
    expect(seen.expiries).toBeGreaterThan(1);
    const check = await resort(opts(dir, { check: true, rowGroupSize: 1_000_000 }));
    expect(check.problems.filter((p) => p.file === path)).toEqual([]);
  });

  test("a prototype-shaped file (no date/underlying, INT64 timestamps, SNAPPY, no metadata, unsorted) is converted", async () => {
    const { dir, path } = await storeWith("proto", (rows, p) => {
      const b = shuffled(rows, 2);
      const children: Record<string, arrow.Data> = {};
      for (const spec of PACKED_COLUMNS) {
        if (spec.name === "date" || spec.name === "underlying") continue;
        const col = b.columns.get(spec.name)!;
        children[spec.name] =
          spec.name === "timestamp"
            ? arrow.makeData({ type: new arrow.Int64(), length: b.length, data: col.values as BigInt64Array })
            : columnToArrow(col, b.length);
      }
      writeFileSync(
        p,
        encodeArrowColumns(children, {
          rowGroupSize: 250_000,
          metadata: new Map(),
          compression: pw.Compression.SNAPPY,
        }),
      );
    });
    const expected = await readPackedRows(listPackedPartitions(packed).find((p) => p.underlying === "NIFTY")!.parts[0]);
    const check = await resort(opts(dir, { check: true }));
    const problems = check.problems
      .filter((p) => p.file === path)
      .map((p) => p.problem)
      .join("\n");
    for (const what of [
      "missing columns date, underlying",
      "timestamp is Int64",
      "not ZSTD",
      "tickpack.sort missing",
      "not sorted",
      "row group 0 has",
    ])
      expect(problems).toContain(what);

    const fixed = await resort(opts(dir));
    expect(fixed.failed).toBe(0);
    const source = await openParquet(path);
    expect(source.fields.map((f) => f.name)).toEqual(PACKED_COLUMNS.map((c) => c.name));
    expect(String(source.fields[0].type)).toBe("Timestamp<NANOSECOND, UTC>");
    expect(source.keyValueMetadata.get("tickpack.sort")).toBe(PACKED_SORT_ORDER);
    closeParquet(source);
    const got = await readPackedRows(path);
    expect(firstUnsortedRow(got)).toBe(-1);
    expect(got.length).toBe(expected.length);
    // Same rows in every raw column and the derived ones (vol_delta recomputed in the same order).
    for (const name of [...RAW_COLUMNS.map((c) => c.name), "date", "underlying", "vol_delta"]) {
      const a = got.columns.get(name)!,
        e = expected.columns.get(name)!;
      if (a.kind === "dict") {
        const s = (c: typeof a, i: number) =>
          c.valid && c.valid[i] === 0 ? null : c.dictionary![(c.values as Int32Array)[i]];
        for (let i = 0; i < got.length; i += 97) expect(s(a, i)).toBe(s(e, i));
      } else
        expect(Array.from(a.values.slice(0, 500) as ArrayLike<number | bigint>)).toEqual(
          Array.from(e.values.slice(0, 500) as ArrayLike<number | bigint>),
        );
    }
    expect(formatEpochDays((got.columns.get("date")!.values as Int32Array)[0])).toBe(
      listPackedPartitions(dir).find((p) => p.parts[0] === path)!.date!,
    );
    expect((await resort(opts(dir, { check: true }))).problems).toEqual([]);
  });

  test("a corrupt file is reported with exit 1 and left in place", async () => {
    const { dir, path } = await storeWith("corrupt", (_rows, p) => {
      const bytes = readFileSync(p);
      writeFileSync(p, bytes.subarray(0, bytes.length - 64));
    });
    const before = readFileSync(path);
    const r = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "resort.ts"), dir, "--json"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.exitCode).toBe(1);
    const s = JSON.parse(r.stdout.toString());
    expect(s.failed).toBe(1);
    expect(s.errors[0].file).toBe(path);
    expect(r.stderr.toString()).toContain(`${path}: cannot be read`);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(Bun.spawnSync([process.execPath, join(ROOT, "scripts", "resort.ts"), dir, "--check"]).exitCode).toBe(1);
  });

  test("SIGKILL at each step of the rewrite's commit leaves the original or the repaired file, never a partial one", async () => {
    const { dir, path } = await storeWith("kill", (rows, p) =>
      writeFileSync(
        p,
        encodeParquet([shuffled(rows, 3)], PACKED_COLUMNS, {
          rowGroupSize: 4000,
          metadata: packedFileMetadata(rows.length),
        }),
      ),
    );
    const original = readFileSync(path);
    const expected = await sortedRows(dir);
    let killed = 0;
    for (let step = 1; ; step++) {
      const child = Bun.spawnSync(
        [process.execPath, join(ROOT, "scripts", "resort.ts"), dir, "--row-group-size", "4000", "--workers", "1"],
        {
          stdout: "ignore",
          stderr: "ignore",
          env: { ...process.env, TICKPACK_TEST_KILL_AT_COMMIT_STEP: String(step) },
        },
      );
      if (child.exitCode === 0) break;
      expect(child.signalCode).toBe("SIGKILL");
      killed++;
      // The kill landed inside the commit: its journal is there.
      expect(readdirSync(join(dir, "_tickpack", "journal")).filter((n) => n.endsWith(".json"))).toHaveLength(1);
      const now = readFileSync(path);
      if (!now.equals(original)) expect(firstUnsortedRow(await readPackedRows(path))).toBe(-1);
      // A reader sees every row, before any recovery.
      expect(await sortedRows(dir)).toEqual(expected);
      const fixed = await resort(opts(dir));
      expect(fixed.failed).toBe(0);
      expect(await sortedRows(dir)).toEqual(expected);
      expect(firstUnsortedRow(await readPackedRows(path))).toBe(-1);
      writeFileSync(path, original); // the next round starts unsorted again
    }
    // The rename and the journal's removal (one part: no removals).
    expect(killed).toBeGreaterThanOrEqual(2);
  });
});
