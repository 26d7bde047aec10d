/**
 * The ema_cross kernel: its TinyCC binding (state arrays, column pointer block) and a plain
 * TypeScript reference implementation of SPEC §4, written for clarity, that tests hold it to.
 */
import { cc, dlopen, ptr } from "bun:ffi";
import { join } from "node:path";

/** Strategy parameters (SPEC §4). */
export interface EmaCrossParams {
  fast: number;
  slow: number;
  /** Largest spread as a fraction of mid (0.0005 = 5 bp). */
  max_spread: number;
  min_volume: number;
}

export const DEFAULT_PARAMS: EmaCrossParams = { fast: 5, slow: 21, max_spread: 0.0005, min_volume: 1 };

/** Slots of the double state array (keep in step with ema_cross.c). */
export const ST = {
  ALPHA_F: 0, ALPHA_S: 1, MAX_SPREAD: 2, MIN_VOLUME: 3, HAS_SEG: 4, SEG_EXPIRY: 5, SEG_OPT: 6, SEG_STRIKE: 7,
  SEEN_VALID: 8, EMA_F: 9, EMA_S: 10, POS: 11, ENTRY: 12, LAST_PRICE: 13, ROWS: 14, VALID_ROWS: 15, TRADES: 16, PNL: 17,
  TRADE_COUNT: 18, TRADE_CAP: 19, SIZE: 20,
} as const;
/** Slots of the column pointer block. */
export const COL = {
  EXPIRY: 0, EXPIRY_VALID: 1, OPT: 2, OPT_VALID: 3, OPT_MAP: 4, STRIKE: 5, STRIKE_VALID: 6, PRICE: 7, PRICE_VALID: 8,
  BP0: 9, BP0_VALID: 10, SP0: 11, SP0_VALID: 12, VOLUME: 13, VOLUME_VALID: 14, TS: 15, TRADE_TS: 16, TRADE_PX: 17, SIZE: 18,
} as const;

/** Stable opt_type codes the kernel compares (dictionary codes differ per batch). */
export function stableOptCode(s: string | null): number {
  return s === "CE" ? 0 : s === "PE" ? 1 : 2;
}

/** One batch of the 7 strategy columns: values plus Arrow validity bitmaps (null = no nulls). */
export interface StrategyBatch {
  length: number;
  expiry: Int32Array;
  expiryValid: Uint8Array | null;
  /** Dictionary codes of opt_type and the batch's code → stable-code map. */
  opt: Int32Array;
  optValid: Uint8Array | null;
  optMap: Int32Array;
  strike: Float32Array;
  strikeValid: Uint8Array | null;
  price: Float64Array;
  priceValid: Uint8Array | null;
  bp0: Float64Array;
  bp0Valid: Uint8Array | null;
  sp0: Float64Array;
  sp0Valid: Uint8Array | null;
  volume: BigInt64Array;
  volumeValid: Uint8Array | null;
  /** Epoch ns, needed only for a trade log. */
  ts: BigInt64Array | null;
}

/** A closed trade, in the segment's key. */
export interface Trade {
  expiry: number;
  optCode: number;
  strike: number;
  entryTs: bigint;
  exitTs: bigint;
  entryPrice: number;
  exitPrice: number;
}

/** Totals of a run. */
export interface StrategyTotals {
  rows: number;
  validRows: number;
  trades: number;
  pnl: number;
}

/** Path of the kernel's C source. */
export const EMA_CROSS_SOURCE = join(import.meta.dir, "ema_cross.c");

const SYMBOLS = {
  ema_cross_run: { args: ["ptr", "ptr", "ptr", "i64", "i64"], returns: "i64" },
  ema_cross_flush: { args: ["ptr", "ptr", "ptr"], returns: "void" },
} as const;

/** The kernel compiled by TinyCC (bun:ffi `cc`), as the product runs it. */
export function compileEmaCross() {
  return cc({ source: EMA_CROSS_SOURCE, symbols: SYMBOLS }).symbols;
}

