/**
 * The report's breakdowns: their buckets, and which bucket a segment's key falls in (days to expiry,
 * expiry type, option type, strike distance from the day's ATM). Holding-time buckets are counted in
 * the driver (kernel/report-sums.ts HOLD_BOUNDS_NS); their labels are here.
 */
import type { EpochDays } from "../ist-time.ts";
import { calendarExpiryType, type ExpiryCalendar } from "../raw/calendar.ts";
import type { ExpiryType } from "../raw/contract-name.ts";
import { yearMonthOf } from "../ist-time.ts";
import { HOLD_BOUNDS_NS } from "../../kernel/report-sums.ts";
import { OPT_CE, OPT_CODE_NAMES, OPT_OTHER, OPT_PE } from "../packed/opt-type.ts";
import { isNullKey } from "../../kernel/segment-key.ts";

/** Days-to-expiry buckets (calendar days from the trading day to the expiry). */
export const DTE_BUCKETS = ["0", "1", "2", "3", "4", "5", "6", "7", "8–14", "15–30", "31+", "unknown"] as const;
/** Expiry types by lib/raw/calendar.ts's rule (EXPIRY_TYPES order), and unknown. */
export const EXPIRY_TYPES = ["weekly", "monthly", "unknown"] as const;
/** Option types by stable code (lib/packed/opt-type.ts): CE, PE, anything else. */
export const OPT_TYPES = OPT_CODE_NAMES;
/** Strike distance from the day's ATM, in strike steps, clamped to ±ATM_SPAN. */
export const ATM_SPAN = 10;
/** ATM distance buckets: below −ATM_SPAN, −ATM_SPAN … +ATM_SPAN steps, above, and no ATM that day. */
export const ATM_BUCKETS = [
  `<−${ATM_SPAN}`,
  ...Array.from({ length: 2 * ATM_SPAN + 1 }, (_, k) => (k - ATM_SPAN > 0 ? `+${k - ATM_SPAN}` : String(k - ATM_SPAN))),
  `>+${ATM_SPAN}`,
  "unknown",
];
/** Labels of the holding-time buckets (upper bounds: HOLD_BOUNDS_NS; the last is open). */
export const HOLD_BUCKETS = [
  "<1 s",
  "1–5 s",
  "5–15 s",
  "15–60 s",
  "1–5 min",
  "5–15 min",
  "15–60 min",
  "1–3 h",
  "≥3 h",
] as const;
if (HOLD_BUCKETS.length !== HOLD_BOUNDS_NS.length + 1) throw new Error("HOLD_BUCKETS and HOLD_BOUNDS_NS disagree");

/** DTE_BUCKETS index of an expiry (epoch days; NULL_KEY or NaN: unknown) traded on `day` (null: unknown). */
export function dteBucket(expiry: number, day: EpochDays | null): number {
  const unknown = DTE_BUCKETS.length - 1;
  if (isNullKey(expiry) || day === null) return unknown;
  const d = expiry - day;
  return d >= 0 && d <= 7 ? Math.floor(d) : d > 7 && d <= 14 ? 8 : d > 14 && d <= 30 ? 9 : d > 30 ? 10 : unknown;
}

/** EXPIRY_TYPES index of an expiry (epoch days) by calendarExpiryType's rule: no calendar is needed. */
export function expiryTypeBucket(expiry: number): number {
  if (isNullKey(expiry) || !Number.isFinite(expiry)) return EXPIRY_TYPES.length - 1;
  return EXPIRY_TYPES.indexOf(calendarExpiryType(Math.floor(expiry)));
}

/** An expiry's type as the data says it (underlying, expiry in epoch days), or null when it does not say. */
export type ExpiryTypeOf = (underlying: string, expiry: EpochDays) => ExpiryType | null;

/** The expiry types a calendar lists (repack's kept calendar, lib/packed/kept-calendar.ts); null for an expiry it does not list. */
export function expiryTypeFromCalendar(calendar: ExpiryCalendar): ExpiryTypeOf {
  return (underlying, expiry) => {
    const { year, month } = yearMonthOf(expiry);
    if (calendar.monthly.get(`${underlying}|${year}-${String(month).padStart(2, "0")}`) === expiry) return "monthly";
    return calendar.weekly.get(underlying)?.has(expiry) ? "weekly" : null;
  };
}

/** OPT_TYPES index of a stable opt_type code. */
export function optBucket(code: number): number {
  return code === OPT_CE || code === OPT_PE ? code : OPT_OTHER;
}

/** ATM_BUCKETS index of a strike, `atm` and `step` the day's estimate (null: no ATM that day). */
export function atmBucket(strike: number, atm: number | null, step: number | null): number {
  const unknown = ATM_BUCKETS.length - 1;
  if (isNullKey(strike) || atm === null) return unknown;
  const steps = Math.round((strike - atm) / (step ?? 1));
  // Compared before any integer arithmetic: a strike far off the ATM must not wrap around.
  if (Number.isNaN(steps)) return unknown;
  return steps < -ATM_SPAN ? 0 : steps > ATM_SPAN ? ATM_BUCKETS.length - 2 : steps + ATM_SPAN + 1;
}
