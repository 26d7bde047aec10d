/**
 * A deterministic synthetic NSE option market: underlying paths, an expiry calendar, contracts
 * and their snapshot ticks. Everything is a pure function of (seed, names, day), so the same
 * contract-day comes out identical whatever date range is generated around it.
 */
import { emptyExpiryCalendar, lotSizeKey, type ExpiryCalendar } from "../raw/calendar.ts";
import type { ContractName, ExpiryType, OptType } from "../raw/contract-name.ts";
import {
  epochDaysOf,
  IST_OFFSET_NS,
  istWallClockToEpochNs,
  weekdayOf,
  yearMonthOf,
  type EpochDays,
} from "../ist-time.ts";
import { hashString, randomFor } from "../random.ts";
import { nseLotSize } from "./nse-lot-sizes.ts";

/** How an underlying trades. */
export interface UnderlyingSpec {
  name: string;
  /**
   * Units that generated quantities (qty, volume, oi, depth) are multiples of. Fixed per underlying so
   * that the ticks never depend on the calendar; an expiry's lot size is expiryLotSize's.
   */
  lot: number;
  strikeStep: number;
  /** Spot on the anchor day. */
  spot: number;
  /** Implied volatility used to price its options. */
  iv: number;
  weekly: boolean;
}

const BUILT_IN: Record<string, Omit<UnderlyingSpec, "name">> = {
  NIFTY: { lot: 75, strikeStep: 50, spot: 25_800, iv: 0.13, weekly: true },
  BANKNIFTY: { lot: 35, strikeStep: 100, spot: 57_500, iv: 0.15, weekly: false },
};

/** Spec of an underlying: the built-in NSE ones, or a stock-like one derived from the name. */
export function underlyingSpec(name: string): UnderlyingSpec {
  const known = BUILT_IN[name];
  if (known) return { name, ...known };
  const h = hashString(name);
  return { name, lot: 100 + (h % 10) * 50, strikeStep: 10, spot: 500 + (h % 4000), iv: 0.25, weekly: false };
}

/** Defect rates of generated raw data (0 = clean). */
export interface DefectRates {
  /** Share of rows with one field nulled. */
  nullRate: number;
  /** Share of rows whose price is 0. */
  zeroPriceRate: number;
  /** Share of rows swapped with their successor (out of time order). */
  disorderRate: number;
  /** Share of contract-days whose first row carries an epoch-zero timestamp (the real feed's placeholder; repack rejects it). */
  epochZeroRate: number;
  /** Share of contract-days whose cumulative volume resets to 0 mid-session (vol_delta is 0 there). */
  volumeResetRate: number;
  /** Share of contract-days with pre-open rows from 09:10 IST, before the 09:15 open. */
  preOpenRate: number;
}

const ANCHOR_DAY = epochDaysOf(2025, 1, 1);
const SESSION_OPEN_S = 9 * 3600 + 15 * 60;
const SESSION_SECONDS = 6 * 3600 + 15 * 60 + 1; // 09:15:00 … 15:30:00 inclusive
/** Pre-open rows (the preOpenRate quirk) fall in 09:10:00 … 09:14:59. */
const PRE_OPEN_S = 9 * 3600 + 10 * 60;
const PRE_OPEN_SECONDS = SESSION_OPEN_S - PRE_OPEN_S;

/** Whether a day is a trading day (weekdays; the synthetic market has no holidays). */
export function isTradingDay(day: EpochDays): boolean {
  const w = weekdayOf(day);
  return w !== 0 && w !== 6;
}

/** The first `count` trading days from `start` on. */
export function tradingDaysFrom(start: EpochDays, count: number): EpochDays[] {
  const out: EpochDays[] = [];
  for (let d = start; out.length < count; d++) if (isTradingDay(d)) out.push(d);
  return out;
}

/** Last Tuesday of a month: NSE's monthly index expiry. */
export function lastTuesdayOf(year: number, month: number): EpochDays {
  let d = epochDaysOf(year, month + 1, 1) - 1;
  while (weekdayOf(d) !== 2) d--;
  return d;
}