/** The kernel's functions, however they were built. */
export type EmaCrossSymbols = ReturnType<typeof compileEmaCross>;

/** The same kernel from a shared library built elsewhere (e.g. `gcc -O2 -shared`), for comparisons. */
export function loadEmaCrossLibrary(path: string): EmaCrossSymbols {
  return dlopen(path, SYMBOLS).symbols as unknown as EmaCrossSymbols;
}

/** Compiled once per thread: TinyCC compiles in milliseconds, but not per partition. */
let compiled: EmaCrossSymbols | null = null;

const addr = (a: Uint8Array | Int32Array | Float32Array | Float64Array | BigInt64Array | null): bigint => (a && a.byteLength > 0 ? BigInt(ptr(a)) : 0n);

/** A running ema_cross over a sequence of partitions, backed by the TinyCC kernel (compiled once per thread). */
export class EmaCrossKernel {
  readonly st = new Float64Array(ST.SIZE);
  readonly sti = new BigInt64Array(2);
  private readonly cols = new BigUint64Array(COL.SIZE);
  private readonly tradeTs: BigInt64Array | null;
  private readonly tradePx: Float64Array | null;
  private readonly trades: Trade[] = [];

  private readonly kernel: EmaCrossSymbols;

  /** `tradeLogCapacity` > 0 keeps every trade (and requires `ts` in batches); `symbols` defaults to the TinyCC build. */
  constructor(params: EmaCrossParams, tradeLogCapacity = 0, symbols?: EmaCrossSymbols) {
    this.kernel = symbols ?? (compiled ??= compileEmaCross());
    this.st[ST.ALPHA_F] = 2 / (params.fast + 1);
    this.st[ST.ALPHA_S] = 2 / (params.slow + 1);
    this.st[ST.MAX_SPREAD] = params.max_spread;
    this.st[ST.MIN_VOLUME] = params.min_volume;
    this.st[ST.TRADE_CAP] = tradeLogCapacity;
    this.tradeTs = tradeLogCapacity > 0 ? new BigInt64Array(2 * tradeLogCapacity) : null;
    this.tradePx = tradeLogCapacity > 0 ? new Float64Array(5 * tradeLogCapacity) : null;
    this.cols[COL.TRADE_TS] = addr(this.tradeTs);
    this.cols[COL.TRADE_PX] = addr(this.tradePx);
  }

  /** Runs one batch; a segment continues from the previous batch when its key is unchanged. */
  run(b: StrategyBatch): void {
    if (b.length === 0) return;
    const c = this.cols;
    c[COL.EXPIRY] = addr(b.expiry);
    c[COL.EXPIRY_VALID] = addr(b.expiryValid);
    c[COL.OPT] = addr(b.opt);
    c[COL.OPT_VALID] = addr(b.optValid);
    c[COL.OPT_MAP] = addr(b.optMap);
    c[COL.STRIKE] = addr(b.strike);
    c[COL.STRIKE_VALID] = addr(b.strikeValid);
    c[COL.PRICE] = addr(b.price);
    c[COL.PRICE_VALID] = addr(b.priceValid);
    c[COL.BP0] = addr(b.bp0);
    c[COL.BP0_VALID] = addr(b.bp0Valid);
    c[COL.SP0] = addr(b.sp0);
    c[COL.SP0_VALID] = addr(b.sp0Valid);
    c[COL.VOLUME] = addr(b.volume);
    c[COL.VOLUME_VALID] = addr(b.volumeValid);
    c[COL.TS] = addr(b.ts);
    let next = 0;
    while (next < b.length) {
      next = Number(this.kernel.ema_cross_run(ptr(this.st), ptr(this.sti), ptr(this.cols), next, b.length));
      this.drainTrades();
    }
  }

