/** Parsing of raw per-contract file names (docs/formats.md#raw-input): monthly and weekly NSE option symbols. */
import { epochDaysOf, formatEpochDays, type EpochDays } from "../ist-time.ts";

/** Call or put. */
export type OptType = "CE" | "PE";
/** Which series a contract belongs to. */
export type ExpiryType = "monthly" | "weekly";

/** What a raw file name says about its contract. */
export interface ContractName {
  /** Upper-cased underlying, e.g. `NIFTY`, `M&M`, `BAJAJ-AUTO`. */
  underlying: string;
  /** Four-digit year of the expiry. */
  year: number;
  /** Month of the expiry, 1–12. */
  month: number;
  expiryType: ExpiryType;
  /** Expiry day for weekly names (the name carries it); null for monthly names. */
  weeklyExpiry: EpochDays | null;
  strike: number;
  optType: OptType;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
/** Weekly symbols code the month in one character: 1–9, then O, N, D. */
const WEEKLY_MONTH_CODES = "123456789OND";

const UNDERLYING = "([A-Z0-9&-]*?[A-Z&-][A-Z0-9&-]*?)";
const STRIKE = "(\\d+(?:\\.\\d+)?)";
const MONTHLY_RE = new RegExp(`^${UNDERLYING}(\\d{2})(${MONTHS.join("|")})${STRIKE}(CE|PE)$`);
const WEEKLY_RE = new RegExp(`^${UNDERLYING}(\\d{2})([1-9OND])(\\d{2})${STRIKE}(CE|PE)$`);

/** Thrown when a file name is not a contract symbol. */
export class ContractNameError extends Error {}

/** The contract a raw file name (`NIFTY25N1124500CE.parquet`, any case, path allowed) identifies. */
export function parseContractName(fileName: string): ContractName {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const stem = base.replace(/\.parquet$/i, "").toUpperCase();
  const monthly = MONTHLY_RE.exec(stem);
  if (monthly) {
    const [, underlying, yy, mon, strike, optType] = monthly;
    return {
      underlying,
      year: 2000 + Number(yy),
      month: MONTHS.indexOf(mon) + 1,
      expiryType: "monthly",
      weeklyExpiry: null,
      strike: Number(strike),
      optType: optType as OptType,
    };
  }
  const weekly = WEEKLY_RE.exec(stem);
  if (weekly) {
    const [, underlying, yy, m, dd, strike, optType] = weekly;
    const year = 2000 + Number(yy);
    const month = WEEKLY_MONTH_CODES.indexOf(m) + 1;
    const day = Number(dd);
    const expiry = epochDaysOf(year, month, day);
    const iso = `${year}-${String(month).padStart(2, "0")}-${dd}`;
    if (day < 1 || formatEpochDays(expiry) !== iso) {
      throw new ContractNameError(`${base}: weekly symbol names a date that does not exist (${iso})`);
    }
    return {
      underlying,
      year,
      month,
      expiryType: "weekly",
      weeklyExpiry: expiry,
      strike: Number(strike),
      optType: optType as OptType,
    };
  }
  throw new ContractNameError(
    `${base}: not a contract file name (expected <UNDERLYING><YY><MON><STRIKE><CE|PE> or <UNDERLYING><YY><M><DD><STRIKE><CE|PE>)`,
  );
}

/** The file stem (no `.parquet`) of a contract: the inverse of parseContractName. */
export function formatContractName(c: Omit<ContractName, "weeklyExpiry"> & { weeklyExpiry: EpochDays | null }): string {
  const yy = String(c.year % 100).padStart(2, "0");
  const strike = String(c.strike);
  if (c.expiryType === "monthly") return `${c.underlying}${yy}${MONTHS[c.month - 1]}${strike}${c.optType}`;
  const dd = formatEpochDays(c.weeklyExpiry!).slice(8, 10);
  return `${c.underlying}${yy}${WEEKLY_MONTH_CODES[c.month - 1]}${dd}${strike}${c.optType}`;
}
