import type { KeyRunColumns } from "./key-scan.ts";
import { sliceBits } from "../parquet/c-data.ts";

/**
 * The keys of one part's windows, copied into buffers reused from part to part (a fresh allocation
 * per row group cost ~6× the copy, in page faults): valid until the next `reset`.
 */
export class KeyArena {
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