  /** Ends the partition: its last segment closes here. */
  endPartition(): void {
    this.drainTrades(); // room for the closing trade
    this.kernel.ema_cross_flush(ptr(this.st), ptr(this.sti), ptr(this.cols));
    this.drainTrades();
  }

  /** Totals so far. */
  totals(): StrategyTotals {
    return { rows: this.st[ST.ROWS], validRows: this.st[ST.VALID_ROWS], trades: this.st[ST.TRADES], pnl: this.st[ST.PNL] };
  }

  /** Trades closed so far (with a trade log), handed over once. */
  takeTrades(): Trade[] {
    return this.trades.splice(0);
  }

  private drainTrades(): void {
    const n = this.st[ST.TRADE_COUNT];
    if (!this.tradeTs || n === 0) return;
    for (let k = 0; k < n; k++) {
      const px = this.tradePx!;
      this.trades.push({ entryTs: this.tradeTs[2 * k], exitTs: this.tradeTs[2 * k + 1], entryPrice: px[5 * k], exitPrice: px[5 * k + 1], expiry: px[5 * k + 2], optCode: px[5 * k + 3], strike: px[5 * k + 4] });
    }
    this.st[ST.TRADE_COUNT] = 0;
  }
}

/** One row for the reference implementation (nulls as null). */
export interface ReferenceRow {
  expiry: number | null;
  optType: string | null;
  strike: number | null;
  price: number | null;
  bp0: number | null;
  sp0: number | null;
  volume: number | null;
  ts?: bigint;
}

/** SPEC §4 over whole partitions (each an array of rows), for clarity rather than speed. */
export function emaCrossReference(partitions: ReferenceRow[][], params: EmaCrossParams): StrategyTotals & { tradeList: Trade[] } {
  const af = 2 / (params.fast + 1);
  const as = 2 / (params.slow + 1);
  const out = { rows: 0, validRows: 0, trades: 0, pnl: 0, tradeList: [] as Trade[] };
  for (const rows of partitions) {
    // Split into segments: maximal runs of equal (expiry, opt_type, strike).
    let i = 0;
    while (i < rows.length) {
      let j = i;
      const same = (a: ReferenceRow, b: ReferenceRow) => a.expiry === b.expiry && a.optType === b.optType && (a.strike === b.strike || (a.strike === null && b.strike === null));
      while (j < rows.length && same(rows[i], rows[j])) j++;
      out.rows += j - i;
      let emaF = 0, emaS = 0, seen = false, long = false, entry = 0, entryTs = 0n, last = 0, lastTs = 0n;
      const close = (price: number, ts: bigint) => {
        out.pnl += price - entry;
        out.tradeList.push({ expiry: rows[i].expiry ?? -1e300, optCode: rows[i].optType === null ? -1e300 : stableOptCode(rows[i].optType), strike: rows[i].strike ?? -1e300, entryTs, exitTs: ts, entryPrice: entry, exitPrice: price });
        long = false;
      };
      for (let k = i; k < j; k++) {
        const r = rows[k];
        if (r.price === null || !(r.price > 0)) continue;
        out.validRows++;
        const p = r.price;
        const ts = r.ts ?? 0n;
        if (!seen) {
          seen = true;
          emaF = emaS = p;
        } else {
          emaF = af * p + (1 - af) * emaF;
          emaS = as * p + (1 - as) * emaS;
          const spreadOk = r.bp0 !== null && r.sp0 !== null && r.bp0 > 0 && r.sp0 > 0 && (r.sp0 - r.bp0) / ((r.sp0 + r.bp0) / 2) <= params.max_spread;
          const volumeOk = r.volume !== null && r.volume >= params.min_volume;
          if (!long && emaF > emaS && spreadOk && volumeOk) {
            long = true;
            entry = p;
            entryTs = ts;
            out.trades++;
          } else if (long && emaS >= emaF) close(p, ts);
        }
        last = p;
        lastTs = ts;
      }
      if (long) close(last, lastTs);
      i = j;
    }
  }
  return out;
}
