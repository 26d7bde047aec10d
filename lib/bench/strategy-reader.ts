/**
 * The bench read path: only the segment key and a kernel's declared columns of a packed
 * partition, one row group at a time, handed to the kernel as views on parquet-wasm's memory
 * (no copy where a column is stored in the type the kernel declared it with) and freed right after.
 * No apache-arrow here: the C Data Interface structs are read directly (lib/parquet/c-data.ts), which
 * spares every worker the import (~31 ms) and every batch its Arrow objects.
 */
import type { KernelRun, LoadedKernel } from "../../kernel/strategy-kernel.ts";
import { asFloat64, columnAs, QUOTE_COLUMNS, type KernelBatch } from "../../kernel/kernel-batch.ts";
import { OPT_OTHER, stableOptCode } from "../packed/opt-type.ts";
import { openPartitionSnapshot } from "../packed/snapshot.ts";
import { PartCache, type CacheSettings, type CacheStats } from "./cached-columns.ts";
import { sliceBits, type CColumn, type CField, type CValues } from "../parquet/c-data.ts";
import {
  closeParquetFile,
  openParquetFile,
  withColumnViews,
  type ColumnViews,
  type ParquetFileSource,
} from "../parquet/source.ts";
import { readFooterStats, type FooterStats, type RowGroupStats } from "../parquet/footer.ts";
import { strikeWindow, type KeyRunColumns, type StrikeWindow } from "./key-scan.ts";
import { PACKED_SORT_ORDER } from "../packed/schema.ts";
import {
  expiryTypesOf,
  hasKeyFilters,
  needsDay,
  partitionMaySelect,
  SegmentSelector,
  selectedRanges,
  sortedKeyBounds,
  type BenchFilters,
  type RowGroupKeyStats,
} from "./filters.ts";
import { formatEpochDays, parseIsoDate, type IsoDate } from "../ist-time.ts";

/** Columns the driver reads for every kernel: the segment key. */
export const KEY_COLUMNS = ["expiry", "opt_type", "strike"] as const;

/** A packed file that bench cannot use (missing column, wrong type). */
export class StrategyInputError extends Error {}

/** What a run reads beyond the key and the kernel's columns: trade times (a trade log, the report), quotes (--fill touch). */
export interface ReadExtras {
  ts: boolean;
  quotes: boolean;
}

/** Columns read for a kernel, in read order (the projection the reader asks parquet-wasm for). */
export function projectedColumns(kernel: LoadedKernel, extras: ReadExtras): string[] {
  const cols: string[] = [...KEY_COLUMNS];
  const more = [...kernel.columns, ...(extras.ts ? ["timestamp"] : []), ...(extras.quotes ? QUOTE_COLUMNS : [])];
  for (const c of more) if (!cols.includes(c)) cols.push(c);
  return cols;
}

/** A numeric column's values as stored (a view, no copy); dictionary codes and bits are not the numbers. */
function numericValues(c: CColumn, file: string, name: string): CValues {
  if (c.values && c.field.dictionaryFormat === null) return c.values;
  throw new StrategyInputError(`${file}: column ${name} has unsupported type ${describeFormat(c.field)}`);
}

const describeFormat = (f: CField) =>
  f.dictionaryFormat === null ? `format ${f.format}` : `dictionary<${f.format}, ${f.dictionaryFormat}>`;

/** A column's values as `Ctor` (a view when stored so, else converted). */
function typed<T extends Int32Array | Float32Array>(
  c: CColumn,
  Ctor: { new (n: number): T; name: string },
  file: string,
  name: string,
): T {
  const v = c.values;
  if (!v) throw new StrategyInputError(`${file}: column ${name} has unsupported type ${describeFormat(c.field)}`);
  if (v.constructor === Ctor) return v as T;
  const out = new Ctor(c.length);
  for (let i = 0; i < c.length; i++) out[i] = Number(v[i]);
  return out;
}

