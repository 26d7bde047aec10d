/**
 * NSE's market lots of NIFTY and BANKNIFTY options by expiry, as NSE's circulars state them, for the
 * calendar gen writes. Sources and dates: docs/formats.md#lot-sizes.
 *
 * A revision applies by series: NSE gives, for each expiry cycle, the first monthly expiry and the
 * first weekly expiry that carry the new lot; contracts listed before keep theirs to expiry. So a
 * size belongs to (underlying, expiry type, expiry year-month), never to a trading day. (Quarterly
 * and half-yearly contracts, which NSE moved to the new lot mid-life, are not generated.)
 */
import { yearMonthOf, type EpochDays } from "../ist-time.ts";
import type { ExpiryType } from "../raw/contract-name.ts";

/** A lot size and the first series (`YYYY-MM` of the expiry) of each expiry type that carries it. */
export interface LotSizeRevision {
  lotSize: number;
  firstMonthly: string;
  /** Equal to firstMonthly where NSE listed no weeklies of the underlying then (BANKNIFTY from 2025). */
  firstWeekly: string;
  /** The circular, or the published summary of it where the circular's text was not at hand. */
  source: string;
}

/** Revisions per underlying, oldest first; before the first, the lot size is unknown here. */
export const NSE_LOT_SIZE_REVISIONS: Readonly<Record<string, readonly LotSizeRevision[]>> = {
  NIFTY: [
    { lotSize: 50, firstMonthly: "2021-07", firstWeekly: "2021-08", source: "NSE/FAOP/47854, 31 Mar 2021" },
    { lotSize: 25, firstMonthly: "2024-05", firstWeekly: "2024-05", source: "NSE circular effective 26 Apr 2024" },
    { lotSize: 75, firstMonthly: "2025-02", firstWeekly: "2025-01", source: "NSE circular of 18 Oct 2024" },
    { lotSize: 65, firstMonthly: "2026-01", firstWeekly: "2026-01", source: "NSE/FAOP/70616, 3 Oct 2025" },
  ],
  BANKNIFTY: [
    { lotSize: 25, firstMonthly: "2020-07", firstWeekly: "2020-08", source: "NSE circular effective for July 2020" },
    { lotSize: 15, firstMonthly: "2023-07", firstWeekly: "2023-08", source: "NSE circular effective 28 Apr 2023" },
    { lotSize: 30, firstMonthly: "2025-02", firstWeekly: "2025-02", source: "NSE circular of 18 Oct 2024" },
    { lotSize: 35, firstMonthly: "2025-07", firstWeekly: "2025-07", source: "NSE circular of 28 Mar 2025" },
    { lotSize: 30, firstMonthly: "2026-01", firstWeekly: "2026-01", source: "NSE/FAOP/70616, 3 Oct 2025" },
  ],
};

/**
 * NSE's lot size of an underlying's expiry of this type, or null where the table above does not
 * cover it (another underlying, or a series before its first revision). The latest revision holds
 * for every later series.
 */
export function nseLotSize(underlying: string, expiryType: ExpiryType, expiry: EpochDays): number | null {
  const revisions = NSE_LOT_SIZE_REVISIONS[underlying];
  if (!revisions) return null;
  const { year, month } = yearMonthOf(expiry);
  const series = `${year}-${String(month).padStart(2, "0")}`;
  let size: number | null = null;
  for (const r of revisions)
    if ((expiryType === "monthly" ? r.firstMonthly : r.firstWeekly) <= series) size = r.lotSize;
  return size;
}
