/**
 * bench's slice filters (`--from`, `--strikes`, …): what they select and how each level prunes.
 * Every filter is on the partition (its day and underlying) or on the segment key (expiry, opt_type,
 * strike), so a filter selects whole segments and a selected segment runs exactly as unfiltered.
 * Pure logic (parsing, the partition test, the row-group test on footer statistics, the per-row cut),
 * but for the per-row scan of runs of equal keys, which is native (key-scan.ts).
 */
import { parseIsoDate, type EpochDays, type IsoDate } from "../ist-time.ts";
import { calendarExpiryType } from "../raw/calendar.ts";
import type { ExpiryType, OptType } from "../raw/contract-name.ts";
import { keyRunStarts, type KeyRunColumns } from "./key-scan.ts";
import { isValidAt } from "../parquet/c-data.ts";
import { storedStrikeBand } from "../packed/strike.ts";
import { OPT_OTHER, stableOptCode } from "../packed/opt-type.ts";

/** The filters of a run, as given (dates as `YYYY-MM-DD`, ranges inclusive); an absent field selects everything. */
export interface BenchFilters {
  from?: IsoDate;
  to?: IsoDate;
  underlyings?: string[];
  expiryType?: ExpiryType;
  expiries?: IsoDate[];
  /** Calendar days from the trading day to the expiry, [lo, hi]. */
  dte?: [number, number];
  optType?: OptType;
  /** Strike band as written (decimals), [lo, hi]; compared in the stored type (lib/packed/strike.ts storedStrikeBand). */
  strikes?: [number, number];
}

/** The filter flags, by their command-line names. */
export const FILTER_FLAGS = [
  "from",
  "to",
  "underlyings",
  "expiry-type",
  "expiries",
  "dte",
  "opt-type",
  "strikes",
] as const;
export type FilterFlag = (typeof FILTER_FLAGS)[number];

/** A malformed filter; the message starts with where it came from (`--strikes`, `--grid-file g.json: filters.strikes`). */
export class FilterError extends Error {}

const listOf = (v: string) => v.split(",").map((s) => s.trim());

function range(where: string, v: string, integer: boolean): [number, number] {
  const m = /^([^:]*):([^:]*)$/.exec(v.trim());
  const what = integer ? "whole days" : "numbers";
  if (!m) throw new FilterError(`${where}: expected LO:HI (${what}), got ${JSON.stringify(v)}`);
  const [lo, hi] = [m[1].trim(), m[2].trim()].map((s) => (s === "" ? NaN : Number(s)));
  if (![lo, hi].every((x) => Number.isFinite(x) && (!integer || Number.isInteger(x))))
    throw new FilterError(`${where}: expected LO:HI (${what}), got ${JSON.stringify(v)}`);
  if (lo > hi) throw new FilterError(`${where}: LO ${lo} is above HI ${hi}`);
  return [lo, hi];
}

function date(where: string, v: string): IsoDate {
  try {
    parseIsoDate(v.trim());
  } catch (e) {
    throw new FilterError(`${where}: ${(e as Error).message}`);
  }
  return v.trim();
}

/**
 * The filters of raw flag values (absent flags left out); null when none is given. `where(flag)`
 * names a flag in errors (default `--flag`). Throws FilterError naming the flag.
 */
export function parseFilters(
  raw: Partial<Record<FilterFlag, string>>,
  where: (flag: FilterFlag) => string = (f) => `--${f}`,
): BenchFilters | null {
  const f: BenchFilters = {};
  const given = (flag: FilterFlag) => raw[flag] !== undefined;
  const nonEmpty = (flag: FilterFlag) => {
    const items = listOf(raw[flag]!);
    if (items.some((s) => s === ""))
      throw new FilterError(
        `${where(flag)}: expected a comma-separated list without empty items, got ${JSON.stringify(raw[flag])}`,
      );
    return items;
  };
  if (given("from")) f.from = date(where("from"), raw.from!);
  if (given("to")) f.to = date(where("to"), raw.to!);
  if (f.from && f.to && f.from > f.to)
    throw new FilterError(`${where("from")} ${f.from} is after ${where("to")} ${f.to}`);
  if (given("underlyings")) f.underlyings = nonEmpty("underlyings").map((u) => u.toUpperCase());
  if (given("expiry-type")) {
    const t = raw["expiry-type"]!.trim().toLowerCase();
    if (t !== "weekly" && t !== "monthly")
      throw new FilterError(
        `${where("expiry-type")}: expected weekly or monthly, got ${JSON.stringify(raw["expiry-type"])}`,
      );
    f.expiryType = t;
  }
  if (given("expiries")) f.expiries = [...new Set(nonEmpty("expiries").map((d) => date(where("expiries"), d)))].sort();
  if (given("dte")) f.dte = range(where("dte"), raw.dte!, true);
  if (given("opt-type")) {
    const o = raw["opt-type"]!.trim().toUpperCase();
    if (o !== "CE" && o !== "PE")
      throw new FilterError(`${where("opt-type")}: expected CE or PE, got ${JSON.stringify(raw["opt-type"])}`);
    f.optType = o;
  }
  if (given("strikes")) f.strikes = range(where("strikes"), raw.strikes!, false);
  return Object.keys(f).length > 0 ? f : null;
}

