/**
 * PnL summed into time bins whose width doubles whenever the run's span would need more than a fixed
 * number of them: an equity curve of any length in bounded memory, exact at every bin's end.
 */

/** Seconds since 1970-01-01T00:00:00Z (a chart's x). */
export type EpochSeconds = number;

/** The first bin width tried: one minute, doubled as the span grows. */
const START_WIDTH_S = 60;

/** Per-series sums over bins of one shared, growing width; series are added as they appear. */
export class TimeBins {
  /** Width of a bin in seconds (a power-of-two multiple of a minute). */
  widthS = START_WIDTH_S;
  /** Absolute index (floor(t / widthS)) of the first bin held; NaN until the first value. */
  private lo = NaN;
  private hi = NaN;
  private readonly series: Float64Array[] = [];

  /** `maxBins`: the most bins any series holds (its memory is 8 × maxBins bytes). */
  constructor(readonly maxBins: number) {
    if (!(maxBins >= 2) || !Number.isInteger(maxBins))
      throw new Error(`maxBins: expected an integer >= 2, got ${maxBins}`);
  }

  /** Index of a new, empty series. */
  addSeries(): number {
    this.series.push(new Float64Array(this.maxBins));
    return this.series.length - 1;
  }

  /**
   * Widens the bins, before any value, so that `spanS` seconds fit in them: a run that knows its span
   * up front (its days) then never coarsens (coarsening is a pass over every bin of every series). The
   * width stays a power-of-two multiple of a minute; values outside the span still coarsen as needed.
   */
  fitSpan(spanS: number): void {
    if (!Number.isNaN(this.lo) || !(spanS > 0)) return;
    // A span that starts inside a bin touches one more bin than it covers.
    while (Math.ceil(spanS / this.widthS) + 1 > this.maxBins) this.widthS *= 2;
  }

  /** Makes room for instants `fromS`..`toS` (coarsening if the span needs it); call before `add` for them. */
  cover(fromS: EpochSeconds, toS: EpochSeconds): void {
    if (!(fromS <= toS)) return;
    let lo = Number.isNaN(this.lo)
      ? Math.floor(fromS / this.widthS)
      : Math.min(this.lo, Math.floor(fromS / this.widthS));
    let hi = Number.isNaN(this.hi) ? Math.floor(toS / this.widthS) : Math.max(this.hi, Math.floor(toS / this.widthS));
    if (Number.isNaN(this.lo)) {
      this.lo = lo;
      this.hi = lo;
    }
    while (hi - lo + 1 > this.maxBins) {
      this.coarsen();
      lo = Math.min(this.lo, Math.floor(fromS / this.widthS));
      hi = Math.max(this.hi, Math.floor(toS / this.widthS));
    }
    if (lo < this.lo) {
      // Earlier than anything held (partitions need not arrive in time order): shift right.
      const by = this.lo - lo;
      for (const s of this.series) {
        s.copyWithin(by, 0, this.maxBins - by);
        s.fill(0, 0, by);
      }
      this.lo = lo;
    }
    this.hi = Math.max(this.hi, hi);
  }

  /**
   * A series' bin array and the absolute index of its first element, for a hot loop that adds values
   * itself (`array[floor(t / widthS) - first] += v`); valid until the next `cover`.
   */
  raw(series: number): { array: Float64Array; first: number } {
    return { array: this.series[series], first: this.lo };
  }

  /** Adds `value` to `series` at instant `tS`, which an earlier `cover` included. */
  add(series: number, tS: EpochSeconds, value: number): void {
    this.series[series][Math.floor(tS / this.widthS) - this.lo] += value;
  }

  /** Doubles the width: pairs of bins merge (sums stay exact). */
  private coarsen(): void {
    const newLo = Math.floor(this.lo / 2);
    const newHi = Math.floor(this.hi / 2);
    for (const s of this.series) {
      const out = new Float64Array(this.maxBins);
      for (let b = this.lo; b <= this.hi; b++) out[Math.floor(b / 2) - newLo] += s[b - this.lo];
      s.set(out);
    }
    this.lo = newLo;
    this.hi = newHi;
    this.widthS *= 2;
  }

  /** Number of bins in use (0 before any value). */
  get length(): number {
    return Number.isNaN(this.lo) ? 0 : this.hi - this.lo + 1;
  }

  /** End instant of bin `k` of those in use (a cumulative sum there is exact). */
  binEnd(k: number): EpochSeconds {
    return (this.lo + k + 1) * this.widthS;
  }

  /** A series' per-bin sums over the bins in use. */
  sums(series: number): Float64Array {
    return this.series[series].slice(0, this.length);
  }
}
