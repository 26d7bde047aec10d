/**
 * Money end to end (SPEC §7, issue 22's "Done when"): `bun run bench --fill touch --costs` of
 * ema_cross (also `--lots 2` over a grid) and short_straddle, on gen data across the January 2026
 * lot-size change (NIFTY 75 → 65, BANKNIFTY 35 → 30) with a two-row cost schedule of this test's own,
 * against a recomputation leg by leg written here: the packed rows read by DuckDB (a second Parquet
 * engine), the trades of the TypeScript references with fills at the touch, lot sizes from the kept
 * calendar parsed here, SPEC §7's cost formula written again here, then totals per run, underlying
 * and set, costs by component, fills at last and the daily statistics. The trade log's rows are
 * checked against it and their fills against the quotes DuckDB reads. Also: a run without the flags
 * keeps its old fields and columns, and bad input exits 2 naming the problem.
 */
import { seedPartitions } from "../helpers/seed-partitions.ts";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { DEFAULT_PARAMS, emaCrossReference, type EmaCrossParams, type ReferenceRow } from "../../kernel/ema_cross.ts";
import { chainParamValues, openNsOfDay, runChainReference, type ChainRow } from "../../kernel/chain-reference.ts";
import { shortStraddleChainKernel } from "../../kernel/short_straddle.ts";
import { OPT_CE, OPT_OTHER, OPT_PE } from "../../lib/packed/opt-type.ts";
import { DEFAULT_DEFECTS } from "../../lib/gen/gen.ts";
import { parseIsoDate } from "../../lib/ist-time.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";
import { isoToNs } from "./duckdb-reference.ts";

setDefaultTimeout(120_000);

// ---------------------------------------------------------------------------------------------
// The data: 4 weekdays from Monday 29 December 2025. NIFTY lists its 2 nearest expiries (30 Dec,
// lot 75; 6 Jan, lot 65; then 13 Jan), BANKNIFTY its nearest monthly (30 Dec, lot 35; 27 Jan, lot 30).
// Parts and small row groups: segments and the straddle's stream cross batch boundaries.

const DAYS = ["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-01"];

/** Our own two-row schedule: every rate changes on 31 December 2025, the third generated day. */
const SCHEDULE = [
  {
    from: "2025-12-01",
    brokerage_per_order: 20,
    stt_sell: 0.001,
    exchange: 0.0003503,
    sebi: 0.000001,
    ipft: 0.000005,
    stamp_buy: 0.00003,
    gst: 0.18,
  },
  {
    from: "2025-12-31",
    brokerage_per_order: 12.5,
    stt_sell: 0.0015,
    exchange: 0.00041,
    sebi: 0.000002,
    ipft: 0.00001,
    stamp_buy: 0.00005,
    gst: 0.19,
  },
];
type Rates = Omit<(typeof SCHEDULE)[number], "from">;

const COMPONENTS = ["brokerage", "stt", "exchange", "sebi", "ipft", "stamp", "gst"] as const;
type Component = (typeof COMPONENTS)[number];
type Costs = Record<Component, number>;
const zeroCosts = (): Costs => ({ brokerage: 0, stt: 0, exchange: 0, sebi: 0, ipft: 0, stamp: 0, gst: 0 });
const totalOf = (c: Costs) => COMPONENTS.reduce((a, k) => a + c[k], 0);

/** Fields §7 adds to a run, an underlying or a set: none of them without the flags. */
const MONEY_FIELDS = [
  "fill",
  "fills_at_last",
  "gross",
  "costs",
  "costs_by_component",
  "net",
  "days",
  "sharpe",
  "max_drawdown",
  "profit_factor",
  "win_rate",
];

let packed: string;
let work: string;
let schedulePath: string;
let duck: DuckDBConnection;
let partitions: Partition[];
/** `UNDERLYING|YYYY-MM-DD` (expiry) → lot size, from `<packed>/_tickpack/calendar.csv` parsed here. */
let lotSizes: Map<string, number>;

beforeAll(async () => {
  const raw = tempDir("money-raw");
  await genFixture(raw, {
    start: parseIsoDate(DAYS[0]),
    days: DAYS.length,
    strikesEachSide: 2,
    tickProb: 0.04,
    // More nulls than the fixture's (one column of a row each): some bids and asks are missing,
    // so some touch fills fall back to the price; and the real feed's quirks.
    defects: {
      ...DEFAULT_DEFECTS,
      nullRate: 0.08,
      zeroPriceRate: 0.005,
      disorderRate: 0.01,
      epochZeroRate: 0.05,
      volumeResetRate: 0.02,
      preOpenRate: 0.1,
    },
  });
  packed = tempDir("money-packed");
  await repackFixture([raw], packed, { partRows: 5000, rowGroupSize: 700 });
  work = tempDir("money-work");
  schedulePath = join(work, "schedule.json");
  writeFileSync(schedulePath, JSON.stringify(SCHEDULE, null, 2));
  duck = await (await DuckDBInstance.create(":memory:")).connect();
  partitions = await readPartitions(packed);
  lotSizes = readCalendar(join(packed, "_tickpack", "calendar.csv"));
});
afterAll(() => {
  duck?.closeSync();
  cleanupTempDirs();
});

// ---------------------------------------------------------------------------------------------
// Reading the packed rows (DuckDB) and the kept calendar, here.

interface Row {
  ts: bigint | null;
  /** Epoch days, and as text. */
  expiry: number | null;
  expiryText: string | null;
  opt: string | null;
  strike: number | null;
  price: number | null;
  bp0: number | null;
  sp0: number | null;
  volume: number | null;
}

