/**
 * Chain strategies end to end through `bun run bench` (SPEC §6): short_straddle against SPEC §6.1
 * read literally over the rows DuckDB (a second Parquet engine) reads back, chain kernels' trade
 * logs, filters, the report and the errors a user meets.
 */
import { type SeedPartition, seedPartitions } from "../helpers/seed-partitions.ts";
import { TRADE_COLUMNS } from "../../lib/bench/trade-row.ts";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChainRow } from "../../kernel/chain-reference.ts";
import { openNsOfDay } from "../../kernel/chain-reference.ts";
import {
  SHORT_STRADDLE_DEFAULTS,
  type ShortStraddleParams,
  type ShortStraddleResult,
  shortStraddleReference,
} from "../../kernel/short_straddle.ts";
import { OPT_CE, OPT_OTHER, OPT_PE } from "../../lib/packed/opt-type.ts";
import { SeededRandom } from "../../lib/random.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);

/** One packed folder as one file per partition; the other with parts and small row groups. */
let whole: string;
let split: string;
let work: string;
let duck: DuckDBConnection;

beforeAll(async () => {
  const raw = tempDir("chain-raw");
  // 5 strikes each side: the iron condor's shorts sit 2 strikes out and its wings 2 beyond.
  await genFixture(raw, { days: 2, strikesEachSide: 5, tickProb: 0.012 });
  whole = tempDir("chain-whole");
  await repackFixture([raw], whole);
  split = tempDir("chain-split");
  await repackFixture([raw], split, { partRows: 1500, rowGroupSize: 400 });
  work = tempDir("chain-work");
  duck = await (await DuckDBInstance.create(":memory:")).connect();
});
afterAll(() => {
  duck?.closeSync();
  cleanupTempDirs();
});

const bench = (args: string[]) => runScript("bench.ts", args);
const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** bench's JSON, failing with its stderr when it did not exit 0. */
function benchJson(args: string[]): BenchJson {
  const r = bench([...args, "--json"]);
  expect({ args, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ args, code: 0, stderr: "" });
  return JSON.parse(r.stdout) as BenchJson;
}

interface Totals {
  rows: number;
  trades: number;
  pnl: number;
  by_underlying: Record<string, { rows: number; trades: number; pnl: number }>;
}
interface BenchJson extends Totals {
  valid_rows: number;
  grid: (Totals & { params: Record<string, number>; valid_rows: number })[];
  cache: { hits: number; misses: number } | null;
}

/** The results of a run, without timings and the cache's counts: what must not depend on how it ran. */
function resultsOf(j: BenchJson) {
  const totals = (t: Totals & { valid_rows: number }) => ({
    rows: t.rows,
    valid_rows: t.valid_rows,
    trades: t.trades,
    pnl: t.pnl,
    by_underlying: t.by_underlying,
  });
  return { ...totals(j), grid: j.grid.map((g) => ({ params: g.params, ...totals(g) })) };
}

const epochDaysOf = (iso: string) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86_400_000;

/** A partition's rows in file order (parts concatenated) as DuckDB reads them, only those `where` selects. */
async function chainRowsOf(p: SeedPartition, where = "true"): Promise<ChainRow[]> {
  // Read once per partition and selection: every parameter set's reference reads the same rows.
  const key = `${p.parts.join("|")}|${where}`;
  const known = rowsRead.get(key);
  if (known) return known;
  const read = await readChainRows(p, where);
  rowsRead.set(key, read);
  return read;
}

const rowsRead = new Map<string, ChainRow[]>();

async function readChainRows(p: SeedPartition, where: string): Promise<ChainRow[]> {
  const union = p.parts
    .map((f, i) => `SELECT *, ${i} AS _part FROM read_parquet(${q(f)}, file_row_number = true)`)
    .join(" UNION ALL ");
  const rows = (
    await duck.runAndReadAll(
      `SELECT epoch_ns("timestamp") AS ts, datediff('day', DATE '1970-01-01', expiry) AS expiry,
        opt_type::VARCHAR AS opt, strike::DOUBLE AS strike, price
       FROM (${union}) WHERE ${where} ORDER BY _part, file_row_number`,
    )
  ).getRowObjectsJS();
  return rows.map((r) => ({
    timestamp: r.ts === null ? null : BigInt(r.ts as bigint),
    expiry: r.expiry === null ? null : Number(r.expiry),
    opt: r.opt === null ? null : r.opt === "CE" ? OPT_CE : r.opt === "PE" ? OPT_PE : OPT_OTHER,
    strike: r.strike === null ? null : Number(r.strike),
    price: r.price === null ? null : Number(r.price),
  }));
}