/**
 * The lot size of an expiry: NSE's (lib/gen/nse-lot-sizes.ts) for NIFTY and BANKNIFTY, null before
 * the series those sources cover; a synthetic underlying's own `lot` for every expiry.
 */
export function expiryLotSize(spec: UnderlyingSpec, expiryType: ExpiryType, expiry: EpochDays): number | null {
  return BUILT_IN[spec.name] ? nseLotSize(spec.name, expiryType, expiry) : spec.lot;
}

/**
 * Calendar of the underlyings from `fromDay` to `toDay` (monthly expiries; weekly Tuesdays where the
 * underlying has them), with each expiry's lot size where expiryLotSize knows it.
 */
export function syntheticCalendar(specs: UnderlyingSpec[], fromDay: EpochDays, toDay: EpochDays): ExpiryCalendar {
  const calendar = emptyExpiryCalendar();
  const setLotSize = (spec: UnderlyingSpec, type: ExpiryType, day: EpochDays) => {
    const size = expiryLotSize(spec, type, day);
    if (size !== null) calendar.lotSizes.set(lotSizeKey(spec.name, day), size);
  };
  const first = yearMonthOf(fromDay);
  for (const spec of specs) {
    const monthlies = new Set<EpochDays>();
    for (let k = 0; ; k++) {
      const y = first.year + Math.floor((first.month - 1 + k) / 12);
      const m = ((first.month - 1 + k) % 12) + 1;
      const day = lastTuesdayOf(y, m);
      if (epochDaysOf(y, m, 1) > toDay) break;
      monthlies.add(day);
      calendar.monthly.set(`${spec.name}|${y}-${String(m).padStart(2, "0")}`, day);
      setLotSize(spec, "monthly", day);
    }
    if (spec.weekly) {
      const weekly = new Set<EpochDays>();
      for (let d = fromDay; d <= toDay; d++)
        if (weekdayOf(d) === 2 && !monthlies.has(d)) {
          weekly.add(d);
          setLotSize(spec, "weekly", d);
        }
      calendar.weekly.set(spec.name, weekly);
    }
  }
  return calendar;
}

/** A contract to generate: its name fields plus the expiry day. */
export interface SyntheticContract extends ContractName {
  expiry: EpochDays;
  /** Trading days on which it has ticks: those its strike is listed on, not always consecutive. */
  days: EpochDays[];
}

/** Open of an underlying on a day: a daily random walk from the anchor day. */
export function dailyOpen(seed: number, spec: UnderlyingSpec, day: EpochDays): number {
  let spot = spec.spot;
  for (let d = ANCHOR_DAY; d < day; d++)
    if (isTradingDay(d)) spot *= Math.exp(0.007 * randomFor(seed, spec.name, "daily", d).normal());
  return spot;
}

/** The at-the-money strike of a day: the strike nearest the day's open, around which its strikes are listed. */
function atmStrikeOf(seed: number, spec: UnderlyingSpec, day: EpochDays): number {
  return Math.round(dailyOpen(seed, spec, day) / spec.strikeStep) * spec.strikeStep;
}

/**
 * The contracts traded over `days`: on each day, each underlying's nearest expiries (2 with
 * weeklies, else 1) roll forward, each listing `strikesEachSide` strikes on each side of that day's
 * at-the-money strike (as NSE lists strikes around the money). A contract trades on the days its
 * strike is listed, which need not be consecutive; the ladder of a day depends on the seed and that
 * day alone, so a contract-day exists whatever date range is generated around it.
 */