interface Partition {
  date: string;
  underlying: string;
  parts: string[];
  /** Every row, parts in index order, each in file order. */
  rows: Row[];
}

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function readPartitions(dir: string): Promise<Partition[]> {
  const out: Partition[] = [];
  for (const { date, underlying, parts } of seedPartitions(dir)) {
    const union = parts
      .map((f, i) => `SELECT *, ${i} AS _part FROM read_parquet(${q(f)}, file_row_number = true)`)
      .join(" UNION ALL ");
    const rows = (
      await duck.runAndReadAll(
        `SELECT epoch_ns("timestamp") AS ts, datediff('day', DATE '1970-01-01', expiry) AS e, strftime(expiry, '%Y-%m-%d') AS et,
          opt_type::VARCHAR AS opt, strike::DOUBLE AS strike, price, bp0, sp0, volume::DOUBLE AS volume
         FROM (${union}) ORDER BY _part, file_row_number`,
      )
    ).getRowObjectsJS();
    out.push({
      date,
      underlying,
      parts,
      rows: rows.map((r) => ({
        ts: r.ts === null ? null : BigInt(r.ts as bigint),
        expiry: r.e === null ? null : Number(r.e),
        expiryText: r.et === null ? null : String(r.et),
        opt: r.opt === null ? null : String(r.opt),
        strike: r.strike === null ? null : Number(r.strike),
        price: r.price === null ? null : Number(r.price),
        bp0: r.bp0 === null ? null : Number(r.bp0),
        sp0: r.sp0 === null ? null : Number(r.sp0),
        volume: r.volume === null ? null : Number(r.volume),
      })),
    });
  }
  return out;
}

/** The kept calendar: `underlying,expiry_type,expiry_date,lot_size` → `U|date` → lot size. */
function readCalendar(path: string): Map<string, number> {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split(/\r?\n/);
  const cols = header.split(",").map((c) => c.trim());
  const [u, d, l] = ["underlying", "expiry_date", "lot_size"].map((c) => cols.indexOf(c));
  if (u < 0 || d < 0 || l < 0) throw new Error(`${path}: unexpected header ${header}`);
  const out = new Map<string, number>();
  for (const line of lines) {
    const f = line.split(",").map((c) => c.trim());
    if (f[l] !== "") out.set(`${f[u].toUpperCase()}|${f[d]}`, Number(f[l]));
  }
  return out;
}

function lotSizeOf(underlying: string, expiry: string): number {
  const size = lotSizes.get(`${underlying}|${expiry}`);
  if (size === undefined) throw new Error(`the kept calendar has no lot size for ${underlying} ${expiry}`);
  return size;
}

// ---------------------------------------------------------------------------------------------
// SPEC §7 again: the rates of a day, a fill's costs.

function ratesOn(day: string): Rates {
  let row: (typeof SCHEDULE)[number] | undefined;
  for (const r of SCHEDULE) if (r.from <= day) row = r;
  if (!row) throw new Error(`no rates on ${day}`);
  const { from: _from, ...rates } = row;
  return rates;
}

/** One fill (one order): brokerage per order, STT on a sell, exchange/SEBI/IPFT on turnover, stamp on a buy, GST on brokerage + exchange + SEBI + IPFT. */
function fillCosts(r: Rates, side: "buy" | "sell", price: number, lots: number, lotSize: number): Costs {
  const turnover = price * lots * lotSize;
  const brokerage = r.brokerage_per_order;
  const exchange = turnover * r.exchange;
  const sebi = turnover * r.sebi;
  const ipft = turnover * r.ipft;
  return {
    brokerage,
    stt: side === "sell" ? turnover * r.stt_sell : 0,
    exchange,
    sebi,
    ipft,
    stamp: side === "buy" ? turnover * r.stamp_buy : 0,
    gst: r.gst * (brokerage + exchange + sebi + ipft),
  };
}

function addCosts(into: Costs, c: Costs): void {
  for (const k of COMPONENTS) into[k] += c[k];
}

// ---------------------------------------------------------------------------------------------
// The recomputation: every leg priced, then the sums and statistics.

/** A leg (an ema_cross trade is a one-leg long position) with its money. */
interface Leg {
  set: number;
  date: string;
  underlying: string;
  expiry: string;
  opt: string;
  strike: number;
  /** Its position, numbered per partition and set. */
  position: number;
  short: boolean;
  lots: number;
  lotSize: number;
  entryNs: bigint;
  exitNs: bigint;
  entryPrice: number;
  exitPrice: number;
  /** Price points (× lots for a chain leg: SPEC §6). */
  points: number;
  gross: number;
  costs: Costs;
  net: number;
}

function priceLeg(leg: Omit<Leg, "lotSize" | "gross" | "costs" | "net">, pointsTimesLots: boolean): Leg {
  const lotSize = lotSizeOf(leg.underlying, leg.expiry);
  const rates = ratesOn(leg.date);
  const gross = leg.points * (pointsTimesLots ? 1 : leg.lots) * lotSize;
  const costs = zeroCosts();
  addCosts(costs, fillCosts(rates, leg.short ? "sell" : "buy", leg.entryPrice, leg.lots, lotSize));
  addCosts(costs, fillCosts(rates, leg.short ? "buy" : "sell", leg.exitPrice, leg.lots, lotSize));
  return { ...leg, lotSize, gross, costs, net: gross - totalOf(costs) };
}

