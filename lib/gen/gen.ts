/** `gen`: writes a deterministic synthetic raw data set (one Parquet file per contract) and its expiry calendar. */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import { formatExpiryCalendar } from "../raw/calendar.ts";
import { formatContractName } from "../raw/contract-name.ts";
import type { GenResult, GenTask } from "./tasks.ts";
import { formatEpochDays, yearMonthOf, type EpochDays } from "../ist-time.ts";
import { fsReason } from "../error-message.ts";
import type { ProgressListener } from "../progress.ts";
import { syntheticCalendar, syntheticContracts, tradingDaysFrom, underlyingSpec, type DefectRates } from "./market.ts";
import { WorkerPool } from "../workers/pool.ts";
import { compileParquetWasmModule } from "../parquet/wasm.ts";

/** Options of a gen run. */
export interface GenOptions {
  out: string;
  /** Trading days to generate. */
  days: number;
  start: EpochDays;
  underlyings: string[];
  seed: number;
  /** Strikes listed on each side of each day's at-the-money strike. */
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
  /** Workers started (never more than there are files to write). */
  workers: number;
}

/** Options gen cannot run with (exit 2): the output is a file, dates names cannot carry, … */
export class GenUsageError extends Error {}

/** The defect rates of the library's default data (tests, the bench sample): the real feed's quirks off, so row counts stay what they were. */
export const DEFAULT_DEFECTS: DefectRates = {
  nullRate: 0.0005,
  zeroPriceRate: 0.0002,
  disorderRate: 0.0005,
  epochZeroRate: 0,
  volumeResetRate: 0,
  preOpenRate: 0,
};

/** The real feed's quirks as `bun run gen` produces them by default (shares of contract-days; `--clean` turns them off). */
export const DEFAULT_QUIRKS: Pick<DefectRates, "epochZeroRate" | "volumeResetRate" | "preOpenRate"> = {
  epochZeroRate: 0.05,
  volumeResetRate: 0.02,
  preOpenRate: 0.1,
};

/** Generates the data set under `options.out`: `<UNDERLYING>/<contract>.parquet` and `expiry_calendar.csv`. */
export async function generateRawDataset(options: GenOptions, onProgress?: ProgressListener): Promise<GenSummary> {
  const t0 = performance.now();
  // A name listed twice would be generated twice onto the same files.
  const specs = [...new Set(options.underlyings)].map(underlyingSpec);
  const days = tradingDaysFrom(options.start, options.days);
  checkYears(days);
  const calendar = syntheticCalendar(specs, days[0] - 45, days[days.length - 1] + 120);
  const contracts = syntheticContracts(options.seed, specs, calendar, days, options.strikesEachSide);
  // Contract names carry two-digit years: 2000–2099 only, or they are read back as another century.
  const outOfRange = contracts.find((c) => c.year < 2000 || c.year > 2099);
  if (outOfRange)
    throw new GenUsageError(
      `a contract expires in ${outOfRange.year}: contract names carry two-digit years, so every expiry must fall in 2000–2099`,
    );
  prepareOutput(options.out);
  const calendarPath = join(options.out, "expiry_calendar.csv");
  const calendarBytes = new TextEncoder().encode(formatExpiryCalendar(calendar));
  writeFileAtomic(calendarPath, calendarBytes);
  const workers = Math.max(1, Math.min(options.workers, contracts.length));
  const pool = new WorkerPool<GenTask, GenResult>(
    new URL("./worker.ts", import.meta.url).href,
    workers,
    undefined,
    compileParquetWasmModule,
  );
  let rows = 0;
  let bytes = calendarBytes.length;
  let done = 0;
  try {
    await Promise.all(
      contracts.map(async (contract) => {
        const path = join(options.out, contract.underlying, `${formatContractName(contract)}.parquet`);
        const r = await pool.run({
          kind: "gen",
          path,
          seed: options.seed,
          contract,
          tickProb: options.tickProb,
          defects: options.defects,
          rowGroupSize: options.rowGroupSize,
        });
        rows += r.rows;
        bytes += r.bytes;
        onProgress?.({
          phase: "gen",
          done: ++done,
          total: contracts.length,
          rows,
          elapsedS: (performance.now() - t0) / 1000,
        });
      }),
    );
  } finally {
    pool.close();
  }
  return {
    files: contracts.length,
    rows,
    bytes,
    elapsed_s: (performance.now() - t0) / 1000,
    days: days.length,
    contracts: contracts.length,
    calendar: calendarPath,
    workers,
  };
}

/** Throws GenUsageError unless every generated day lies in 2000–2099 (names carry two-digit years). */
function checkYears(days: EpochDays[]): void {
  for (const d of [days[0], days[days.length - 1]]) {
    const { year } = yearMonthOf(d);
    if (year < 2000 || year > 2099)
      throw new GenUsageError(
        `trading day ${formatEpochDays(d)} is outside 2000–2099: contract names carry two-digit years`,
      );
  }
}

/** Makes the output folder; GenUsageError when it is a file or cannot be made. */
function prepareOutput(out: string): void {
  const st = statSync(out, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new GenUsageError(`--out ${out}: is a file, not a folder`);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new GenUsageError(`--out ${out}: cannot make the output folder: ${fsReason(e)}`);
  }
}