interface ReferenceTotals {
  trades: number;
  pnl: number;
  /** Rows read (those `where` selects) and those of them with a valid price. */
  rows: number;
  valid_rows: number;
  by_underlying: Record<string, { rows: number; trades: number; pnl: number }>;
  /** Per partition `date/underlying`: its straddle. */
  straddles: Map<string, ShortStraddleResult>;
}

/** SPEC §6.1 (shortStraddleReference) per partition over DuckDB's rows, summed in partition order. */
async function straddleReference(dir: string, params: ShortStraddleParams, where = "true"): Promise<ReferenceTotals> {
  const out: ReferenceTotals = { trades: 0, pnl: 0, rows: 0, valid_rows: 0, by_underlying: {}, straddles: new Map() };
  for (const p of seedPartitions(dir)) {
    const rows = await chainRowsOf(p, where);
    const r = shortStraddleReference(rows, params, openNsOfDay(epochDaysOf(p.date)));
    const u = (out.by_underlying[p.underlying] ??= { rows: 0, trades: 0, pnl: 0 });
    out.trades += r.trades;
    out.pnl += r.pnl;
    out.rows += rows.length;
    out.valid_rows += rows.filter((row) => row.price !== null && row.price > 0).length;
    u.rows += rows.length;
    u.trades += r.trades;
    u.pnl += r.pnl;
    out.straddles.set(`${p.date}/${p.underlying}`, r);
  }
  return out;
}

/** The straddles as text, to tell two references apart. */
const straddlesText = (t: ReferenceTotals) =>
  [...t.straddles].map(([k, r]) => (r.trades === 1 ? `${k} ${r.strike} ${r.entryTs} ${r.exitTs} ${r.pnl}` : `${k} -`));

/** bench's totals (a run's or a grid set's) equal the reference's: trades exactly, PnL to 1e-9. */
function expectTotals(got: Totals, want: ReferenceTotals, label: string) {
  expect({ label, trades: got.trades, rows: got.rows }).toEqual({ label, trades: want.trades, rows: want.rows });
  expect({ label, pnlError: Math.abs(got.pnl - want.pnl) <= 1e-9 }).toEqual({ label, pnlError: true });
  expect(Object.keys(got.by_underlying).sort()).toEqual(Object.keys(want.by_underlying).sort());
  for (const [u, w] of Object.entries(want.by_underlying)) {
    const g = got.by_underlying[u];
    expect({ label, u, trades: g.trades, rows: g.rows }).toEqual({ label, u, trades: w.trades, rows: w.rows });
    expect({ label, u, pnlError: Math.abs(g.pnl - w.pnl) <= 1e-9 }).toEqual({ label, u, pnlError: true });
  }
}

/** A file's rows as objects of text (DuckDB reads CSV and Parquet alike). */
async function tableRows(path: string): Promise<Record<string, string>[]> {
  const from = path.endsWith(".csv") ? `read_csv(${q(path)}, all_varchar = true)` : `read_parquet(${q(path)})`;
  const rows = (await duck.runAndReadAll(`SELECT * FROM ${from}`)).getRowObjectsJS();
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? "" : String(v)])));
}

function writeKernel(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, `#include "tickpack_chain.h"\n${body}`);
  return path;
}

/** A chain kernel whose instant is `instant` (no columns, no parameters but `x`). */
function chainKernel(name: string, instant: string, columns = ""): string {
  return writeKernel(
    name,
    `const char *tickpack_columns(void) { return "${columns}"; }
const char *tickpack_params(void) { return "x=0"; }
int tickpack_state_size(void) { return 1; }
int tickpack_contract_state_size(void) { return 0; }
void tickpack_chain_start(const double *p, double *s, tp_chain_t *c) { (void)p; (void)s; (void)c; }
void tickpack_chain_instant(const double *p, double *s, tp_chain_t *c) { (void)p; (void)s; ${instant} }
void tickpack_chain_end(const double *p, double *s, tp_chain_t *c) { (void)p; (void)s; (void)c; }
`,
  );
}

/** A trade log time (`2025-11-17T09:20:05.000000000+05:30`: IST with its offset) in epoch ns. */
function nsOfLogTime(text: string): bigint {
  const m = /^(.+T\d\d:\d\d:\d\d)\.(\d{9})([+-]\d\d:\d\d|Z)$/.exec(text);
  if (!m) throw new Error(`unexpected trade log time ${text}`);
  return BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1_000_000n + BigInt(m[2]);
}