export function syntheticContracts(
  seed: number,
  specs: UnderlyingSpec[],
  calendar: ExpiryCalendar,
  days: EpochDays[],
  strikesEachSide: number,
): SyntheticContract[] {
  const out: SyntheticContract[] = [];
  for (const spec of specs) {
    const monthly = [...calendar.monthly].filter(([k]) => k.startsWith(`${spec.name}|`)).map(([, d]) => d);
    const weekly = [...(calendar.weekly.get(spec.name) ?? [])];
    const all = [...monthly.map((d) => ({ d, monthly: true })), ...weekly.map((d) => ({ d, monthly: false }))].sort(
      (a, b) => a.d - b.d,
    );
    const contracts = new Map<string, SyntheticContract>();
    for (const day of days) {
      const atm = atmStrikeOf(seed, spec, day);
      for (const e of all.filter((x) => x.d >= day).slice(0, spec.weekly ? 2 : 1)) {
        const { year, month } = yearMonthOf(e.d);
        for (let k = -strikesEachSide; k <= strikesEachSide; k++) {
          const strike = atm + k * spec.strikeStep;
          for (const optType of ["CE", "PE"] as OptType[]) {
            const key = `${e.d}|${strike}|${optType}`;
            let c = contracts.get(key);
            if (!c)
              contracts.set(
                key,
                (c = {
                  underlying: spec.name,
                  year,
                  month,
                  expiryType: e.monthly ? "monthly" : "weekly",
                  weeklyExpiry: e.monthly ? null : e.d,
                  strike,
                  optType,
                  expiry: e.d,
                  days: [],
                }),
              );
            c.days.push(day);
          }
        }
      }
    }
    out.push(
      ...[...contracts.values()].sort(
        (a, b) => a.expiry - b.expiry || a.strike - b.strike || a.optType.localeCompare(b.optType),
      ),
    );
  }
  return out;
}

/** Per-second underlying prices of one session (SESSION_SECONDS values). */
export function underlyingPath(seed: number, spec: UnderlyingSpec, day: EpochDays): Float64Array {
  const rng = randomFor(seed, spec.name, "intraday", day);
  const path = new Float64Array(SESSION_SECONDS);
  const sigma = 0.009 / Math.sqrt(SESSION_SECONDS);
  let s = dailyOpen(seed, spec, day);
  for (let i = 0; i < SESSION_SECONDS; i++) {
    s *= Math.exp(sigma * rng.normal());
    path[i] = s;
  }
  return path;
}

