/**
 * The expiry calendar kept beside packed data (`<out>/_tickpack/calendar.csv`): every calendar repack
 * used on the folder, merged, so that bench finds each packed contract's lot size without the raw
 * folder. Folders packed before it existed have none.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import { fsReason } from "../error-message.ts";
import {
  CalendarError,
  formatExpiryCalendar,
  mergeExpiryCalendars,
  parseExpiryCalendar,
  type ExpiryCalendar,
} from "../raw/calendar.ts";
import { STATE_DIR } from "./layout.ts";

/** Where a packed folder keeps its calendar. */
export function keptCalendarPath(packedDir: string): string {
  return join(packedDir, STATE_DIR, "calendar.csv");
}

/** The calendar kept in a packed folder, or null when it has none; CalendarError when it cannot be read or parsed. */
export function readKeptCalendar(packedDir: string): ExpiryCalendar | null {
  const path = keptCalendarPath(packedDir);
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CalendarError(`${path}: cannot read the calendar kept with the packed data: ${fsReason(e)}`);
  }
  return parseExpiryCalendar(text, path);
}

/**
 * Merges `calendar` (read from `source`) into the packed folder's kept calendar and writes it
 * atomically when that adds anything; returns whether it wrote. Throws CalendarConflictError naming
 * both files when they disagree on an expiry (nothing is written then), CalendarError when the kept
 * one is unreadable or corrupt, and the file system's error when it cannot be written.
 */
export function keepCalendar(packedDir: string, calendar: ExpiryCalendar, source: string): boolean {
  const path = keptCalendarPath(packedDir);
  const kept = readKeptCalendar(packedDir);
  const merged = kept ? mergeExpiryCalendars(kept, path, calendar, source) : calendar;
  const text = formatExpiryCalendar(merged);
  if (kept && formatExpiryCalendar(kept) === text) return false;
  writeFileAtomic(path, new TextEncoder().encode(text));
  return true;
}
