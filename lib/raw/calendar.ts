/**
 * The expiry calendar CSV (`underlying,expiry_type,expiry_date[,lot_size]`), expiry resolution and
 * each expiry's lot size (docs/formats.md#expiry-calendar).
 */
import type { ContractName, ExpiryType } from "./contract-name.ts";
import { formatEpochDays, parseIsoDate, yearMonthOf, type EpochDays } from "../ist-time.ts";

/** Expiry days per underlying, by type. */
export interface ExpiryCalendar {
  /** `UNDERLYING|YYYY-MM` → monthly expiry day. */
  monthly: Map<string, EpochDays>;
  /** `UNDERLYING` → set of weekly expiry days. */
  weekly: Map<string, Set<EpochDays>>;
  /**
   * `UNDERLYING|expiry epoch day` (lotSizeKey) → units of the underlying per lot, where the calendar
   * gives one. NSE changes lot sizes by expiry, so a size belongs to an expiry, not to an underlying.
   */
  lotSizes: Map<string, number>;
}

/** A calendar row or file that cannot be used. */
export class CalendarError extends Error {}

/** Two calendars that disagree on an expiry (its monthly date or its lot size). */
export class CalendarConflictError extends CalendarError {}

/** A contract the calendar cannot place. */
export class ExpiryResolutionError extends Error {}

const HEADER = ["underlying", "expiry_type", "expiry_date"];
/** The optional last column. */
const LOT_SIZE = "lot_size";

/** The key of an expiry in ExpiryCalendar.lotSizes. */
export function lotSizeKey(underlying: string, expiry: EpochDays): string {
  return `${underlying}|${expiry}`;
}

/** The lot size the calendar gives for an underlying's expiry, or null when it gives none. */
export function lotSizeOf(calendar: ExpiryCalendar, underlying: string, expiry: EpochDays): number | null {
  return calendar.lotSizes.get(lotSizeKey(underlying, expiry)) ?? null;
}

/** An empty calendar. */
export function emptyExpiryCalendar(): ExpiryCalendar {
  return { monthly: new Map(), weekly: new Map(), lotSizes: new Map() };
}

function monthKey(underlying: string, year: number, month: number): string {
  return `${underlying}|${year}-${String(month).padStart(2, "0")}`;
}

/**
 * The calendar in a CSV text; `source` names the file in errors. The `lot_size` column is optional;
 * where present, an empty cell means the expiry's lot size is unknown. Throws CalendarError with the line.
 */
export function parseExpiryCalendar(text: string, source: string): ExpiryCalendar {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(",").map((c) => c.trim().toLowerCase());
  const withLotSize = header?.join(",") === [...HEADER, LOT_SIZE].join(",");
  if (!header || (!withLotSize && header.join(",") !== HEADER.join(","))) {
    throw new CalendarError(
      `${source}: line 1: header must be "${HEADER.join(",")}" or "${[...HEADER, LOT_SIZE].join(",")}", got ${JSON.stringify(lines[0] ?? "")}`,
    );
  }
  const fields = withLotSize ? 4 : 3;
  const calendar = emptyExpiryCalendar();
  /** Line of each lot size, to name both lines of a conflict. */
  const lotSizeLines = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const cells = line.split(",").map((c) => c.trim());
    const where = `${source}: line ${i + 1}`;
    if (cells.length !== fields) throw new CalendarError(`${where}: expected ${fields} fields, got ${cells.length}`);
    const [rawUnderlying, type, date] = cells;
    const underlying = rawUnderlying.toUpperCase();
    if (!/^[A-Z0-9&-]+$/.test(underlying))
      throw new CalendarError(`${where}: bad underlying ${JSON.stringify(rawUnderlying)}`);
    let day: EpochDays;
    try {
      day = parseIsoDate(date);
    } catch (e) {
      throw new CalendarError(`${where}: ${(e as Error).message}`);
    }
    if (type === "monthly") {
      const { year, month } = yearMonthOf(day);
      const key = monthKey(underlying, year, month);
      const known = calendar.monthly.get(key);
      if (known !== undefined && known !== day) {
        throw new CalendarError(
          `${where}: second monthly expiry for ${underlying} ${key.split("|")[1]} (${formatEpochDays(known)} and ${date})`,
        );
      }
      calendar.monthly.set(key, day);
    } else if (type === "weekly") {
      let set = calendar.weekly.get(underlying);
      if (!set) calendar.weekly.set(underlying, (set = new Set()));
      set.add(day);
    } else {
      throw new CalendarError(`${where}: expiry_type must be monthly or weekly, got ${JSON.stringify(type)}`);
    }
    if (withLotSize && cells[3] !== "") {
      const size = parseLotSize(cells[3]);
      if (size === null)
        throw new CalendarError(`${where}: lot_size must be a positive whole number, got ${JSON.stringify(cells[3])}`);
      const key = lotSizeKey(underlying, day);
      const known = calendar.lotSizes.get(key);
      if (known !== undefined && known !== size)
        throw new CalendarError(
          `${where}: lot size ${size} for ${underlying} ${date}, but line ${lotSizeLines.get(key)} gives ${known}`,
        );
      calendar.lotSizes.set(key, size);
      lotSizeLines.set(key, i + 1);
    }
  }
  return calendar;
}