/** Each partition's logged straddle (CSV text, set 0) is the reference's: contracts, entry, fills and exit. */
function expectLegsOfReference(positions: Map<string, Record<string, string>[]>, want: ReferenceTotals) {
  for (const [key, r] of want.straddles) {
    const legs = [...positions.values()].find((l) => `${l[0].date}/${l[0].underlying}` === key && l[0].set === "0");
    if (r.trades === 0) {
      expect({ key, legs }).toEqual({ key, legs: undefined });
      continue;
    }
    expect({ key, logged: legs !== undefined }).toEqual({ key, logged: true });
    const [ce, pe] = [...legs!].sort((a, b) => Number(a.leg) - Number(b.leg));
    const got = {
      key,
      expiry: epochDaysOf(ce.expiry),
      strikes: [Number(ce.strike), Number(pe.strike)],
      entry: [nsOfLogTime(ce.entry_time), nsOfLogTime(pe.entry_time)],
      entryPrices: [Number(ce.entry_price), Number(pe.entry_price)],
      exitPrices: [Number(ce.exit_price), Number(pe.exit_price)],
      // At the end of data each leg closes at its own last valid row; the trade's exit is the later.
      exit:
        r.exit === "end"
          ? [
              [ce, pe]
                .map((l) => nsOfLogTime(l.exit_time))
                .sort((a, b) => Number(a - b))
                .at(-1),
            ]
          : [nsOfLogTime(ce.exit_time), nsOfLogTime(pe.exit_time)],
    };
    expect(got).toEqual({
      key,
      expiry: r.expiry,
      strikes: [r.strike, r.strike],
      entry: [r.entryTs, r.entryTs],
      entryPrices: [r.ceEntry, r.peEntry],
      exitPrices: [r.ceExit, r.peExit],
      exit: r.exit === "end" ? [r.exitTs] : [r.exitTs, r.exitTs],
    });
  }
}