/** The segment key of one batch of column views (`columns` names the views, in order). */
export function keyBatch(b: ColumnViews, columns: readonly string[], file: string): KeyRunColumns {
  const col = (name: string) => b.columns[columns.indexOf(name)];
  const opt = col("opt_type");
  let optCodes: Int32Array;
  let optMap: Int32Array;
  if (opt.dictionary) {
    optCodes = typed(opt, Int32Array, file, "opt_type");
    // A batch can carry its own dictionary: map its codes to stable ones, never per row in JS.
    optMap = Int32Array.from(opt.dictionary.map(stableOptCode));
  } else if (opt.strings) {
    optCodes = Int32Array.from(opt.strings, stableOptCode);
    optMap = Int32Array.from([0, 1, 2]);
  } else {
    throw new StrategyInputError(`${file}: column opt_type has unsupported type ${describeFormat(opt.field)}`);
  }
  const expiry = col("expiry");
  const strike = col("strike");
  return {
    length: b.length,
    expiry: typed(expiry, Int32Array, file, "expiry"),
    expiryValid: expiry.validity,
    opt: optCodes,
    optValid: opt.validity,
    optMap,
    strike: typed(strike, Float32Array, file, "strike"),
    strikeValid: strike.validity,
  };
}

/** A driver batch from one batch of column views, in projectedColumns order. */
function kernelBatch(
  b: ColumnViews,
  columns: readonly string[],
  file: string,
  kernel: LoadedKernel,
  extras: ReadExtras,
): KernelBatch {
  return withValues(keyBatch(b, columns, file), b, columns, file, kernel, extras);
}

/** A driver batch of `keys` and the kernel's columns (and timestamps) from `b`, whose views `columns` names. */
function withValues(
  keys: KeyRunColumns,
  b: ColumnViews,
  columns: readonly string[],
  file: string,
  kernel: LoadedKernel,
  extras: ReadExtras,
): KernelBatch {
  const col = (name: string) => b.columns[columns.indexOf(name)];
  const ts = extras.ts ? numericValues(col("timestamp"), file, "timestamp") : null;
  // Quotes as float64: a view where stored so (packed files), else converted once per batch.
  const quote = (name: string) => asFloat64(numericValues(col(name), file, name) as Parameters<typeof asFloat64>[0]);
  const quotes = extras.quotes
    ? { bid: quote("bp0"), bidValid: col("bp0").validity, ask: quote("sp0"), askValid: col("sp0").validity }
    : null;
  return {
    ...keys,
    // Each column in the type the kernel declared: as stored (a view), or converted once per batch.
    columns: kernel.columns.map((name, k) => {
      const c = col(name);
      const values = columnAs(numericValues(c, file, name), c.validity, kernel.columnTypes[k]);
      if (typeof values === "string")
        throw new StrategyInputError(
          `${file}: column ${name} (${describeFormat(c.field)}) does not fit the kernel's ${kernel.columnTypes[k]}: ${values}`,
        );
      return { values, valid: c.validity };
    }),
    ts: ts instanceof BigInt64Array ? ts : null,
    quotes,
  };
}

/**
 * The keys of one part's windows, copied into buffers reused from part to part (a fresh allocation
 * per row group cost ~6× the copy, in page faults): valid until the next `reset`.
 */
class KeyArena {
  private expiry = new Int32Array(0);
  private opt = new Int32Array(0);
  private strike = new Float32Array(0);
  private used = 0;

  /** Makes room for `rows` keys in all, dropping the previous part's. */
  reset(rows: number): void {
    if (this.expiry.length < rows) {
      this.expiry = new Int32Array(rows);
      this.opt = new Int32Array(rows);
      this.strike = new Float32Array(rows);
    }
    this.used = 0;
  }

  private take(n: number): [Int32Array, Int32Array, Float32Array] {
    const at = this.used;
    this.used += n;
    return [this.expiry.subarray(at, at + n), this.opt.subarray(at, at + n), this.strike.subarray(at, at + n)];
  }

  /** Keys of rows [s, e) of a group of one expiry and one opt_type (both non-null): those two filled in, strikes copied. */
  constant(expiry: number, optCode: number, strike: Float32Array, s: number, e: number): KeyRunColumns {
    const [ex, op, st] = this.take(e - s);
    st.set(strike.subarray(s, e));
    return {
      length: e - s,
      expiry: ex.fill(expiry),
      expiryValid: null,
      opt: op.fill(optCode),
      optValid: null,
      optMap: Int32Array.from([0, 1, 2]),
      strike: st,
      strikeValid: null,
    };
  }