interface Money {
  gross: number;
  costs: Costs;
  net: number;
}
const zeroMoney = (): Money => ({ gross: 0, costs: zeroCosts(), net: 0 });
function addMoney(into: Money, l: { gross: number; costs: Costs; net: number }): void {
  into.gross += l.gross;
  addCosts(into.costs, l.costs);
  into.net += l.net;
}

interface SetReference extends Money {
  trades: number;
  pnl: number;
  fillsAtLast: number;
  byUnderlying: Record<string, Money & { trades: number; pnl: number }>;
  days: number;
  sharpe: number | null;
  max_drawdown: number;
  profit_factor: number | null;
  win_rate: number | null;
}

interface RunReference {
  sets: SetReference[];
  legs: Leg[];
}

/** Sums and statistics of a set from its legs (the trades and points come from the reference itself). */
function setReference(
  legs: Leg[],
  perPartition: { date: string; underlying: string; trades: number; pnl: number; fillsAtLast: number }[],
): SetReference {
  const out: SetReference = {
    ...zeroMoney(),
    trades: 0,
    pnl: 0,
    fillsAtLast: 0,
    byUnderlying: {},
    days: 0,
    sharpe: null,
    max_drawdown: 0,
    profit_factor: null,
    win_rate: null,
  };
  for (const p of perPartition) {
    out.trades += p.trades;
    out.pnl += p.pnl;
    out.fillsAtLast += p.fillsAtLast;
    const u = (out.byUnderlying[p.underlying] ??= { ...zeroMoney(), trades: 0, pnl: 0 });
    u.trades += p.trades;
    u.pnl += p.pnl;
  }
  const positions = new Map<string, { date: string; net: number }>();
  for (const l of legs) {
    addMoney(out, l);
    addMoney(out.byUnderlying[l.underlying], l);
    const key = `${l.date}|${l.underlying}|${l.position}`;
    const p = positions.get(key) ?? { date: l.date, net: 0 };
    p.net += l.net;
    positions.set(key, p);
  }
  // Days: every partition date, with or without trades.
  const days = [...new Set(perPartition.map((p) => p.date))].sort();
  const daily = days.map((d) => [...positions.values()].filter((p) => p.date === d).reduce((a, p) => a + p.net, 0));
  out.days = days.length;
  const mean = daily.reduce((a, x) => a + x, 0) / daily.length;
  const sd = Math.sqrt(daily.reduce((a, x) => a + (x - mean) ** 2, 0) / (daily.length - 1));
  out.sharpe = daily.length >= 2 && sd > 0 ? (mean / sd) * Math.sqrt(252) : null;
  let equity = 0;
  let peak = 0;
  for (const x of daily) {
    equity += x;
    peak = Math.max(peak, equity);
    out.max_drawdown = Math.max(out.max_drawdown, peak - equity);
  }
  const nets = [...positions.values()].map((p) => p.net);
  const won = nets.filter((n) => n > 0).reduce((a, n) => a + n, 0);
  const lost = nets.filter((n) => n < 0).reduce((a, n) => a + n, 0);
  out.profit_factor = lost < 0 ? won / -lost : null;
  out.win_rate = nets.length > 0 ? nets.filter((n) => n > 0).length / nets.length : null;
  return out;
}

const OPT_NAMES = ["CE", "PE"];

function emaRow(r: Row): ReferenceRow {
  return {
    expiry: r.expiry,
    optType: r.opt,
    strike: r.strike,
    price: r.price,
    bp0: r.bp0,
    sp0: r.sp0,
    volume: r.volume,
    ts: r.ts ?? 0n,
  };
}

/**
 * ema_cross with fills at the touch (emaCrossReference), `lots` lots per trade, for each parameter
 * set; with `only`, over that underlying's partitions and the rows it selects (a filter selects whole
 * segments, so the segments are those of the file).
 */
function emaCrossMoney(
  paramSets: EmaCrossParams[],
  lots: number,
  only?: { underlying: string; select: (r: Row) => boolean },
): RunReference {
  const legs: Leg[] = [];
  const sets = paramSets.map((params, set) => {
    const setLegs: Leg[] = [];
    const run = only ? partitions.filter((p) => p.underlying === only.underlying) : partitions;
    const perPartition = run.map((p) => {
      const rows = only ? p.rows.filter(only.select) : p.rows;
      const r = emaCrossReference([rows.map(emaRow)], params, "touch");
      r.tradeList.forEach((t, position) => {
        setLegs.push(
          priceLeg(
            {
              set,
              date: p.date,
              underlying: p.underlying,
              expiry: p.rows.find((row) => row.expiry === t.expiry)!.expiryText!,
              opt: OPT_NAMES[t.optCode],
              strike: t.strike,
              position,
              short: false,
              lots,
              entryNs: t.entryTs,
              exitNs: t.exitTs,
              entryPrice: t.entryPrice,
              exitPrice: t.exitPrice,
              points: t.exitPrice - t.entryPrice,
            },
            false,
          ),
        );
      });
      return { date: p.date, underlying: p.underlying, trades: r.trades, pnl: r.pnl, fillsAtLast: r.fillsAtLast };
    });
    legs.push(...setLegs);
    return setReference(setLegs, perPartition);
  });
  return { sets, legs };
}

const epochDaysOf = (iso: string) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86_400_000;

function chainRow(r: Row): ChainRow {
  return {
    timestamp: r.ts,
    expiry: r.expiry,
    opt: r.opt === null ? null : r.opt === "CE" ? OPT_CE : r.opt === "PE" ? OPT_PE : OPT_OTHER,
    strike: r.strike,
    price: r.price,
    values: { bp0: r.bp0, sp0: r.sp0 },
  };
}