describe("bench --strategy short_straddle", () => {
  test("equals SPEC §6.1 over DuckDB's rows per partition, default set and a grid, on parts and row groups", async () => {
    for (const dir of [whole, split]) {
      const want = await straddleReference(dir, SHORT_STRADDLE_DEFAULTS);
      // The data must hold straddles for the comparison to mean anything.
      expect(want.trades).toBeGreaterThanOrEqual(3);
      const got = benchJson([dir, "--strategy", "short_straddle", "--no-cache"]);
      expectTotals(got, want, dir);
      expect(got.valid_rows).toBe(want.valid_rows);
      expect(seedPartitions(dir)).toHaveLength(4);
    }

    const grid = benchJson([
      split,
      "--strategy",
      "short_straddle",
      "--grid",
      "entry_min=5,30;stop=0.2,0.5",
      "--no-cache",
    ]);
    expect(grid.grid).toHaveLength(4);
    const seen = new Set<string>();
    for (const set of grid.grid) {
      const params = { ...SHORT_STRADDLE_DEFAULTS, ...set.params } as ShortStraddleParams;
      seen.add(`${params.entry_min}/${params.stop}`);
      expectTotals(set, await straddleReference(split, params), JSON.stringify(set.params));
    }
    expect([...seen].sort()).toEqual(["30/0.2", "30/0.5", "5/0.2", "5/0.5"]);
  });

  test("the same results with 1 and 2 workers, a cold and a warm cache, and no cache", () => {
    const args = [split, "--strategy", "short_straddle", "--grid", "entry_min=5,30;stop=0.2,0.5"];
    const cache = join(tempDir("chain-cache"), "cache");
    const base = benchJson([...args, "--no-cache", "--workers", "1"]);
    const cold = benchJson([...args, "--cache", cache, "--workers", "2"]);
    expect(cold.cache!.misses).toBeGreaterThan(0);
    const warm1 = benchJson([...args, "--cache", cache, "--workers", "1"]);
    const warm2 = benchJson([...args, "--cache", cache, "--workers", "2"]);
    for (const warm of [warm1, warm2]) {
      expect(warm.cache!.hits).toBeGreaterThan(0);
      expect(warm.cache!.misses).toBe(0);
    }
    const noCache2 = benchJson([...args, "--no-cache", "--workers", "2"]);
    for (const j of [cold, warm1, warm2, noCache2]) expect(resultsOf(j)).toEqual(resultsOf(base));
  });

  test("--trades CSV and Parquet: two short legs per position (CE then PE, one lot, one entry), summing to the JSON", async () => {
    for (const ext of ["csv", "parquet"]) {
      const file = join(work, `straddle.${ext}`);
      const j = benchJson([split, "--strategy", "short_straddle", "--trades", file, "--no-cache"]);
      const rows = await tableRows(file);
      const columns = Object.keys(rows[0] ?? {});
      expect(columns.slice(-4)).toEqual(["position", "leg", "side", "lots"]);
      for (const c of ["date", "underlying", "expiry", "opt_type", "strike", "entry_time", "exit_time", "pnl"]) {
        expect(columns).toContain(c);
      }
      const positions = new Map<string, Record<string, string>[]>();
      for (const r of rows) {
        const key = `${r.set}|${r.date}|${r.underlying}|${r.position}`;
        positions.set(key, [...(positions.get(key) ?? []), r]);
      }
      expect(positions.size).toBe(j.trades);
      for (const [key, legs] of positions) {
        const shape = legs
          .map((l) => ({ leg: Number(l.leg), opt: l.opt_type, side: l.side, lots: Number(l.lots) }))
          .sort((a, b) => a.leg - b.leg);
        expect({ key, shape }).toEqual({
          key,
          shape: [
            { leg: 0, opt: "CE", side: "short", lots: 1 },
            { leg: 1, opt: "PE", side: "short", lots: 1 },
          ],
        });
        expect(legs[0].entry_time).toBe(legs[1].entry_time);
        expect(legs[0].strike).toBe(legs[1].strike);
      }
      if (ext === "csv") expectLegsOfReference(positions, await straddleReference(split, SHORT_STRADDLE_DEFAULTS));
      const pnlBy: Record<string, number> = {};
      for (const r of rows) pnlBy[r.underlying] = (pnlBy[r.underlying] ?? 0) + Number(r.pnl);
      for (const [u, t] of Object.entries(j.by_underlying)) {
        expect({ ext, u, pnlError: Math.abs((pnlBy[u] ?? 0) - t.pnl) <= 1e-9 }).toEqual({ ext, u, pnlError: true });
      }
    }
  });

  test("filters: --strikes and --expiry-type give the reference over only the selected contracts' rows", async () => {
    // A band that leaves out every strike below the middle one of NIFTY's first day: its ATM moves.
    const nifty = seedPartitions(split).find((p) => p.underlying === "NIFTY")!;
    const strikes = [...new Set((await chainRowsOf(nifty)).map((r) => r.strike).filter((s) => s !== null))].sort(
      (a, b) => a - b,
    );
    const lo = strikes[Math.floor(strikes.length / 2) + 1];
    const cases: [string[], string][] = [
      [["--strikes", `${lo}:1000000`], `strike >= ${lo} AND strike <= 1000000`],
      [["--expiry-type", "monthly"], `expiry_type::VARCHAR = 'monthly'`],
    ];
    const all = await straddleReference(split, SHORT_STRADDLE_DEFAULTS);
    for (const [flags, where] of cases) {
      const want = await straddleReference(split, SHORT_STRADDLE_DEFAULTS, where);
      // The filter must change some straddle, or the comparison could not tell it was applied.
      expect({ flags, same: straddlesText(want).join() === straddlesText(all).join() }).toEqual({
        flags,
        same: false,
      });
      expectTotals(benchJson([split, "--strategy", "short_straddle", ...flags, "--no-cache"]), want, flags.join(" "));
    }
  });

  test("--report writes a report", () => {
    const report = join(work, "r.html");
    const r = bench([split, "--strategy", "short_straddle", "--report", report, "--no-cache"]);
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(existsSync(report)).toBe(true);
    expect(statSync(report).size).toBeGreaterThan(0);
  });
});

/**
 * A raw folder written here (not by gen) whose contracts tick several times in one second, valid
 * and invalid prices mixed, on a coarse grid shared by every contract: which row of an instant is
 * the as-of one, and which strike is at the money, then depend on the file's order within a timestamp.
 */
