/**
 * What a partition run reads, decided apart from running it: from the parts' footers and the run's
 * filters, per part and row group, skip it, read it whole, or read a window of its rows. A plan is
 * plain data (describePlan prints it); the windows are found later, per part, from one read of the
 * key columns (keyWindowSteps), since footers bound a row group's keys but do not place them.
 */
import {
  expiryTypesOf,
  hasKeyFilters,
  needsDay,
  partitionMaySelect,
  SegmentSelector,
  sortedKeyBounds,
  type BenchFilters,
  type RowGroupKeyStats,
} from "./filters.ts";
import { formatEpochDays, parseIsoDate, type IsoDate } from "../ist-time.ts";
import { PACKED_SORT_ORDER } from "../packed/schema.ts";
import { readFooterStats, type FooterStats, type RowGroupStats } from "../parquet/footer.ts";
import { KEY_COLUMNS } from "./driver-batch.ts";

/** A partition's filters: the run's, and what its path says of its day and underlying (null: the path does not say). */
export interface PartitionFilter {
  filters: BenchFilters;
  date: IsoDate | null;
  underlying: string | null;
}

/** What the run does with one row group. */
export type GroupStep =
  /** Not read: its statistics (or its keys) rule out every selected segment. */
  | { kind: "skip" }
  /** Read whole; `allSelected`: every row is selected (its statistics show it), no row's key need be looked at. */
  | { kind: "whole"; allSelected: boolean }
  /**
   * Read only rows [start, end), which hold its selected segments; `allSelected`: every row of the
   * window is selected (one run of selected segments).
   */
  | { kind: "window"; start: number; end: number; allSelected: boolean };

/** A part's footer and the step of each of its row groups. */
export interface PartPlan {
  /** Each row group's rows and key statistics, from the footer. */
  groups: RowGroupKeyStats[];
  steps: GroupStep[];
}

/** A partition's plan. */
export interface ReadPlan {
  /** Nothing in the partition can be selected (its day or underlying, or every row group, rules it out). */
  nothing: boolean;
  /** Row groups in the footers read. */
  groups: number;
  /** The key filters' selector (null: no key filter). */
  sel: SegmentSelector | null;
  /** Per part: its plan, or null where its footer was not read (no filter) or could not be: every row group is then read whole. */
  parts: (PartPlan | null)[];
}

/** Footer columns the filters look at: the key's statistics, the series flag, and the day and underlying of a partition whose path does not say them. */
export const FILTER_STATS_COLUMNS = ["expiry", "opt_type", "strike", "is_weekly", "date", "underlying"];

/** A row group's key statistics in the filters' terms (a bound of an unexpected type counts as missing). */
function keyStats(g: RowGroupStats): RowGroupKeyStats {
  const pair = <T>(name: string, type: string): [T, T] | null => {
    const m = g.minMax.get(name);
    return m && typeof m.min === type && typeof m.max === type ? [m.min as T, m.max as T] : null;
  };
  const keyNullFree = KEY_COLUMNS.every((c) => g.nullCount.get(c) === 0);
  return {
    rows: g.rows,
    expiry: pair<number>("expiry", "number"),
    opt: pair<string>("opt_type", "string"),
    strike: pair<number>("strike", "number"),
    weekly: pair<boolean>("is_weekly", "boolean"),
    keyNullFree,
  };
}

/** A value every row group of the partition agrees on (min = max everywhere), or null. */
function constantStat(groups: RowGroupStats[], name: string): number | string | null {
  let v: number | string | boolean | null = null;
  for (const g of groups) {
    const m = g.minMax.get(name);
    if (!m || m.min !== m.max || (v !== null && v !== m.min) || typeof m.min === "boolean") return null;
    v = m.min;
  }
  return v as number | string | null;
}

/** A plan that reads every row group of `parts` parts whole (no filter). */
export function unfilteredPlan(parts: number): ReadPlan {
  return { nothing: false, groups: 0, sel: null, parts: Array.from({ length: parts }, () => null) };
}

/**
 * The plan of the parts whose footers are `footers` (null: a footer that could not be read, left to
 * the decode, which names the problem: that part is read whole) under `filter`.
 */
export function planFromFooters(footers: readonly (FooterStats | null)[], filter: PartitionFilter): ReadPlan {
  const all = footers.flatMap((f) => f?.rowGroups ?? []);
  // A partition outside the layout names its day and underlying only in its columns' statistics.
  const day =
    filter.date ??
    (typeof constantStat(all, "date") === "number" ? formatEpochDays(constantStat(all, "date") as number) : null);
  const underlying =
    filter.underlying ??
    (typeof constantStat(all, "underlying") === "string" ? (constantStat(all, "underlying") as string) : null);
  const unknown =
    (needsDay(filter.filters) && day === null) || (filter.filters.underlyings !== undefined && underlying === null);
  if (unknown || !partitionMaySelect(filter.filters, day, underlying))
    return { nothing: true, groups: all.length, sel: null, parts: footers.map(() => null) };
  const sel = hasKeyFilters(filter.filters)
    ? new SegmentSelector(filter.filters, day === null ? null : parseIsoDate(day), expiryTypesOf(all.map(keyStats)))
    : null;
  const parts = footers.map((f): PartPlan | null => {
    if (!f) return null;
    const groups = f.rowGroups.map(keyStats);
    // A part our writer sorted says so in its footer: its row groups are then also bounded by their neighbours.
    const bounds = f.keyValue.get("tickpack.sort") === PACKED_SORT_ORDER ? sortedKeyBounds(groups) : null;
    const steps = groups.map((k, g): GroupStep => {
      if (sel && !sel.sortedGroupMayHold(k, bounds?.[g] ?? null)) return { kind: "skip" };
      return { kind: "whole", allSelected: sel ? sel.rowGroupAllSelected(k) : true };
    });
    return { groups, steps };
  });
  const nothing = parts.every((p) => p?.steps.every((s) => s.kind === "skip"));
  return { nothing, groups: all.length, sel, parts };
}

/**
 * The plan of a partition's parts from their footers alone (read through the open descriptors when
 * given). A footer that cannot be read is left to the decode, which names the problem.
 */
export function planPartitionRead(parts: readonly { path: string; fd?: number }[], filter: PartitionFilter): ReadPlan {
  const footers = parts.map(({ path, fd }): FooterStats | null => {
    try {
      return readFooterStats(path, FILTER_STATS_COLUMNS, fd);
    } catch {
      return null;
    }
  });
  return planFromFooters(footers, filter);
}

/** Row groups of a part plan that are read (not skipped). */
export function groupsRead(part: PartPlan): number {
  return part.steps.reduce((n, s) => n + (s.kind === "skip" ? 0 : 1), 0);
}

/** One line per part: `skip`, `whole` (`whole*` when all selected), `rows a..b` (`*` likewise), or `all` for a part read whole. */
export function describePlan(plan: ReadPlan): string[] {
  if (plan.nothing) return ["nothing"];
  return plan.parts.map((p) =>
    p === null
      ? "all"
      : p.steps
          .map((s) =>
            s.kind === "skip"
              ? "skip"
              : `${s.kind === "whole" ? "whole" : `rows ${s.start}..${s.end}`}${s.allSelected ? "*" : ""}`,
          )
          .join(" "),
  );
}