/** A lot size's text as a number, or null unless it is a positive whole number (digits only). */
export function parseLotSize(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n > 0 && Number.isSafeInteger(n) ? n : null;
}

/**
 * The calendar as CSV text (rows sorted by underlying, date). The `lot_size` column is written when
 * the calendar knows any lot size (empty where it knows none), so a calendar without lot sizes is
 * written exactly as before the column existed.
 */
export function formatExpiryCalendar(calendar: ExpiryCalendar): string {
  const rows: [string, ExpiryType, EpochDays][] = [];
  for (const [key, day] of calendar.monthly) rows.push([key.split("|")[0], "monthly", day]);
  for (const [underlying, days] of calendar.weekly) for (const day of days) rows.push([underlying, "weekly", day]);
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2] || (a[1] < b[1] ? -1 : 1)));
  if (calendar.lotSizes.size === 0)
    return `${HEADER.join(",")}\n${rows.map(([u, t, d]) => `${u},${t},${formatEpochDays(d)}`).join("\n")}\n`;
  const lines = rows.map(([u, t, d]) => `${u},${t},${formatEpochDays(d)},${lotSizeOf(calendar, u, d) ?? ""}`);
  return `${[...HEADER, LOT_SIZE].join(",")}\n${lines.join("\n")}\n`;
}

/**
 * The union of two calendars: `kept` (named `keptSource` in errors) with what `added` (`addedSource`)
 * adds — expiries it lists and lot sizes `kept` does not know. Throws CalendarConflictError naming both
 * when they give an underlying's month two monthly expiries, or an expiry two lot sizes.
 */
export function mergeExpiryCalendars(
  kept: ExpiryCalendar,
  keptSource: string,
  added: ExpiryCalendar,
  addedSource: string,
): ExpiryCalendar {
  const merged: ExpiryCalendar = {
    monthly: new Map(kept.monthly),
    weekly: new Map([...kept.weekly].map(([u, days]) => [u, new Set(days)])),
    lotSizes: new Map(kept.lotSizes),
  };
  for (const [key, day] of added.monthly) {
    const known = merged.monthly.get(key);
    if (known !== undefined && known !== day) {
      const [underlying, ym] = key.split("|");
      throw new CalendarConflictError(
        `monthly expiry of ${underlying} ${ym}: ${formatEpochDays(known)} in ${keptSource}, ${formatEpochDays(day)} in ${addedSource}`,
      );
    }
    merged.monthly.set(key, day);
  }
  for (const [underlying, days] of added.weekly) {
    let set = merged.weekly.get(underlying);
    if (!set) merged.weekly.set(underlying, (set = new Set()));
    for (const day of days) set.add(day);
  }
  for (const [key, size] of added.lotSizes) {
    const known = merged.lotSizes.get(key);
    if (known !== undefined && known !== size) {
      const [underlying, day] = key.split("|");
      throw new CalendarConflictError(
        `lot size of ${underlying} ${formatEpochDays(Number(day))}: ${known} in ${keptSource}, ${size} in ${addedSource}`,
      );
    }
    merged.lotSizes.set(key, size);
  }
  return merged;
}

/**
 * An expiry's series by rule, where no calendar or statistics tell it: monthly when no expiry of the
 * same weekday can follow it in its month (a week later is the next month). NSE's monthly contract is
 * the month's last expiry; a holiday moves an expiry a day or two earlier, which keeps it (and a weekly
 * before it) on the same side of the rule.
 */
export function calendarExpiryType(expiry: EpochDays): ExpiryType {
  const a = yearMonthOf(expiry);
  const b = yearMonthOf(expiry + 7);
  return a.month === b.month && a.year === b.year ? "weekly" : "monthly";
}

/** The expiry day of a contract; throws ExpiryResolutionError naming the underlying and year-month. */
export function resolveExpiry(calendar: ExpiryCalendar, contract: ContractName): EpochDays {
  const ym = `${contract.year}-${String(contract.month).padStart(2, "0")}`;
  if (contract.expiryType === "monthly") {
    const day = calendar.monthly.get(monthKey(contract.underlying, contract.year, contract.month));
    if (day === undefined)
      throw new ExpiryResolutionError(`no monthly expiry for ${contract.underlying} ${ym} in the calendar`);
    return day;
  }
  const weekly = contract.weeklyExpiry!;
  const listed = calendar.weekly.get(contract.underlying);
  if (listed && !listed.has(weekly)) {
    throw new ExpiryResolutionError(
      `weekly expiry ${formatEpochDays(weekly)} of ${contract.underlying} ${ym} is not among the calendar's weekly expiries`,
    );
  }
  return weekly;
}
