import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { formatEpochDays, parseIsoDate } from "../../lib/ist-time.ts";
import { readRowGroupStats } from "../../lib/parquet/footer.ts";
import { type ColumnBatch, concatBatches } from "../../lib/parquet/column-batch.ts";
import { ParquetStitcher } from "../../lib/parquet/stitch.ts";
import { encodeRowGroup, sliceBatch } from "../../lib/packed/part-writer.ts";
import { PACKED_KINDS, TICKPACK_VERSION } from "../../lib/packed/schema.ts";
import { writePerSegmentKernel } from "../helpers/per-segment-kernel.ts";

setDefaultTimeout(120_000);

/** A trade log line with the fields the filters look at. */
interface Trade {
  line: string;
  date: string;
  underlying: string;
  expiry: string;
  opt: string;
  strike: number;
  pnl: number;
}

/** One segment key of the packed data with its row count (for `rows`). */
interface Segment {
  date: string;
  underlying: string;
  expiry: string;
  opt: string;
  strike: number;
  rows: number;
}

let raw: string;
let cold: string;
let warm: string;
let seriesOf: Map<string, string>;
let allTrades: Trade[];
let segments: Segment[];
const work = () => tempDir("filters-out");

function readTrades(csv: string): Trade[] {
  const [header, ...lines] = readFileSync(csv, "utf8").trimEnd().split("\n");
  const h = header.split(",");
  const at = (f: string[], name: string) => f[h.indexOf(name)];
  return lines
    .filter((l) => l !== "")
    .map((line) => {
      const f = line.split(",");
      return {
        line,
        date: at(f, "date"),
        underlying: at(f, "underlying"),
        expiry: at(f, "expiry"),
        opt: at(f, "opt_type"),
        strike: Number(at(f, "strike")),
        pnl: Number(at(f, "pnl")),
      };
    });
}

interface Json {
  rows: number;
  trades: number;
  pnl: number;
  partitions: number;
  partitions_pruned: number;
  row_groups_read: number;
  row_groups_skipped: number;
  filters: Record<string, unknown> | null;
  cache: { hits: number; misses: number } | null;
  parts_read: { cache: number; native: number; wasm: number };
}