  /** Keys of rows [s, e) of a key batch. */
  copy(k: KeyRunColumns, s: number, e: number): KeyRunColumns {
    const n = e - s;
    const [ex, op, st] = this.take(n);
    ex.set(k.expiry.subarray(s, e));
    op.set(k.opt.subarray(s, e));
    st.set(k.strike.subarray(s, e));
    const bits = (b: Uint8Array | null) => sliceBits(b, s, n)?.slice() ?? null;
    return {
      length: n,
      expiry: ex,
      expiryValid: bits(k.expiryValid),
      opt: op,
      optValid: bits(k.optValid),
      optMap: k.optMap.slice(),
      strike: st,
      strikeValid: bits(k.strikeValid),
    };
  }
}

/** Where a row group's selected segments lie: rows [start, end), with a copy of their keys (null: run the whole group). */
interface SelectedWindow {
  start: number;
  end: number;
  keys: KeyRunColumns | null;
  /** Every row of the window is selected (one run of selected segments): it needs no second look. */
  allSelected: boolean;
}

/** A group's expiry and stable opt_type code when its statistics give one of each and no null key; else null. */
function pureKey(stats: RowGroupKeyStats): { expiry: number; opt: number } | null {
  return stats.keyNullFree &&
    stats.expiry &&
    stats.expiry[0] === stats.expiry[1] &&
    stats.opt &&
    stats.opt[0] === stats.opt[1]
    ? { expiry: stats.expiry[0], opt: stableOptCode(stats.opt[0]) }
    : null;
}

/**
 * The windows of row groups `gs` (see SelectedWindow; null: nothing in the group is selected), from
 * one read of their key columns (~1/6 of a 7-column decode) — only `strike` when every group has one
 * expiry and one opt_type. One read for the part: each read call costs ~0.5 ms on its own, several
 * times that on two busy cores (measured). Reading only the windows of the other columns then saves
 * their decode outside them.
 */
async function selectedWindows(
  source: ParquetFileSource,
  gs: number[],
  stats: readonly RowGroupKeyStats[],
  sel: SegmentSelector,
  arena: KeyArena,
): Promise<Map<number, SelectedWindow | null>> {
  const out = new Map<number, SelectedWindow | null>();
  if (gs.length === 0) return out;
  const pure = gs.map((g) => pureKey(stats[g]));
  const read = pure.every((p) => p !== null) ? ["strike"] : [...KEY_COLUMNS];
  return withColumnViews(source, read, { rowGroups: gs }, (batches) => {
    // One batch per row group is what reads ask for; were it not so, the groups are run whole.
    if (batches.length !== gs.length || batches.some((b, k) => b.length !== source.rowGroupRows[gs[k]])) {
      for (const g of gs) out.set(g, { start: 0, end: source.rowGroupRows[g], keys: null, allSelected: false });
      return out;
    }
    const strikeAt = read.indexOf("strike");
    // Each group's window, and how to copy its keys out of these views (after the arena is sized).
    const found = batches.map((b, k): (StrikeWindow & { copyKeys: () => KeyRunColumns }) | null => {
      const p = pure[k];
      if (p) {
        const strike = typed(b.columns[strikeAt], Float32Array, source.path, "strike");
        // One expiry and one opt_type: a row's selection is its strike's, inside the band the filters give them.
        const band = sel.strikeBand(p.expiry, p.opt);
        const w =
          band === "all" ? { start: 0, end: strike.length, runs: 1 } : band && strikeWindow(strike, band[0], band[1]);
        return w && { ...w, copyKeys: () => arena.constant(p.expiry, p.opt, strike, w.start, w.end) };
      }
      const keys = keyBatch(b, KEY_COLUMNS, source.path);
      const ranges = selectedRanges(keys, sel);
      if (ranges.length === 0) return null;
      const [start, end] = [ranges[0][0], ranges[ranges.length - 1][1]];
      return { start, end, runs: ranges.length, copyKeys: () => arena.copy(keys, start, end) };
    });
    arena.reset(found.reduce((a, w) => a + (w ? w.end - w.start : 0), 0));
    found.forEach((w, k) => {
      out.set(gs[k], w && { start: w.start, end: w.end, allSelected: w.runs === 1, keys: w.copyKeys() });
    });
    return out;
  });
}

/** opt_type's codes in a batch as the stable codes the cache keeps. */
export function stableOptCodes(batch: KeyRunColumns): Int32Array {
  const out = new Int32Array(batch.length);
  const map = batch.optMap;
  for (let i = 0; i < batch.length; i++) out[i] = map[batch.opt[i]] ?? OPT_OTHER;
  return out;
}

