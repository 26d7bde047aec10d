/** Writing bench trades to CSV or Parquet (chosen by the file extension). */
import * as arrow from "apache-arrow";
import { writeFileAtomic } from "../atomic-file.ts";
import type { TradeRow } from "./bench.ts";
import { encodeArrowColumns } from "../parquet/io.ts";

const COLUMNS = ["set", "date", "underlying", "expiry", "opt_type", "strike", "entry_time", "exit_time", "entry_price", "exit_price", "pnl"] as const;

/** ISO-8601 UTC text of an epoch-ns instant, with nanoseconds. */
function isoNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${String(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).padStart(9, "0")}Z`;
}

/** Writes trades to `path`: `.parquet` → Parquet (times as TIMESTAMP(ns, UTC)), anything else → CSV. */
export function writeTrades(path: string, trades: TradeRow[]): void {
  if (/\.parquet$/i.test(path)) {
    const n = trades.length;
    const strings = (f: (t: TradeRow) => string) => arrow.vectorFromArray(trades.map(f), new arrow.Utf8()).data[0];
    const f64 = (f: (t: TradeRow) => number) => arrow.makeData({ type: new arrow.Float64(), length: n, data: Float64Array.from(trades, f) });
    const ts = (f: (t: TradeRow) => bigint) => arrow.makeData({ type: new arrow.TimestampNanosecond("UTC"), length: n, data: BigInt64Array.from(trades, f) } as never);
    const bytes = encodeArrowColumns(
      {
        set: arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from(trades, (t) => t.set) }),
        date: strings((t) => t.date), underlying: strings((t) => t.underlying), expiry: strings((t) => t.expiry), opt_type: strings((t) => t.opt_type),
        strike: f64((t) => t.strike), entry_time: ts((t) => t.entry_time), exit_time: ts((t) => t.exit_time),
        entry_price: f64((t) => t.entry_price), exit_price: f64((t) => t.exit_price), pnl: f64((t) => t.pnl),
      },
      { rowGroupSize: 100_000, metadata: new Map([["tickpack.content", "bench trades"]]) },
    );
    writeFileAtomic(path, bytes);
    return;
  }
  const lines = [COLUMNS.join(",")];
  for (const t of trades) {
    lines.push([t.set, t.date, t.underlying, t.expiry, t.opt_type, t.strike, isoNs(t.entry_time), isoNs(t.exit_time), t.entry_price, t.exit_price, t.pnl].join(","));
  }
  writeFileAtomic(path, new TextEncoder().encode(lines.join("\n") + "\n"));
}
