/**
 * bench's trade log (`--trades FILE`): CSV, or Parquet by extension, written as partitions finish
 * (bounded memory: one partition's trades at a time) into a temp file beside FILE that is renamed
 * into place only when the run succeeded.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import * as arrow from "apache-arrow";
import { isNullKey } from "../../kernel/strategy-kernel.ts";
import { fsyncDir, tempPathFor } from "../atomic-file.ts";
import { errorMessage } from "../error-message.ts";
import { formatEpochDays } from "../ist-time.ts";
import { ParquetStreamWriter } from "../parquet/io.ts";
import type { TradeBlock } from "./bench.ts";

const COLUMNS = ["set", "date", "underlying", "expiry", "opt_type", "strike", "entry_time", "exit_time", "entry_price", "exit_price", "pnl"] as const;
const OPT_NAMES = ["CE", "PE", "?"];

/** A trade log path that cannot be written (exit 2, before the run). */
export class TradeLogError extends Error {}

/** Why `path` cannot take a trade log (a folder, a missing or read-only parent), or null when it can. */
export function tradeLogPathProblem(path: string): string | null {
  if (path === "") return "empty path";
  if (/[\\/]$/.test(path) || (existsSync(path) && statSync(path).isDirectory())) return "is a folder";
  const parent = dirname(resolve(path));
  if (!existsSync(parent)) return `folder ${parent} does not exist`;
  if (!statSync(parent).isDirectory()) return `${parent} is not a folder`;
  return null;
}