/** How a partition run reads: through the column cache or not, and what to await before decoding Parquet. */
export interface ReadSettings {
  cache: CacheSettings | null;
  /** Resolves once parquet-wasm may be used (a warm run never waits for it). */
  beforeDecode?: () => Promise<void>;
  /** The run's slice filters with the partition's day and underlying as its path says them (null: unfiltered). */
  filter?: PartitionFilter | null;
}

/** A partition's filters: the run's, and what its path says of its day and underlying (null: the path does not say). */
export interface PartitionFilter {
  filters: BenchFilters;
  date: IsoDate | null;
  underlying: string | null;
}

/** What a partition run read: the projected columns and the row groups run or skipped. */
export interface PartitionRead {
  columns: string[];
  rowGroupsRead: number;
  rowGroupsSkipped: number;
}

/** Footer columns the filters look at: the key's statistics, the series flag, and the day and underlying of a partition whose path does not say them. */
const FILTER_STATS_COLUMNS = ["expiry", "opt_type", "strike", "is_weekly", "date", "underlying"];

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

/** Rows [s, e) of a driver batch, as views (bitmaps copied where not byte-aligned). */
function sliceBatch(b: KernelBatch, s: number, e: number): KernelBatch {
  const n = e - s;
  return {
    length: n,
    expiry: b.expiry.subarray(s, e),
    expiryValid: sliceBits(b.expiryValid, s, n),
    opt: b.opt.subarray(s, e),
    optValid: sliceBits(b.optValid, s, n),
    optMap: b.optMap,
    strike: b.strike.subarray(s, e),
    strikeValid: sliceBits(b.strikeValid, s, n),
    columns: b.columns.map((c) => ({ values: c.values.subarray(s, e), valid: sliceBits(c.valid, s, n) })),
    ts: b.ts ? b.ts.subarray(s, e) : null,
    quotes: b.quotes
      ? {
          bid: b.quotes.bid.subarray(s, e),
          bidValid: sliceBits(b.quotes.bidValid, s, n),
          ask: b.quotes.ask.subarray(s, e),
          askValid: sliceBits(b.quotes.askValid, s, n),
        }
      : null,
  };
}

/** Rows [s, e) of a batch of column views (the cache's whole-part views narrowed to row groups). */
function sliceViews(v: ColumnViews, s: number, e: number): ColumnViews {
  const n = e - s;
  return {
    length: n,
    columns: v.columns.map((c) => {
      const validity = sliceBits(c.validity, s, n);
      return {
        ...c,
        length: n,
        nullCount: validity ? -1 : 0,
        validity,
        values: c.values ? c.values.subarray(s, e) : null,
        strings: c.strings ? c.strings.slice(s, e) : null,
      };
    }),
  };
}

/**
 * Runs the selected segments of batches through the kernel. Rows left out between two runs end the
 * segment going on (they belong to other keys, so an unfiltered run ends it there too): otherwise
 * two runs of one key around a dropped stretch (an unsorted file) would join into one segment.
 */
class SegmentCutter {
  private gap = false;
  constructor(
    private readonly run: KernelRun,
    private readonly sel: SegmentSelector | null,
  ) {}

  /** Rows were skipped without being looked at (a row group ruled out by its statistics). */
  skipped(): void {
    this.gap = true;
  }

  /** Runs a batch whose rows are all selected (known from its keys already). */
  feedSelected(kb: KernelBatch): void {
    this.flushGap();
    this.run.run(kb);
  }

  /** Runs a batch's selected rows. */
  feed(kb: KernelBatch): void {
    if (!this.sel) {
      this.flushGap();
      this.run.run(kb);
      return;
    }
    let cursor = 0;
    for (const [s, e] of selectedRanges(kb, this.sel)) {
      if (s > cursor) this.gap = true;
      this.flushGap();
      this.run.run(s === 0 && e === kb.length ? kb : sliceBatch(kb, s, e));
      cursor = e;
    }
    if (cursor < kb.length) this.gap = true;
  }

  private flushGap(): void {
    // tpd_flush ends the current segment (a no-op without one); the next row starts a new one.
    if (this.gap) this.run.endPartition();
    this.gap = false;
  }
}

