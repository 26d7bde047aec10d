/**
 * The statistics of a run's parameter sets (SPEC §7): `days`, `sharpe`, `max_drawdown`,
 * `profit_factor` and `win_rate`, from each set's daily net series and its positions' nets.
 *
 * Fed partition by partition, in any order of days: memory is one number per set and day (the daily
 * net) and four running sums per set (its positions); no position is kept.
 */
import type { IsoDate } from "../ist-time.ts";
import type { Rupees } from "./rupees.ts";

/** Trading days a year: the usual factor that annualises a daily Sharpe ratio. */
export const TRADING_DAYS_PER_YEAR = 252;

/** The statistics of one parameter set, as JSON writes them. */
export interface SetStatistics {
  /** Trading days of the run: every distinct partition date, with or without trades. */
  days: number;
  /**
   * Mean daily net ÷ its sample standard deviation (n − 1) × √252, with no risk-free rate and no
   * capital base (a ratio of ₹ to ₹). Null with fewer than 2 days or when every day's net is the same.
   */
  sharpe: number | null;
  /** The largest fall of the cumulative daily net from its running peak, the peak starting at 0 (₹, ≥ 0). */
  max_drawdown: Rupees;
  /**
   * Σ net of winning positions ÷ |Σ net of losing positions|: 0 with losers and no winners; null
   * without a losing position (no positions, or only winners and flat ones: the ratio has no finite value).
   */
  profit_factor: number | null;
  /** Positions with net > 0 ÷ positions; null without positions. */
  win_rate: number | null;
}

/**
 * Statistics of `sets` parameter sets accumulated as partitions finish: `addPartition` for every
 * partition the run reads, with its trades (a day without trades still counts, at 0) — or
 * `addDay` and `addPosition` (a chain kernel's position: the sum of its legs' nets) — then
 * `statisticsOf` or `allStatistics`.
 */
export class RunStatistics {
  /** Index of each day seen in `dailyNet`, in the order first seen. */
  private readonly dayIndex = new Map<IsoDate, number>();
  /** Per day, per set: the net of the set's positions that day (₹). */
  private readonly dailyNet: Float64Array[] = [];
  private readonly positions: Float64Array;
  private readonly wins: Float64Array;
  private readonly profit: Float64Array;
  private readonly loss: Float64Array;

  constructor(readonly sets: number) {
    if (!Number.isInteger(sets) || sets < 1) throw new RangeError(`sets must be an integer ≥ 1, got ${sets}`);
    this.positions = new Float64Array(sets);
    this.wins = new Float64Array(sets);
    this.profit = new Float64Array(sets);
    this.loss = new Float64Array(sets);
  }

  /** Counts `date` as a trading day of the run (again: no change). Days sort by their text: `YYYY-MM-DD` is chronological. */
  addDay(date: IsoDate): void {
    this.dayOf(date);
  }

  /** One position of `set`, its net (₹) booked on `date` (its partition's date; the day counts too). */
  addPosition(set: number, date: IsoDate, net: Rupees): void {
    this.checkSet(set);
    if (!Number.isFinite(net)) throw new RangeError(`a position's net must be finite, got ${net}`);
    this.dailyNet[this.dayOf(date)][set] += net;
    this.positions[set]++;
    if (net > 0) {
      this.wins[set]++;
      this.profit[set] += net;
    } else if (net < 0) this.loss[set] -= net;
  }

  /**
   * Many positions of `set` at once, booked on `date`: their count, how many won, the sums of the
   * winners' and the losers' nets (≤ 0), and their total net (as a worker tallies a partition's).
   */
  addPositions(
    set: number,
    date: IsoDate,
    t: { net: Rupees; positions: number; wins: number; winNet: Rupees; lossNet: Rupees },
  ): void {
    this.checkSet(set);
    if (!Number.isFinite(t.net)) throw new RangeError(`positions' net must be finite, got ${t.net}`);
    this.dailyNet[this.dayOf(date)][set] += t.net;
    this.positions[set] += t.positions;
    this.wins[set] += t.wins;
    this.profit[set] += t.winNet;
    this.loss[set] -= t.lossNet;
  }