function bench(dir: string, args: string[]): { json: Json; trades: Trade[]; stderr: string } {
  const csv = join(work(), "t.csv");
  const r = runScript("bench.ts", [dir, "--trades", csv, "--json", ...args]);
  if (r.code !== 0) throw new Error(`bench ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return { json: JSON.parse(r.stdout), trades: readTrades(csv), stderr: r.stderr };
}

beforeAll(async () => {
  raw = tempDir("filters-raw");
  // Three days from Monday 2025-11-17: Tuesday 18th is a NIFTY weekly expiry (dte 0), the 25th a monthly.
  await genFixture(raw, { days: 3, strikesEachSide: 2, tickProb: 0.08 });
  cold = tempDir("filters-packed");
  await repackFixture([raw], cold, { rowGroupSize: 1500 });
  warm = tempDir("filters-warm");
  cpSync(cold, warm, { recursive: true });
  seriesOf = new Map(
    readFileSync(join(raw, "expiry_calendar.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => {
        const [u, t, d] = l.split(",");
        return [`${u}/${d}`, t];
      }),
  );
  const unfiltered = bench(cold, ["--no-cache"]);
  allTrades = unfiltered.trades;
  bench(warm, []); // fills warm's cache
  // Every segment of the data set and its rows, from the packed files themselves.
  segments = [];
  for (const p of listPackedPartitions(cold)) {
    const counts = new Map<string, Segment>();
    for (const part of p.parts) {
      const b = await readPackedRows(part);
      const e = b.columns.get("expiry")!,
        o = b.columns.get("opt_type")!,
        s = b.columns.get("strike")!;
      for (let i = 0; i < b.length; i++) {
        const seg = {
          date: p.date!,
          underlying: p.underlying!,
          expiry: formatEpochDays(Number(e.values[i])),
          opt: o.dictionary![Number(o.values[i])],
          strike: Number(s.values[i]),
          rows: 0,
        };
        const key = `${seg.expiry}|${seg.opt}|${seg.strike}`;
        (counts.get(key) ?? counts.set(key, seg).get(key)!).rows++;
      }
    }
    segments.push(...counts.values());
  }
  expect(allTrades.length).toBeGreaterThan(1000);
});
afterAll(cleanupTempDirs);

type Key = Pick<Trade, "date" | "underlying" | "expiry" | "opt" | "strike">;
const dte = (k: Key) => parseIsoDate(k.expiry) - parseIsoDate(k.date);
const series = (k: Key) => seriesOf.get(`${k.underlying}/${k.expiry}`);

/** The filter cases: flags, and the same selection as a predicate on a segment key. */
const CASES: [string, string[], (k: Key) => boolean][] = [
  ["--from/--to", ["--from", "2025-11-18", "--to", "2025-11-18"], (k) => k.date === "2025-11-18"],
  ["--from", ["--from", "2025-11-19"], (k) => k.date >= "2025-11-19"],
  ["--underlyings", ["--underlyings", "banknifty"], (k) => k.underlying === "BANKNIFTY"],
  ["--expiry-type weekly", ["--expiry-type", "weekly"], (k) => series(k) === "weekly"],
  ["--expiry-type monthly", ["--expiry-type", "monthly"], (k) => series(k) === "monthly"],
  [
    "--expiries",
    ["--expiries", "2025-11-25,2025-12-02"],
    (k) => k.expiry === "2025-11-25" || k.expiry === "2025-12-02",
  ],
  ["--dte 0:0", ["--dte", "0:0"], (k) => dte(k) === 0],
  [
    "--expiries + --dte",
    ["--expiries", "2025-11-18", "--dte", "0:0"],
    (k) => k.expiry === "2025-11-18" && dte(k) === 0,
  ],
  ["--dte 1:7", ["--dte", "1:7"], (k) => dte(k) >= 1 && dte(k) <= 7],
  ["--opt-type PE", ["--opt-type", "PE"], (k) => k.opt === "PE"],
  ["--strikes", ["--strikes", "23600:23650"], (k) => k.strike >= 23600 && k.strike <= 23650],
  [
    "strikes + weekly + CE",
    ["--strikes", "23600:23700", "--expiry-type", "weekly", "--opt-type", "CE"],
    (k) => k.strike >= 23600 && k.strike <= 23700 && series(k) === "weekly" && k.opt === "CE",
  ],
  [
    "underlyings + dte + from",
    ["--underlyings", "NIFTY", "--dte", "0:8", "--from", "2025-11-18"],
    (k) => k.underlying === "NIFTY" && dte(k) <= 8 && k.date >= "2025-11-18",
  ],
];

function expectRestricted(name: string, got: ReturnType<typeof bench>, keep: (k: Key) => boolean) {
  const expected = allTrades.filter(keep);
  expect(
    got.trades.map((t) => t.line),
    name,
  ).toEqual(expected.map((t) => t.line));
  expect(got.json.trades, name).toBe(expected.length);
  expect(got.json.pnl, name).toBeCloseTo(
    expected.reduce((a, t) => a + t.pnl, 0),
    6,
  );
  expect(got.json.rows, name).toBe(segments.filter(keep).reduce((a, s) => a + s.rows, 0));
}

describe("bench filters", () => {
  test("the fixture spans what the cases need (weekly and monthly, an expiry day, both option types, row groups of several strikes)", () => {
    for (const [name, , keep] of CASES) {
      const n = allTrades.filter(keep).length;
      expect(n, name).toBeGreaterThan(0);
      expect(n, name).toBeLessThan(allTrades.length);
    }
  });

  for (const workers of ["1", "2"]) {
    test(`each filter and combinations equal the unfiltered trades restricted to the selected segments, cold and warm, ${workers} worker(s)`, () => {
      for (const [name, args, keep] of CASES) {
        const c = bench(cold, [...args, "--no-cache", "--workers", workers]);
        expectRestricted(`${name} cold`, c, keep);
        expect(c.json.filters).not.toBeNull();
        const w = bench(warm, [...args, "--workers", workers]);
        expectRestricted(`${name} warm`, w, keep);
        expect(w.json.cache!.misses, name).toBe(0);
        expect([w.json.partitions_pruned, w.json.row_groups_read, w.json.row_groups_skipped], name).toEqual([
          c.json.partitions_pruned,
          c.json.row_groups_read,
          c.json.row_groups_skipped,
        ]);
      }
    });
  }

  test("a partition outside the layout (a date folder given as DIR) is filtered by the day and underlying its statistics say", () => {
    const day = "2025-11-18";
    const keep = (k: Key) => k.date === day && k.underlying === "NIFTY" && dte(k) <= 1;
    const got = bench(join(cold, day), [
      "--no-cache",
      "--from",
      day,
      "--to",
      day,
      "--underlyings",
      "NIFTY",
      "--dte",
      "0:1",
    ]);
    const expected = allTrades.filter(keep);
    expect(expected.length).toBeGreaterThan(0);
    // The log's date and underlying come from a partition's path, which says neither here.
    const fromExpiry = (t: Trade) => t.line.split(",").slice(3).join(",");
    expect(got.trades.map(fromExpiry)).toEqual(expected.map(fromExpiry));
    const other = bench(join(cold, day), ["--no-cache", "--from", "2025-11-19"]);
    expect([other.json.rows, other.trades.length]).toEqual([0, 0]);
  });

  test("pruning: day and underlying filters by path, key filters by row-group statistics", () => {
    const all = bench(cold, ["--no-cache"]).json;
    expect([all.partitions_pruned, all.row_groups_skipped, all.filters]).toEqual([0, 0, null]);
    const byDay = bench(cold, ["--no-cache", "--from", "2025-11-19"]).json;
    expect(byDay.partitions_pruned).toBe(4);
    expect(byDay.partitions).toBe(2);
    const strikes = bench(cold, ["--no-cache", "--strikes", "23600:23650", "--expiry-type", "weekly"]).json;
    expect(strikes.row_groups_skipped).toBeGreaterThan(strikes.row_groups_read);
    expect(strikes.row_groups_read + strikes.row_groups_skipped).toBe(all.row_groups_read);
    // dte 0:0: only the expiry day's (the 18th, NIFTY) row groups are read.
    const expiryDay = bench(cold, ["--no-cache", "--dte", "0:0", "--underlyings", "NIFTY"]).json;
    const day18 = bench(cold, [
      "--no-cache",
      "--from",
      "2025-11-18",
      "--to",
      "2025-11-18",
      "--underlyings",
      "NIFTY",
    ]).json;
    expect(expiryDay.row_groups_read).toBeGreaterThan(0);
    expect(expiryDay.row_groups_read).toBeLessThan(day18.row_groups_read);
  });

  test("a grid runs the same selection for every set; filters can come from the grid file", () => {
    const keep = (k: Key) => k.strike >= 23600 && k.strike <= 23700 && series(k) === "weekly";
    const full = bench(cold, ["--no-cache", "--grid", "fast=3,5;slow=13"]);
    const flags = bench(cold, [
      "--no-cache",
      "--grid",
      "fast=3,5;slow=13",
      "--strikes",
      "23600:23700",
      "--expiry-type",
      "weekly",
    ]);
    expect(flags.trades.length).toBeGreaterThan(0);
    expect(flags.trades.map((t) => t.line)).toEqual(full.trades.filter(keep).map((t) => t.line));
    const grid = join(work(), "grid.json");
    writeFileSync(
      grid,
      JSON.stringify({ fast: [3, 5], slow: [13], filters: { strikes: "23600:23700", expiry_type: "weekly" } }),
    );
    const file = bench(cold, ["--no-cache", "--grid-file", grid]);
    expect(file.trades.map((t) => t.line)).toEqual(flags.trades.map((t) => t.line));
    expect(file.json.filters).toEqual({ expiry_type: "weekly", strikes: [23600, 23700] });
    const both = runScript("bench.ts", [cold, "--no-cache", "--grid-file", grid, "--strikes", "1:2"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--strikes");
  });

  test("a filter that selects nothing: zero rows, exit 0, a line saying so", () => {
    for (const args of [
      ["--underlyings", "FINNIFTY"],
      ["--strikes", "1:2"],
      ["--from", "2030-01-01"],
      ["--dte", "400:500"],
    ]) {
      const r = runScript("bench.ts", [cold, "--no-cache", "--json", ...args]);
      expect(r.code, args.join(" ")).toBe(0);
      const j = JSON.parse(r.stdout) as Json;
      expect([j.rows, j.trades, j.pnl]).toEqual([0, 0, 0]);
      expect(r.stderr).toContain("no segment matches the filters");
    }
  });

  test("malformed filters are usage errors naming the flag", () => {
    const cases: [string[], string][] = [
      [["--strikes", "5:"], "--strikes"],
      [["--strikes", "9:5"], "--strikes"],
      [["--expiry-type", "daily"], "--expiry-type"],
      [["--from", "2025-11-19", "--to", "2025-11-17"], "--from"],
      [["--from", "2025-13-01"], "--from"],
      [["--to", "yesterday"], "--to"],
      [["--expiries", "2025-11-18,"], "--expiries"],
      [["--dte", "0.5:1"], "--dte"],
      [["--opt-type", "XX"], "--opt-type"],
    ];
    for (const [args, flag] of cases) {
      const r = runScript("bench.ts", [cold, "--no-cache", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(flag);
    }
  });
});

describe("bench filters: rows left out inside the row groups read", () => {
  let packed: string;
  let everyTrade: Trade[];
  let band: [number, number];
  let bandRows = 0;
  let gappedGroups = 0;
  let groupCount = 0;
  const inBand = (strike: number) => strike >= band[0] && strike <= band[1];

  beforeAll(async () => {
    const gapsRaw = tempDir("filters-gaps-raw");
    // Short contract-days (~200 rows) in 2500-row groups, repacked by one worker (a partition is
    // sliced per worker, and a row group never spans two slices): a group holds several strikes of
    // both option types, so a strike band selects a run of CE rows and a run of PE rows with the
    // strikes outside the band between them — one window, not wholly selected.
    await genFixture(gapsRaw, { days: 1, strikesEachSide: 3, tickProb: 0.01, underlyings: ["NIFTY"] });
    packed = tempDir("filters-gaps-packed");
    await repackFixture([gapsRaw], packed, { rowGroupSize: 2500, workers: 1 });
    everyTrade = bench(packed, ["--no-cache"]).trades;
    const parts = listPackedPartitions(packed).flatMap((p) => p.parts);
    const strikes = new Set<number>();
    const rowsOf = await Promise.all(parts.map((p) => readPackedRows(p)));
    for (const b of rowsOf) for (const v of b.columns.get("strike")!.values) strikes.add(Number(v));
    const sorted = [...strikes].sort((a, b) => a - b);
    band = [sorted[Math.floor(sorted.length / 3)], sorted[Math.floor((2 * sorted.length) / 3)]];
    // Which row groups hold selected rows, then unselected ones, then selected again.
    for (const [k, part] of parts.entries()) {
      const strike = rowsOf[k].columns.get("strike")!.values;
      let at = 0;
      for (const { rows } of readRowGroupStats(part, ["strike"])) {
        groupCount++;
        let first = -1;
        let last = -1;
        for (let i = at; i < at + rows; i++)
          if (inBand(Number(strike[i]))) {
            bandRows++;
            if (first < 0) first = i;
            last = i;
          }
        let gap = false;
        for (let i = first + 1; first >= 0 && i < last; i++) if (!inBand(Number(strike[i]))) gap = true;
        if (gap) gappedGroups++;
        at += rows;
      }
    }
  });

  test("a window holding unselected rows runs only its selected segments, natively and through parquet-wasm, 1 and 2 workers", () => {
    expect(gappedGroups).toBeGreaterThan(0);
    const keep = (t: Trade) => inBand(t.strike);
    const expected = everyTrade.filter(keep);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(everyTrade.length);
    for (const decoder of ["native", "wasm"])
      for (const workers of ["1", "2"]) {
        const name = `${decoder}, ${workers} worker(s)`;
        const got = bench(packed, [
          "--no-cache",
          "--strikes",
          `${band[0]}:${band[1]}`,
          "--decoder",
          decoder,
          "--workers",
          workers,
        ]);
        expect(
          got.trades.map((t) => t.line),
          name,
        ).toEqual(expected.map((t) => t.line));
        expect(got.json.rows, name).toBe(bandRows);
      }
  });

  test("a filtered run that reads every row group of a part fills the column cache (whole groups, not windows)", () => {
    const dir = tempDir("filters-gaps-fill");
    cpSync(packed, dir, { recursive: true });
    const args = ["--strikes", `${band[0]}:${band[1]}`];
    const first = bench(dir, args);
    expect([first.json.row_groups_read, first.json.row_groups_skipped]).toEqual([groupCount, 0]);
    expect(first.json.parts_read.cache).toBe(0);
    const second = bench(dir, args);
    expect(second.json.parts_read.cache).toBe(1);
    expect(second.json.cache!.misses).toBe(0);
    expect(second.trades.map((t) => t.line)).toEqual(first.trades.map((t) => t.line));
  });

  test("in an unsorted part, rows left out between two runs of one key keep them apart", async () => {
    // One contract's rows (K) cut in pieces, with another contract's (X) between, in nine row groups:
    // K | X K | K X | K | X | K | K X K X | K | K N K, N being K's rows with a null opt_type.
    // Unfiltered, the Xs and the Ns end K's segments; filtered to K, the rows of X before a window,
    // after it, inside it, or in a group its statistics rule out are never run, nor the Ns (a null
    // key is never selected, though the statistics, which leave nulls out, show only K's values), and
    // the K runs around them must still be separate segments — read through windows cold, and whole
    // from the column cache warm.
    const [part] = listPackedPartitions(packed).flatMap((p) => p.parts);
    const rows = await readPackedRows(part);
    const e = rows.columns.get("expiry")!.values,
      o = rows.columns.get("opt_type")!,
      s = rows.columns.get("strike")!.values;
    const runOf = (strike: number): [number, number] => {
      let start = -1;
      let end = -1;
      for (let i = 0; i < rows.length; i++)
        if (e[i] === e[0] && o.dictionary![Number(o.values[i])] === "CE" && Number(s[i]) === strike) {
          if (start < 0) start = i;
          end = i + 1;
        }
      return [start, end];
    };
    const [k0, k1] = runOf(band[0]);
    const [x0, x1] = runOf(band[1] + 100);
    expect(k1 - k0).toBeGreaterThanOrEqual(192);
    expect(x1 - x0).toBeGreaterThanOrEqual(100);
    let kAt = k0;
    let xAt = x0;
    const k = (n: number) => sliceBatch(rows, kAt, (kAt += n));
    const x = (n: number) => sliceBatch(rows, xAt, (xAt += n));
    const nullOpt = (b: ColumnBatch): ColumnBatch => {
      const columns = new Map(b.columns);
      columns.set("opt_type", { ...b.columns.get("opt_type")!, valid: new Uint8Array(b.length) });
      return { length: b.length, columns };
    };
    const groups = [
      [k(30)],
      [x(30), k(20)],
      [k(20), x(30)],
      [k(30)],
      [x(20)],
      [k(30)],
      [k(10), x(10), k(10), x(10)],
      [k(15)],
      [k(9), nullOpt(k(9)), k(9)],
    ];
    const dir = tempDir("filters-unsorted");
    mkdirSync(join(dir, "2025-11-17", "NIFTY"), { recursive: true });
    // tickpack's version (the native decoder reads it), not its sort order: the part is not sorted.
    const stitcher = new ParquetStitcher(join(dir, "2025-11-17", "NIFTY", "part-nifty-0.parquet"));
    for (const g of groups) stitcher.appendBuffer(encodeRowGroup(concatBatches(PACKED_KINDS, g), 40));
    stitcher.finish(new Map([["tickpack.version", TICKPACK_VERSION]]));
    const key = `${band[0]}`;
    // One trade per segment: the trades count the segments, and two runs joined would be one short.
    const kernel = writePerSegmentKernel(dir);
    const all = bench(dir, ["--no-cache", "--kernel", kernel]).trades;
    const expected = all.filter((t) => t.opt === "CE" && `${t.strike}` === key);
    // K's segments: 30 | 20+20 | 30 | 30+10 | 10 | 15+9 | 9 (adjacent rows of one key are one
    // segment); X's five, N's one.
    expect([expected.length, all.length]).toEqual([7, 13]);
    const sliced = ["--kernel", kernel, "--strikes", `${key}:${key}`, "--opt-type", "CE"];
    for (const decoder of ["native", "wasm"]) {
      const got = bench(dir, ["--no-cache", ...sliced, "--decoder", decoder]);
      expect([got.json.row_groups_read, got.json.row_groups_skipped], decoder).toEqual([8, 1]);
      expect(got.json.parts_read[decoder as "native" | "wasm"], decoder).toBe(1);
      expect(
        got.trades.map((t) => t.line),
        decoder,
      ).toEqual(expected.map((t) => t.line));
    }
    bench(dir, ["--kernel", kernel]); // fills the column cache: the part is read whole
    const warm = bench(dir, sliced);
    expect(warm.json.parts_read.cache).toBe(1);
    expect(warm.trades.map((t) => t.line)).toEqual(expected.map((t) => t.line));
  });
});