/** The filters as JSON keys use them (`expiry_type`, `opt_type`), for the summary's `filters`. */
export function filtersJson(f: BenchFilters | null): Record<string, unknown> | null {
  if (!f) return null;
  const out: Record<string, unknown> = {};
  if (f.from) out.from = f.from;
  if (f.to) out.to = f.to;
  if (f.underlyings) out.underlyings = f.underlyings;
  if (f.expiryType) out.expiry_type = f.expiryType;
  if (f.expiries) out.expiries = f.expiries;
  if (f.dte) out.dte = f.dte;
  if (f.optType) out.opt_type = f.optType;
  if (f.strikes) out.strikes = f.strikes;
  return out;
}

/** One line naming the filters as flags would (`--strikes 25550:26050 --expiry-type weekly`). */
export function describeFilters(f: BenchFilters): string {
  const parts: string[] = [];
  if (f.from) parts.push(`--from ${f.from}`);
  if (f.to) parts.push(`--to ${f.to}`);
  if (f.underlyings) parts.push(`--underlyings ${f.underlyings.join(",")}`);
  if (f.expiryType) parts.push(`--expiry-type ${f.expiryType}`);
  if (f.expiries) parts.push(`--expiries ${f.expiries.join(",")}`);
  if (f.dte) parts.push(`--dte ${f.dte[0]}:${f.dte[1]}`);
  if (f.optType) parts.push(`--opt-type ${f.optType}`);
  if (f.strikes) parts.push(`--strikes ${f.strikes[0]}:${f.strikes[1]}`);
  return parts.join(" ");
}

/** Whether any filter is on the segment key (then row groups and rows are cut, not only partitions). */
export function hasKeyFilters(f: BenchFilters | null): boolean {
  return (
    !!f &&
    (f.expiryType !== undefined ||
      f.expiries !== undefined ||
      f.dte !== undefined ||
      f.optType !== undefined ||
      f.strikes !== undefined)
  );
}

/** Whether any filter needs the partition's trading day (a date range, or days to expiry). */
export function needsDay(f: BenchFilters | null): boolean {
  return !!f && (f.from !== undefined || f.to !== undefined || f.dte !== undefined);
}

/**
 * Whether a partition of trading day `date` and `underlying` can hold a selected segment, from its
 * path alone (null: the path does not say, so it cannot be pruned here). With `--expiries`, a day
 * after the last listed expiry holds none of them (rows after their expiry are never packed), and
 * with `--dte` too, a day whose window [day+lo, day+hi] holds no listed expiry.
 */
export function partitionMaySelect(f: BenchFilters | null, date: IsoDate | null, underlying: string | null): boolean {
  if (!f) return true;
  if (underlying !== null && f.underlyings && !f.underlyings.includes(underlying.toUpperCase())) return false;
  if (date === null) return true;
  if (f.from && date < f.from) return false;
  if (f.to && date > f.to) return false;
  if (f.expiries) {
    const day = parseIsoDate(date);
    const lo = day + Math.max(0, f.dte?.[0] ?? 0);
    const hi = day + (f.dte?.[1] ?? Infinity);
    if (!f.expiries.some((e) => parseIsoDate(e) >= lo && parseIsoDate(e) <= hi)) return false;
  } else if (f.dte && f.dte[1] < 0) {
    return false; // no packed row is after its expiry
  }
  return true;
}

