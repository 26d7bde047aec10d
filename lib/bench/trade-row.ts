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

/** What a trade log holds beyond TRADE_COLUMNS: a chain kernel's legs, money (SPEC §7). */
export interface TradeLogShape {
  legs: boolean;
  money: boolean;
}

/** A column after TRADE_COLUMNS: how it is typed (an integer, text, a number, ₹) and its value for trade t. */
export interface ExtraColumn {
  name: string;
  kind: "int" | "text" | "number" | "rupees";
  value(b: TradeBlock, t: number): number | string;
}

const money = (b: TradeBlock) => {
  if (!b.money) throw new Error("a money trade log was handed trades without money");
  return b.money;
};
const legs = (b: TradeBlock) => {
  if (!b.legs) throw new Error("a chain trade log was handed trades without legs");
  return b.legs;
};

/**
 * The columns a log of this shape adds, in file order: a chain kernel's `position, leg, side, lots`
 * (a per-contract kernel's trade, with money: `position, side, lots`: one long position), then with
 * money `lot_size, gross, costs, net` (₹).
 */
export function extraColumns(shape: TradeLogShape): ExtraColumn[] {
  const out: ExtraColumn[] = [];
  if (shape.legs)
    out.push(
      { name: "position", kind: "int", value: (b, t) => legs(b).position[t] },
      { name: "leg", kind: "int", value: (b, t) => legs(b).leg[t] },
      { name: "side", kind: "text", value: (b, t) => sideOf(legs(b).lots[t]) },
      { name: "lots", kind: "number", value: (b, t) => Math.abs(legs(b).lots[t]) },
    );
  else if (shape.money)
    out.push(
      { name: "position", kind: "int", value: (b, t) => money(b).position[t] },
      { name: "side", kind: "text", value: (b, t) => (money(b).short[t] ? "short" : "long") },
      { name: "lots", kind: "number", value: (b, t) => money(b).lots[t] },
    );
  if (shape.money)
    out.push(
      { name: "lot_size", kind: "int", value: (b, t) => money(b).lotSize[t] },
      { name: "gross", kind: "rupees", value: (b, t) => money(b).gross[t] },
      { name: "costs", kind: "rupees", value: (b, t) => money(b).costs[t] },
      { name: "net", kind: "rupees", value: (b, t) => money(b).net[t] },
    );
  return out;
}

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