/** What a partition's footers say under the run's filters: per part its row groups' key statistics and which may hold a selected segment. */
export interface FilteredReadPlan {
  /** Nothing in the partition can be selected (its day or underlying, or every row group, rules it out). */
  nothing: boolean;
  /** Row groups in the footers read. */
  groups: number;
  /** The key filters' selector (null: no key filter). */
  sel: SegmentSelector | null;
  /**
   * Per part: its row groups' key statistics, which may hold a selected segment (`wanted`), and which
   * the statistics show to be wholly selected (`whole`: no row's key need be looked at); null where
   * its footer could not be read (it is read whole).
   */
  parts: ({ keys: RowGroupKeyStats[]; wanted: boolean[]; whole: boolean[] } | null)[];
}

/**
 * Which row groups of a partition's parts may hold a selected segment, from their footers alone
 * (read through the open descriptors when given). A footer that cannot be read is left to the
 * decode, which names the problem: that part counts as wanted whole.
 */
export function planFilteredRead(
  parts: readonly { path: string; fd?: number }[],
  filter: PartitionFilter,
): FilteredReadPlan {
  const footers = parts.map(({ path, fd }): FooterStats | null => {
    try {
      return readFooterStats(path, FILTER_STATS_COLUMNS, fd);
    } catch {
      return null;
    }
  });
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
  const planned = footers.map((f) => {
    if (!f) return null;
    const keys = f.rowGroups.map(keyStats);
    // A part our writer sorted says so in its footer: its row groups are then also bounded by their neighbours.
    const bounds = f.keyValue.get("tickpack.sort") === PACKED_SORT_ORDER ? sortedKeyBounds(keys) : null;
    return {
      keys,
      wanted: keys.map((k, g) => (sel ? sel.sortedGroupMayHold(k, bounds?.[g] ?? null) : true)),
      whole: keys.map((k) => (sel ? sel.rowGroupAllSelected(k) : true)),
    };
  });
  const nothing = planned.every((p) => p !== null && !p.wanted.some(Boolean));
  return { nothing, groups: all.length, sel, parts: planned };
}

/**
 * Runs a partition's parts, in order, through the kernel as one sequence; returns the columns read
 * and the row groups run and skipped. The parts are opened together as one snapshot: a repack
 * committing meanwhile is seen whole or not at all. With a cache, a part whose columns are all
 * cached is served from the cache files; any other part is decoded and its missing columns are
 * written on the way (only when every row group of it is read: a cache file holds a whole part).
 * With filters, a row group whose footer statistics rule out every selected segment is not read
 * (nor its cached pages touched), and inside the groups read only selected segments' rows are run.
 */
