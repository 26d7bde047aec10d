/**
 * bench's trade log (`--trades FILE`): CSV, or Parquet by extension, written as partitions finish
 * (bounded memory: one partition's trades at a time) into a temp file beside FILE that is renamed
 * into place only when the run succeeded.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { createFailure, fsyncDir, outputPathProblem, tempPathFor } from "../atomic-file.ts";
import type { TradeBlock } from "./bench.ts";
import type { ParquetTradeEncoder } from "./trade-log-parquet.ts";
import { formatIstInstant } from "../ist-time.ts";
import {
  decimalText,
  type ExtraColumn,
  extraColumns,
  keyText,
  TRADE_COLUMNS,
  type TradeLogShape,
} from "./trade-row.ts";

/** A trade log path that cannot be written (exit 2, before the run). */
export class TradeLogError extends Error {}

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

/** A trade log being written: append partitions' trades in order, then commit (rename into place) or abort. */
export interface TradeLog {
  /** The temp file the log is written to until commit. */
  readonly tempPath: string;
  append(block: TradeBlock): Promise<void>;
  commit(): Promise<void>;
  /** Removes the temp file (a failed or interrupted run); safe to call more than once. */
  abort(): void;
}

/** What a trade log holds beyond the trade columns. */
export interface TradeLogOptions {
  /** A chain kernel's: the leg columns (LEG_COLUMNS) too. */
  legs?: boolean;
  /** With money (SPEC §7): each trade's position, side, lots, lot size and ₹ gross, costs, net. */
  money?: boolean;
}

/** Opens a trade log for `path` (`.parquet` → Parquet, else CSV): creates its temp file now, so a path that cannot be written fails before the run. */
export function openTradeLog(path: string, options: TradeLogOptions = {}): TradeLog {
  const problem = outputPathProblem(path);
  if (problem) throw new TradeLogError(`${path}: ${problem}`);
  const tempPath = tempPathFor(resolve(path));
  let fd: number;
  try {
    fd = openSync(tempPath, "wx");
  } catch (e) {
    throw new TradeLogError(`${path}: ${createFailure(dirname(tempPath), e)}`);
  }
  const shape = { legs: options.legs === true, money: options.money === true };
  return /\.parquet$/i.test(path)
    ? new ParquetTradeLog(path, tempPath, fd, shape)
    : new CsvTradeLog(path, tempPath, fd, shape);
}

/** What both formats share: the temp file, its commit and its removal. */
abstract class FileTradeLog implements TradeLog {
  private open = true;
  constructor(
    protected readonly path: string,
    readonly tempPath: string,
    protected readonly fd: number,
    protected readonly shape: TradeLogShape,
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

  private readonly extras: ExtraColumn[];

  constructor(path: string, tempPath: string, fd: number, shape: TradeLogShape) {
    super(path, tempPath, fd, shape);
    this.extras = extraColumns(shape);
    this.write(this.encoder.encode(`${[...TRADE_COLUMNS, ...this.extras.map((c) => c.name)].join(",")}\n`));
  }

  /** Trade t's extra columns as CSV text (₹ rounded as prices are). */
  private extraText(b: TradeBlock, t: number): string {
    let text = "";
    for (const c of this.extras) {
      const v = c.value(b, t);
      text += `,${typeof v === "string" ? csvField(v) : c.kind === "rupees" ? decimalText(v) : String(v)}`;
    }
    return text;
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
        lines.push(
          `${b.set[t]},${date},${underlying},${csvField(k.expiry)},${csvField(k.opt)},${csvField(k.strike)},${formatIstInstant(b.entryTs[t])},${formatIstInstant(b.exitTs[t])},${decimalText(b.entryPrice[t])},${decimalText(b.exitPrice[t])},${decimalText(b.pnl[t])}${this.extraText(b, t)}\n`,
        );
      }
      this.write(this.encoder.encode(lines.join("")));
    }
  }

  protected async finish(): Promise<void> {}
}

/**
 * Parquet, row group by row group as blocks come. The encoder (apache-arrow, parquet-wasm: ~90 ms of
 * imports) is loaded on the first block, so a run without a Parquet trade log never pays for it.
 */
class ParquetTradeLog extends FileTradeLog {
  private encoder: Promise<ParquetTradeEncoder> | null = null;

  private loadEncoder(): Promise<ParquetTradeEncoder> {
    return (this.encoder ??= import("./trade-log-parquet.ts").then(
      (m) => new m.ParquetTradeEncoder((bytes) => this.write(bytes), this.shape),
    ));
  }

  async append(b: TradeBlock): Promise<void> {
    await (await this.loadEncoder()).append(b);
  }

  protected async finish(): Promise<void> {
    await (await this.loadEncoder()).finish();
  }
}

/** The temp files a killed bench process (by pid) may have left for `path`'s trade log. */
export function tradeLogTempPrefix(path: string, pid: number): { dir: string; prefix: string } {
  return { dir: dirname(resolve(path)), prefix: `.${basename(resolve(path))}.tmp-${pid}-` };
}
