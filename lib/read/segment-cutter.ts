import type { KernelBatch } from "../../kernel/kernel-batch.ts";
import type { KernelRun } from "../../kernel/strategy-kernel.ts";
import { selectedRanges, type SegmentSelector } from "./filters.ts";
import { sliceBits } from "../parquet/c-data.ts";

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
    ts: b.ts && !b.tsCodes && !b.tsRuns ? b.ts.subarray(s, e) : b.ts,
    tsCodes: b.tsCodes ? b.tsCodes.subarray(s, e) : null,
    tsRuns: b.tsRuns ?? null,
    tsRow0: (b.tsRow0 ?? 0) + s,
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

/**
 * Runs the selected segments of batches through the kernel. Rows left out between two runs end the
 * segment going on (they belong to other keys, so an unfiltered run ends it there too): otherwise
 * two runs of one key around a dropped stretch (an unsorted file) would join into one segment.
 */
export class SegmentCutter {
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