/** Footer statistics of one row group's key columns (null where the footer has none). */
export interface RowGroupKeyStats {
  rows: number;
  /** Epoch days. */
  expiry: [EpochDays, EpochDays] | null;
  opt: [string, string] | null;
  strike: [number, number] | null;
  /** `is_weekly` min and max: equal when every row of the group is of one series. */
  weekly: [boolean, boolean] | null;
  /** Whether every key column's null count is known and zero (the sort-order bounds need it). */
  keyNullFree: boolean;
}

/** A bound on the packed sort key: expiry (epoch days), opt_type's rank (its stable code), strike; ±Infinity where unknown. */
export interface KeyBound {
  expiry: number;
  opt: number;
  strike: number;
}

/** Where a row group's rows lie in a sorted part: at or after the last row of the group before, at or before the first row of the group after. */
export interface SortedBounds {
  after: KeyBound;
  before: KeyBound;
}

/** A group's opt_type range as ranks, when both ends are CE or PE (repack packs no other value). */
function optRanks(g: RowGroupKeyStats): [number, number] | null {
  if (!g.opt) return null;
  const lo = stableOptCode(g.opt[0]);
  const hi = stableOptCode(g.opt[1]);
  return lo === OPT_OTHER || hi === OPT_OTHER ? null : [lo, hi];
}

/** Lexicographic order of two key bounds. */
function compareBounds(a: KeyBound, b: KeyBound): number {
  return a.expiry !== b.expiry
    ? a.expiry - b.expiry
    : a.opt !== b.opt
      ? a.opt - b.opt
      : a.strike < b.strike
        ? -1
        : a.strike > b.strike
          ? 1
          : 0;
}

/**
 * Each row group's sort-key bounds from its neighbours, in a part sorted by (expiry, opt_type,
 * strike): the last row of a group has its maximum expiry, then (one expiry in the group) its
 * maximum opt_type, then (one contract series) its maximum strike; the first row of the next group
 * sorts at or after it. This rules out the groups that straddle two series (CE→PE, one expiry to
 * the next), whose per-column ranges span every strike. Null for a group whose neighbours' statistics
 * are missing, hold nulls, or are out of order (the file is not sorted as it claims: read it).
 */
export function sortedKeyBounds(groups: readonly RowGroupKeyStats[]): (SortedBounds | null)[] {
  const usable = (g: RowGroupKeyStats | undefined) => !!g && g.keyNullFree && !!g.expiry && !!optRanks(g) && !!g.strike;
  const last = (g: RowGroupKeyStats): KeyBound => {
    const oneExpiry = g.expiry![0] === g.expiry![1];
    const o = optRanks(g)!;
    return {
      expiry: g.expiry![1],
      opt: oneExpiry ? o[1] : -Infinity,
      strike: oneExpiry && o[0] === o[1] ? g.strike![1] : -Infinity,
    };
  };
  const first = (g: RowGroupKeyStats): KeyBound => {
    const oneExpiry = g.expiry![0] === g.expiry![1];
    const o = optRanks(g)!;
    return {
      expiry: g.expiry![0],
      opt: oneExpiry ? o[0] : Infinity,
      strike: oneExpiry && o[0] === o[1] ? g.strike![0] : Infinity,
    };
  };
  const open: KeyBound = { expiry: -Infinity, opt: -Infinity, strike: -Infinity };
  const closed: KeyBound = { expiry: Infinity, opt: Infinity, strike: Infinity };
  // Empty groups carry no bounds of their own: neighbours are the nearest non-empty groups.
  const live = groups.map((_, i) => i).filter((i) => groups[i].rows > 0);
  const out: (SortedBounds | null)[] = groups.map(() => null);
  live.forEach((i, k) => {
    const g = groups[i];
    const prev = k > 0 ? groups[live[k - 1]] : undefined;
    const next = k + 1 < live.length ? groups[live[k + 1]] : undefined;
    if (!usable(g) || (prev && !usable(prev)) || (next && !usable(next))) return;
    if ((prev && compareBounds(last(prev), first(g)) > 0) || (next && compareBounds(last(g), first(next)) > 0)) return;
    out[i] = { after: prev ? last(prev) : open, before: next ? first(next) : closed };
  });
  return out;
}

/** Widest expiry range (days) a row group's statistics are enumerated over; wider ones are read. */
const MAX_EXPIRY_SPAN = 20_000;

