/**
 * The dated cost schedule of `bench --costs FILE.json` (SPEC §7): which brokerage, taxes and
 * charges apply on a day. The file is a JSON list of rows, each complete (no rate is inherited
 * from an earlier row), sorted by `from`; a row applies from its `from` day until the next row's.
 */
import { readFileSync, statSync } from "node:fs";
import { formatEpochDays, parseIsoDate, type EpochDays, type IsoDate } from "../ist-time.ts";
import { fsReason } from "../error-message.ts";
import type { Rupees } from "./rupees.ts";

/** A rate as a fraction of premium turnover: 0.001 is 0.1 %. */
export type Fraction = number;

/** The rates in force on a day: the seven fields of a schedule row other than `from`. */
export interface CostRates {
  /** ₹ per order, i.e. per fill of a leg (entry and exit are one order each). */
  brokerage_per_order: Rupees;
  /** Securities transaction tax, of sell-side premium turnover. */
  stt_sell: Fraction;
  /** Exchange transaction charge, of premium turnover, buys and sells alike. */
  exchange: Fraction;
  /** SEBI turnover fee, of premium turnover, both sides. */
  sebi: Fraction;
  /** NSE Investor Protection Fund Trust levy, of premium turnover, both sides. */
  ipft: Fraction;
  /** Stamp duty, of buy-side premium turnover. */
  stamp_buy: Fraction;
  /** GST, of brokerage + exchange + sebi + ipft. */
  gst: Fraction;
}

/** The rate fields of a row, in the order the docs and errors list them. */
export const RATE_FIELDS = [
  "brokerage_per_order",
  "stt_sell",
  "exchange",
  "sebi",
  "ipft",
  "stamp_buy",
  "gst",
] as const satisfies readonly (keyof CostRates)[];

/** Fields a row may carry for people and never used in a sum: where its rates come from, a remark. */
export const TEXT_FIELDS = ["sources", "note"] as const;

/** One row: its rates apply on `from` and after, until the next row's `from`. */
export interface CostScheduleRow extends CostRates {
  from: IsoDate;
  /** `from` as a day number. */
  fromDay: EpochDays;
}

/** A parsed schedule: rows sorted by strictly increasing `from`, never none. */
export interface CostSchedule {
  /** What errors name the schedule by (its file, as given). */
  source: string;
  rows: readonly CostScheduleRow[];
}

/** A schedule that cannot be used, or a day it has no rates for; the message names the file, the row and the field. */
export class CostScheduleError extends Error {}

const ROW_FIELDS = new Set<string>(["from", ...RATE_FIELDS, ...TEXT_FIELDS]);

/** The schedule in a JSON text; `source` names it in errors (e.g. the file). */
export function parseCostSchedule(text: string, source: string): CostSchedule {
  if (text.trim() === "") throw new CostScheduleError(`${source}: empty file`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CostScheduleError(`${source}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(json))
    throw new CostScheduleError(
      `${source}: expected a list of rows like [{"from": "2024-10-01", "stt_sell": 0.001, …}]`,
    );
  if (json.length === 0) throw new CostScheduleError(`${source}: no rows (a schedule needs at least one)`);
  const rows = json.map((raw, i) => parseRow(raw, `${source}: row ${i + 1}`));
  for (let i = 1; i < rows.length; i++) {
    const [before, row] = [rows[i - 1], rows[i]];
    if (row.fromDay === before.fromDay)
      throw new CostScheduleError(`${source}: rows ${i} and ${i + 1}: from: the same date twice (${row.from})`);
    if (row.fromDay < before.fromDay)
      throw new CostScheduleError(
        `${source}: row ${i + 1}: from: ${row.from} is before row ${i}'s ${before.from} (rows go in date order)`,
      );
  }
  return { source, rows };
}

