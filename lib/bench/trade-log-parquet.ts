/** bench's trade log as Parquet: trades as Arrow record batches, streamed through parquet-wasm row group by row group. */
import * as arrow from "apache-arrow";
import { ParquetStreamWriter } from "../parquet/io.ts";
import type { TradeBlock } from "./bench.ts";
import { isNullKey } from "../../kernel/segment-key.ts";
import { parseIsoDate, type EpochDays } from "../ist-time.ts";
import {
  type ExtraColumn,
  extraColumns,
  keyText,
  roundedTo9Decimals,
  type TRADE_COLUMNS,
  type TradeLogShape,
} from "./trade-row.ts";

const ROW_GROUP = 100_000;

/** Trades encoded as Parquet, row group by row group as blocks come (see ParquetStreamWriter). */
export class ParquetTradeEncoder {
  private readonly writer: ParquetStreamWriter;
  private rows = 0;

  private readonly extras: ExtraColumn[];

  /** Starts the file; its bytes go to `write` in order; a chain kernel's leg columns and money's too, as `shape` says. */
  constructor(write: (bytes: Uint8Array) => void, shape: TradeLogShape = { legs: false, money: false }) {
    this.extras = extraColumns(shape);
    this.writer = new ParquetStreamWriter(write, {
      rowGroupSize: ROW_GROUP,
      metadata: new Map([["tickpack.content", "bench trades"]]),
    });
  }

  /** Encodes one partition's trades, a row group at a time. */
  async append(b: TradeBlock): Promise<void> {
    for (let start = 0; start < b.length; start += ROW_GROUP)
      await this.push(b, start, Math.min(b.length, start + ROW_GROUP));
  }

  private async push(b: TradeBlock, start: number, end: number): Promise<void> {
    const n = end - start;
    const keys = Array.from({ length: n }, (_, i) => keyText(b, start + i));
    const text = (values: (string | null)[]) => arrow.vectorFromArray(values, new arrow.Utf8()).data[0];
    // This row group's values of a whole-block column.
    const f64 = (a: Float64Array, value: (x: number) => number) =>
      arrow.makeData({ type: new arrow.Float64(), length: n, data: a.slice(start, end).map(value) });
    const ts = (a: BigInt64Array) =>
      arrow.makeData({ type: new arrow.TimestampNanosecond("UTC"), length: n, data: a.slice(start, end) } as never);
    const partitionDay = epochDaysOrNull(b.date);
    const strikes = Float64Array.from(keys, (k) => k.strike ?? 0);
    const strikeNulls = keys.some((k) => k.strike === null);
    const children: Record<(typeof TRADE_COLUMNS)[number], arrow.Data> = {
      set: arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from(b.set.subarray(start, end)) }),
      date: dates(n, () => partitionDay),
      underlying: text(new Array(n).fill(b.underlying)),
      expiry: dates(n, (i) => (isNullKey(b.expiry[start + i]) ? null : b.expiry[start + i])),
      opt_type: text(keys.map((k) => k.opt)),
      strike: strikeNulls
        ? arrow.vectorFromArray(
            keys.map((k) => k.strike),
            new arrow.Float64(),
          ).data[0]
        : arrow.makeData({ type: new arrow.Float64(), length: n, data: strikes }),
      entry_time: ts(b.entryTs),
      exit_time: ts(b.exitTs),
      entry_price: f64(b.entryPrice, roundedTo9Decimals),
      exit_price: f64(b.exitPrice, roundedTo9Decimals),
      pnl: f64(b.pnl, roundedTo9Decimals),
    };
    // A chain kernel's legs, money: typed as they are (integers, text, numbers; ₹ rounded as prices).
    const extra: Record<string, arrow.Data> = {};
    for (const c of this.extras) {
      const values = Array.from({ length: n }, (_, i) => c.value(b, start + i));
      if (c.kind === "text") extra[c.name] = text(values as string[]);
      else if (c.kind === "int")
        extra[c.name] = arrow.makeData({
          type: new arrow.Int32(),
          length: n,
          data: Int32Array.from(values as number[]),
        });
      else {
        const a = Float64Array.from(values as number[]);
        extra[c.name] = arrow.makeData({
          type: new arrow.Float64(),
          length: n,
          data: c.kind === "rupees" ? a.map(roundedTo9Decimals) : a,
        });
      }
    }
    Object.assign(children, extra);
    this.rows += n;
    await this.writer.write(new arrow.RecordBatch(children as never));
  }

  /** Writes the footer (an empty log is still a Parquet file with the trade columns). */
  async finish(): Promise<void> {
    if (this.rows === 0) await this.push(EMPTY_BLOCK, 0, 0);
    await this.writer.end();
  }
}

/** A partition's date as DATE (days since 1970-01-01); null for a partition outside a date folder. */
function epochDaysOrNull(date: string): EpochDays | null {
  try {
    return parseIsoDate(date);
  } catch {
    return null;
  }
}

/** A DATE column of `n` values: days since 1970-01-01, or null. */
function dates(n: number, dayAt: (i: number) => EpochDays | null): arrow.Data {
  const values = new Int32Array(n);
  let valid: Uint8Array | undefined;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const day = dayAt(i);
    if (day !== null) {
      values[i] = day;
      continue;
    }
    valid ??= new Uint8Array((n + 7) >> 3).fill(0xff);
    valid[i >> 3] &= ~(1 << (i & 7));
    nulls++;
  }
  return arrow.makeData({ type: new arrow.DateDay(), length: n, data: values, nullBitmap: valid, nullCount: nulls });
}

const EMPTY_BLOCK: TradeBlock = {
  length: 0,
  date: "",
  underlying: "",
  set: new Float64Array(0),
  expiry: new Float64Array(0),
  optCode: new Float64Array(0),
  strike: new Float64Array(0),
  entryTs: new BigInt64Array(0),
  exitTs: new BigInt64Array(0),
  entryPrice: new Float64Array(0),
  exitPrice: new Float64Array(0),
  pnl: new Float64Array(0),
};