async function writeTiedRaw(dir: string, seed: number): Promise<void> {
  const rng = new SeededRandom(seed);
  writeFileSync(
    join(dir, "expiry_calendar.csv"),
    "underlying,expiry_type,expiry_date\nNIFTY,weekly,2025-11-25\nNIFTY,monthly,2025-12-30\n",
  );
  const contracts: [string, number, number][] = [];
  for (const expiry of ["25N25", "25DEC"]) {
    for (const strike of [23500, 23550, 23600]) {
      contracts.push([`NIFTY${expiry}${strike}CE`, strike, 1], [`NIFTY${expiry}${strike}PE`, strike, -1]);
    }
  }
  for (const [name, strike, sign] of contracts) {
    const lines = ["timestamp,price,volume,bp0,sp0"];
    for (const day of ["2025-11-17", "2025-11-18", "2025-11-19", "2025-11-20"]) {
      // Premiums near each other across strikes, so that ties within a second move the ATM.
      let price = 60 + sign * (23550 - strike) * 0.1 + rng.int(-3, 3) * 5;
      for (let sec = 9 * 3600 + 14 * 60; sec < 10 * 3600; sec += 20) {
        if (rng.next() < 0.5) continue;
        const hh = String(Math.floor(sec / 3600)).padStart(2, "0");
        const mm = String(Math.floor(sec / 60) % 60).padStart(2, "0");
        const ss = String(sec % 60).padStart(2, "0");
        for (let k = rng.int(1, 3); k > 0; k--) {
          price = Math.max(5, price + rng.int(-4, 4) * 2.5);
          const u = rng.next();
          const shown = u < 0.08 ? "" : u < 0.16 ? "0" : String(price);
          lines.push(`${day} ${hh}:${mm}:${ss},${shown},${rng.int(1, 500)},${price - 0.05},${price + 0.05}`);
        }
      }
    }
    const csv = join(dir, `${name}.csv`);
    writeFileSync(csv, `${lines.join("\n")}\n`);
    await duck.run(
      `COPY (SELECT "timestamp"::TIMESTAMP AS "timestamp", price::DOUBLE AS price, volume::BIGINT AS volume, bp0::DOUBLE AS bp0, sp0::DOUBLE AS sp0
        FROM read_csv(${q(csv)}, all_varchar = true)) TO ${q(join(dir, `${name}.parquet`))} (FORMAT parquet)`,
    );
    rmSync(csv);
  }
}

describe("bench --strategy short_straddle on instants with several rows of one contract", () => {
  test("the as-of price is the instant's last valid row in file order, across parts and row groups too", async () => {
    const raw = tempDir("chain-tied-raw");
    await writeTiedRaw(raw, 11);
    const packed = tempDir("chain-tied");
    await repackFixture([raw], packed, { partRows: 200, rowGroupSize: 64 });
    expect(seedPartitions(packed)).toHaveLength(4);
    const grid = "entry_min=0,3,7;exit_min=40;stop=0.05,0.2;target=0.05,0.3";
    const j = benchJson([packed, "--strategy", "short_straddle", "--grid", grid, "--no-cache"]);
    expect(j.grid).toHaveLength(12);
    let trades = 0;
    for (const set of j.grid) {
      const params = { ...SHORT_STRADDLE_DEFAULTS, ...set.params } as ShortStraddleParams;
      const want = await straddleReference(packed, params);
      trades += want.trades;
      expectTotals(set, want, JSON.stringify(set.params));
    }
    expect(trades).toBeGreaterThan(30);

    // Held to the end of the data: each leg closes at its own last valid row.
    const held = { ...SHORT_STRADDLE_DEFAULTS, exit_min: 600, stop: 100, target: 1 };
    const csv = join(tempDir("chain-tied-trades"), "t.csv");
    benchJson([packed, "--strategy", "short_straddle", "--grid", "exit_min=600;stop=100;target=1", "--trades", csv]);
    const positions = new Map<string, Record<string, string>[]>();
    for (const r of await tableRows(csv)) {
      const key = `${r.date}|${r.position}`;
      positions.set(key, [...(positions.get(key) ?? []), r]);
    }
    const want = await straddleReference(packed, held);
    expect([...want.straddles.values()].filter((r) => r.trades === 1 && r.exit === "end")).toHaveLength(4);
    expectLegsOfReference(positions, want);
  });
});