/**
 * short_straddle (the chain reference driver with the kernel's TypeScript twin), fills at the touch,
 * for each parameter set (values in the kernel's order; default: its defaults), all sets in one pass.
 */
function straddleMoney(paramSets: number[][] = [chainParamValues(shortStraddleChainKernel)]): RunReference {
  const legs: Leg[] = [];
  const perPartition = partitions.map((p) => {
    const expiryText = new Map(p.rows.map((r) => [r.expiry, r.expiryText]));
    const r = runChainReference(p.rows.map(chainRow), shortStraddleChainKernel, paramSets, {
      openNs: openNsOfDay(epochDaysOf(p.date)),
      fill: "touch",
    });
    for (const l of r.legs)
      legs.push(
        priceLeg(
          {
            set: l.set,
            date: p.date,
            underlying: p.underlying,
            expiry: expiryText.get(l.expiry)!,
            opt: OPT_NAMES[l.opt],
            strike: l.strike,
            position: l.position,
            short: l.lots < 0,
            lots: Math.abs(l.lots),
            entryNs: l.entryTs,
            exitNs: l.exitTs,
            entryPrice: l.entryPrice,
            exitPrice: l.exitPrice,
            points: l.pnl,
          },
          true,
        ),
      );
    return r.sets.map((s) => ({
      date: p.date,
      underlying: p.underlying,
      trades: s.trades,
      pnl: s.pnl,
      fillsAtLast: s.fillsAtLast,
    }));
  });
  const sets = paramSets.map((_, k) =>
    setReference(
      legs.filter((l) => l.set === k),
      perPartition.map((p) => p[k]),
    ),
  );
  return { sets, legs };
}

// ---------------------------------------------------------------------------------------------
// bench, its JSON and its trade log.

type Json = Record<string, unknown> & {
  grid: (Record<string, unknown> & { by_underlying: Record<string, Record<string, unknown>> })[];
  by_underlying: Record<string, Record<string, unknown>>;
};

const bench = (args: string[]) => runScript("bench.ts", args);

function benchJson(args: string[]): Json {
  const r = bench([...args, "--json", "--no-cache", "--workers", "3"]);
  expect({ args, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ args, code: 0, stderr: "" });
  return JSON.parse(r.stdout) as Json;
}

/** `got` equals `want` to 1e-6 relative (absolute below 1); null only where `want` is null. */
function expectClose(got: unknown, want: number | null, label: string): void {
  if (want === null) {
    expect({ label, got }).toEqual({ label, got: null });
    return;
  }
  const ok = typeof got === "number" && Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want));
  expect({ label, got, want, ok }).toEqual({ label, got, want, ok: true });
}

function expectMoney(got: Record<string, unknown>, want: Money, label: string): void {
  expectClose(got.gross, want.gross, `${label} gross`);
  expectClose(got.costs, totalOf(want.costs), `${label} costs`);
  expectClose(got.net, want.net, `${label} net`);
  const byComponent = got.costs_by_component as Record<string, number>;
  expect(Object.keys(byComponent ?? {}).sort()).toEqual([...COMPONENTS].sort());
  for (const c of COMPONENTS) expectClose(byComponent[c], want.costs[c], `${label} ${c}`);
}

/** A set's (or a single-set run's) JSON against the recomputation. */
function expectSet(got: Json["grid"][number], want: SetReference, label: string): void {
  expect({ label, trades: got.trades, fills_at_last: got.fills_at_last }).toEqual({
    label,
    trades: want.trades,
    fills_at_last: want.fillsAtLast,
  });
  expectClose(got.pnl, want.pnl, `${label} pnl`);
  expectMoney(got, want, label);
  expect({ label, days: got.days }).toEqual({ label, days: want.days });
  expectClose(got.sharpe, want.sharpe, `${label} sharpe`);
  expectClose(got.max_drawdown, want.max_drawdown, `${label} max_drawdown`);
  expectClose(got.profit_factor, want.profit_factor, `${label} profit_factor`);
  expectClose(got.win_rate, want.win_rate, `${label} win_rate`);
  expect(Object.keys(got.by_underlying).sort()).toEqual(Object.keys(want.byUnderlying).sort());
  for (const [u, w] of Object.entries(want.byUnderlying)) {
    const g = got.by_underlying[u];
    expect({ label, u, trades: g.trades }).toEqual({ label, u, trades: w.trades });
    expectClose(g.pnl, w.pnl, `${label} ${u} pnl`);
    expectMoney(g, w, `${label} ${u}`);
  }
}

/** The run's totals: sums over its sets. */
function expectRunTotals(got: Json, want: RunReference): void {
  expect(got.fill).toBe("touch");
  expect(got.fills_at_last).toBe(want.sets.reduce((a, s) => a + s.fillsAtLast, 0));
  expect(got.trades).toBe(want.sets.reduce((a, s) => a + s.trades, 0));
  const total = zeroMoney();
  for (const s of want.sets) addMoney(total, { gross: s.gross, costs: s.costs, net: s.net });
  expectMoney(got, total, "run");
}

type LogRow = Record<string, string>;

function readLog(path: string): { header: string; rows: LogRow[] } {
  const [header, ...lines] = readFileSync(path, "utf8").trimEnd().split("\n");
  const cols = header.split(",");
  return {
    header,
    rows: lines.map((line) => {
      if (line.includes('"')) throw new Error(`quoted field in ${line}`);
      const f = line.split(",");
      return Object.fromEntries(cols.map((c, i) => [c, f[i]]));
    }),
  };
}

