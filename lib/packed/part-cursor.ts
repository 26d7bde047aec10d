/**
 * Reads a packed partition's parts contract by contract: one row group decoded at a time, each
 * contract's rows handed out as one run (they are contiguous in a sorted partition), optionally only
 * the contracts in a key range (a worker's share of a partition: row groups wholly outside it are
 * skipped after decoding just their key columns).
 */
import type { ColumnBatch } from "../parquet/column-batch.ts";
import { closeParquet, openParquet, type ParquetSource } from "../parquet/io.ts";
import { compareContractKeys, rowKeyReader, type ContractKey } from "./contract-key.ts";
import { ExtraColumnsError, extraColumnsOf, readPackedGroup } from "./reader.ts";
import { PACKED_COLUMNS } from "./schema.ts";
import { sliceBatch } from "./part-writer.ts";

/** The parts are not contract-major (a hand-made or foreign file): build the partition the whole-partition way. */
export class UnsortedPartitionError extends Error {}

/** A part that could not be read, named. */
export class PartReadError extends Error {
  constructor(
    readonly part: string,
    message: string,
  ) {
    super(message);
  }
}

/** Keys from `lo` (inclusive) to `hi` (exclusive); null is unbounded. */
export interface KeyRange {
  lo: ContractKey | null;
  hi: ContractKey | null;
}

const KEY_COLUMNS = ["expiry", "opt_type", "strike"];

const KEY_SPECS = PACKED_COLUMNS.filter((c) => KEY_COLUMNS.includes(c.name));

/** Contract-by-contract reader of a partition's parts (in part order). */
export class PartCursor {
  private part = -1;
  private source: ParquetSource | null = null;
  private group = 0;
  private batch: ColumnBatch | null = null;
  private keys: ReturnType<typeof rowKeyReader> | null = null;
  private at = 0;
  private last: ContractKey | null = null;
  private ended = false;
  /** Rows handed out. */
  rows = 0;

  private constructor(
    private readonly parts: string[],
    private readonly range: KeyRange,
  ) {}

  /** Opens a cursor; throws ExtraColumnsError (as PartReadError) for a part with columns tickpack does not write. */
  static async open(parts: string[], range: KeyRange = { lo: null, hi: null }): Promise<PartCursor> {
    for (const part of parts) {
      let source: ParquetSource;
      try {
        source = await openParquet(part);
      } catch (e) {
        throw new PartReadError(part, `existing packed file cannot be read, left in place: ${(e as Error).message}`);
      }
      try {
        const extra = extraColumnsOf(source);
        if (extra.length)
          throw new PartReadError(
            part,
            `existing packed file ${new ExtraColumnsError(`has columns tickpack does not write (${extra.join(", ")}): rewriting it would drop them, so it is left as it is`).message}`,
          );
      } finally {
        closeParquet(source);
      }
    }
    return new PartCursor(parts, range);
  }

  private inRange(key: ContractKey): -1 | 0 | 1 {
    if (this.range.lo && compareContractKeys(key, this.range.lo) < 0) return -1;
    if (this.range.hi && compareContractKeys(key, this.range.hi) >= 0) return 1;
    return 0;
  }

  /** Decodes the next row group that may hold rows in range; false at the end. */
  private async load(): Promise<boolean> {
    for (;;) {
      if (this.ended) return false;
      if (!this.source || this.group >= this.source.rowGroupRows.length) {
        if (this.source) closeParquet(this.source);
        this.source = null;
        if (++this.part >= this.parts.length) {
          this.ended = true;
          return false;
        }
        const path = this.parts[this.part];
        this.source = await this.guard(() => openParquet(path));
        this.group = 0;
        continue;
      }
      const g = this.group++;
      const source = this.source;
      if (this.range.lo || this.range.hi) {
        // Key columns first: a group wholly before the range is skipped, one wholly after ends the walk.
        const keys = await this.guard(() => readPackedGroup(source, g, KEY_SPECS));
        if (keys.length === 0) continue;
        const r = rowKeyReader(keys);
        if (this.inRange(r.key(0)) === 1) {
          this.ended = true;
          return false;
        }
        if (this.inRange(r.key(keys.length - 1)) === -1) continue;
      }
      const batch = await this.guard(() => readPackedGroup(source, g));
      if (batch.length === 0) continue;
      this.batch = batch;
      this.keys = rowKeyReader(batch);
      this.at = 0;
      return true;
    }
  }

  private async guard<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      throw new PartReadError(
        this.parts[this.part],
        `existing packed file cannot be read, left in place: ${(e as Error).message}`,
      );
    }
  }

  /** The key of the next contract in range, or null when there is none. */
  async peek(): Promise<ContractKey | null> {
    for (;;) {
      if (!this.batch || this.at >= this.batch.length) {
        if (!(await this.load())) return null;
      }
      const key = this.keys!.key(this.at);
      const where = this.inRange(key);
      if (where === 0) return key;
      if (where === 1) {
        this.ended = true;
        this.batch = null;
        return null;
      }
      // Before the range: skip this contract's rows in this group.
      const k0 = this.at;
      while (this.at < this.batch!.length && this.keys!.same(this.at, k0)) this.at++;
    }
  }

  /** Every row of the next contract (peek's key), as slices of the row groups it spans; throws UnsortedPartitionError when the parts are not contract-major. */
  async take(): Promise<ColumnBatch[]> {
    const key = await this.peek();
    if (!key) return [];
    if (this.last && compareContractKeys(key, this.last) <= 0)
      throw new UnsortedPartitionError(`${this.parts[this.part]}: contracts are not in packed order`);
    this.last = key;
    const out: ColumnBatch[] = [];
    for (;;) {
      const batch = this.batch!;
      const start = this.at;
      while (this.at < batch.length && this.keys!.same(this.at, start)) this.at++;
      out.push(sliceBatch(batch, start, this.at));
      this.rows += this.at - start;
      if (this.at < batch.length) return out;
      // The contract may go on in the next row group (or part).
      const next = await this.peek();
      if (!next || compareContractKeys(next, key) !== 0) return out;
    }
  }

  /** Releases the open part. */
  close(): void {
    if (this.source) closeParquet(this.source);
    this.source = null;
  }
}