function parseRow(raw: unknown, where: string): CostScheduleRow {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new CostScheduleError(`${where}: not an object like {"from": "2024-10-01", "stt_sell": 0.001, …}`);
  const fields = raw as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!ROW_FIELDS.has(key))
      throw new CostScheduleError(
        `${where}: ${key}: unknown field (a row has from, ${RATE_FIELDS.join(", ")}, and optionally ${TEXT_FIELDS.join(", ")})`,
      );
  }
  if (!("from" in fields))
    throw new CostScheduleError(`${where}: from: missing (the first day the row applies, YYYY-MM-DD)`);
  if (typeof fields.from !== "string")
    throw new CostScheduleError(`${where}: from: not a YYYY-MM-DD date: ${JSON.stringify(fields.from)}`);
  let fromDay: EpochDays;
  try {
    fromDay = parseIsoDate(fields.from);
  } catch (e) {
    throw new CostScheduleError(`${where}: from: ${(e as Error).message}`);
  }
  const at = `${where} (from ${fields.from})`;
  checkText(fields, at);
  const rates = {} as CostRates;
  for (const name of RATE_FIELDS) rates[name] = rateOf(fields, name, at);
  return { from: fields.from, fromDay, ...rates };
}

function rateOf(fields: Record<string, unknown>, name: keyof CostRates, at: string): number {
  if (!(name in fields))
    throw new CostScheduleError(`${at}: ${name}: missing (every row gives all ${RATE_FIELDS.length} rates)`);
  const v = fields[name];
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new CostScheduleError(`${at}: ${name}: not a number: ${JSON.stringify(v)}`);
  if (v < 0) throw new CostScheduleError(`${at}: ${name}: negative rate ${v}`);
  // Above 1 is a percentage written as one (18 for 18 % GST); 0.1 meant as 0.1 % cannot be told from 10 %.
  if (name !== "brokerage_per_order" && v > 1)
    throw new CostScheduleError(`${at}: ${name}: ${v} is over 1; rates are fractions (0.001 is 0.1 %)`);
  return v;
}

function checkText(fields: Record<string, unknown>, at: string): void {
  if ("note" in fields && typeof fields.note !== "string")
    throw new CostScheduleError(`${at}: note: not a string: ${JSON.stringify(fields.note)}`);
  if (!("sources" in fields)) return;
  const s = fields.sources;
  if (typeof s !== "object" || s === null || Array.isArray(s))
    throw new CostScheduleError(`${at}: sources: expected an object like {"stt_sell": "Finance (No. 2) Act, 2024"}`);
  for (const [key, text] of Object.entries(s)) {
    if (!(RATE_FIELDS as readonly string[]).includes(key))
      throw new CostScheduleError(`${at}: sources: ${key}: not a rate of the row (${RATE_FIELDS.join(", ")})`);
    if (typeof text !== "string") throw new CostScheduleError(`${at}: sources: ${key}: not a string`);
  }
}

/** The schedule in a file; unreadable, a folder or bad content → CostScheduleError naming `source` (the path by default). */
export function readCostSchedule(path: string, source: string = path): CostSchedule {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new CostScheduleError(`${source}: is a folder, expected a JSON file`);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof CostScheduleError) throw e;
    throw new CostScheduleError(`${source}: cannot read (${fsReason(e)})`);
  }
  return parseCostSchedule(text, source);
}

/**
 * The rates in force on an IST trading day: the row with the latest `from` on or before it.
 * A day before the first row has none → CostScheduleError naming the day and the first row.
 */
export function ratesOn(schedule: CostSchedule, day: IsoDate | EpochDays): CostScheduleRow {
  const d = typeof day === "number" ? day : parseIsoDate(day);
  const rows = schedule.rows;
  // Few rows (a change every year or two): a scan from the latest is as quick as a search.
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i].fromDay <= d) return rows[i];
  throw new CostScheduleError(
    `${schedule.source}: no rates for ${formatEpochDays(d)}: its first row is from ${rows[0].from}` +
      " (add a row for earlier days)",
  );
}
