/** bench's trade log as Parquet: trades as Arrow record batches, streamed through parquet-wasm row group by row group. */
import * as arrow from "apache-arrow";
import { ParquetStreamWriter } from "../parquet/io.ts";
import type { TradeBlock } from "./bench.ts";
import { keyText, sideOf, type LEG_COLUMNS, type TRADE_COLUMNS } from "./trade-row.ts";

const ROW_GROUP = 100_000;

/** Trades encoded as Parquet, row group by row group as blocks come (see ParquetStreamWriter). */
export class ParquetTradeEncoder {
  private readonly writer: ParquetStreamWriter;
  private rows = 0;

  /** Starts the file; its bytes go to `write` in order; with `legs`, a chain kernel's leg columns too. */
  constructor(
    write: (bytes: Uint8Array) => void,
    private readonly legs = false,
  ) {
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
    const f64 = (a: Float64Array) =>
      arrow.makeData({ type: new arrow.Float64(), length: n, data: a.slice(start, end) });
    const ts = (a: BigInt64Array) =>
      arrow.makeData({ type: new arrow.TimestampNanosecond("UTC"), length: n, data: a.slice(start, end) } as never);
    const strikes = Float64Array.from(keys, (k) => k.strike ?? 0);
    const strikeNulls = keys.some((k) => k.strike === null);
    const children: Record<(typeof TRADE_COLUMNS)[number], arrow.Data> = {
      set: arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from(b.set.subarray(start, end)) }),
      date: text(new Array(n).fill(b.date)),
      underlying: text(new Array(n).fill(b.underlying)),
      expiry: text(keys.map((k) => k.expiry)),
      opt_type: text(keys.map((k) => k.opt)),
      strike: strikeNulls
        ? arrow.vectorFromArray(
            keys.map((k) => k.strike),
            new arrow.Float64(),
          ).data[0]
        : arrow.makeData({ type: new arrow.Float64(), length: n, data: strikes }),
      entry_time: ts(b.entryTs),
      exit_time: ts(b.exitTs),
      entry_price: f64(b.entryPrice),
      exit_price: f64(b.exitPrice),
      pnl: f64(b.pnl),
    };
    if (this.legs) {
      const l = b.legs ?? EMPTY_LEGS;
      const i32 = (a: Float64Array) =>
        arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from(a.subarray(start, end)) });
      const legChildren: Record<(typeof LEG_COLUMNS)[number], arrow.Data> = {
        position: i32(l.position),
        leg: i32(l.leg),
        side: text(Array.from(l.lots.subarray(start, end), sideOf)),
        lots: f64(Float64Array.from(l.lots, Math.abs)),
      };
      Object.assign(children, legChildren);
    }
    this.rows += n;
    await this.writer.write(new arrow.RecordBatch(children as never));
  }

  /** Writes the footer (an empty log is still a Parquet file with the trade columns). */
  async finish(): Promise<void> {
    if (this.rows === 0) await this.push(EMPTY_BLOCK, 0, 0);
    await this.writer.end();
  }
}

const EMPTY_LEGS = { position: new Float64Array(0), leg: new Float64Array(0), lots: new Float64Array(0) };

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
