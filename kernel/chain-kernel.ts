/**
 * Chain kernels (SPEC §6, docs/kernels.md "Chain kernels"): compiling a kernel written against
 * tickpack_chain.h together with the chain driver (kernel/chain-driver.c), and running it, for any
 * number of parameter sets at once, over one partition's contract runs in time order.
 */
import { CString, type Pointer, ptr } from "bun:ffi";
import { join } from "node:path";
import { C_TYPE, COLUMN_TYPES, type ColumnType, columnTypeCode } from "./column-types.ts";
import type { LoggedTrades } from "./report-sums.ts";
import {
  CTL,
  chainLayoutC,
  ERR,
  LOG,
  LOG_TS,
  LEG,
  MAX_LEGS,
  NUM,
  PART,
  POSITION,
  PTR,
  SET,
  STATUS,
} from "./chain-layout.ts";
import {
  compileKernelUnit,
  KernelError,
  kernelRealPath,
  parseColumns,
  parseParams,
  type FillRule,
  type KernelCompiler,
  type KernelParam,
} from "./strategy-kernel.ts";
import type { ColumnValues } from "./kernel-batch.ts";
import { addressesOf, type BuildAddresses, linkAddresses } from "./shared-build.ts";
import { ChainOrderError, SHORT_STRADDLE_SOURCE } from "./kernel-abi.ts";

const CHAIN_DRIVER_SOURCE = join(import.meta.dir, "chain-driver.c");

const SYMBOLS = {
  tpc_run: { args: ["ptr", "ptr", "ptr"], returns: "i64" },
  tpc_active_bytes: { args: [], returns: "i32" },
  tickpack_columns: { args: [], returns: "cstring" },
  tickpack_params: { args: [], returns: "cstring" },
  tickpack_state_size: { args: [], returns: "i32" },
  tickpack_contract_state_size: { args: [], returns: "i32" },
} as const;

/** A compiled chain kernel and what it declares. */
export interface LoadedChainKernel {
  abi: "chain";
  path: string;
  compiler: KernelCompiler;
  columns: string[];
  columnTypes: ColumnType[];
  params: KernelParam[];
  stateSize: number;
  contractStateSize: number;
  run: (ctl: Pointer, num: Pointer, ptrs: Pointer) => bigint | number;
  /** Bytes of the driver's record of a run the merge is in (the host allocates one per run). */
  activeBytes: number;
}

const loaded = new Map<string, LoadedChainKernel>();

/** Compiles a chain kernel (once per thread, path and compiler) and validates its declarations. */
export function loadChainKernel(path: string, compiler: KernelCompiler = "tcc"): LoadedChainKernel {
  const real = kernelRealPath(path);
  const cacheKey = `${compiler}\0${real}`;
  const cached = loaded.get(cacheKey);
  if (cached) return cached;
  // The driver first: a kernel's macros cannot reach into it, and its names are all tpc_/TPC_.
  const symbols = compileKernelUnit(
    path,
    real,
    compiler,
    `#include "tickpack_chain.h"\n${chainLayoutC()}#include ${JSON.stringify(CHAIN_DRIVER_SOURCE)}\n#include ${JSON.stringify(real)}\n`,
    SYMBOLS,
  );
  const { columns, columnTypes } = parseColumns(String(symbols.tickpack_columns()), path);
  const sizes = [symbols.tickpack_state_size(), symbols.tickpack_contract_state_size()];
  for (const [k, n] of sizes.entries())
    if (!(n >= 0 && n <= 1 << 20))
      throw new KernelError(
        `${path}: ${k === 0 ? "tickpack_state_size" : "tickpack_contract_state_size"}() returned ${n}`,
      );
  const kernel: LoadedChainKernel = {
    abi: "chain",
    path: real,
    compiler,
    columns,
    columnTypes,
    params: parseParams(String(symbols.tickpack_params()), path),
    stateSize: sizes[0],
    contractStateSize: sizes[1],
    run: (ctl, num, ptrs) => symbols.tpc_run(ctl, num, ptrs),
    activeBytes: symbols.tpc_active_bytes(),
  };
  loaded.set(cacheKey, kernel);
  builds.set(kernel, addressesOf(symbols, SYMBOLS));
  return kernel;
}

