/**
 * A contract's lot size for money results (SPEC §7): the calendar kept with the packed data
 * (lib/packed/kept-calendar.ts), overridden per underlying by `--lot-size U=N,…`. Unknown is an error
 * only where money is asked for: results in points need no lot size.
 */
import { formatEpochDays, type EpochDays } from "../ist-time.ts";
import { keptCalendarPath, readKeptCalendar } from "../packed/kept-calendar.ts";
import { CalendarError, lotSizeOf, parseLotSize, type ExpiryCalendar } from "../raw/calendar.ts";

/** A contract whose lot size is not known, or a kept calendar that cannot be read; the message names it. */
export class LotSizeError extends Error {
  // Named, so that a worker's report of one can be told apart (bench: exit 2).
  override name = LotSizeError.name;
}

/** `--lot-size` text that is not `U=N,…`; the message quotes the bad part. */
export class LotSizeOverrideError extends Error {}

/** Lot sizes by underlying and expiry, and where they come from (for messages). */
export interface LotSizes {
  /** The kept calendar's path, or null when the packed folder has none. */
  source: string | null;
  /** Units per lot of an underlying's expiry, or null when unknown. */
  lotSizeOf(underlying: string, expiry: EpochDays): number | null;
}

/** `--lot-size` overrides: underlying (upper case) → units per lot, for every expiry. */
export type LotSizeOverrides = ReadonlyMap<string, number>;

/** Lot sizes given by a calendar read from `source`. */
export function lotSizesOfCalendar(calendar: ExpiryCalendar, source: string | null): LotSizes {
  return { source, lotSizeOf: (underlying, expiry) => lotSizeOf(calendar, underlying, expiry) };
}

/**
 * The lot sizes of a packed folder: its kept calendar's, or none (every one unknown) for a folder
 * packed before repack kept one. Throws LotSizeError when the kept calendar cannot be read or parsed.
 */
export function loadLotSizes(packedDir: string): LotSizes {
  let calendar: ExpiryCalendar | null;
  try {
    calendar = readKeptCalendar(packedDir);
  } catch (e) {
    if (e instanceof CalendarError) throw new LotSizeError(e.message);
    throw e;
  }
  return calendar ? lotSizesOfCalendar(calendar, keptCalendarPath(packedDir)) : { source: null, lotSizeOf: () => null };
}

/**
 * `--lot-size` text: comma-separated `UNDERLYING=N` (N a positive whole number; the underlying as in
 * contract names, any case). Throws LotSizeOverrideError quoting the bad entry, or naming an
 * underlying given twice.
 */
export function parseLotSizeOverrides(text: string): LotSizeOverrides {
  const overrides = new Map<string, number>();
  if (text.trim() === "") throw new LotSizeOverrideError(`--lot-size: expected UNDERLYING=N,…, got ""`);
  for (const entry of text.split(",")) {
    const m = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(entry);
    if (!m) throw new LotSizeOverrideError(`--lot-size: expected UNDERLYING=N, got ${JSON.stringify(entry)}`);
    const underlying = m[1].toUpperCase();
    if (!/^[A-Z0-9&-]+$/.test(underlying))
      throw new LotSizeOverrideError(`--lot-size: bad underlying ${JSON.stringify(m[1])} in ${JSON.stringify(entry)}`);
    const size = parseLotSize(m[2]);
    if (size === null)
      throw new LotSizeOverrideError(
        `--lot-size: the lot size of ${underlying} must be a positive whole number, got ${JSON.stringify(m[2])}`,
      );
    if (overrides.has(underlying)) throw new LotSizeOverrideError(`--lot-size: ${underlying} is given twice`);
    overrides.set(underlying, size);
  }
  return overrides;
}

/**
 * The lot size of a contract: the override of its underlying, else the calendar's for its expiry.
 * Throws LotSizeError naming the underlying and expiry, and where it looked, when neither gives one.
 */
export function lotSizeFor(
  lookup: LotSizes,
  overrides: LotSizeOverrides,
  underlying: string,
  expiry: EpochDays,
): number {
  const size = overrides.get(underlying) ?? lookup.lotSizeOf(underlying, expiry);
  if (size !== null) return size;
  const where =
    lookup.source === null
      ? "the packed folder keeps no calendar (it was packed before repack kept one): run repack on it again with a calendar that has a lot_size column (consumed inputs are not read again), or pass --lot-size"
      : `${lookup.source} gives none for that expiry: pass --lot-size ${underlying}=N, or run repack again with a calendar that gives it`;
  throw new LotSizeError(`no lot size for ${underlying} expiry ${formatEpochDays(expiry)}: ${where}`);
}
