/**
 * bench's side of the column cache: a part's columns served from their cache files (memory-mapped,
 * no decode, no copy), or decoded and written to them while the kernel runs over the decode.
 */
import {
  ColumnFileProblem,
  ColumnFileWriter,
  elementBytes,
  mapColumnFile,
  type MappedColumn,
  type PartKey,
} from "./column-file.ts";
import { partKey } from "./part-key.ts";
import { columnFilePath, dropColumnFile, ensureEntryDir, entryDir, touchEntry } from "./store.ts";
import type { CColumn, CField } from "../parquet/c-data.ts";
import type { ColumnViews } from "../parquet/source.ts";
import { errorMessage } from "../error-message.ts";
import { OPT_CODE_NAMES } from "../packed/opt-type.ts";
import type { CacheSettings, CacheStats } from "./cache-stats.ts";

// opt_type is cached as stable codes (lib/packed/opt-type.ts): its "dictionary" maps code k back to them.

/** A part's cache: the columns found in it, and how to fill the rest. */
export class PartCache {
  readonly key: PartKey;
  readonly entry: string;
  readonly mapped = new Map<string, MappedColumn>();
  private writers = new Map<string, ColumnFileWriter>();

  /** Looks up every column of the part at `path` (open as `fd`); bad files are dropped and counted. */
  constructor(
    path: string,
    fd: number,
    private readonly settings: CacheSettings,
    columns: readonly string[],
    private readonly stats: CacheStats,
  ) {
    this.key = partKey(path, fd);
    this.entry = entryDir(settings.dir, this.key);
    for (const column of columns) {
      const file = columnFilePath(this.entry, column);
      try {
        this.mapped.set(column, mapColumnFile(file, this.key, column, settings.verifyAll));
      } catch (e) {
        if (!(e instanceof ColumnFileProblem)) throw e;
        if (e.unreadable) continue;
        if (dropColumnFile(file)) stats.dropped++;
        else stats.errors.push(`${file}: ${e.message}, and it cannot be removed`);
      }
    }
    if (this.mapped.size === columns.length) touchEntry(this.entry);
  }

  /** Row groups of the part, as its cached columns record them (0 when none is mapped). */
  rowGroupCount(): number {
    for (const m of this.mapped.values()) return m.header.rowGroupRows.length;
    return 0;
  }

  /** Whether every column asked for is served from the cache. */
  complete(columns: readonly string[]): boolean {
    return columns.every((c) => this.mapped.has(c));
  }

  /** The cached columns as one batch of views over the whole part (in `columns` order). */
  views(columns: readonly string[]): ColumnViews {
    const first = this.mapped.get(columns[0])!;
    this.stats.hits += columns.length;
    return {
      length: first.header.rows,
      columns: columns.map((name): CColumn => {
        const m = this.mapped.get(name)!;
        const field: CField = {
          name,
          format: m.header.type,
          dictionaryFormat: m.header.encoding === "opt-code" ? "u" : null,
        };
        return {
          field,
          length: m.header.rows,
          nullCount: m.header.nullCount,
          validity: m.validity,
          values: m.values,
          dictionary: m.header.encoding === "opt-code" ? [...OPT_CODE_NAMES] : null,
          strings: null,
        };
      }),
    };
  }

  /** Starts writing the columns not cached yet (of a part with `rows` rows, given their formats); a failure only disables the fill. */
  startFill(columns: readonly CField[], rows: number, rowGroupRows: number[]): void {
    this.stats.misses += columns.length;
    const wanted = columns.filter((c) => !this.mapped.has(c.name));
    try {
      if (wanted.some((c) => elementBytes(c.format) === null)) return; // a format the cache does not hold: decode every run
      ensureEntryDir(this.entry);
      for (const c of wanted) {
        const opt = c.name === "opt_type";
        this.writers.set(
          c.name,
          new ColumnFileWriter(
            columnFilePath(this.entry, c.name),
            this.key,
            c.name,
            opt ? "i" : c.format,
            opt ? "opt-code" : "plain",
            rows,
            rowGroupRows,
          ),
        );
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Appends a decoded batch to the files being filled; `stableOpt` gives opt_type's codes as the cache keeps them. */
  append(batch: ColumnViews, columns: readonly string[], stableOpt: () => Int32Array): void {
    if (this.writers.size === 0) return;
    try {
      columns.forEach((name, k) => {
        const w = this.writers.get(name);
        if (!w) return;
        const c = batch.columns[k];
        w.append(name === "opt_type" ? stableOpt() : c.values!, c.validity, batch.length);
      });
    } catch (e) {
      this.fail(e);
    }
  }

  /** Commits every file being filled. */
  commitFill(): void {
    try {
      for (const w of this.writers.values()) this.stats.bytesWritten += w.commit();
      this.writers.clear();
      touchEntry(this.entry);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Unmaps the cached columns: no view of them may be used after. */
  release(): void {
    for (const m of this.mapped.values()) m.unmap();
    this.mapped.clear();
  }

  /** Abandons the fill (the part failed, or the cache could not be written). */
  abortFill(): void {
    for (const w of this.writers.values()) w.abort();
    this.writers.clear();
  }

  private fail(e: unknown): void {
    this.abortFill();
    this.stats.errors.push(`${this.settings.dir}: ${errorMessage(e)}`);
  }
}