/** Each loaded chain kernel's build addresses (for shareChainKernel). */
const builds = new WeakMap<LoadedChainKernel, BuildAddresses<typeof SYMBOLS>>();

/** A loaded chain kernel as another thread of this process takes it over (adoptChainKernel). */
export interface SharedChainKernel extends Omit<LoadedChainKernel, "run"> {
  addresses: BuildAddresses<typeof SYMBOLS>;
}

/** `kernel` for another thread of this process, or null for one that is not built in (see shareKernel: a user's kernel may keep globals). */
export function shareChainKernel(kernel: LoadedChainKernel): SharedChainKernel | null {
  if (kernel.path !== kernelRealPath(SHORT_STRADDLE_SOURCE)) return null;
  const addresses = builds.get(kernel);
  if (!addresses) throw new Error(`${kernel.path}: not a chain kernel this thread loaded`);
  const { run: _, ...declared } = kernel;
  return { ...declared, addresses };
}

/** The chain kernel another thread loaded and shared, callable here without a build of its own; loadChainKernel(path, compiler) then returns it. */
export function adoptChainKernel(shared: SharedChainKernel): LoadedChainKernel {
  const cacheKey = `${shared.compiler}\0${shared.path}`;
  let kernel = loaded.get(cacheKey);
  if (!kernel) {
    const { addresses, ...declared } = shared;
    const symbols = linkAddresses(SYMBOLS, addresses);
    kernel = { ...declared, run: (ctl, num, ptrs) => symbols.tpc_run(ctl, num, ptrs) };
    loaded.set(cacheKey, kernel);
    builds.set(kernel, addresses);
  }
  return kernel;
}

/** A column as the driver copies it: its values (as stored) and bitmap. */
export interface ChainColumn {
  values: ColumnValues;
  valid: Uint8Array | null;
}

/** One part of a partition: timestamps, price and the kernel's declared columns (in declared order), all as stored. */
export interface ChainPart {
  length: number;
  ts: ChainColumn & { values: BigInt64Array };
  price: ChainColumn & { values: Float64Array };
  columns: ChainColumn[];
  /** bp0 and sp0, which --fill touch reads at each fill (null: not read). */
  quotes: { bid: ChainColumn & { values: Float64Array }; ask: ChainColumn & { values: Float64Array } } | null;
}

/** A partition as the driver streams it. */
export interface ChainPartition {
  parts: ChainPart[];
  /** Runs of one contract in one part, in file order: rows [start, end) of part `part`. */
  runs: { part: number; start: number; end: number; contract: number }[];
  /** The contract table, sorted by (expiry, opt, strike). */
  contracts: { expiry: number; opt: number; strike: number }[];
  /** 09:15:00 IST of the partition's day, epoch ns. */
  openNs: bigint;
}

/**
 * How the driver finds each instant's runs: "auto" (a pass over every run's head per instant, turning
 * to a heap for the rest of the partition where instants are sparse), or one of them throughout (tests).
 */
export type ChainMerge = "auto" | "scan" | "heap";
const MERGE_ASK: Record<ChainMerge, number> = { auto: 0, scan: 1, heap: 2 };

/** Totals of one parameter set over a partition. */
export interface ChainSetTotals {
  validRows: number;
  trades: number;
  pnl: number;
  /** --fill touch fills that found no quote and filled at `price`. */
  fillsAtLast: number;
}