describe("bench --kernel (chain kernels)", () => {
  test("test/kernel/chain/ema_cross_chain.c --trades equals the built-in ema_cross's, trade for trade", async () => {
    const common: string[] = [...TRADE_COLUMNS];
    const chainCsv = join(work, "ema-chain.csv");
    const plainCsv = join(work, "ema.csv");
    const chain = benchJson([
      split,
      "--kernel",
      "test/kernel/chain/ema_cross_chain.c",
      "--trades",
      chainCsv,
      "--no-cache",
    ]);
    const plain = benchJson([split, "--trades", plainCsv, "--no-cache"]);
    const lines = async (f: string) => (await tableRows(f)).map((r) => common.map((c) => r[c]).join(",")).sort();
    const chainLines = await lines(chainCsv);
    expect(chainLines.length).toBeGreaterThan(50);
    expect(chainLines).toEqual(await lines(plainCsv));
    expect(chain.trades).toBe(plain.trades);
    expect(Math.abs(chain.pnl - plain.pnl)).toBeLessThanOrEqual(1e-9);
  });

  test("examples/iron_condor.c --trades: every position is four legs, short CE, short PE, long CE, long PE", async () => {
    const csv = join(work, "condor.csv");
    const j = benchJson([split, "--kernel", "examples/iron_condor.c", "--trades", csv, "--no-cache"]);
    expect(j.trades).toBeGreaterThan(0);
    const positions = new Map<string, string[]>();
    for (const r of await tableRows(csv)) {
      const key = `${r.set}|${r.date}|${r.underlying}|${r.position}`;
      positions.set(key, [...(positions.get(key) ?? []), `${r.leg} ${r.side} ${r.opt_type} ${r.lots}`]);
    }
    expect(positions.size).toBe(j.trades);
    for (const [key, legs] of positions) {
      expect({ key, legs: legs.sort() }).toEqual({
        key,
        legs: ["0 short CE 1", "1 short PE 1", "2 long CE 1", "3 long PE 1"],
      });
    }
  });
});

describe("bench chain errors", () => {
  test("an unknown strategy, --strategy with --kernel and a grid out of bounds are usage errors", () => {
    const nope = bench([split, "--strategy", "nope"]);
    expect(nope.code).toBe(2);
    expect(nope.stderr).toContain("ema_cross");
    expect(nope.stderr).toContain("short_straddle");
    const both = bench([split, "--strategy", "short_straddle", "--kernel", join(work, "x.c")]);
    expect(both.code).toBe(2);
    const grid = bench([split, "--strategy", "short_straddle", "--grid", "entry_min=400;exit_min=300"]);
    expect(grid.code).toBe(2);
    expect(grid.stderr).toContain("entry_min");
  });

  test("a chain kernel that does not compile: exit 2 with the compiler's diagnostic", () => {
    const k = writeKernel("broken.c", "int tickpack_state_size(void) { return undeclared_name; }\n");
    const r = bench([split, "--kernel", k, "--no-cache"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("broken.c");
    expect(r.stderr).toContain("undeclared_name");
  });

  test("bad orders (no such contract, 0 lots): exit 1 naming the kernel file and the instant", () => {
    const noContract = chainKernel("no-contract.c", "if (c->nrows > 0) tp_open(c, -1, 99999, 1);");
    const zeroLots = chainKernel(
      "zero-lots.c",
      "int i; for (i = 0; i < c->nrows; i++) if (c->row_valid[i]) { tp_open(c, -1, c->row_contract[i], 0); break; }",
    );
    for (const [k, reason] of [
      [noContract, "contract 99999"],
      [zeroLots, "lots 0"],
    ]) {
      // Its own TMPDIR: the other worker, stopped mid-partition, must not leave its private column folder there.
      const tmp = tempDir("chain-order-tmp");
      const r = runScript("bench.ts", [split, "--kernel", k!, "--no-cache", "--workers", "2"], undefined, {
        TMPDIR: tmp,
      });
      expect({ k, code: r.code }).toEqual({ k, code: 1 });
      expect({ k, left: readdirSync(tmp).filter((f) => f.startsWith("tickpack-chain-")) }).toEqual({ k, left: [] });
      expect(r.stderr).toContain(reason!);
      expect(r.stderr).toContain(k);
      expect(r.stderr).toContain("+05:30");
    }
  });

  test("a kernel reading an f64 column as long long: exit 2 naming the column", () => {
    const k = chainKernel(
      "wrong-type.c",
      "if (c->nrows > 0 && TP_ROW(c, 0, long long)[0] == 42) tp_open(c, -1, 0, 1);",
      "bp0",
    );
    const tmp = tempDir("chain-type-tmp");
    const r = runScript("bench.ts", [split, "--kernel", k, "--no-cache", "--workers", "2"], undefined, { TMPDIR: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bp0");
    expect(readdirSync(tmp).filter((f) => f.startsWith("tickpack-chain-"))).toEqual([]);
  });
});