/**
 * An expiry's series in one partition, from its row groups' statistics: a row group whose
 * `is_weekly` is constant (min = max) says the series of every expiry in its range (the file is
 * sorted by expiry, so its range holds only expiries it has). Expiries only ever seen in mixed row
 * groups, or told both ways (an unsorted file), fall back to calendarExpiryType.
 */
export function expiryTypesOf(groups: readonly RowGroupKeyStats[]): (expiry: EpochDays) => ExpiryType {
  const known = new Map<EpochDays, ExpiryType | "both">();
  for (const g of groups) {
    if (!g.expiry || !g.weekly || g.weekly[0] !== g.weekly[1] || g.expiry[1] - g.expiry[0] > MAX_EXPIRY_SPAN) continue;
    const t: ExpiryType = g.weekly[0] ? "weekly" : "monthly";
    for (let e = g.expiry[0]; e <= g.expiry[1]; e++) {
      const was = known.get(e);
      known.set(e, was === undefined || was === t ? t : "both");
    }
  }
  return (e) => {
    const t = known.get(e);
    return t === undefined || t === "both" ? calendarExpiryType(e) : t;
  };
}

/** The key filters of one partition: which row groups may hold selected segments, and which keys are selected. */
export class SegmentSelector {
  private readonly expiries: Set<EpochDays> | null;
  private readonly window: [EpochDays, EpochDays];
  private readonly optCode: number | null;
  /** The strike band in the stored type (float32), so that `3402.3:3402.3` selects the strike written 3402.3. */
  private readonly strikes: [number, number] | null;

  /** `day`: the partition's trading day (needed with `--dte`; null: unknown, so nothing is selected by a dte filter). */
  constructor(
    private readonly f: BenchFilters,
    day: EpochDays | null,
    private readonly typeOf: (expiry: EpochDays) => ExpiryType,
  ) {
    this.expiries = f.expiries ? new Set(f.expiries.map(parseIsoDate)) : null;
    this.window = f.dte ? (day === null ? [1, 0] : [day + f.dte[0], day + f.dte[1]]) : [-Infinity, Infinity];
    this.optCode = f.optType ? stableOptCode(f.optType) : null;
    this.strikes = f.strikes ? storedStrikeBand(f.strikes) : null;
  }

  /** Whether a segment of this expiry (epoch days; null = a null key value) passes the expiry filters. */
  expirySelected(e: number | null): boolean {
    const f = this.f;
    if (!f.expiries && !f.dte && !f.expiryType) return true;
    if (e === null || !Number.isInteger(e)) return false;
    if (this.expiries && !this.expiries.has(e)) return false;
    if (e < this.window[0] || e > this.window[1]) return false;
    return !f.expiryType || this.typeOf(e) === f.expiryType;
  }

  /** The strikes selected for segments of this expiry and stable opt_type code: [lo, hi] as stored (float32), "all" (no strike filter: NaN too), or null when none is. */
  strikeBand(expiry: number, optCode: number): [number, number] | "all" | null {
    if (this.optCode !== null && optCode !== this.optCode) return null;
    if (!this.expirySelected(expiry)) return null;
    return this.strikes ? [this.strikes[0], this.strikes[1]] : "all";
  }

  /** Whether the segment with this key is selected (null: that key value is null, which no filter on it selects). */
  selects(expiry: number | null, optCode: number | null, strike: number | null): boolean {
    if (this.optCode !== null && optCode !== this.optCode) return false;
    if (this.strikes && (strike === null || !(strike >= this.strikes[0] && strike <= this.strikes[1]))) return false;
    return this.expirySelected(expiry);
  }

  /**
   * Whether a row group with these statistics can hold a selected segment. Each key column's range
   * is tested on its own: every row's value lies in its column's [min, max], so a column whose range
   * holds no selected value rules the whole group out. Missing statistics never rule anything out.
   */
  rowGroupMayHold(g: RowGroupKeyStats): boolean {
    const f = this.f;
    if (g.rows === 0) return false;
    if (f.optType && g.opt && !(g.opt[0] <= f.optType && f.optType <= g.opt[1])) return false;
    const strikes = this.strikes;
    if (strikes && g.strike && (g.strike[1] < strikes[0] || g.strike[0] > strikes[1])) return false;
    if ((f.expiries || f.dte || f.expiryType) && g.expiry) {
      const lo = Math.max(g.expiry[0], this.window[0]);
      const hi = Math.min(g.expiry[1], this.window[1]);
      if (lo > hi) return false;
      if (this.expiries) return [...this.expiries].some((e) => e >= lo && e <= hi && this.expirySelected(e));
      if (f.expiryType) {
        // A group of one series says it directly; otherwise any expiry in range of the wanted series.
        if (g.weekly && g.weekly[0] === g.weekly[1]) return (g.weekly[0] ? "weekly" : "monthly") === f.expiryType;
        if (hi - lo > MAX_EXPIRY_SPAN) return true;
        for (let e = lo; e <= hi; e++) if (this.typeOf(e) === f.expiryType) return true;
        return false;
      }
    }
    return true;
  }