/** Closed legs, column by column, in the order they closed (the trade log's columns, and each leg's position, number and lots). */
export interface ChainLegColumns extends LoggedTrades {
  exitPrice: Float64Array;
  position: Float64Array;
  leg: Float64Array;
  /** Signed quantity in lots: > 0 long, < 0 short. */
  lots: Float64Array;
}

/** What one partition gave. */
export interface ChainPartitionResult {
  sets: ChainSetTotals[];
  instants: number;
  /** The merge ended on the heap (sparse instants). */
  heap: boolean;
  legs: ChainLegColumns | null;
}

const CTORS: [ColumnType, { new (n: number): ColumnValues }][] = [
  ["f64", Float64Array],
  ["i64", BigInt64Array],
  ["i32", Int32Array],
  ["f32", Float32Array],
  ["i16", Int16Array],
];

/** The column type `values` are stored in, or null for an array the driver does not read. */
export function storedTypeOf(values: ArrayBufferView): ColumnType | null {
  for (const [t, C] of CTORS) if (values instanceof C) return t;
  return null;
}

/** Whether the driver copies a column stored as `stored` into `declared` without changing any value. */
export function convertsExactly(stored: ColumnType, declared: ColumnType): boolean {
  // float64 from anything, as per-contract kernels get it (int64 beyond 2^53 rounds, as there).
  if (stored === declared || declared === "f64") return true;
  if (declared === "i64") return stored === "i32" || stored === "i16";
  if (declared === "i32") return stored === "i16";
  return false;
}

const pinned = (bytes: number) => new ArrayBuffer(Math.max(8, bytes));
type Buf = ColumnValues | Uint8Array | BigUint64Array | null;
const addr = (a: Buf): bigint => (a && a.byteLength > 0 ? BigInt(ptr(a)) : 0n);
const BYTES: Record<ColumnType, number> = { f64: 8, i64: 8, i32: 4, f32: 4, i16: 2 };

/** Why an order stopped the run, in a kernel author's words. */
const ORDER_PROBLEM: Record<number, string> = {
  [ERR.NO_CONTRACT]: "an order (or tp_contract_state) on a contract that does not exist",
  [ERR.NO_PRICE]: "an order on a contract with no valid price yet (or on an invalid row)",
  [ERR.BAD_LOTS]: "a quantity of 0 lots (or not finite)",
  [ERR.NO_POSITION]: "an order on a position that was never opened",
  [ERR.CLOSED_POSITION]: "a leg opened into a position that is closed",
  [ERR.NO_LEG]: "a close of a leg that is not open",
  [ERR.TOO_MANY_LEGS]: `more than ${MAX_LEGS} open legs in one parameter set`,
  [ERR.BAD_ROW]: "an order at a row the instant does not have",
  [ERR.ROW_CONTRACT]: "a leg closed at a row of another contract",
  [ERR.TOO_MANY_CLOSES]: `more than ${MAX_LEGS} legs closed by one parameter set in one instant`,
};