const legKey = (
  set: number,
  date: string,
  u: string,
  exp: string,
  opt: string,
  strike: number,
  entry: bigint,
  exit: bigint,
) => `${set}|${date}|${u}|${exp}|${opt}|${strike}|${entry}|${exit}`;

/** Every log row matches one recomputed leg, and the other way round: fills, lots, lot size, ₹. */
function expectLogRows(rows: LogRow[], want: Leg[], label: string): void {
  expect({ label, rows: rows.length }).toEqual({ label, rows: want.length });
  const wanted = new Map<string, Leg[]>();
  for (const l of want) {
    const k = legKey(l.set, l.date, l.underlying, l.expiry, l.opt, l.strike, l.entryNs, l.exitNs);
    wanted.set(k, [...(wanted.get(k) ?? []), l]);
  }
  const r9 = (x: number) => Number(x.toFixed(9)) + 0;
  for (const row of rows) {
    const k = legKey(
      Number(row.set),
      row.date,
      row.underlying,
      row.expiry,
      row.opt_type,
      Number(row.strike),
      isoToNs(row.entry_time),
      isoToNs(row.exit_time),
    );
    const l = wanted.get(k)?.shift();
    expect({ label, row: k, found: l !== undefined }).toEqual({ label, row: k, found: true });
    if (!l) continue;
    expect({
      label,
      k,
      entry: Number(row.entry_price),
      exit: Number(row.exit_price),
      pnl: Number(row.pnl),
      side: row.side,
      lots: Number(row.lots),
      lotSize: Number(row.lot_size),
    }).toEqual({
      label,
      k,
      entry: r9(l.entryPrice),
      exit: r9(l.exitPrice),
      pnl: r9(l.points),
      side: l.short ? "short" : "long",
      lots: l.lots,
      lotSize: l.lotSize,
    });
    expectClose(Number(row.gross), l.gross, `${label} ${k} gross`);
    expectClose(Number(row.costs), totalOf(l.costs), `${label} ${k} costs`);
    expectClose(Number(row.net), l.net, `${label} ${k} net`);
  }
}

/** A contract's rows of a partition. */
function contractRows(p: Partition, row: LogRow): Row[] {
  const strike = Number(row.strike);
  return p.rows.filter((r) => r.expiryText === row.expiry && r.opt === row.opt_type && r.strike === strike);
}

const valid = (r: Row) => r.price !== null && r.price > 0;
/** A fill at the touch from a row: its quote on the order's side where > 0, else the price (and whether it fell back). */
function touchOf(r: Row, side: "buy" | "sell"): { price: number; atLast: boolean } {
  const quote = side === "buy" ? r.sp0 : r.bp0;
  return quote !== null && quote > 0 ? { price: quote, atLast: false } : { price: r.price!, atLast: true };
}

const partitionOf = (row: LogRow) => partitions.find((p) => p.date === row.date && p.underlying === row.underlying)!;

// ---------------------------------------------------------------------------------------------

describe("the data spans the January 2026 lot-size change", () => {
  test("partitions, their expiries, and the kept calendar's lot sizes for every contract present", () => {
    expect(partitions.map((p) => `${p.date}/${p.underlying}`)).toEqual(
      DAYS.flatMap((d) => [`${d}/BANKNIFTY`, `${d}/NIFTY`]),
    );
    expect(partitions.some((p) => p.parts.length > 1)).toBe(true);
    const present = new Map<string, Set<number>>();
    for (const p of partitions) {
      for (const e of new Set(p.rows.map((r) => r.expiryText))) {
        expect(e).not.toBeNull();
        const sizes = present.get(p.underlying) ?? new Set<number>();
        sizes.add(lotSizeOf(p.underlying, e!));
        present.set(p.underlying, sizes);
      }
    }
    expect([...present.get("NIFTY")!].sort()).toEqual([65, 75]);
    expect([...present.get("BANKNIFTY")!].sort()).toEqual([30, 35]);
    // The expiries of December 2025 and of January 2026 by name, as NSE set them.
    expect(lotSizeOf("NIFTY", "2025-12-30")).toBe(75);
    expect(lotSizeOf("NIFTY", "2026-01-06")).toBe(65);
    expect(lotSizeOf("BANKNIFTY", "2025-12-30")).toBe(35);
    expect(lotSizeOf("BANKNIFTY", "2026-01-27")).toBe(30);
    // Some quotes are missing: touch fills can fall back to the price.
    expect(partitions.some((p) => p.rows.some((r) => valid(r) && (r.bp0 === null || r.sp0 === null)))).toBe(true);
  });
});