function normCdf(x: number): number {
  // Abramowitz–Stegun 7.1.26: plenty for synthetic prices.
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Black–Scholes price (no rates) of a call or put with `years` to expiry. */
export function optionPrice(optType: OptType, spot: number, strike: number, years: number, iv: number): number {
  const intrinsic = optType === "CE" ? Math.max(0, spot - strike) : Math.max(0, strike - spot);
  if (years <= 0) return intrinsic;
  const sd = iv * Math.sqrt(years);
  const d1 = (Math.log(spot / strike) + 0.5 * sd * sd) / sd;
  const d2 = d1 - sd;
  const call = spot * normCdf(d1) - strike * normCdf(d2);
  return optType === "CE" ? call : call - spot + strike;
}

const roundTick = (x: number) => Math.max(0.05, Math.round(x * 20) / 20);

/** Raw columns of generated ticks, in the raw types of docs/formats.md (timestamps as naive IST microseconds). */
export interface TickColumns {
  length: number;
  /** Naive IST wall-clock microseconds (what the feed writes). */
  timestamp: BigInt64Array;
  lastTradeTime: BigInt64Array;
  f64: Record<string, Float64Array>;
  i64: Record<string, BigInt64Array>;
  /** Nulls per column name (byte per row, 0 = null); absent = no nulls. */
  valid: Record<string, Uint8Array>;
}

const F64_COLS = [
  "price",
  "avgPrice",
  "open",
  "high",
  "low",
  "close",
  "changeper",
  "bp0",
  "bp1",
  "bp2",
  "bp3",
  "bp4",
  "sp0",
  "sp1",
  "sp2",
  "sp3",
  "sp4",
  "strike",
];
const I64_COLS = [
  "token",
  "qty",
  "volume",
  "totBuyQty",
  "totSellQty",
  "oi",
  "oiHigh",
  "oiLow",
  ...["bq", "sq", "bo", "so"].flatMap((p) => [0, 1, 2, 3, 4].map((i) => `${p}${i}`)),
];
/** Columns a null defect may hit (never timestamp). */
const NULLABLE = ["price", "volume", "bp0", "sp0", "oi", "avgPrice", "bq0", "sq0"];

/** One contract's ticks over `days`, in time order apart from the disorder defect. */
export function contractTicks(
  seed: number,
  spec: UnderlyingSpec,
  c: SyntheticContract,
  tickProb: number,
  defects: DefectRates,
): TickColumns {
  const liveDays = c.days;
  const cap = liveDays.length * (SESSION_SECONDS + PRE_OPEN_SECONDS);
  const ts = new BigInt64Array(cap);
  const ltt = new BigInt64Array(cap);
  const f64: Record<string, Float64Array> = {};
  const i64: Record<string, BigInt64Array> = {};
  for (const n of F64_COLS) f64[n] = new Float64Array(cap);
  for (const n of I64_COLS) i64[n] = new BigInt64Array(cap);
  const bpCols = [0, 1, 2, 3, 4].map((l) => f64[`bp${l}`]);
  const spCols = [0, 1, 2, 3, 4].map((l) => f64[`sp${l}`]);
  const depthCols = ["bq", "sq", "bo", "so"].flatMap((p) => [0, 1, 2, 3, 4].map((l) => i64[`${p}${l}`]));
  const token = BigInt(hashString(`${c.underlying}${c.expiry}${c.strike}${c.optType}`) % 10_000_000);
  const expiryEnd = istWallClockToEpochNs(c.expiry, 15.5 * 3600);
  let n = 0;
  const valid: Record<string, Uint8Array> = {};
  const epochZeroRows: number[] = [];
  for (const day of liveDays) {
    const dayStart = n;
    const path = underlyingPath(seed, spec, day);
    // Liquidity fades away from the money: far strikes tick less, requote less, trade less.
    const liquidity = Math.exp(-Math.abs(c.strike - path[0]) / (path[0] * 0.015));
    const pTick = tickProb * (0.3 + 0.7 * liquidity);
    const band = 0.05 * (1 + 6 * (1 - liquidity));
    const pTrade = 0.02 + 0.15 * liquidity;
    const pDepth = 0.005 + 0.04 * liquidity;
    // Yesterday's close, priced from today's open: a function of the day alone, like every field.
    const closeYears = Number(expiryEnd - istWallClockToEpochNs(day, 15.5 * 3600 - 86_400)) / 1e9 / (365 * 86400);
    const prevClose = roundTick(optionPrice(c.optType, path[0], c.strike, closeYears, spec.iv));
    const rng = randomFor(seed, c.underlying, c.expiry, c.strike, c.optType, day);
    // Spreads of 1–3 ticks: tight enough on dear options for the 5 bp filter, not on cheap ones.
    let bid = 0,
      spread = 0.05;
    let volume = 0n,
      turnover = 0,
      lastTradeNs = 0n,
      price = 0,
      open = 0,
      high = 0,
      low = 0;
    let oi = BigInt(rng.int(50, 5000) * spec.lot),
      oiHigh = oi,
      oiLow = oi;
    let totBuy = BigInt(rng.int(100, 2000) * spec.lot),
      totSell = BigInt(rng.int(100, 2000) * spec.lot);
    // bq0-4, sq0-4 (quantities in lots), then bo0-4, so0-4 (order counts).
    const depth = new BigInt64Array(20).map((_, k) =>
      k < 10 ? BigInt(rng.int(1, 40) * spec.lot) : BigInt(rng.int(1, 25)),
    );
    for (let s = 0; s < SESSION_SECONDS; s++) {
      if (rng.next() >= pTick) continue;
      const nowNs = istWallClockToEpochNs(day, SESSION_OPEN_S + s);
      const years = Number(expiryEnd - nowNs) / 1e9 / (365 * 86400);
      const theo = optionPrice(c.optType, path[s], c.strike, years, spec.iv);
      // Quotes are sticky: they move only when the fair price leaves the band a tick around them.
      if (bid === 0 || theo < bid - band || theo > bid + spread + band) {
        spread = 0.05 * (1 + Math.floor(rng.next() * rng.next() * 3));
        bid = Math.max(0.05, roundTick(theo - spread / 2));
      }
      if (price === 0 || rng.next() < pTrade) {
        // A trade at (about) the theoretical price.
        price = rng.next() < 0.5 ? bid : Math.round((bid + spread) * 20) / 20;
        const q = BigInt(rng.int(1, 10) * spec.lot);
        volume += q;
        turnover += Number(q) * price;
        lastTradeNs = nowNs;
        i64.qty[n] = q;
        if (open === 0) open = high = low = price;
        high = Math.max(high, price);
        low = Math.min(low, price);
        if (rng.next() < 0.1) {
          oi += BigInt(rng.int(-3, 4) * spec.lot);
          if (oi < 0n) oi = 0n;
          oiHigh = oi > oiHigh ? oi : oiHigh;
          oiLow = oi < oiLow ? oi : oiLow;
        }
      } else i64.qty[n] = n > 0 ? i64.qty[n - 1] : 0n;
      for (let l = 0; l < 5; l++) {
        bpCols[l][n] = Math.max(0, Math.round((bid - 0.05 * l) * 20) / 20);
        spCols[l][n] = Math.round((bid + spread + 0.05 * l) * 20) / 20;
      }
      for (let k = 0; k < 20; k++) {
        // Depth changes now and then; most snapshot fields repeat from the previous tick.
        if (rng.next() < pDepth) depth[k] = k < 10 ? BigInt(rng.int(1, 40) * spec.lot) : BigInt(rng.int(1, 25));
        depthCols[k][n] = depth[k];
      }
      if (rng.next() < pDepth) totBuy += BigInt(rng.int(-20, 20) * spec.lot);
      if (rng.next() < pDepth) totSell += BigInt(rng.int(-20, 20) * spec.lot);
      ts[n] = nowNs;
      ltt[n] = lastTradeNs;
      f64.price[n] = price;
      f64.avgPrice[n] = volume > 0n ? Math.round((turnover / Number(volume)) * 100) / 100 : 0;
      f64.open[n] = open;
      f64.high[n] = high;
      f64.low[n] = low;
      f64.close[n] = prevClose;
      f64.changeper[n] = ((price - prevClose) / prevClose) * 100;
      f64.strike[n] = c.strike;
      i64.token[n] = token;
      i64.volume[n] = volume;
      i64.totBuyQty[n] = totBuy < 0n ? 0n : totBuy;
      i64.totSellQty[n] = totSell < 0n ? 0n : totSell;
      i64.oi[n] = oi;
      i64.oiHigh[n] = oiHigh;
      i64.oiLow[n] = oiLow;
      n++;
    }
    // Defects and quirks are drawn per contract-day (each quirk from its own stream, so one rate
    // never changes another's rows), so overlapping data sets carry identical rows.
    const dayRandom = (what: string) => randomFor(seed, c.underlying, c.expiry, c.strike, c.optType, what, day);
    const cols: TickColumns = { timestamp: ts, lastTradeTime: ltt, f64, i64, valid, length: cap };
    n += addPreOpenRows(cols, day, dayStart, n, dayRandom("pre-open"), defects.preOpenRate);
    resetVolume(cols, dayStart, n, dayRandom("volume-reset"), defects.volumeResetRate);
    applyDefects(cols, dayStart, n, dayRandom("defects"), defects);
    if (n > dayStart && defects.epochZeroRate > 0 && dayRandom("epoch-zero").next() < defects.epochZeroRate)
      epochZeroRows.push(dayStart);
  }
  const out: TickColumns = {
    length: n,
    timestamp: ts.subarray(0, n),
    lastTradeTime: ltt.subarray(0, n),
    f64: {},
    i64: {},
    valid: {},
  };
  for (const k of F64_COLS) out.f64[k] = f64[k].subarray(0, n);
  for (const k of I64_COLS) out.i64[k] = i64[k].subarray(0, n);
  for (const k of Object.keys(valid)) out.valid[k] = valid[k].subarray(0, n);
  // Feeds write naive IST wall-clock time.
  for (const col of [out.timestamp, out.lastTradeTime])
    for (let i = 0; i < n; i++) col[i] = (col[i] + IST_OFFSET_NS) / 1000n;
  // The feed's placeholder: a naive timestamp of 0 (1970-01-01 00:00 IST).
  for (const i of epochZeroRows) out.timestamp[i] = 0n;
  return out;
}

/**
 * The pre-open quirk: with chance `rate`, 1–20 rows between 09:10:00 and 09:14:59 IST inserted
 * before the day's rows [start, end) (snapshots of the opening quotes, no trade yet: volume 0).
 * Returns how many rows it added.
 */
function addPreOpenRows(
  t: TickColumns,
  day: EpochDays,
  start: number,
  end: number,
  rng: ReturnType<typeof randomFor>,
  rate: number,
): number {
  if (rate <= 0 || end === start || rng.next() >= rate) return 0;
  const k = rng.int(1, 20);
  const seconds = new Set<number>();
  while (seconds.size < k) seconds.add(rng.int(0, PRE_OPEN_SECONDS - 1));
  const sorted = [...seconds].sort((a, b) => a - b);
  const all: (BigInt64Array | Float64Array)[] = [
    t.timestamp,
    t.lastTradeTime,
    ...Object.values(t.f64),
    ...Object.values(t.i64),
  ];
  for (const a of all) {
    a.copyWithin(start + k, start, end);
    for (let i = 0; i < k; i++) a[start + i] = a[start + k];
  }
  for (let i = 0; i < k; i++) {
    t.timestamp[start + i] = istWallClockToEpochNs(day, PRE_OPEN_S + sorted[i]);
    t.lastTradeTime[start + i] = 0n;
    t.i64.volume[start + i] = 0n;
    t.i64.qty[start + i] = 0n;
  }
  return k;
}

/** The volume-reset quirk: with chance `rate`, cumulative volume restarts from 0 at a row in the second half of [start, end). */
function resetVolume(
  t: TickColumns,
  start: number,
  end: number,
  rng: ReturnType<typeof randomFor>,
  rate: number,
): void {
  if (rate <= 0 || end - start < 4 || rng.next() >= rate) return;
  const at = rng.int(start + Math.floor((end - start) / 2), end - 1);
  const v = t.i64.volume;
  const base = v[at];
  for (let i = at; i < end; i++) v[i] -= base;
}

/** Nulls, zero prices and swapped neighbours in rows [start, end). */
function applyDefects(
  t: TickColumns,
  start: number,
  end: number,
  rng: ReturnType<typeof randomFor>,
  rates: DefectRates,
): void {
  if (rates.nullRate > 0) {
    for (let i = start; i < end; i++) {
      if (rng.next() >= rates.nullRate) continue;
      const col = NULLABLE[rng.int(0, NULLABLE.length - 1)];
      (t.valid[col] ??= new Uint8Array(t.length).fill(1))[i] = 0;
    }
  }
  if (rates.zeroPriceRate > 0)
    for (let i = start; i < end; i++) if (rng.next() < rates.zeroPriceRate) t.f64.price[i] = 0;
  if (rates.disorderRate > 0) {
    const all: (BigInt64Array | Float64Array | Uint8Array)[] = [
      t.timestamp,
      t.lastTradeTime,
      ...Object.values(t.f64),
      ...Object.values(t.i64),
      ...Object.values(t.valid),
    ];
    for (let i = start; i + 1 < end; i++) {
      if (rng.next() >= rates.disorderRate) continue;
      for (const a of all) {
        const x = a[i];
        a[i] = a[i + 1];
        a[i + 1] = x;
      }
      i++;
    }
  }
}