/** ISO-8601 text of an epoch-ns instant in IST (the market's clock). */
function istText(ns: bigint): string {
  const ms = Number(ns / 1_000_000n) + 5.5 * 3_600_000;
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, "0")}+05:30`;
}

/**
 * A chain kernel running every parameter set over one partition at a time. All the driver's state
 * is in arrays made here (each over its own ArrayBuffer: JSC moves small typed arrays that live in
 * its heap, and the driver holds their addresses).
 */
export class ChainRun {
  /**
   * With `keepLegs` every closed leg is returned. `options` size the instant buffers (they grow to
   * the largest instant) and the log (drained whenever it may not hold the next instant's closes):
   * tests make both small to take those paths.
   */
  constructor(
    private readonly kernel: LoadedChainKernel,
    private readonly paramSets: number[][],
    private readonly keepLegs: boolean,
    private readonly options: { instantRows?: number; logRows?: number; merge?: ChainMerge; fill?: FillRule } = {},
  ) {}

  /** Runs the partition through the kernel (state starts fresh: positions never outlive it). */
  runPartition(input: ChainPartition): ChainPartitionResult {
    const { kernel, paramSets } = this;
    const touch = this.options.fill === "touch";
    const names = kernel.columns;
    const types = kernel.columnTypes;
    const ncols = names.length;
    const nsets = paramSets.length;
    const np = kernel.params.length;
    const nc = input.contracts.length;
    const nruns = input.runs.length;
    const expiries = [...new Set(input.contracts.map((c) => c.expiry))].sort((a, b) => a - b);
    const ctl = new BigInt64Array(pinned(8 * CTL.SIZE));
    const setBlock = SET.SIZE + np + kernel.stateSize + nc * kernel.contractStateSize;
    const num = new Float64Array(pinned(8 * (NUM.SIZE + nsets * setBlock)));
    for (const [k, values] of paramSets.entries()) num.set(values, NUM.SIZE + k * setBlock + SET.SIZE);
    const ptrs = new BigUint64Array(pinned(8 * PTR.SIZE));
    const keep: Buf[] = []; // every array the driver points to stays reachable until the run ends
    const put = (slot: number, a: Buf) => {
      ptrs[slot] = addr(a);
      if (a) keep.push(a);
    };
    const i32 = (n: number) => new Int32Array(pinned(4 * n));
    const i64 = (n: number) => new BigInt64Array(pinned(8 * n));
    const f64 = (n: number) => new Float64Array(pinned(8 * n));
    const u8 = (n: number) => new Uint8Array(pinned(n));

    const cExpiry = i32(nc);
    const cOpt = i32(nc);
    const cStrike = f64(nc);
    input.contracts.forEach((c, i) => {
      cExpiry[i] = c.expiry;
      cOpt[i] = c.opt;
      cStrike[i] = c.strike;
    });
    const exp = i32(expiries.length);
    exp.set(expiries);
    put(PTR.CONTRACT_EXPIRY, cExpiry);
    put(PTR.CONTRACT_OPT, cOpt);
    put(PTR.CONTRACT_STRIKE, cStrike);
    put(PTR.EXPIRIES, exp);

    const runPart = i32(nruns);
    const runPos = i64(nruns);
    const runEnd = i64(nruns);
    const runContract = i32(nruns);
    input.runs.forEach((r, i) => {
      runPart[i] = r.part;
      runPos[i] = BigInt(r.start);
      runEnd[i] = BigInt(r.end);
      runContract[i] = r.contract;
    });
    put(PTR.RUN_PART, runPart);
    put(PTR.RUN_POS, runPos);
    put(PTR.RUN_END, runEnd);
    put(PTR.RUN_CONTRACT, runContract);
    put(PTR.ACTIVE, u8(kernel.activeBytes * nruns));
    put(PTR.HEAD, i64(nruns));
    put(PTR.DUE, i32(nruns));
    put(PTR.HEAP, i32(nruns));

    // Declared columns: what each part stores them as, checked against the declared type.
    const src = u8(ncols);
    const dst = u8(ncols);
    types.forEach((t, k) => {
      dst[k] = columnTypeCode(t);
      const stored = input.parts.map((p) => storedTypeOf(p.columns[k].values));
      const first = stored[0] ?? t;
      for (const s of stored)
        if (s === null || s !== first || !convertsExactly(s, t))
          throw new KernelError(
            `${kernel.path}: column ${names[k]} is stored as ${s ?? "a type kernels cannot read"}: declare it ${names[k]}:${s ?? "f64"}${s && s !== "f64" ? " (or f64)" : ""}`,
          );
      src[k] = columnTypeCode(first);
    });
    put(PTR.COL_SRC, src);
    put(PTR.COL_TYPES, dst);

    const partSize = PART.COLS + 2 * ncols;
    const parts = new BigUint64Array(pinned(8 * Math.max(1, input.parts.length) * partSize));
    input.parts.forEach((p, q) => {
      const at = q * partSize;
      parts[at + PART.TS] = addr(p.ts.values);
      parts[at + PART.TS_OK] = addr(p.ts.valid);
      parts[at + PART.PRICE] = addr(p.price.values);
      parts[at + PART.PRICE_OK] = addr(p.price.valid);
      if (touch) {
        if (!p.quotes) throw new Error(`${kernel.path}: --fill touch needs the parts' bp0 and sp0`);
        parts[at + PART.BID] = addr(p.quotes.bid.values);
        parts[at + PART.BID_OK] = addr(p.quotes.bid.valid);
        parts[at + PART.ASK] = addr(p.quotes.ask.values);
        parts[at + PART.ASK_OK] = addr(p.quotes.ask.valid);
      }
      p.columns.forEach((c, k) => {
        parts[at + PART.COLS + 2 * k] = addr(c.values);
        parts[at + PART.COLS + 2 * k + 1] = addr(c.valid);
      });
    });
    put(PTR.PARTS, parts);

    // As-of state per contract.
    put(PTR.HAS, u8(nc));
    put(PTR.ASOF_PRICE, f64(nc));
    put(PTR.ASOF_TS, i64(nc));
    put(PTR.ASOF_PART, i32(nc));
    put(PTR.ASOF_ROW, i64(nc));
    const asofCols = new BigUint64Array(pinned(8 * ncols));
    const asofOk = new BigUint64Array(pinned(8 * ncols));
    types.forEach((t, k) => {
      const v = u8(BYTES[t] * nc);
      const ok = u8(nc);
      keep.push(v, ok);
      asofCols[k] = addr(v);
      asofOk[k] = addr(ok);
    });
    put(PTR.ASOF_COLS, asofCols);
    put(PTR.ASOF_OK, asofOk);

    // Instant buffers (grown when an instant has more rows), and the zeros a refused column reads.
    // Instant buffers (grown when an instant has more rows: what it holds so far is kept), and the
    // zeros a refused column reads.
    let instCap = 0;
    type Grown = Int32Array | Uint8Array | Float64Array;
    const grown = <T extends Grown>(slot: number, make: (n: number) => T, old: T | null, cap: number): T => {
      const a = make(cap);
      if (old) a.set(old);
      put(slot, a);
      return a;
    };
    let instContract: Int32Array | null = null;
    let instValid: Uint8Array | null = null;
    let instPrice: Float64Array | null = null;
    let instPart: Int32Array | null = null;
    let instRow: BigInt64Array | null = null;
    let instCols: Uint8Array[] = [];
    let instOks: Uint8Array[] = [];
    const sizeInstant = (cap: number) => {
      instContract = grown(PTR.INST_CONTRACT, i32, instContract, cap);
      instValid = grown(PTR.INST_VALID, u8, instValid, cap);
      instPrice = grown(PTR.INST_PRICE, f64, instPrice, cap);
      instPart = grown(PTR.INST_PART, i32, instPart, cap);
      const rows = i64(cap);
      if (instRow) rows.set(instRow);
      instRow = rows;
      put(PTR.INST_ROW, rows);
      const cols = new BigUint64Array(pinned(8 * ncols));
      const oks = new BigUint64Array(pinned(8 * ncols));
      const nextCols: Uint8Array[] = [];
      const nextOks: Uint8Array[] = [];
      types.forEach((t, k) => {
        const v = u8(BYTES[t] * cap);
        const ok = u8(cap);
        if (instCols[k]) v.set(instCols[k]);
        if (instOks[k]) ok.set(instOks[k]);
        keep.push(v, ok);
        nextCols.push(v);
        nextOks.push(ok);
        cols[k] = addr(v);
        oks[k] = addr(ok);
      });
      instCols = nextCols;
      instOks = nextOks;
      put(PTR.INST_COLS, cols);
      put(PTR.INST_OK, oks);
      put(PTR.ZEROS, u8(32 * Math.max(cap, nc, 1)));
      instCap = cap;
      ctl[CTL.INST_CAP] = BigInt(cap);
    };
    sizeInstant(Math.max(1, this.options.instantRows ?? 1024));

    put(PTR.SCRATCH, f64(Math.max(1, kernel.contractStateSize)));
    put(PTR.LEGS, f64(nsets * MAX_LEGS * LEG.SIZE));
    put(PTR.LEG_TS, i64(nsets * MAX_LEGS));
    put(PTR.POSITIONS, f64(nsets * MAX_LEGS * POSITION.SIZE));
    // The log holds every set's worst instant and the end's (the driver stops for a drain before either).
    const logCap = 2 * nsets * MAX_LEGS + (this.options.logRows ?? 2 * nsets * MAX_LEGS + 1024);
    const log = f64(logCap * LOG.SIZE);
    const logTs = i64(logCap * LOG_TS.SIZE);
    put(PTR.LOG, log);
    put(PTR.LOG_TS, logTs);

    ctl[CTL.NSETS] = BigInt(nsets);
    ctl[CTL.NPARAMS] = BigInt(np);
    ctl[CTL.NSTATE] = BigInt(kernel.stateSize);
    ctl[CTL.NCSTATE] = BigInt(kernel.contractStateSize);
    ctl[CTL.NCOLS] = BigInt(ncols);
    ctl[CTL.TOUCH] = touch ? 1n : 0n;
    ctl[CTL.NCONTRACTS] = BigInt(nc);
    ctl[CTL.NEXPIRIES] = BigInt(expiries.length);
    ctl[CTL.NRUNS] = BigInt(nruns);
    ctl[CTL.OPEN_NS] = input.openNs;
    ctl[CTL.LOG_CAP] = BigInt(logCap);
    ctl[CTL.MERGE_ASK] = BigInt(MERGE_ASK[this.options.merge ?? "auto"]);
    ctl[CTL.MERGE] = 1n;

    const legs = this.keepLegs ? new LegColumnsBuilder() : null;
    for (;;) {
      const status = Number(kernel.run(ptr(ctl), ptr(num), ptr(ptrs)));
      const n = Number(ctl[CTL.LOG_COUNT]);
      legs?.append(log, logTs, n, input.contracts);
      ctl[CTL.LOG_COUNT] = 0n;
      if (status === STATUS.DONE) break;
      if (status === STATUS.GROW) sizeInstant(Math.max(2 * instCap, Number(ctl[CTL.NEED])));
      else if (status === STATUS.ERROR) throw this.stopped(ctl, num, ptrs, input);
    }
    keep.length = 0;
    const validRows = Number(ctl[CTL.VALID_ROWS]);
    return {
      sets: paramSets.map((_, k) => {
        const b = NUM.SIZE + k * setBlock;
        return {
          validRows,
          trades: num[b + SET.TRADES],
          pnl: num[b + SET.PNL],
          fillsAtLast: num[b + SET.FILLS_AT_LAST],
        };
      }),
      instants: Number(ctl[CTL.INSTANTS]),
      heap: ctl[CTL.MERGE] === 2n,
      legs: legs?.take() ?? null,
    };
  }

  /** The error a stopped run reports: a refused column (KernelError, exit 2) or a bad order (exit 1). */
  private stopped(ctl: BigInt64Array, num: Float64Array, ptrs: BigUint64Array, input: ChainPartition): Error {
    const { path, columns, columnTypes } = this.kernel;
    const set = Number(ctl[CTL.ERR_SET]);
    const params = this.kernel.params.map((p, k) => `${p.name}=${this.paramSets[set]?.[k]}`).join(",");
    const where = `at ${istText(ctl[CTL.ERR_TS])} (parameter set ${set}${params ? `: ${params}` : ""})`;
    if (Number(ctl[CTL.ERROR]) === ERR.TYPE) {
      const k = Number(ctl[CTL.BAD_COLUMN]);
      const asType = new CString(Number(ptrs[PTR.BAD_TYPE])).toString();
      if (!(k >= 0 && k < columns.length))
        return new KernelError(
          `${path}: column ${k} read as ${asType}: tickpack_columns() declares ${columns.length} (${columns.join(", ") || "none"}), numbered from 0`,
        );
      const other = COLUMN_TYPES.find((t) => C_TYPE[t] === asType);
      return new KernelError(
        `${path}: column ${columns[k]}, declared ${columnTypes[k]}, read as ${asType}: read it as ${C_TYPE[columnTypes[k]]}${other ? `, or declare it ${columns[k]}:${other}` : ""}`,
      );
    }
    const contract = Number(ctl[CTL.ERR_CONTRACT]);
    const c = input.contracts[contract];
    const what = [
      ORDER_PROBLEM[Number(ctl[CTL.ERROR])] ?? `error ${ctl[CTL.ERROR]}`,
      contract >= 0 ? `contract ${contract}${c ? ` (${contractText(c)})` : ` of ${input.contracts.length}`}` : "",
      Number(ctl[CTL.ERR_POSITION]) >= 0 ? `position ${ctl[CTL.ERR_POSITION]}` : "",
      Number(ctl[CTL.ERR_LEG]) >= 0 ? `leg ${ctl[CTL.ERR_LEG]}` : "",
      Number(ctl[CTL.ERR_ROW]) >= 0 ? `row ${ctl[CTL.ERR_ROW]} of the instant` : "",
      Number(ctl[CTL.ERROR]) === ERR.BAD_LOTS ? `lots ${num[NUM.ERR_LOTS]}` : "",
    ].filter((s) => s !== "");
    return new ChainOrderError(`kernel ${path}: ${what.join(", ")}, ${where}`);
  }
}

