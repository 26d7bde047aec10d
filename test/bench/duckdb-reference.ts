/**
 * An independent reference for bench: the packed files read by DuckDB (a second Parquet engine,
 * not bench's parquet-wasm/Arrow read path), each partition's rows in file order run through the
 * TypeScript reference of ema_cross (kernel/ema_cross.ts). Partitions are found by walking the
 * folder here, not with lib/packed/layout.ts.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { isNullKey } from "../../kernel/segment-key.ts";
import { emaCrossReference, type EmaCrossParams, type ReferenceRow } from "../../kernel/ema_cross.ts";

/** One partition as DuckDB reads it. */
export interface RefPartition {
  date: string;
  underlying: string;
  rows: ReferenceRow[];
  /** The `date` and `underlying` values found in the rows (when the files have those columns). */
  dataDates: string[];
  dataUnderlyings: string[];
  /** expiry epoch day → DuckDB's own text of that date. */
  expiryText: Map<number, string>;
}

/** A trade as text fields, like a row of `bench --trades` CSV without its set. */
export interface RefTrade {
  date: string;
  underlying: string;
  expiry: string;
  opt_type: string;
  strike: string;
  entry_ns: bigint;
  exit_ns: bigint;
  entry_price: number;
  exit_price: number;
  pnl: number;
}

let instance: DuckDBInstance | null = null;

/** A DuckDB connection on a shared in-memory instance. */
export async function duck(): Promise<DuckDBConnection> {
  instance ??= await DuckDBInstance.create(":memory:");
  return instance.connect();
}

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name.startsWith(".") || name.startsWith("_")) return [];
    return statSync(p).isDirectory() ? walk(p) : name.endsWith(".parquet") ? [p] : [];
  });
}

/** Every partition under `dir` (seed or hive layout), its parts in index order, read by DuckDB. */
export async function readReferencePartitions(dir: string): Promise<RefPartition[]> {
  const groups = new Map<string, string[]>();
  for (const file of walk(dir)) {
    const folder = relative(dir, join(file, ".."));
    groups.set(folder, [...(groups.get(folder) ?? []), file]);
  }
  const c = await duck();
  const out: RefPartition[] = [];
  for (const [folder, files] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [d, u] = folder.split(sep).map((s) => s.replace(/^(date|underlying)=/, ""));
    const index = (f: string) => Number(/-(\d+)\.parquet$/.exec(f)![1]);
    files.sort((a, b) => index(a) - index(b));
    const cols = new Set(
      (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(files[0])})`)).getRows().map((r) => String(r[0])),
    );
    const rows: ReferenceRow[] = [];
    const dataDates = new Set<string>();
    const dataUnderlyings = new Set<string>();
    const expiryText = new Map<number, string>();
    for (const file of files) {
      const sql = `SELECT datediff('day', DATE '1970-01-01', expiry) AS e, strftime(expiry, '%Y-%m-%d') AS et, opt_type, CAST(strike AS DOUBLE) AS strike,
        price, bp0, sp0, CAST(volume AS DOUBLE) AS volume, epoch_ns(timestamp) AS ts
        ${cols.has("date") ? ", strftime(date, '%Y-%m-%d') AS d" : ""}${cols.has("underlying") ? ", underlying AS u" : ""}
        FROM read_parquet(${q(file)}, file_row_number = true) ORDER BY file_row_number`;
      for (const r of (await c.runAndReadAll(sql)).getRowObjectsJS()) {
        const e = r.e === null ? null : Number(r.e);
        if (e !== null) expiryText.set(e, String(r.et));
        rows.push({
          expiry: e,
          optType: r.opt_type as string | null,
          strike: r.strike as number | null,
          price: r.price as number | null,
          bp0: r.bp0 as number | null,
          sp0: r.sp0 as number | null,
          volume: r.volume as number | null,
          ts: r.ts as bigint,
        });
        if (r.d !== undefined) dataDates.add(String(r.d));
        if (r.u !== undefined) dataUnderlyings.add(String(r.u));
      }
    }
    out.push({
      date: d,
      underlying: u,
      rows,
      dataDates: [...dataDates],
      dataUnderlyings: [...dataUnderlyings],
      expiryText,
    });
  }
  c.closeSync();
  return out;
}

/** ema_cross by the TypeScript reference over each partition: totals and every trade, in partition order. */
export function referenceRun(partitions: RefPartition[], params: EmaCrossParams) {
  let rows = 0,
    validRows = 0,
    trades = 0,
    pnl = 0;
  const tradeList: RefTrade[] = [];
  const byUnderlying: Record<string, { rows: number; trades: number; pnl: number }> = {};
  for (const p of partitions) {
    const r = emaCrossReference([p.rows], params);
    rows += r.rows;
    validRows += r.validRows;
    trades += r.trades;
    pnl += r.pnl;
    const u = (byUnderlying[p.underlying] ??= { rows: 0, trades: 0, pnl: 0 });
    u.rows += r.rows;
    u.trades += r.trades;
    u.pnl += r.pnl;
    for (const t of r.tradeList) {
      tradeList.push({
        date: p.date,
        underlying: p.underlying,
        expiry: isNullKey(t.expiry) ? "" : p.expiryText.get(t.expiry)!,
        opt_type: isNullKey(t.optCode) ? "" : (["CE", "PE"][t.optCode] ?? "?"),
        strike: isNullKey(t.strike) ? "" : String(t.strike),
        entry_ns: t.entryTs,
        exit_ns: t.exitTs,
        // As the log writes numbers: rounded to 9 decimals (a difference loses its binary noise).
        entry_price: to9Decimals(t.entryPrice),
        exit_price: to9Decimals(t.exitPrice),
        pnl: to9Decimals(t.exitPrice - t.entryPrice),
      });
    }
  }
  return { rows, validRows, trades, pnl, byUnderlying, tradeList };
}

const to9Decimals = (x: number) => Number(x.toFixed(9)) + 0;

/** Epoch ns of an IST instant as the trade log writes it: `2025-11-17T09:15:00.123456789+05:30`. */
export function isoToNs(iso: string): bigint {
  const m = /^(.{19})\.(\d{9})\+05:30$/.exec(iso);
  if (!m) throw new Error(`not an IST instant with nanoseconds: ${iso}`);
  return BigInt(Date.parse(`${m[1]}+05:30`)) * 1_000_000n + BigInt(m[2]);
}

/** Rows of a `bench --trades` CSV (plain fields: these data never need quoting) as reference trades with their set. */
export function parseTradesCsv(text: string): (RefTrade & { set: number })[] {
  const [header, ...lines] = text.trimEnd().split("\n");
  if (header !== "set,date,underlying,expiry,opt_type,strike,entry_time,exit_time,entry_price,exit_price,pnl")
    throw new Error(`unexpected header ${header}`);
  return lines.map((l) => {
    if (l.includes('"')) throw new Error(`quoted field in ${l}`);
    const f = l.split(",");
    return {
      set: Number(f[0]),
      date: f[1],
      underlying: f[2],
      expiry: f[3],
      opt_type: f[4],
      strike: f[5],
      entry_ns: isoToNs(f[6]),
      exit_ns: isoToNs(f[7]),
      entry_price: Number(f[8]),
      exit_price: Number(f[9]),
      pnl: Number(f[10]),
    };
  });
}