describe("ema_cross --fill touch --costs", () => {
  test("one set, 1 lot: JSON and trade log equal the recomputation; fills are the packed quotes", () => {
    const log = join(work, "ema.csv");
    const got = benchJson([packed, "--fill", "touch", "--costs", schedulePath, "--trades", log]);
    const want = emaCrossMoney([DEFAULT_PARAMS], 1);
    expect(want.sets[0].trades).toBeGreaterThan(100);
    expectRunTotals(got, want);
    expectSet(got.grid[0], want.sets[0], "grid[0]");
    // A single set's run repeats its set's fields at the top.
    expectSet(got as unknown as Json["grid"][number], want.sets[0], "run");

    const { header, rows } = readLog(log);
    expect(header).toBe(
      "set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl,position,side,lots,lot_size,gross,costs,net",
    );
    expectLogRows(rows, want.legs, "ema");
    // Both lot sizes of each underlying, and both rows of the schedule, are in the trades.
    const sizes = (u: string) => [...new Set(rows.filter((r) => r.underlying === u).map((r) => r.lot_size))].sort();
    expect(sizes("NIFTY")).toEqual(["65", "75"]);
    expect(sizes("BANKNIFTY")).toEqual(["30", "35"]);
    expect(new Set(rows.map((r) => r.date))).toEqual(new Set(DAYS));

    // Each fill against the rows DuckDB read: the buy at the entry row's ask, the sell at the exit
    // row's bid (the price where the quote is missing, counted).
    let atLast = 0;
    for (const row of rows) {
      const rowsOf = contractRows(partitionOf(row), row).filter(valid);
      const entryNs = isoToNs(row.entry_time);
      const exitNs = isoToNs(row.exit_time);
      const entries = rowsOf.filter((r) => r.ts === entryNs).map((r) => touchOf(r, "buy"));
      const exits = rowsOf.filter((r) => r.ts === exitNs).map((r) => touchOf(r, "sell"));
      const entry = entries.find((f) => f.price === Number(row.entry_price));
      const exit = exits.find((f) => f.price === Number(row.exit_price));
      expect({ row, entry: entry !== undefined, exit: exit !== undefined }).toEqual({ row, entry: true, exit: true });
      atLast += (entry?.atLast ? 1 : 0) + (exit?.atLast ? 1 : 0);
    }
    expect(got.fills_at_last).toBe(atLast);
  });

  test("--lots 2 over a grid: per set, per underlying and in total", () => {
    const log = join(work, "ema-grid.csv");
    const got = benchJson([
      packed,
      "--fill",
      "touch",
      "--costs",
      schedulePath,
      "--lots",
      "2",
      "--grid",
      "fast=3,5",
      "--trades",
      log,
    ]);
    const paramSets = [3, 5].map((fast) => ({ ...DEFAULT_PARAMS, fast }));
    expect(got.grid.map((g) => g.params)).toEqual(paramSets);
    const want = emaCrossMoney(paramSets, 2);
    expectRunTotals(got, want);
    for (const [k, s] of want.sets.entries()) expectSet(got.grid[k], s, `grid[${k}]`);
    const { rows } = readLog(log);
    expect(new Set(rows.map((r) => r.lots))).toEqual(new Set(["2"]));
    expectLogRows(rows, want.legs, "ema --lots 2");
  });

  test("a day without trades counts, at 0: NIFTY, strikes listed on some days only", () => {
    // A band of strikes that one day does not list (strikes follow the spot): no trade that day. The
    // strike filter cannot prune a partition by its path, so every NIFTY day is a day of the run.
    const nifty = partitions.filter((p) => p.underlying === "NIFTY");
    const strikesOf = (p: Partition) => p.rows.flatMap((r) => (r.strike === null ? [] : [r.strike]));
    const lowest = Math.min(...nifty.flatMap(strikesOf));
    const highestLow = Math.max(...nifty.map((p) => Math.min(...strikesOf(p))));
    const [lo, hi] = [lowest, highestLow - 1];
    expect(lo).toBeLessThan(hi);
    const select = (r: Row) => r.strike !== null && r.strike >= lo && r.strike <= hi;
    const log = join(work, "ema-band.csv");
    const args = ["--underlyings", "NIFTY", "--strikes", `${lo}:${hi}`, "--trades", log];
    const got = benchJson([packed, "--fill", "touch", "--costs", schedulePath, ...args]);
    const want = emaCrossMoney([DEFAULT_PARAMS], 1, { underlying: "NIFTY", select });
    const traded = new Set(want.legs.map((l) => l.date));
    expect({ traded: traded.size > 0, untraded: traded.size < DAYS.length }).toEqual({ traded: true, untraded: true });
    expect(want.sets[0].days).toBe(DAYS.length);
    expectRunTotals(got, want);
    expectSet(got.grid[0], want.sets[0], "grid[0]");
    expectLogRows(readLog(log).rows, want.legs, "ema band");
  });
});

