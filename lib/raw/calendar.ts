/** The expiry calendar CSV (`underlying,expiry_type,expiry_date`) and expiry resolution. */
import type { ContractName, ExpiryType } from "./contract-name.ts";
import { formatEpochDays, parseIsoDate, yearMonthOf, type EpochDays } from "../ist-time.ts";

/** Expiry days per underlying, by type. */
export interface ExpiryCalendar {
  /** `UNDERLYING|YYYY-MM` → monthly expiry day. */
  monthly: Map<string, EpochDays>;
  /** `UNDERLYING` → set of weekly expiry days. */
  weekly: Map<string, Set<EpochDays>>;
}

/** A calendar row or file that cannot be used. */
export class CalendarError extends Error {}

/** A contract the calendar cannot place. */
export class ExpiryResolutionError extends Error {}

const HEADER = ["underlying", "expiry_type", "expiry_date"];

function monthKey(underlying: string, year: number, month: number): string {
  return `${underlying}|${year}-${String(month).padStart(2, "0")}`;
}

/** The calendar in a CSV text; `source` names the file in errors. Throws CalendarError with the line. */
export function parseExpiryCalendar(text: string, source: string): ExpiryCalendar {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(",").map((c) => c.trim().toLowerCase());
  if (!header || header.join(",") !== HEADER.join(",")) {
    throw new CalendarError(
      `${source}: line 1: header must be "${HEADER.join(",")}", got ${JSON.stringify(lines[0] ?? "")}`,
    );
  }
  const calendar: ExpiryCalendar = { monthly: new Map(), weekly: new Map() };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const cells = line.split(",").map((c) => c.trim());
    const where = `${source}: line ${i + 1}`;
    if (cells.length !== 3) throw new CalendarError(`${where}: expected 3 fields, got ${cells.length}`);
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
  }
  return calendar;
}

/** The calendar as CSV text (rows sorted by underlying, date). */
export function formatExpiryCalendar(calendar: ExpiryCalendar): string {
  const rows: [string, ExpiryType, EpochDays][] = [];
  for (const [key, day] of calendar.monthly) rows.push([key.split("|")[0], "monthly", day]);
  for (const [underlying, days] of calendar.weekly) for (const day of days) rows.push([underlying, "weekly", day]);
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2] || (a[1] < b[1] ? -1 : 1)));
  return `${HEADER.join(",")}\n${rows.map(([u, t, d]) => `${u},${t},${formatEpochDays(d)}`).join("\n")}\n`;
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