/** A contract as text: `2025-11-20 CE 24500`. */
function contractText(c: { expiry: number; opt: number; strike: number }): string {
  return `${new Date(c.expiry * 86_400_000).toISOString().slice(0, 10)} ${["CE", "PE", "other"][c.opt] ?? "?"} ${Number(Math.fround(c.strike).toPrecision(7))}`;
}

/** Growable leg columns, from the driver's log. */
class LegColumnsBuilder {
  private rows: { px: number[]; ts: bigint[] }[] = [];

  append(log: Float64Array, logTs: BigInt64Array, n: number, contracts: ChainPartition["contracts"]): void {
    for (let i = 0; i < n; i++) {
      const px = Array.from(log.subarray(i * LOG.SIZE, (i + 1) * LOG.SIZE));
      const c = contracts[px[LOG.CONTRACT]];
      px.push(c.expiry, c.opt, c.strike);
      this.rows.push({ px, ts: [logTs[i * LOG_TS.SIZE + LOG_TS.ENTRY], logTs[i * LOG_TS.SIZE + LOG_TS.EXIT]] });
    }
  }

  take(): ChainLegColumns {
    const n = this.rows.length;
    const f = (k: number) => Float64Array.from(this.rows, (r) => r.px[k]);
    const out: ChainLegColumns = {
      length: n,
      set: f(LOG.SET),
      position: f(LOG.POSITION),
      leg: f(LOG.LEG),
      lots: f(LOG.LOTS),
      entryPrice: f(LOG.ENTRY),
      exitPrice: f(LOG.EXIT),
      pnl: f(LOG.PNL),
      expiry: f(LOG.SIZE),
      optCode: f(LOG.SIZE + 1),
      strike: f(LOG.SIZE + 2),
      entryTs: BigInt64Array.from(this.rows, (r) => r.ts[0]),
      exitTs: BigInt64Array.from(this.rows, (r) => r.ts[1]),
    };
    this.rows = [];
    return out;
  }
}