describe("short_straddle --fill touch --costs", () => {
  test("JSON and trade log equal the recomputation; fills are the as-of packed quotes", () => {
    const log = join(work, "straddle.csv");
    const got = benchJson([
      packed,
      "--strategy",
      "short_straddle",
      "--fill",
      "touch",
      "--costs",
      schedulePath,
      "--trades",
      log,
    ]);
    const want = straddleMoney();
    expect(want.sets[0].trades).toBe(partitions.length);
    expectRunTotals(got, want);
    expectSet(got.grid[0], want.sets[0], "grid[0]");
    expectSet(got as unknown as Json["grid"][number], want.sets[0], "run");

    const { header, rows } = readLog(log);
    expect(header).toBe(
      "set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl,position,leg,side,lots,lot_size,gross,costs,net",
    );
    expectLogRows(rows, want.legs, "straddle");
    const sizes = (u: string) => [...new Set(rows.filter((r) => r.underlying === u).map((r) => r.lot_size))].sort();
    expect(sizes("NIFTY")).toEqual(["65", "75"]);
    expect(sizes("BANKNIFTY")).toEqual(["30", "35"]);

    // A short leg sells at its contract's bid and buys back at its ask, each as of the fill's
    // instant: the latest valid row at or before it (of equal times, the later in file order).
    let atLast = 0;
    for (const row of rows) {
      const rowsOf = contractRows(partitionOf(row), row).filter(valid);
      const asOf = (ns: bigint) => rowsOf.filter((r) => r.ts !== null && r.ts <= ns).at(-1)!;
      const entry = touchOf(asOf(isoToNs(row.entry_time)), "sell");
      const exit = touchOf(asOf(isoToNs(row.exit_time)), "buy");
      expect({ row, entry: Number(row.entry_price), exit: Number(row.exit_price) }).toEqual({
        row,
        entry: entry.price,
        exit: exit.price,
      });
      atLast += (entry.atLast ? 1 : 0) + (exit.atLast ? 1 : 0);
    }
    expect(got.fills_at_last).toBe(atLast);
  });

  test("a grid: per set, its positions (two legs each) winning and losing", () => {
    const log = join(work, "straddle-grid.csv");
    const got = benchJson([
      packed,
      "--strategy",
      "short_straddle",
      "--fill",
      "touch",
      "--costs",
      schedulePath,
      "--grid",
      "target=0.05,0.5;stop=0.05,0.3",
      "--trades",
      log,
    ]);
    const expected = [0.05, 0.5].flatMap((target) =>
      [0.05, 0.3].map((stop) => ({ entry_min: 5, exit_min: 360, stop, target })),
    );
    expect(new Set(got.grid.map((g) => JSON.stringify(g.params)))).toEqual(
      new Set(expected.map((e) => JSON.stringify(e))),
    );
    const paramSets = got.grid.map((g) =>
      chainParamValues(shortStraddleChainKernel, g.params as Record<string, number>),
    );
    const want = straddleMoney(paramSets);
    // Some set wins some positions and loses others: profit factor and win rate between their bounds.
    expect(want.sets.some((s) => s.win_rate !== null && s.win_rate > 0 && s.win_rate < 1)).toBe(true);
    expectRunTotals(got, want);
    for (const [k, s] of want.sets.entries()) expectSet(got.grid[k], s, `grid[${k}]`);
    expectLogRows(readLog(log).rows, want.legs, "straddle grid");
  });
});

