/** `gen`: writes a deterministic synthetic raw data set (one Parquet file per contract) and its expiry calendar. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import { formatExpiryCalendar } from "../raw/calendar.ts";
import { formatContractName } from "../raw/contract-name.ts";
import type { GenResult, GenTask } from "./tasks.ts";
import type { EpochDays } from "../ist-time.ts";
import type { ProgressListener } from "../progress.ts";
import { syntheticCalendar, syntheticContracts, tradingDaysFrom, underlyingSpec, type DefectRates } from "./market.ts";
import { WorkerPool } from "../workers/pool.ts";

/** Options of a gen run. */
export interface GenOptions {
  out: string;
  /** Trading days to generate. */
  days: number;
  start: EpochDays;
  underlyings: string[];
  seed: number;
  /** Strikes on each side of the at-the-money strike. */
  strikesEachSide: number;
  /** Chance of a tick in each second of the session. */
  tickProb: number;
  defects: DefectRates;
  rowGroupSize: number;
  workers: number;
}

/** What gen wrote. */
export interface GenSummary {
  files: number;
  rows: number;
  bytes: number;
  elapsed_s: number;
  days: number;
  contracts: number;
  calendar: string;
}

/** The defect rates gen uses unless told otherwise. */
export const DEFAULT_DEFECTS: DefectRates = { nullRate: 0.0005, zeroPriceRate: 0.0002, disorderRate: 0.0005 };

/** Generates the data set under `options.out`: `<UNDERLYING>/<contract>.parquet` and `expiry_calendar.csv`. */
export async function generateRawDataset(options: GenOptions, onProgress?: ProgressListener): Promise<GenSummary> {
  const t0 = performance.now();
  const specs = options.underlyings.map(underlyingSpec);
  const days = tradingDaysFrom(options.start, options.days);
  const calendar = syntheticCalendar(specs, days[0] - 45, days[days.length - 1] + 120);
  mkdirSync(options.out, { recursive: true });
  const calendarPath = join(options.out, "expiry_calendar.csv");
  const calendarBytes = new TextEncoder().encode(formatExpiryCalendar(calendar));
  writeFileAtomic(calendarPath, calendarBytes);
  const contracts = syntheticContracts(options.seed, specs, calendar, days, options.strikesEachSide);
  const pool = new WorkerPool<GenTask, GenResult>(new URL("./worker.ts", import.meta.url).href, options.workers);
  let rows = 0;
  let bytes = calendarBytes.length;
  let done = 0;
  try {
    await Promise.all(
      contracts.map(async (contract) => {
        const path = join(options.out, contract.underlying, `${formatContractName(contract)}.parquet`);
        const r = await pool.run({ kind: "gen", path, seed: options.seed, contract, tickProb: options.tickProb, defects: options.defects, rowGroupSize: options.rowGroupSize });
        rows += r.rows;
        bytes += r.bytes;
        onProgress?.({ phase: "gen", done: ++done, total: contracts.length, rows, elapsedS: (performance.now() - t0) / 1000 });
      }),
    );
  } finally {
    pool.close();
  }
  return { files: contracts.length, rows, bytes, elapsed_s: (performance.now() - t0) / 1000, days: days.length, contracts: contracts.length, calendar: calendarPath };
}
