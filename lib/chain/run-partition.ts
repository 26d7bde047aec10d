/**
 * A chain strategy over one partition: its parts' columns mapped from the column cache (filled
 * first on a cold run), the stream of the selected contracts, and the chain driver over it for
 * every parameter set. Results in the shape bench's per-contract tasks give.
 */
import { ChainRun, type ChainLegColumns, type LoadedChainKernel } from "../../kernel/chain-kernel.ts";
import { reportSumsReference, type ReportSums } from "../../kernel/report-sums.ts";
import type { FillRule, KernelTradeColumns, SetTotals } from "../../kernel/strategy-kernel.ts";
import { QUOTE_COLUMNS } from "../../kernel/kernel-batch.ts";
import type { CacheSettings, CacheStats } from "../cache/cache-stats.ts";
import { KEY_COLUMNS } from "../read/driver-batch.ts";
import { planPartitionRead, type PartitionFilter } from "../read/read-plan.ts";
import type { DecodeSettings } from "../read/decode-source.ts";
import type { PartsBySource } from "../read/run-partition.ts";
import { istDayOfEpochNs, istWallClockToEpochNs, parseIsoDate, type IsoDate } from "../ist-time.ts";
import { openPartitionSnapshot } from "../packed/snapshot.ts";
import { mapPartColumns } from "./part-columns.ts";
import { partitionStream, type PartitionStream } from "./partition-stream.ts";

/** 09:15 IST: the session's open, from which chain kernels count minutes. */
const OPEN_SECONDS_IST = 9 * 3600 + 15 * 60;

/** Columns a chain run reads: the key, timestamps, price, the kernel's, and --fill touch's quotes. */
export function chainColumns(kernel: LoadedChainKernel, fill: FillRule = "last"): string[] {
  const cols: string[] = [...KEY_COLUMNS, "timestamp", "price"];
  for (const c of [...kernel.columns, ...(fill === "touch" ? QUOTE_COLUMNS : [])]) if (!cols.includes(c)) cols.push(c);
  return cols;
}

/** 09:15 IST of the partition's day: its path's, else the IST day of its first instant. */
function openNsOf(day: IsoDate | null, stream: Omit<PartitionStream, "openNs">): bigint {
  let first: bigint | null = null;
  if (day === null)
    for (const r of stream.runs) {
      const p = stream.parts[r.part];
      for (let i = r.start; i < r.end; i++) {
        if (p.ts.valid && !((p.ts.valid[i >> 3] >> (i & 7)) & 1)) continue;
        if (first === null || p.ts.values[i] < first) first = p.ts.values[i];
        break;
      }
    }
  const days = day !== null ? parseIsoDate(day) : first !== null ? istDayOfEpochNs(first) : 0;
  return istWallClockToEpochNs(days, OPEN_SECONDS_IST);
}

/** The legs as trade-log columns (the key per leg, and its position, leg number and signed lots). */
export function legTradeColumns(legs: ChainLegColumns): KernelTradeColumns {
  return { ...legs, legs: { position: legs.position, leg: legs.leg, lots: legs.lots } };
}

/** What a chain partition gave (bench's task result, but for its cache statistics and money), and every leg kept. */
export interface ChainPartitionRead {
  rows: number;
  sets: SetTotals[];
  trades: KernelTradeColumns | null;
  reportSums: { sums: ReportSums; spillTrades: KernelTradeColumns | null } | null;
  columns: string[];
  rowGroupsRead: number;
  rowGroupsSkipped: number;
  partsBy: PartsBySource;
  legs: KernelTradeColumns | null;
}

/** What a chain task needs. */
export interface ChainPartitionTask {
  paramSets: number[][];
  parts: string[];
  trades: boolean;
  reportSums: boolean;
  cache: CacheSettings | null;
  filter: PartitionFilter | null;
  /** The partition's IST day as its path says it (null: taken from its first instant). */
  date: IsoDate | null;
  /** How orders fill (SPEC §7; "last" when absent). */
  fill?: FillRule;
  /** Keep every leg even without a trade log (money prices them). */
  keepLegs?: boolean;
}

/** Runs a chain kernel's sets over one partition. */
export async function runChainPartition(
  kernel: LoadedChainKernel,
  task: ChainPartitionTask,
  stats: CacheStats,
  decode: DecodeSettings = {},
): Promise<ChainPartitionRead> {
  const fill = task.fill ?? "last";
  const columns = chainColumns(kernel, fill);
  const snapshot = openPartitionSnapshot(task.parts);
  try {
    const plan = task.filter ? planPartitionRead(snapshot.parts, task.filter) : null;
    const empty = {
      rows: 0,
      sets: task.paramSets.map(() => ({ rows: 0, validRows: 0, trades: 0, pnl: 0, fillsAtLast: 0 })),
      trades: null,
      reportSums: null,
      columns,
      partsBy: { cache: 0, native: 0, wasm: 0 },
    };
    if (plan?.nothing) return { ...empty, legs: null, rowGroupsRead: 0, rowGroupsSkipped: plan.groups };
    const mapped = await mapPartColumns(snapshot.parts, columns, task.cache, stats, decode);
    try {
      const paths = snapshot.parts.map((p) => p.path);
      const draft = partitionStream(
        mapped.views,
        columns,
        kernel.columns,
        paths,
        plan?.sel ?? null,
        0n,
        fill === "touch",
      );
      const stream = { ...draft, openNs: openNsOf(task.date ?? task.filter?.date ?? null, draft) };
      const keepLegs = task.trades || task.reportSums || task.keepLegs === true;
      const result = new ChainRun(kernel, task.paramSets, keepLegs, { fill }).runPartition(stream);
      const legs = result.legs ? legTradeColumns(result.legs) : null;
      let reportSums: ChainPartitionRead["reportSums"] = null;
      if (task.reportSums && legs) {
        const sums = reportSumsReference(legs, task.paramSets.length);
        reportSums = { sums, spillTrades: sums.spilled ? legs : null };
      }
      return {
        rows: stream.rows,
        sets: result.sets.map((s) => ({ rows: stream.rows, ...s })),
        trades: task.trades ? legs : null,
        legs,
        reportSums,
        columns,
        rowGroupsRead: mapped.rowGroups,
        rowGroupsSkipped: 0,
        partsBy: mapped.partsBy,
      };
    } finally {
      mapped.release();
    }
  } finally {
    snapshot.close();
  }
}
