/** Time units and the Asia/Kolkata (UTC+05:30, no DST) trading-day arithmetic. */

/** Nanoseconds since 1970-01-01T00:00:00Z. */
export type EpochNs = bigint;
/** Whole days since 1970-01-01 (Arrow/Parquet DATE). */
export type EpochDays = number;
/** A calendar date written `YYYY-MM-DD`. */
export type IsoDate = string;

/** Nanoseconds in a day. */
export const NS_PER_DAY = 86_400_000_000_000n;
/** IST is UTC+05:30 all year. */
export const IST_OFFSET_NS = 19_800_000_000_000n;
const MS_PER_DAY = 86_400_000;

/** The IST calendar day (days since epoch) that an instant falls on. */
export function istDayOfEpochNs(ns: EpochNs): EpochDays {
  const local = ns + IST_OFFSET_NS;
  // BigInt division truncates toward zero; floor for instants before 1970.
  let day = local / NS_PER_DAY;
  if (local < 0n && local % NS_PER_DAY !== 0n) day -= 1n;
  return Number(day);
}

/** An instant as IST wall-clock time with its offset and nanoseconds: `2025-11-17T09:20:00.000000000+05:30`. */
export function formatIstInstant(ns: EpochNs): string {
  const local = ns + IST_OFFSET_NS;
  let seconds = local / 1_000_000_000n;
  let fraction = local % 1_000_000_000n;
  // BigInt division truncates toward zero: borrow a second for instants before 1970.
  if (fraction < 0n) {
    fraction += 1_000_000_000n;
    seconds -= 1n;
  }
  const wall = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${wall}.${String(fraction).padStart(9, "0")}+05:30`;
}

/** `YYYY-MM-DD` for a day number. */
export function formatEpochDays(days: EpochDays): IsoDate {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Day number of a strict `YYYY-MM-DD` date; throws on anything else (e.g. 2025-02-30). */
export function parseIsoDate(text: string): EpochDays {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new Error(`not a YYYY-MM-DD date: ${JSON.stringify(text)}`);
  const days = epochDaysOf(Number(m[1]), Number(m[2]), Number(m[3]));
  if (formatEpochDays(days) !== text) throw new Error(`no such date: ${text}`);
  return days;
}

/** Day number of a (year, month 1–12, day) triple, without validation. */
export function epochDaysOf(year: number, month: number, day: number): EpochDays {
  return Math.round(Date.UTC(year, month - 1, day) / MS_PER_DAY);
}

/** Day of week of a day number: 0 = Sunday … 6 = Saturday. */
export function weekdayOf(days: EpochDays): number {
  return (((days + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/** Year and month (1–12) of a day number. */
export function yearMonthOf(days: EpochDays): { year: number; month: number } {
  const d = new Date(days * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}

/** The instant of an IST wall-clock time on a day (seconds after local midnight). */
export function istWallClockToEpochNs(days: EpochDays, secondsOfDay: number): EpochNs {
  return BigInt(days) * NS_PER_DAY + BigInt(Math.round(secondsOfDay * 1e9)) - IST_OFFSET_NS;
}

const NS_PER_DAY_F = 86_400e9;
const IST_OFFSET_F = 19_800e9;

/**
 * IST day of every timestamp (nulls → NaN-free sentinel -2^31). Reads the bits through an Int32
 * view as a double (±256 ns) and falls back to exact BigInt only within 1 ms of a day boundary:
 * per-row BigInt arithmetic would dominate pass 1.
 */
export function istDaysOfTimestamps(ts: BigInt64Array, valid: Uint8Array | null): Int32Array {
  const n = ts.length;
  const words = new Int32Array(ts.buffer, ts.byteOffset, n * 2);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (valid && valid[i] === 0) {
      out[i] = NULL_DAY;
      continue;
    }
    const approx = words[2 * i + 1] * 4294967296 + (words[2 * i] >>> 0) + IST_OFFSET_F;
    const day = Math.floor(approx / NS_PER_DAY_F);
    const intoDay = approx - day * NS_PER_DAY_F;
    out[i] = intoDay > 1e6 && intoDay < NS_PER_DAY_F - 1e6 ? day : istDayOfEpochNs(ts[i]);
  }
  return out;
}

/** Day value istDaysOfTimestamps gives a null timestamp. */
export const NULL_DAY = -2147483648;