  /** Whether every row of a group with these statistics is selected (then its keys need not be read first); false when unsure. */
  rowGroupAllSelected(g: RowGroupKeyStats): boolean {
    const f = this.f;
    if (!g.keyNullFree) return false;
    if (f.optType && !(g.opt && g.opt[0] === f.optType && g.opt[1] === f.optType)) return false;
    const strikes = this.strikes;
    if (strikes && !(g.strike && g.strike[0] >= strikes[0] && g.strike[1] <= strikes[1])) return false;
    if (f.expiries || f.dte || f.expiryType)
      return !!g.expiry && g.expiry[0] === g.expiry[1] && this.expirySelected(g.expiry[0]);
    return true;
  }

  /**
   * rowGroupMayHold, narrowed by the group's sort-key bounds (sortedKeyBounds): whether some selected
   * key lies both in the group's per-column ranges and between its neighbours. Strike bounds count
   * only with a strike filter (a NaN strike, which statistics leave out, is then never selected).
   */
  sortedGroupMayHold(g: RowGroupKeyStats, b: SortedBounds | null): boolean {
    if (!this.rowGroupMayHold(g)) return false;
    const ranks = optRanks(g);
    if (!b || !g.expiry || !ranks) return true;
    const eLo = Math.max(g.expiry[0], b.after.expiry);
    const eHi = Math.min(g.expiry[1], b.before.expiry);
    if (eHi - eLo > MAX_EXPIRY_SPAN) return true;
    const strikes = this.strikes;
    for (let e = eLo; e <= eHi; e++) {
      if (!this.expirySelected(e)) continue;
      for (let o = ranks[0]; o <= ranks[1]; o++) {
        if (this.optCode !== null && o !== this.optCode) continue;
        // (e, o) must not sort before `after`'s or after `before`'s; at equality the strike decides.
        if (e === b.after.expiry && o < b.after.opt) continue;
        if (e === b.before.expiry && o > b.before.opt) continue;
        if (!strikes) return true;
        const lo = Math.max(
          strikes[0],
          g.strike?.[0] ?? -Infinity,
          e === b.after.expiry && o === b.after.opt ? b.after.strike : -Infinity,
        );
        const hi = Math.min(
          strikes[1],
          g.strike?.[1] ?? Infinity,
          e === b.before.expiry && o === b.before.opt ? b.before.strike : Infinity,
        );
        if (lo <= hi) return true;
      }
    }
    return false;
  }
}

/**
 * The rows of a batch that belong to selected segments, as [start, end) ranges of consecutive
 * selected rows (adjacent selected segments share a range: the driver splits them by key itself).
 * The predicate runs once per run of equal keys (null equals null, as in the driver), not per row;
 * the runs are found by a native scan (key-scan.ts).
 */
export function selectedRanges(b: KeyRunColumns, sel: SegmentSelector): [number, number][] {
  const out: [number, number][] = [];
  const starts = keyRunStarts(b); // a view reused by the next scan: read it now
  const { expiry, opt, optMap, strike } = b;
  const ev = b.expiryValid,
    ov = b.optValid,
    sv = b.strikeValid;
  let rangeStart = -1;
  for (let k = 0; k + 1 < starts.length; k++) {
    const i0 = starts[k];
    const eNull = !isValidAt(ev, i0),
      oNull = !isValidAt(ov, i0),
      sNull = !isValidAt(sv, i0);
    if (
      sel.selects(eNull ? null : expiry[i0], oNull ? null : (optMap[opt[i0]] ?? OPT_OTHER), sNull ? null : strike[i0])
    ) {
      if (rangeStart < 0) rangeStart = i0;
    } else if (rangeStart >= 0) {
      out.push([rangeStart, i0]);
      rangeStart = -1;
    }
  }
  if (rangeStart >= 0) out.push([rangeStart, b.length]);
  return out;
}
