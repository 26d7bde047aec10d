/**
 * A trade log's row: its columns, a trade's segment key as text, and how its numbers are written.
 *
 * Formats (both): times are instants — CSV writes them as IST wall-clock time with the offset
 * (`2025-11-17T09:20:00.000000000+05:30`), Parquet as TIMESTAMP(NANOS, UTC); `date` and `expiry` are
 * `YYYY-MM-DD` in CSV and DATE in Parquet; prices and PnL are rounded to 9 decimal places.
 */
import { isNullKey } from "../../kernel/segment-key.ts";
import { OPT_CE, OPT_CODE_NAMES, OPT_PE } from "../packed/opt-type.ts";
import { formatEpochDays } from "../ist-time.ts";
import type { TradeBlock } from "./bench.ts";
import { strikeDecimal } from "../packed/strike.ts";

/** The trade log's columns, in file order. */
export const TRADE_COLUMNS = [
  "set",
  "date",
  "underlying",
  "expiry",
  "opt_type",
  "strike",
  "entry_time",
  "exit_time",
  "entry_price",
  "exit_price",
  "pnl",
] as const;

/**
 * `x` rounded to 9 decimal places, as the nearest double: its shortest text drops the binary noise
 * of a difference (−33.549999999999955 → −33.55) while keeping every digit a price can have; −0 → 0.
 */
export function roundedTo9Decimals(x: number): number {
  // toFixed rounds the double's exact decimal expansion (x * 1e9 would round once more first).
  return Number(x.toFixed(9)) + 0;
}

/** The text of `roundedTo9Decimals(x)`, as CSV writes it. */
export function decimalText(x: number): string {
  const text = String(x);
  // Already at most 9 decimals: x is the double nearest that decimal, which rounding keeps (cheaper than toFixed).
  const point = text.indexOf(".");
  if ((point < 0 || text.length - point - 1 <= 9) && !text.includes("e")) return text;
  return String(roundedTo9Decimals(x));
}

/** A chain kernel's log adds, per leg: its position, its number in it, long or short, and its lots (SPEC §6). */
export const LEG_COLUMNS = ["position", "leg", "side", "lots"] as const;

/** A leg's side as the log writes it. */
export const sideOf = (lots: number): "long" | "short" => (lots < 0 ? "short" : "long");

const optName = (code: number) => (code === OPT_CE || code === OPT_PE ? OPT_CODE_NAMES[code] : "?");

/** A trade's key columns as text (null where the segment key was null; the strike as the decimal written, not its float32). */
export function keyText(
  b: TradeBlock,
  t: number,
): { expiry: string | null; opt: string | null; strike: number | null } {
  return {
    expiry: isNullKey(b.expiry[t]) ? null : formatEpochDays(b.expiry[t]),
    opt: isNullKey(b.optCode[t]) ? null : optName(b.optCode[t]),
    strike: isNullKey(b.strike[t]) ? null : strikeDecimal(b.strike[t]),
  };
}