describe("the Parquet trade log", () => {
  test("holds the CSV log's rows, money columns typed", async () => {
    const args = [packed, "--strategy", "short_straddle", "--fill", "touch", "--costs", schedulePath, "--trades"];
    benchJson([...args, join(work, "log.csv")]);
    benchJson([...args, join(work, "log.parquet")]);
    const types = Object.fromEntries(
      (await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(join(work, "log.parquet"))})`))
        .getRows()
        .map((r) => [String(r[0]), String(r[1])]),
    );
    expect(types).toMatchObject({
      date: "DATE",
      expiry: "DATE",
      lot_size: "INTEGER",
      gross: "DOUBLE",
      costs: "DOUBLE",
      net: "DOUBLE",
    });
    const cols =
      "set, date, underlying, expiry, opt_type, strike::DOUBLE, entry_time, exit_time, entry_price, exit_price, pnl, position, leg, side, lots, lot_size, gross, costs, net";
    const from = (f: string) => (f.endsWith(".csv") ? `read_csv(${q(f)})` : `read_parquet(${q(f)})`);
    const diff = (a: string, b: string) =>
      duck.runAndReadAll(
        `SELECT count(*) FROM (SELECT ${cols} FROM ${from(a)} EXCEPT ALL SELECT ${cols} FROM ${from(b)})`,
      );
    const [csv, parquet] = [join(work, "log.csv"), join(work, "log.parquet")];
    expect([(await diff(csv, parquet)).getRows()[0][0], (await diff(parquet, csv)).getRows()[0][0]]).toEqual([0n, 0n]);
    expect((await duck.runAndReadAll(`SELECT count(*) FROM ${from(parquet)}`)).getRows()[0][0]).toBe(
      2n * BigInt(DAYS.length * 2),
    );
  });
});

describe("money does not depend on how the run ran", () => {
  test("1 worker without the cache, 4 workers with it cold and warm: the same JSON and trade log", () => {
    const cache = join(work, "cache");
    const results = (args: string[], how: string[], log: string) => {
      const r = bench([packed, ...args, "--json", "--trades", log, ...how]);
      expect({ how, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ how, code: 0, stderr: "" });
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      const hits = (j.cache as { hits: number } | null)?.hits ?? 0;
      for (const k of ["elapsed_s", "rows_per_s", "row_sets_per_s", "workers", "cache", "parts_read"]) delete j[k];
      return { json: j, log: readFileSync(log, "utf8"), hits };
    };
    for (const args of [
      ["--fill", "touch", "--costs", schedulePath, "--lots", "3"],
      ["--strategy", "short_straddle", "--fill", "touch", "--costs", schedulePath],
    ]) {
      rmSync(cache, { recursive: true, force: true });
      const [one, cold, warm] = [
        ["--workers", "1", "--no-cache"],
        ["--workers", "4", "--cache", cache],
        ["--workers", "4", "--cache", cache],
      ].map((how, i) => results(args, how, join(work, `how-${i}.csv`)));
      expect(warm.hits).toBeGreaterThan(0);
      expect({ ...cold, hits: 0 }).toEqual(one);
      expect({ ...warm, hits: 0 }).toEqual(one);
    }
  });
});

describe("without the flags every output is as before", () => {
  const expectNoMoney = (j: Json) => {
    const holders = [
      j,
      ...j.grid,
      ...Object.values(j.by_underlying),
      ...j.grid.flatMap((g) => Object.values(g.by_underlying)),
    ];
    for (const h of holders) for (const f of MONEY_FIELDS) expect({ f, has: f in h }).toEqual({ f, has: false });
  };

  test("ema_cross: no money or fill fields, the usual columns, the price fills of SPEC §4", () => {
    const log = join(work, "plain.csv");
    const got = benchJson([packed, "--trades", log]);
    expectNoMoney(got);
    const { header, rows } = readLog(log);
    expect(header).toBe("set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl");
    let trades = 0;
    let pnl = 0;
    for (const p of partitions) {
      const r = emaCrossReference([p.rows.map(emaRow)], DEFAULT_PARAMS);
      trades += r.trades;
      pnl += r.pnl;
    }
    expect({ trades: got.trades, rows: rows.length }).toEqual({ trades, rows: trades });
    expectClose(got.pnl, pnl, "plain pnl");
  });

  test("short_straddle: no money or fill fields, the usual leg columns", () => {
    const log = join(work, "plain-straddle.csv");
    const got = benchJson([packed, "--strategy", "short_straddle", "--trades", log]);
    expectNoMoney(got);
    expect(readLog(log).header).toBe(
      "set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl,position,leg,side,lots",
    );
  });

  test("--fill touch alone: fills and points, no ₹", () => {
    const got = benchJson([packed, "--fill", "touch"]);
    const want = emaCrossMoney([DEFAULT_PARAMS], 1).sets[0];
    expect({ fill: got.fill, fills_at_last: got.fills_at_last, trades: got.trades }).toEqual({
      fill: "touch",
      fills_at_last: want.fillsAtLast,
      trades: want.trades,
    });
    expectClose(got.pnl, want.pnl, "touch pnl");
    for (const f of ["gross", "costs", "net", "sharpe", "days"])
      expect({ f, has: f in got }).toEqual({ f, has: false });
  });
});

describe("bad input: exit 2 naming the problem", () => {
  const badSchedule = (name: string, rows: unknown) => {
    const path = join(work, name);
    writeFileSync(path, JSON.stringify(rows));
    return path;
  };
  const expectUsage = (args: string[], says: RegExp[]) => {
    const r = bench([...args, "--json", "--no-cache"]);
    expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
    for (const s of says) expect(r.stderr).toMatch(s);
  };

  test("a schedule with an unknown field", () => {
    const path = badSchedule("unknown.json", [{ ...SCHEDULE[0], stt: 0.001 }]);
    expectUsage([packed, "--costs", path], [/unknown\.json/, /row 1/, /\bstt\b/]);
  });

  test("a schedule row without its date", () => {
    const { from: _from, ...noDate } = SCHEDULE[1];
    const path = badSchedule("no-date.json", [SCHEDULE[0], noDate]);
    expectUsage([packed, "--costs", path], [/no-date\.json/, /row 2/, /\bfrom\b/]);
  });

  test("a schedule that does not cover a day of the run", () => {
    const path = badSchedule("late.json", [{ ...SCHEDULE[1], from: "2025-12-30" }]);
    expectUsage([packed, "--costs", path], [/late\.json/, /2025-12-29/, /2025-12-30/]);
  });

  test("a negative rate", () => {
    const path = badSchedule("negative.json", [SCHEDULE[0], { ...SCHEDULE[1], stt_sell: -0.001 }]);
    expectUsage([packed, "--costs", path], [/negative\.json/, /row 2/, /stt_sell/]);
  });

  test("--lots 0", () => {
    expectUsage([packed, "--lots", "0"], [/--lots/, /"0"/]);
  });

  test("a contract with no lot size: a packed folder without its kept calendar", () => {
    const copy = join(work, "no-calendar");
    cpSync(packed, copy, { recursive: true });
    rmSync(join(copy, "_tickpack", "calendar.csv"));
    expectUsage(
      [copy, "--fill", "touch", "--costs", schedulePath],
      [/no lot size for (NIFTY|BANKNIFTY) expiry \d{4}-\d\d-\d\d/, /--lot-size/],
    );
    // One underlying's override is not enough; both are.
    expectUsage(
      [copy, "--costs", schedulePath, "--lot-size", "NIFTY=50"],
      [/no lot size for BANKNIFTY expiry \d{4}-\d\d-\d\d/],
    );
    const got = benchJson([copy, "--lot-size", "NIFTY=50,BANKNIFTY=20"]);
    expectClose(got.by_underlying.NIFTY.gross, (got.by_underlying.NIFTY.pnl as number) * 50, "NIFTY=50");
    expectClose(got.by_underlying.BANKNIFTY.gross, (got.by_underlying.BANKNIFTY.pnl as number) * 20, "BANKNIFTY=20");
  });

  test("a partition outside the layout (a date folder given as DIR): no day or underlying to price it by", () => {
    // Before the fix: without --trades every trade was priced on 1970-01-01 (its unread timestamp),
    // and with --lot-size for every underlying still "no lot size for  expiry …" (no underlying).
    const day = join(packed, DAYS[0]);
    for (const money of [
      ["--costs", schedulePath],
      ["--lot-size", "NIFTY=75,BANKNIFTY=35"],
      ["--lots", "1"],
    ])
      expectUsage(
        [day, ...money],
        [/needs each partition's day and underlying from its path/, /run bench on the packed folder itself/],
      );
    // Points need neither: that run is as before.
    expect(bench([day, "--json", "--no-cache"]).code).toBe(0);
  });

  test("--rank net without money", () => {
    expectUsage([packed, "--grid", "fast=3,5", "--rank", "net"], [/--rank net/, /money/]);
  });
});