  /**
   * One partition's trades as the trade log has them: its date (a day of the run even without trades)
   * and per row its set and net (₹); with `position` (a chain kernel's legs), the legs of one
   * position of a set are summed into that position's net first.
   */
  addPartition(
    date: IsoDate,
    rows: { set: ArrayLike<number>; net: ArrayLike<Rupees>; position?: ArrayLike<number> },
  ): void {
    this.addDay(date);
    const { set, net, position } = rows;
    if (!position) {
      for (let i = 0; i < net.length; i++) this.addPosition(set[i], date, net[i]);
      return;
    }
    // Positions are numbered per partition and set; their legs need not be adjacent.
    const positions = new Map<number, Map<number, Rupees>>();
    for (let i = 0; i < net.length; i++) {
      let ofSet = positions.get(set[i]);
      if (!ofSet) positions.set(set[i], (ofSet = new Map()));
      ofSet.set(position[i], (ofSet.get(position[i]) ?? 0) + net[i]);
    }
    for (const [s, ofSet] of positions)
      for (const positionNet of ofSet.values()) this.addPosition(s, date, positionNet);
  }

  /** The trading days seen so far, in date order. */
  days(): IsoDate[] {
    return [...this.dayIndex.keys()].sort();
  }

  /** Set `set`'s daily net series (₹), one value per day of `days()`, in date order. */
  dailyNetOf(set: number): Float64Array {
    this.checkSet(set);
    return this.seriesOf(set, this.dayOrder());
  }

  /** Set `set`'s statistics over the days and positions seen so far. */
  statisticsOf(set: number): SetStatistics {
    this.checkSet(set);
    return this.statisticsIn(set, this.dayOrder());
  }

  /** Every set's statistics, in set order. */
  allStatistics(): SetStatistics[] {
    const order = this.dayOrder();
    return Array.from({ length: this.sets }, (_, set) => this.statisticsIn(set, order));
  }

  private statisticsIn(set: number, order: number[]): SetStatistics {
    const positions = this.positions[set];
    return {
      ...seriesStatistics(this.seriesOf(set, order)),
      profit_factor: this.loss[set] > 0 ? this.profit[set] / this.loss[set] : null,
      win_rate: positions > 0 ? this.wins[set] / positions : null,
    };
  }

  /** Indices into dailyNet in date order. */
  private dayOrder(): number[] {
    return this.days().map((d) => this.dayIndex.get(d)!);
  }

  private seriesOf(set: number, order: number[]): Float64Array {
    return Float64Array.from(order, (i) => this.dailyNet[i][set]);
  }

  private checkSet(set: number): void {
    if (!(Number.isInteger(set) && set >= 0 && set < this.sets)) throw new RangeError(`no set ${set}`);
  }

  private dayOf(date: IsoDate): number {
    let i = this.dayIndex.get(date);
    if (i === undefined) {
      i = this.dailyNet.length;
      this.dayIndex.set(date, i);
      this.dailyNet.push(new Float64Array(this.sets));
    }
    return i;
  }
}

/** `days`, `sharpe` and `max_drawdown` of a daily net series in date order (see SetStatistics). */
export function seriesStatistics(daily: ArrayLike<Rupees>): Pick<SetStatistics, "days" | "sharpe" | "max_drawdown"> {
  const n = daily.length;
  let sum = 0;
  let allEqual = true;
  // Equity starts at 0 before the first day: a loss on day one is a drawdown from that 0.
  let cumulative = 0;
  let peak = 0;
  let maxDrawdown = 0;
  for (let i = 0; i < n; i++) {
    sum += daily[i];
    if (daily[i] !== daily[0]) allEqual = false;
    cumulative += daily[i];
    if (cumulative > peak) peak = cumulative;
    else if (peak - cumulative > maxDrawdown) maxDrawdown = peak - cumulative;
  }
  let sharpe: number | null = null;
  // All days equal is a zero deviation, even where (x − mean)² would leave rounding noise (0.1 × 3 days).
  if (n >= 2 && !allEqual) {
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (daily[i] - mean) ** 2;
    const deviation = Math.sqrt(squares / (n - 1));
    sharpe = deviation > 0 ? (mean / deviation) * Math.sqrt(TRADING_DAYS_PER_YEAR) : null;
  }
  return { days: n, sharpe, max_drawdown: maxDrawdown };
}