export async function runPartition(
  parts: string[],
  run: KernelRun,
  kernel: LoadedKernel,
  extras: ReadExtras,
  settings: ReadSettings,
  stats: CacheStats,
): Promise<PartitionRead> {
  const columns = projectedColumns(kernel, extras);
  const snapshot = openPartitionSnapshot(parts);
  const filter = settings.filter ?? null;
  const counts: PartitionRead = { columns, rowGroupsRead: 0, rowGroupsSkipped: 0 };
  try {
    // Without filters no footer is parsed (a 64-column footer costs ~13% of a warm run): row groups
    // are counted from the cache's headers or from the decode.
    const plan = filter ? planFilteredRead(snapshot.parts, filter) : null;
    if (plan?.nothing) {
      counts.rowGroupsSkipped = plan.groups;
      return counts;
    }
    const sel = plan?.sel ?? null;
    const cutter = new SegmentCutter(run, sel);
    const arena = new KeyArena();
    for (const [p, { path, fd }] of snapshot.parts.entries()) {
      // The footer's row groups (their key statistics), and which to read; null: no filter, or no footer.
      const groups = plan?.parts[p]?.keys ?? null;
      const wanted = plan?.parts[p]?.wanted ?? null;
      const whole = plan?.parts[p]?.whole ?? null;
      const nRead = wanted ? wanted.filter(Boolean).length : -1;
      if (groups && wanted) {
        counts.rowGroupsRead += nRead;
        counts.rowGroupsSkipped += groups.length - nRead;
      }
      if (nRead === 0) {
        cutter.skipped();
        continue;
      }
      const cache = settings.cache ? new PartCache(path, fd, settings.cache, columns, stats) : null;
      try {
        if (cache?.complete(columns)) {
          const views = cache.views(columns);
          const starts = [0];
          for (const g of groups ?? []) starts.push(starts[starts.length - 1] + g.rows);
          if (!groups || !wanted || nRead === groups.length || starts[groups.length] !== views.length) {
            if (!groups) counts.rowGroupsRead += cache.rowGroupCount();
            cutter.feed(kernelBatch(views, columns, path, kernel, extras));
            continue;
          }
          // Consecutive wanted row groups as one slice of the mapping: skipped ones are never touched.
          for (let g = 0; g < groups.length; ) {
            if (!wanted[g]) {
              cutter.skipped();
              g++;
              continue;
            }
            let h = g;
            while (h < groups.length && wanted[h]) h++;
            cutter.feed(kernelBatch(sliceViews(views, starts[g], starts[h]), columns, path, kernel, extras));
            g = h;
          }
          continue;
        }
        await settings.beforeDecode?.();
        const source = await openParquetFile(path, fd).catch((e: Error) => {
          throw new StrategyInputError(`${path}: ${e.message}`);
        });
        // A cache file holds a whole part: a part read in part is not cached (an unfiltered run fills it).
        const fill = cache && (nRead < 0 || nRead === source.rowGroupRows.length) ? cache : null;
        if (cache && !fill) stats.misses += columns.length;
        if (!groups) counts.rowGroupsRead += source.rowGroupRows.length;
        try {
          const present = new Map(source.columns.map((f) => [f.name, f]));
          const missing = columns.filter((c) => !present.has(c));
          if (missing.length > 0)
            throw new StrategyInputError(
              `${path}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
            );
          fill?.startFill(
            columns.map((c) => present.get(c)!),
            source.numRows,
            source.rowGroupRows,
          );
          // The groups the statistics cannot show to be wholly selected: their keys first (one read), then
          // the other columns of only the window that holds their selected segments (unless the cache
          // needs every row).
          const partial =
            sel && groups && wanted && whole && !fill
              ? groups.map((_, g) => g).filter((g) => wanted[g] && !whole[g])
              : [];
          const windows =
            sel && groups
              ? await selectedWindows(source, partial, groups, sel, arena)
              : new Map<number, SelectedWindow | null>();
          // A window's keys come from its first read: the second reads only the kernel's columns (and timestamps).
          const valueColumns = columns.filter(
            (c) => !(KEY_COLUMNS as readonly string[]).includes(c) || kernel.columns.includes(c),
          );
          for (let g = 0; g < source.rowGroupRows.length; g++) {
            if (wanted && !wanted[g]) {
              cutter.skipped();
              continue;
            }
            // Skipping rows is not free (the last row alone of the 4 value columns costs ~1/3 of the
            // whole group, measured), but always cheaper than decoding them.
            const rows = source.rowGroupRows[g];
            const win = windows.get(g);
            if (win === null) {
              cutter.skipped();
              continue;
            }
            const winKeys = win?.keys;
            if (win && winKeys) {
              if (win.start > 0) cutter.skipped();
              const window = { rowGroups: [g], offset: win.start, limit: win.end - win.start };
              await withColumnViews(source, valueColumns, window, (batches) => {
                if (batches.length !== 1 || batches[0].length !== winKeys.length)
                  throw new StrategyInputError(
                    `${path}: row group ${g}: a read of rows ${win.start}..${win.end} returned ${batches.map((b) => b.length).join("+")} rows`,
                  );
                const kb = withValues(winKeys, batches[0], valueColumns, path, kernel, extras);
                if (win.allSelected) cutter.feedSelected(kb);
                else cutter.feed(kb);
              });
              if (win.end < rows) cutter.skipped();
              continue;
            }
            // A group the statistics show to be wholly selected needs no look at its rows' keys.
            await withColumnViews(source, columns, { rowGroups: [g] }, (batches) => {
              for (const b of batches) {
                const kb = kernelBatch(b, columns, path, kernel, extras);
                // Cached before the kernel runs: a kernel that writes through its pointers changes only this batch.
                fill?.append(b, columns, () => stableOptCodes(kb));
                if (whole?.[g]) cutter.feedSelected(kb);
                else cutter.feed(kb);
              }
            });
          }
          fill?.commitFill();
        } catch (e) {
          fill?.abortFill();
          throw e;
        } finally {
          closeParquetFile(source);
        }
      } finally {
        // The kernel keeps no pointer into a batch once it has run it (state and trades are copies).
        cache?.release();
      }
    }
  } finally {
    snapshot.close();
  }
  run.endPartition();
  return counts;
}