/** ISO-8601 UTC text of an epoch-ns instant, with nanoseconds. */
function isoNs(ns: bigint): string {
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${String(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).padStart(9, "0")}Z`;
}

/**
 * One CSV field: numbers as they are; text quoted per RFC 4180 when it holds a comma, quote or line
 * break, and prefixed with `'` when it starts with = + - @ (or a tab / carriage return), so that a
 * spreadsheet never runs it as a formula (an underlying is a folder name: anyone can choose it).
 */
export function csvField(v: string | number | null): string {
  if (v === null) return "";
  if (typeof v === "number") return String(v);
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A trade's key columns as text (null where the segment key was null). */
function keyText(b: TradeBlock, t: number): { expiry: string | null; opt: string | null; strike: number | null } {
  return {
    expiry: isNullKey(b.expiry[t]) ? null : formatEpochDays(b.expiry[t]),
    opt: isNullKey(b.optCode[t]) ? null : (OPT_NAMES[b.optCode[t]] ?? "?"),
    strike: isNullKey(b.strike[t]) ? null : b.strike[t],
  };
}

/** A trade log being written: append partitions' trades in order, then commit (rename into place) or abort. */
export interface TradeLog {
  /** The temp file the log is written to until commit. */
  readonly tempPath: string;
  append(block: TradeBlock): Promise<void>;
  commit(): Promise<void>;
  /** Removes the temp file (a failed or interrupted run); safe to call more than once. */
  abort(): void;
}

/** Opens a trade log for `path` (`.parquet` → Parquet, else CSV): creates its temp file now, so a path that cannot be written fails before the run. */
export function openTradeLog(path: string): TradeLog {
  const problem = tradeLogPathProblem(path);
  if (problem) throw new TradeLogError(`${path}: ${problem}`);
  const tempPath = tempPathFor(resolve(path));
  let fd: number;
  try {
    fd = openSync(tempPath, "wx");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "EACCES" || code === "EPERM" || code === "EROFS" ? `cannot write in folder ${dirname(tempPath)} (${code})` : errorMessage(e);
    throw new TradeLogError(`${path}: ${reason}`);
  }
  return /\.parquet$/i.test(path) ? new ParquetTradeLog(path, tempPath, fd) : new CsvTradeLog(path, tempPath, fd);
}

/** What both formats share: the temp file, its commit and its removal. */
abstract class FileTradeLog implements TradeLog {
  private open = true;
  constructor(
    protected readonly path: string,
    readonly tempPath: string,
    protected readonly fd: number,
  ) {}

  abstract append(block: TradeBlock): Promise<void>;
  protected abstract finish(): Promise<void>;

  protected write(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }

  async commit(): Promise<void> {
    await this.finish();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.open = false;
    renameSync(this.tempPath, this.path);
    fsyncDir(dirname(resolve(this.path)));
  }

  abort(): void {
    if (this.open) {
      this.open = false;
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    rmSync(this.tempPath, { force: true });
  }
}

class CsvTradeLog extends FileTradeLog {
  private readonly encoder = new TextEncoder();

  constructor(path: string, tempPath: string, fd: number) {
    super(path, tempPath, fd);
    this.write(this.encoder.encode(COLUMNS.join(",") + "\n"));
  }

  async append(b: TradeBlock): Promise<void> {
    const date = csvField(b.date);
    const underlying = csvField(b.underlying);
    // ~64k rows of text at a time: bounded, and few write calls.
    const CHUNK = 65_536;
    for (let start = 0; start < b.length; start += CHUNK) {
      const lines: string[] = [];
      for (let t = start; t < Math.min(b.length, start + CHUNK); t++) {
        const k = keyText(b, t);
        lines.push(`${b.set[t]},${date},${underlying},${csvField(k.expiry)},${csvField(k.opt)},${csvField(k.strike)},${isoNs(b.entryTs[t])},${isoNs(b.exitTs[t])},${b.entryPrice[t]},${b.exitPrice[t]},${b.pnl[t]}\n`);
      }
      this.write(this.encoder.encode(lines.join("")));
    }
  }

  protected async finish(): Promise<void> {}
}

const ROW_GROUP = 100_000;

/** Parquet written row group by row group as blocks come (see ParquetStreamWriter). */
class ParquetTradeLog extends FileTradeLog {
  private readonly writer: ParquetStreamWriter;
  private rows = 0;

  constructor(path: string, tempPath: string, fd: number) {
    super(path, tempPath, fd);
    this.writer = new ParquetStreamWriter((bytes) => this.write(bytes), { rowGroupSize: ROW_GROUP, metadata: new Map([["tickpack.content", "bench trades"]]) });
  }

  async append(b: TradeBlock): Promise<void> {
    for (let start = 0; start < b.length; start += ROW_GROUP) await this.push(b, start, Math.min(b.length, start + ROW_GROUP));
  }

  private async push(b: TradeBlock, start: number, end: number): Promise<void> {
    const n = end - start;
    const keys = Array.from({ length: n }, (_, i) => keyText(b, start + i));
    const text = (values: (string | null)[]) => arrow.vectorFromArray(values, new arrow.Utf8()).data[0];
    const f64 = (a: Float64Array) => arrow.makeData({ type: new arrow.Float64(), length: n, data: a.slice(start, end) });
    const ts = (a: BigInt64Array) => arrow.makeData({ type: new arrow.TimestampNanosecond("UTC"), length: n, data: a.slice(start, end) } as never);
    const strikes = Float64Array.from(keys, (k) => k.strike ?? 0);
    const strikeNulls = keys.some((k) => k.strike === null);
    const children: Record<(typeof COLUMNS)[number], arrow.Data> = {
      set: arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from(b.set.subarray(start, end)) }),
      date: text(new Array(n).fill(b.date)),
      underlying: text(new Array(n).fill(b.underlying)),
      expiry: text(keys.map((k) => k.expiry)),
      opt_type: text(keys.map((k) => k.opt)),
      strike: strikeNulls ? arrow.vectorFromArray(keys.map((k) => k.strike), new arrow.Float64()).data[0] : arrow.makeData({ type: new arrow.Float64(), length: n, data: strikes }),
      entry_time: ts(b.entryTs),
      exit_time: ts(b.exitTs),
      entry_price: f64(b.entryPrice),
      exit_price: f64(b.exitPrice),
      pnl: f64(b.pnl),
    };
    this.rows += n;
    await this.writer.write(new arrow.RecordBatch(children as never));
  }

  protected async finish(): Promise<void> {
    // An empty log is still a Parquet file with the trade columns.
    if (this.rows === 0) await this.push(EMPTY_BLOCK, 0, 0);
    await this.writer.end();
  }
}

const EMPTY_BLOCK: TradeBlock = {
  length: 0, date: "", underlying: "", set: new Float64Array(0), expiry: new Float64Array(0), optCode: new Float64Array(0), strike: new Float64Array(0),
  entryTs: new BigInt64Array(0), exitTs: new BigInt64Array(0), entryPrice: new Float64Array(0), exitPrice: new Float64Array(0), pnl: new Float64Array(0),
};

/** The temp files a killed bench process (by pid) may have left for `path`'s trade log. */
export function tradeLogTempPrefix(path: string, pid: number): { dir: string; prefix: string } {
  return { dir: dirname(resolve(path)), prefix: `.${basename(resolve(path))}.tmp-${pid}-` };
}
