/** The columns of raw per-contract files (docs/formats.md#raw-input), with the kinds they are packed as. */
import type { ColumnKind, ColumnSpec } from "../parquet/column-batch.ts";

const spec = (kind: ColumnKind, ...names: string[]): ColumnSpec[] => names.map((name) => ({ name, kind }));
const levels = (prefix: string) => [0, 1, 2, 3, 4].map((i) => `${prefix}${i}`);

/** The 52 raw columns in docs/formats.md's order, with the kinds they are packed as (narrowed). */
export const RAW_COLUMNS: readonly ColumnSpec[] = [
  ...spec("ts_ns", "timestamp", "lastTradeTime"),
  ...spec("dict", "symbol", "opt_type"),
  ...spec("i64", "token"),
  ...spec("f64", "price", "avgPrice", "open", "high", "low", "close", "changeper"),
  ...spec("i64", "qty", "volume", "totBuyQty", "totSellQty", "oi", "oiHigh", "oiLow"),
  ...spec("f64", ...levels("bp"), ...levels("sp")),
  ...spec("i64", ...levels("bq"), ...levels("sq"), ...levels("bo"), ...levels("so")),
  ...spec("f32", "strike"),
  ...spec("i16", "year", "month"),
];

/** Raw columns without which a file is rejected. */
export const REQUIRED_RAW_COLUMNS: readonly string[] = ["timestamp", "price", "volume", "bp0", "sp0"];
