/**
 * Strategy kernels (docs/kernels.md): compiling a kernel C file together with the tickpack driver
 * — through TinyCC (bun:ffi `cc`, the default) or an installed gcc/clang as a shared library opened
 * with `dlopen` — reading what it declares (columns and their types, parameters, state size), and
 * running it, for any number of parameter sets at once, over batches of packed rows.
 */
import { type ConvertFns, CString, type FFITypeOrString, cc, dlopen, ptr } from "bun:ffi";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { C_TYPE, COLUMN_TYPES, type ColumnType, columnTypeCode } from "./column-types.ts";
import { COLUMN_CTOR, type KernelBatch } from "./kernel-batch.ts";
import {
  COLS as C,
  driverLayoutC,
  HEADER as H,
  MAX_COLUMNS,
  RECORD,
  SET_TIMES,
  SET_TOTALS as T,
  TRADE_PX,
  TRADE_TS,
  ZERO_ROW_BYTES,
} from "./driver-layout.ts";
import { addressesOf, type BuildAddresses, linkAddresses } from "./shared-build.ts";
import { tempPathFor } from "../lib/atomic-file.ts";
import {
  buildName,
  compilerIdentity,
  dependencyFiles,
  directBuild,
  directEntryPath,
  kernelBuildCacheDir,
  writeDirectEntry,
} from "./build-cache.ts";
import { CODE_RUN } from "../lib/parquet/native/code-runs.ts";
import { DAY_MINUTES, SET_SUMS, setSumsFromHold, TALLY, type LoggedTrades, type ReportSums } from "./report-sums.ts";

/** Path of the built-in ema_cross kernel. */
export const EMA_CROSS_SOURCE = join(import.meta.dir, "ema_cross.c");
const DRIVER_SOURCE = join(import.meta.dir, "driver.c");

/** Packed columns a kernel may read (numeric ones), with the key columns the driver always reads. */
export const KERNEL_COLUMNS: readonly string[] = [
  "timestamp",
  "price",
  "avgPrice",
  "open",
  "high",
  "low",
  "close",
  "changeper",
  "qty",
  "volume",
  "totBuyQty",
  "totSellQty",
  "oi",
  "oiHigh",
  "oiLow",
  ...["bp", "sp", "bq", "sq", "bo", "so"].flatMap((p) => [0, 1, 2, 3, 4].map((i) => `${p}${i}`)),
  "token",
  "strike",
  "year",
  "month",
  "expiry",
  "date",
  "vol_delta",
];

/** Compilers a kernel can be built with: TinyCC in-process (default), or an installed gcc/clang. */
export type KernelCompiler = "tcc" | "gcc" | "clang";
export const KERNEL_COMPILERS: readonly KernelCompiler[] = ["tcc", "gcc", "clang"];

export type { ColumnType } from "./column-types.ts";

/**
 * A kernel the user got wrong (does not compile, declares an unknown column, reads a column as
 * another type …), or a compiler that is not installed: exit 2. Named, so that a worker's reply of
 * one can be told apart.
 */
export class KernelError extends Error {
  override name = KernelError.name;
}

/** A batch's timestamps, given as runs of codes, held a code past the values it indexes (a garbled file): the run is void. */
export class TimestampCodeError extends Error {
  override name = TimestampCodeError.name;
}

/** A declared parameter: its name and default (undefined: the grid must set it). */
export interface KernelParam {
  name: string;
  defaultValue: number | undefined;
}

/** A compiled kernel and what it declares. */
export interface LoadedKernel {
  path: string;
  compiler: KernelCompiler;
  /** Declared column names, in declared order. */
  columns: string[];
  /** The type each declared column reaches the kernel in. */
  columnTypes: ColumnType[];
  params: KernelParam[];
  stateSize: number;
  symbols: KernelSymbols;
  /** Bytes of the build's tp_event, and of the driver's staged close and staged sums event (arrays of them are host-owned). */
  structBytes: { event: number; staged: number; sumEvent: number };
}

const SYMBOLS = {
  tpd_run: { args: ["ptr", "ptr", "ptr", "i64", "i64"], returns: "i64" },
  tpd_flush: { args: ["ptr", "ptr", "ptr"], returns: "void" },
  tpd_event_bytes: { args: [], returns: "i32" },
  tpd_staged_bytes: { args: [], returns: "i32" },
  tpd_sum_event_bytes: { args: [], returns: "i32" },
  tickpack_columns: { args: [], returns: "cstring" },
  tickpack_params: { args: [], returns: "cstring" },
  tickpack_state_size: { args: [], returns: "i32" },
} as const;

/** The functions a build exports to the host, as bun:ffi declares them. */
export type UnitSymbols = Record<string, { args: readonly FFITypeOrString[]; returns: FFITypeOrString }>;

/** The one function a TinyCC build declares to bun:ffi: it writes every other's address (compileTcc). tpd_ names are the driver's. */
const EXPORTS_FN = "tpd_exports";
/** TinyCC builds stay loaded for the process's life: functions bound by address (linkSymbols) do not keep them. */
const keptBuilds: unknown[] = [];

/**
 * The unit's functions under TinyCC. bun:ffi's `cc` compiles a wrapper for each declared symbol with
 * the unit (the kernel's unit: 8 symbols 6.5 ms, 1 symbol 3.3 ms, measured), while binding an address
 * is ~0.04 ms: so the unit declares one function that writes the others' addresses, and those are bound.
 */
function compileTcc<S extends UnitSymbols>(source: string, symbols: S): ConvertFns<S> {
  const names = Object.keys(symbols);
  if (!boundByAddress(symbols))
    return cc({ source, include: [dirname(DRIVER_SOURCE)], symbols }).symbols as ConvertFns<S>;
  const lib = cc({
    source,
    include: [dirname(DRIVER_SOURCE)],
    symbols: { [EXPORTS_FN]: { args: ["ptr"], returns: "void" } },
  });
  keptBuilds.push(lib);
  const out = new BigUint64Array(names.length);
  (lib.symbols[EXPORTS_FN] as unknown as (at: unknown) => void)(ptr(out));
  const at = Object.fromEntries(names.map((n, i) => [n, Number(out[i])])) as BuildAddresses<S>;
  return linkAddresses(symbols, at);
}

/** Whether a TinyCC unit declaring `symbols` goes through EXPORTS_FN (more than one: one costs no more bound directly). */
function boundByAddress(symbols: UnitSymbols): boolean {
  return Object.keys(symbols).length > 1;
}

/** The C of EXPORTS_FN for `symbols`, appended to a TinyCC unit that goes through it. */
function tccExports(symbols: UnitSymbols): string {
  if (!boundByAddress(symbols)) return "";
  const names = Object.keys(symbols);
  return `\nvoid ${EXPORTS_FN}(void **out) {\n${names.map((n, i) => `  out[${i}] = (void *)${n};\n`).join("")}}\n`;
}
type KernelSymbols = ConvertFns<typeof SYMBOLS>;

/**
 * Flags of an optimising build. Results must be bit-identical to TinyCC's: no fast-math, and no
 * contraction of a*b+c into a fused multiply-add (it rounds once instead of twice). Kernels and the
 * driver cast column pointers (no strict aliasing), and -z defs turns a missing kernel function into
 * a link error instead of a crash at the first call.
 */
export const OPTIMISED_FLAGS: readonly string[] = [
  "-O2",
  "-fno-fast-math",
  "-ffp-contract=off",
  "-fno-strict-aliasing",
  "-fPIC",
  "-shared",
  "-Wl,-z,defs",
];

/** The compiler's path, or null when it is not installed. */
export function compilerPath(compiler: KernelCompiler): string | null {
  return compiler === "tcc" ? "bun:ffi" : Bun.which(compiler);
}

/** Libraries a gcc/clang build links (TinyCC resolves against the process, which has libm). */
const LINK_LIBRARIES: readonly string[] = ["-lm"];

/** Runs the compiler with TMPDIR=dir: its own intermediate files go to the private folder too. */
function runCompiler(exe: string, args: string[], dir: string) {
  return Bun.spawnSync([exe, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, TMPDIR: dir } });
}

/**
 * A failed gcc/clang run's diagnostics in the user's terms: the unit (and the bare name ld gives an
 * object's source) is the kernel's file, and no private temp path or object name is left.
 */
function compilerDiagnostics(stderr: string, unit: string, dir: string, kernelPath: string): string {
  return stderr
    .replaceAll(unit, kernelPath)
    .replace(new RegExp(`^${basename(unit).replaceAll(".", "\\.")}(?=:)`, "gm"), kernelPath)
    .replace(/^(\S*ld): \S+\.o: /gm, "$1: ")
    .replaceAll(`${dir}/`, "");
}

/**
 * Builds the unit (the file `unit`, holding `unitText`) with gcc/clang into `dir` and opens it, or
 * opens the same build made before (kernel/build-cache.ts); the caller removes `dir` (the mapping
 * outlives the file).
 */
function compileShared<S extends UnitSymbols>(
  compiler: KernelCompiler,
  unit: string,
  unitText: string,
  dir: string,
  kernelPath: string,
  symbols: S,
): ConvertFns<S> {
  const exe = compilerPath(compiler);
  if (!exe) throw new KernelError(`--cc ${compiler}: ${compiler} is not installed (not found on PATH)`);
  const include = ["-I", dirname(DRIVER_SOURCE)];
  const failed = (r: ReturnType<typeof runCompiler>) =>
    new Error(
      compilerDiagnostics(r.stderr.toString(), unit, dir, kernelPath) || `${compiler} exited with ${r.exitCode}`,
    );
  const id = compilerIdentity(compiler, exe);
  const flags = [...OPTIMISED_FLAGS, ...LINK_LIBRARIES];
  const direct = directEntryPath(id, flags, unitText, kernelPath);
  const kept = directBuild(direct);
  if (kept) {
    try {
      return dlopen(kept, symbols).symbols as unknown as ConvertFns<S>;
    } catch {
      // a damaged build: found again by its preprocessed unit below, and made again
    }
  }
  // -P: no line markers (they name the private folder); -dD: the macros too, the compiler's own
  // included; -MD: the files it read, for the direct entry.
  const deps = join(dir, "unit.d");
  const preprocessedAtMs = Date.now();
  const pre = runCompiler(
    exe,
    ["-E", "-P", "-dD", "-MD", "-MF", deps, "-MT", "x", ...OPTIMISED_FLAGS, ...include, unit],
    dir,
  );
  if (pre.exitCode !== 0) throw failed(pre);
  const cached = join(kernelBuildCacheDir(), buildName(id, flags, pre.stdout, kernelPath));
  const remember = () => {
    let files: string[] | null = null;
    try {
      files = dependencyFiles(readFileSync(deps, "utf8"), unit);
    } catch {
      // no list: no direct entry, the next run preprocesses again
    }
    if (files) writeDirectEntry(direct, cached, unitText, files, preprocessedAtMs);
  };
  if (existsSync(cached)) {
    try {
      const opened = dlopen(cached, symbols).symbols as unknown as ConvertFns<S>;
      remember();
      return opened;
    } catch {
      // a damaged build: made again below
    }
  }
  const so = join(dir, "unit.so");
  const build = (extra: string[]) =>
    runCompiler(exe, [...OPTIMISED_FLAGS, ...extra, ...include, "-o", so, unit, ...LINK_LIBRARIES], dir);
  let r = build([]);
  // ld names an undefined reference's object by the unit's name only; with debug info, by the file and line.
  if (r.exitCode !== 0 && r.stderr.toString().includes("undefined reference")) r = build(["-g"]);
  if (r.exitCode !== 0) throw failed(r);
  try {
    // Renamed into place whole: a concurrent run opens the old build, the new one or none.
    mkdirSync(dirname(cached), { recursive: true });
    const temp = tempPathFor(cached);
    copyFileSync(so, temp);
    renameSync(temp, cached);
    remember();
  } catch {
    // a cache that cannot be written costs the next run a build, nothing else
  }
  return dlopen(so, symbols).symbols as unknown as ConvertFns<S>;
}

/** A plain decimal number: sign, digits, fraction, exponent (no hex, Infinity, NaN or empty string, which Number() also takes). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses `"fast=5,slow=21,max_spread"` into parameters: each named once, a default a finite decimal number. */
export function parseParams(text: string, path: string): KernelParam[] {
  if (text.trim() === "") return [];
  const params = text.split(",").map((item) => {
    const eq = item.indexOf("=");
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new KernelError(`${path}: tickpack_params(): bad parameter name ${JSON.stringify(name)}`);
    if (eq < 0) return { name, defaultValue: undefined };
    const value = item.slice(eq + 1).trim();
    const defaultValue = Number(value);
    if (!DECIMAL.test(value) || !Number.isFinite(defaultValue))
      throw new KernelError(
        `${path}: tickpack_params(): default of ${name} is not a finite decimal number: ${JSON.stringify(value)}`,
      );
    return { name, defaultValue };
  });
  const twice = params.find((p, i) => params.findIndex((q) => q.name === p.name) !== i);
  if (twice) throw new KernelError(`${path}: tickpack_params() declares ${twice.name} twice`);
  return params;
}

/** Parses `"price,bp0,volume:i64"` into names and types, checking both. */
export function parseColumns(text: string, path: string): { columns: string[]; columnTypes: ColumnType[] } {
  if (text.trim() === "") return { columns: [], columnTypes: [] };
  const items = text.split(",").map((c) => c.split(":").map((x) => x.trim()));
  if (items.some(([name]) => name === ""))
    throw new KernelError(`${path}: tickpack_columns() has an empty column name: ${JSON.stringify(text)}`);
  const columns = items.map(([name]) => name);
  const unknown = columns.filter((c) => !KERNEL_COLUMNS.includes(c));
  if (unknown.length)
    throw new KernelError(
      `${path}: tickpack_columns() declares unknown column${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${KERNEL_COLUMNS.join(", ")})`,
    );
  const columnTypes = items.map(([name, type = "f64", ...rest]) => {
    if (rest.length > 0 || !COLUMN_TYPES.includes(type as ColumnType))
      throw new KernelError(
        `${path}: tickpack_columns(): column ${name} has unknown type ${JSON.stringify([type, ...rest].join(":"))} (known: ${COLUMN_TYPES.join(", ")})`,
      );
    return type as ColumnType;
  });
  const twice = columns.find((c, i) => columns.indexOf(c) !== i);
  if (twice) throw new KernelError(`${path}: tickpack_columns() declares ${twice} twice`);
  if (columns.length > MAX_COLUMNS) throw new KernelError(`${path}: at most ${MAX_COLUMNS} columns`);
  return { columns, columnTypes };
}

/**
 * Compiles a kernel's translation unit (`unit`: the driver, its layout and the kernel) with
 * `compiler` and returns the build's `symbols`; throws KernelError with the compiler's diagnostics
 * in the kernel's terms, or naming a compiler that is not installed.
 */
export function compileKernelUnit<S extends UnitSymbols>(
  path: string,
  real: string,
  compiler: KernelCompiler,
  unit: string,
  symbols: S,
): ConvertFns<S> {
  if (!compilerPath(compiler))
    throw new KernelError(`--cc ${compiler}: ${compiler} is not installed (not found on PATH)`);
  // The kernel and the driver are one translation unit: the driver calls the kernel directly.
  const unitDir = mkdtempSync(join(tmpdir(), kernelTempPrefix(process.pid)));
  const wrapper = join(unitDir, "unit.c");
  try {
    writeFileSync(wrapper, compiler === "tcc" ? unit + tccExports(symbols) : unit);
    return compiler === "tcc"
      ? compileTcc(wrapper, symbols)
      : compileShared(compiler, wrapper, unit, unitDir, real, symbols);
  } catch (e) {
    if (e instanceof KernelError) throw e;
    const msg = (e as Error).message
      .replace(/^\d+ errors? while compiling \S+\n?/, "")
      .replace(/In file included from \S+:\d+:\n?/g, "")
      .replace(/^\S*unit\.c: (In function|At top level)[^\n]*\n?/gm, "")
      .trim();
    let abi1 = false;
    try {
      abi1 = /\btickpack_row\s*\(/.test(readFileSync(real, "utf8"));
    } catch {
      // unreadable: the compiler said so already
    }
    const hint = abi1
      ? "\n(tickpack_row is ABI 1: a kernel now defines tickpack_run and owns the row loop, see docs/kernels.md)"
      : "";
    throw new KernelError(
      `${path}: kernel does not compile${compiler === "tcc" ? "" : ` (${compiler})`}:\n${msg}${hint}`,
    );
  } finally {
    // TinyCC compiles into memory, and a dlopen'ed library stays mapped once its file is gone: the
    // unit (and .so) are removed as soon as they are loaded, so nothing is left in TMPDIR.
    rmSync(unitDir, { recursive: true, force: true });
  }
}

const loaded = new Map<string, LoadedKernel>();

/** A kernel file's real path (builds are cached by it), or a KernelError when there is no such file. */
export function kernelRealPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    throw new KernelError(`${path}: kernel file not found`);
  }
}

/**
 * Name prefix of a process's kernel build folders in TMPDIR. A kernel that crashes its process can
 * do so while another worker of it is compiling: whoever supervises the process removes what is left.
 */
export function kernelTempPrefix(pid: number): string {
  return `tickpack-kernel-${pid}-`;
}

/**
 * Compiles a kernel (once per thread, path and compiler) and validates its declarations; throws
 * KernelError with the compiler's diagnostics, or naming a compiler that is not installed.
 */
export function loadKernel(path: string, compiler: KernelCompiler = "tcc"): LoadedKernel {
  const real = kernelRealPath(path);
  const cacheKey = `${compiler}\0${real}`;
  const cached = loaded.get(cacheKey);
  if (cached) return cached;
  // The driver first: a kernel's macros cannot reach into it, and its names are all tpd_/TPD_.
  const symbols = compileKernelUnit(
    path,
    real,
    compiler,
    `#include "tickpack.h"\n${driverLayoutC()}#include ${JSON.stringify(DRIVER_SOURCE)}\n#include ${JSON.stringify(real)}\n`,
    SYMBOLS,
  );
  const { columns, columnTypes } = parseColumns(String(symbols.tickpack_columns()), path);
  const stateSize = symbols.tickpack_state_size();
  if (!(stateSize >= 0 && stateSize <= 1 << 20))
    throw new KernelError(`${path}: tickpack_state_size() returned ${stateSize}`);
  const kernel: LoadedKernel = {
    path: real,
    compiler,
    columns,
    columnTypes,
    params: parseParams(String(symbols.tickpack_params()), path),
    stateSize,
    symbols,
    structBytes: {
      event: symbols.tpd_event_bytes(),
      staged: symbols.tpd_staged_bytes(),
      sumEvent: symbols.tpd_sum_event_bytes(),
    },
  };
  loaded.set(cacheKey, kernel);
  return kernel;
}

/** A loaded kernel as another thread of this process takes it over (adoptKernel): what it declared, and its build's addresses. */
export interface SharedKernel extends Omit<LoadedKernel, "symbols"> {
  addresses: BuildAddresses<typeof SYMBOLS>;
}

/**
 * `kernel` for another thread of this process (this thread keeps the build loaded: its cache holds
 * it), or null for a kernel that is not built in. Built-in kernels keep nothing in globals; a user's
 * kernel might, against the ABI's rule, and one build called by two workers would then race on
 * them: each worker builds its own.
 */
export function shareKernel(kernel: LoadedKernel): SharedKernel | null {
  if (kernel.path !== kernelRealPath(EMA_CROSS_SOURCE)) return null;
  const { symbols, ...declared } = kernel;
  return { ...declared, addresses: addressesOf(symbols, SYMBOLS) };
}

/** The kernel another thread loaded and shared, callable here without a build of its own; loadKernel(path, compiler) then returns it. */
export function adoptKernel(shared: SharedKernel): LoadedKernel {
  const cacheKey = `${shared.compiler}\0${shared.path}`;
  let kernel = loaded.get(cacheKey);
  if (!kernel) {
    const { addresses, ...declared } = shared;
    kernel = { ...declared, symbols: linkAddresses(SYMBOLS, addresses) };
    loaded.set(cacheKey, kernel);
  }
  return kernel;
}

/** How orders fill (SPEC §7): at the contract's `price`, or at the touch (a buy at the ask, a sell at the bid). */
export type FillRule = "last" | "touch";

/** A closed trade of one parameter set. */
export interface KernelTrade {
  set: number;
  expiry: number;
  optCode: number;
  strike: number;
  entryTs: bigint;
  exitTs: bigint;
  entryPrice: number;
  exitPrice: number;
  pnl: number;
}

/** Closed trades column by column (what a worker posts back: a few typed arrays, not millions of objects). */
export interface KernelTradeColumns extends LoggedTrades {
  exitPrice: Float64Array;
  /** A chain kernel's legs: per trade its position, its leg number in it and its signed lots (> 0 long); absent for a per-contract kernel. */
  legs?: { position: Float64Array; leg: Float64Array; lots: Float64Array };
}

/** Growable trade columns: the driver's log, TRADE_PX's doubles and TRADE_TS's timestamps per trade. */
class TradeColumnsBuilder {
  length = 0;
  // Empty until a trade comes: every partition's KernelRun makes one, and a run keeping no trades
  // never fills it (it made 73 KB afresh per partition).
  private px = new Float64Array(0);
  private ts = new BigInt64Array(0);

  append(px: Float64Array, ts: BigInt64Array, n: number): void {
    if (this.length + n > this.ts.length / TRADE_TS.SIZE) {
      const cap = Math.max(2 * (this.length + n), 1024);
      const px2 = new Float64Array(TRADE_PX.SIZE * cap);
      px2.set(this.px.subarray(0, TRADE_PX.SIZE * this.length));
      const ts2 = new BigInt64Array(TRADE_TS.SIZE * cap);
      ts2.set(this.ts.subarray(0, TRADE_TS.SIZE * this.length));
      this.px = px2;
      this.ts = ts2;
    }
    // Whole-array copies: the driver's log lives over its own ArrayBuffer (pinned), so a subarray is
    // safe, and an element-wise copy of int64s boxes a BigInt per value (~100 ms per worker on 0.5M trades).
    this.px.set(px.subarray(0, TRADE_PX.SIZE * n), TRADE_PX.SIZE * this.length);
    this.ts.set(ts.subarray(0, TRADE_TS.SIZE * n), TRADE_TS.SIZE * this.length);
    this.length += n;
  }

  take(): KernelTradeColumns {
    const n = this.length;
    const px = this.px;
    const f = (k: number) => {
      const out = new Float64Array(n);
      for (let t = 0; t < n; t++) out[t] = px[TRADE_PX.SIZE * t + k];
      return out;
    };
    // Timestamps move as pairs of 32-bit words: no BigInt per value (a float64 view could alter NaN bit patterns).
    const words = new Int32Array(this.ts.buffer, this.ts.byteOffset, 2 * TRADE_TS.SIZE * n);
    const t = (k: number) => {
      const out = new BigInt64Array(n);
      const o = new Int32Array(out.buffer);
      for (let i = 0; i < n; i++) {
        o[2 * i] = words[2 * (TRADE_TS.SIZE * i + k)];
        o[2 * i + 1] = words[2 * (TRADE_TS.SIZE * i + k) + 1];
      }
      return out;
    };
    const out = {
      length: n,
      set: f(TRADE_PX.SET),
      entryPrice: f(TRADE_PX.ENTRY),
      exitPrice: f(TRADE_PX.EXIT),
      pnl: f(TRADE_PX.PNL),
      expiry: f(TRADE_PX.EXPIRY),
      optCode: f(TRADE_PX.OPT),
      strike: f(TRADE_PX.STRIKE),
      entryTs: t(TRADE_TS.ENTRY),
      exitTs: t(TRADE_TS.EXIT),
    };
    this.length = 0;
    this.px = new Float64Array(0);
    this.ts = new BigInt64Array(0);
    return out;
  }
}

/** Totals of one parameter set. */
export interface SetTotals {
  rows: number;
  validRows: number;
  trades: number;
  pnl: number;
  /** --fill touch fills that found no quote and filled at `price` (0 with --fill last). */
  fillsAtLast: number;
}

type Buffer = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array | null;
const addr = (a: Buffer): bigint => (a && a.byteLength > 0 ? BigInt(ptr(a)) : 0n);

/**
 * Buffers of released runs (KernelRun.release), by byte length, for this thread's next runs: a
 * report run's ~750 KB made afresh per partition cost a worker 0.4–0.7 ms a partition (fresh pages
 * faulted in, and the collections such allocations set off), measured; zeroing a spare one, ~0.03 ms.
 */
const spareBuffers = new Map<number, ArrayBuffer[]>();
/** Spares kept per size (a task's runs are few: its own, and one again when its exits spill). */
const SPARES_PER_SIZE = 4;

/**
 * A zeroed ArrayBuffer of `bytes` (at least 8), a spare one where this thread has one; made over its
 * own ArrayBuffer, so that a typed array over it never lives in (and moves with) the GC heap.
 */
function pinned(bytes: number): ArrayBuffer {
  const n = Math.max(8, bytes);
  const spare = spareBuffers.get(n)?.pop();
  if (!spare) return new ArrayBuffer(n);
  new Uint8Array(spare).fill(0);
  return spare;
}

/** Keeps `b` for a later `pinned` of its size (nothing may use it any more). */
function keepSpare(b: ArrayBuffer): void {
  let list = spareBuffers.get(b.byteLength);
  if (!list) spareBuffers.set(b.byteLength, (list = []));
  if (list.length < SPARES_PER_SIZE && !list.includes(b)) list.push(b);
}

/** Options of a kernel run. */
export interface KernelRunOptions {
  /**
   * Rows per block: every set runs over a block's segment runs before the next block (the block
   * stays in cache). Default 2048; with a trade log 256, or fewer for grids over 256 sets (the
   * staging grows with block × sets).
   */
  blockRows?: number;
  /** Keep the report's sums of the closed trades (kernel/report-sums.ts; needs batches with timestamps). */
  reportSums?: boolean;
  /** Segment records the sums hold between drains (default two blocks' worth; tests make it small to exercise the drain). */
  reportRecordCapacity?: number;
  /** How the driver fills the kernel's orders (default "last": the kernel's price, unchanged). */
  fill?: FillRule;
}

/** Growable segment records of the report's sums (what `takeReportSums` hands over). */
class SegmentSumsBuilder {
  length = 0;
  /** Records with a close, RECORD's layout each, and their first entries' instants. */
  private d = new Float64Array(0);
  private ts = new BigInt64Array(0);
  private readonly size: number;
  constructor(private readonly sets: number) {
    this.size = RECORD.SETS + TALLY.SIZE * sets;
  }

  /** Appends records [from, to) of the driver's buffers that have a close. */
  append(rec: Float64Array, recTs: BigInt64Array, from: number, to: number): void {
    const size = this.size;
    if ((this.length + to - from) * size > this.d.length) {
      const cap = Math.max(64, 2 * (this.length + to - from));
      const d = new Float64Array(cap * size);
      d.set(this.d.subarray(0, this.length * size));
      const ts = new BigInt64Array(cap);
      ts.set(this.ts.subarray(0, this.length));
      this.d = d;
      this.ts = ts;
    }
    for (let r = from; r < to; r++) {
      let trades = 0;
      for (let k = 0; k < this.sets; k++) trades += rec[r * size + RECORD.SETS + TALLY.SIZE * k + TALLY.TRADES];
      if (trades === 0) continue; // no close in that segment
      // Copied value by value: a subarray per record was an allocation each, in cold code.
      const src = r * size;
      const dst = this.length * size;
      for (let q = 0; q < size; q++) this.d[dst + q] = rec[src + q];
      this.ts[this.length++] = recTs[r];
    }
  }

  take(): ReportSums["segments"] {
    const n = this.length;
    const size = this.size;
    const tally = TALLY.SIZE * this.sets;
    const out = {
      length: n,
      expiry: new Float64Array(n),
      optCode: new Float64Array(n),
      strike: new Float64Array(n),
      firstEntryPrice: new Float64Array(n),
      firstEntryTs: this.ts.slice(0, n),
      perSet: new Float64Array(n * tally),
    };
    for (let r = 0; r < n; r++) {
      const at = r * size;
      out.expiry[r] = this.d[at + RECORD.E];
      out.optCode[r] = this.d[at + RECORD.O];
      out.strike[r] = this.d[at + RECORD.S];
      out.firstEntryPrice[r] = this.d[at + RECORD.PRICE];
      for (let q = 0; q < tally; q++) out.perSet[r * tally + q] = this.d[at + RECORD.SETS + q];
    }
    this.length = 0;
    return out;
  }
}

/** Rows per block by default (measured: bench/kernel-throughput.ts --blocks). */
export const DEFAULT_BLOCK_ROWS = 2048;

/** A kernel running every parameter set over a sequence of partitions (state resumes across batches). */
export class KernelRun {
  private readonly st: Float64Array;
  private readonly sti: BigInt64Array;
  private readonly cols: BigUint64Array;
  private readonly tradeTs: BigInt64Array | null;
  private readonly tradePx: Float64Array | null;
  private readonly trades = new TradeColumnsBuilder();
  private readonly block: number;
  private readonly touch: boolean;
  /** Every buffer the driver was given a pointer to: held here, so none is collected under it, until `release`. */
  private readonly owned: ArrayBuffer[] = [];
  private released = false;
  private readonly sums: {
    rec: Float64Array;
    recTs: BigInt64Array;
    sets: Float64Array;
    curve: Float64Array;
    segments: SegmentSumsBuilder;
  } | null;

  /**
   * `paramSets[k]` holds set k's values in the kernel's parameter order. With `tradeLogCapacity` > 0
   * every trade is kept; the log holds at least a block's worst case (two closes per row and set)
   * and is drained whenever the driver stops on a full log.
   */
  constructor(
    private readonly kernel: LoadedKernel,
    private readonly paramSets: number[][],
    tradeLogCapacity = 0,
    options: KernelRunOptions = {},
  ) {
    const np = kernel.params.length;
    const nsets = paramSets.length;
    const logging = tradeLogCapacity > 0;
    // With a trade log, the staging (and the log) hold a block's worst case for every set: smaller
    // blocks keep a large grid's buffers to a few MiB.
    // The report's sums open a record (a TALLY per set) per segment start: a large grid's blocks shrink so that a block's worst case stays ~2 MiB.
    const summingRows = options.reportSums
      ? Math.min(DEFAULT_BLOCK_ROWS, Math.max(16, 262_144 / nsets))
      : DEFAULT_BLOCK_ROWS;
    const blockRows = Math.max(
      1,
      Math.floor(
        options.blockRows ?? (logging ? Math.min(DEFAULT_BLOCK_ROWS, Math.max(16, 16384 / nsets)) : summingRows),
      ),
    );
    this.block = T.SIZE + np + kernel.stateSize;
    this.touch = options.fill === "touch";
    // Every array the driver holds a pointer to is made over its own ArrayBuffer: JSC keeps small
    // typed arrays in its GC heap and moves them out the first time anything asks for their
    // buffer (a subarray(), say), which would leave the driver writing to the old place.
    this.st = new Float64Array(this.own(8 * (H.SIZE + nsets * this.block)));
    this.st[H.NSETS] = nsets;
    this.st[H.NPARAMS] = np;
    this.st[H.NSTATE] = kernel.stateSize;
    this.st[H.NCOLS] = kernel.columns.length;
    this.st[H.BLOCK] = blockRows;
    paramSets.forEach((values, k) => {
      this.st.set(values, H.SIZE + k * this.block + T.SIZE);
    });
    this.sti = new BigInt64Array(this.own(8 * SET_TIMES.SIZE * nsets));
    this.cols = new BigUint64Array(this.own(8 * (C.FIRST + 2 * kernel.columns.length)));
    // TP_COLUMN's check: the declared types' codes, and zeros to hand out instead of a refused
    // column, a block's rows wide on either side of the pointer (a run is at most a block).
    const colTypes = new Uint8Array(this.own(kernel.columns.length));
    colTypes.set(kernel.columnTypes.map(columnTypeCode));
    const zeros = new Uint8Array(this.own(2 * blockRows * ZERO_ROW_BYTES));
    this.cols[C.COL_TYPES] = addr(colTypes);
    this.cols[C.ZEROS] = addr(zeros) + BigInt(blockRows * ZERO_ROW_BYTES);
    // Staged closes per set and block: one per row and one per segment end.
    const stagedCap = 2 * blockRows + 2;
    this.st[H.STAGED_CAP] = stagedCap;
    const capacity = logging ? Math.max(tradeLogCapacity, nsets * stagedCap) : 0;
    this.st[H.TRADE_CAP] = capacity;
    this.tradeTs = capacity ? new BigInt64Array(this.own(8 * TRADE_TS.SIZE * capacity)) : null;
    this.tradePx = capacity ? new Float64Array(this.own(8 * TRADE_PX.SIZE * capacity)) : null;
    this.cols[C.TRADE_TS] = addr(this.tradeTs);
    this.cols[C.TRADE_PX] = addr(this.tradePx);
    const bytes = kernel.structBytes;
    const events = new Uint8Array(this.own(bytes.event * (blockRows + 1)));
    const starts = new Uint8Array(this.own(8 * (blockRows + 1)));
    const staged = logging ? new Uint8Array(this.own(bytes.staged * nsets * stagedCap + 8 * 2 * nsets)) : null;
    this.cols[C.EVENTS] = addr(events);
    this.cols[C.STARTS] = addr(starts);
    this.cols[C.STAGED] = addr(staged);
    this.sums = null;
    if (options.reportSums) {
      // Two blocks' worth: the driver stops for a drain before a block could overflow them, and a
      // partition opens a few hundred. A KernelRun is made per partition and its buffers are zeroed
      // when made: at 4 MiB, that zeroing was most of what the sums cost a single-set run.
      const cap = Math.max(blockRows + 2, options.reportRecordCapacity ?? 2 * (blockRows + 2));
      this.sums = {
        rec: new Float64Array(this.own(8 * cap * (RECORD.SETS + TALLY.SIZE * nsets))),
        recTs: new BigInt64Array(this.own(8 * cap)),
        // In SET_SUMS's layout: the driver leaves trades, wins and PnL to setSumsFromHold.
        sets: new Float64Array(this.own(8 * nsets * SET_SUMS.SIZE)),
        curve: new Float64Array(this.own(8 * nsets * DAY_MINUTES)),
        segments: new SegmentSumsBuilder(nsets),
      };
      const slots = new Uint8Array(this.own(8 * (blockRows + 2)));
      // One set's events of a block (driver.c tpd_sum_event): at most one per row and one per segment end.
      const staged = new Uint8Array(this.own(bytes.sumEvent * (2 * blockRows + 2)));
      // Per staged event its instant, and where its timestamp's code is read (driver.c tpd_sum_apply).
      const stagedTs = new Uint8Array(this.own(2 * 8 * (2 * blockRows + 2)));
      this.cols[C.SUM_STAGE] = addr(staged);
      this.cols[C.SUM_STAGE_TS] = addr(stagedTs);
      this.st[H.REC_CAP] = cap;
      this.cols[C.SUM_REC] = addr(this.sums.rec);
      this.cols[C.SUM_REC_TS] = addr(this.sums.recTs);
      this.cols[C.SUM_SETS] = addr(this.sums.sets);
      this.cols[C.SUM_CURVE] = addr(this.sums.curve);
      this.cols[C.SUM_SLOTS] = addr(slots);
    }
    this.resetSums();
  }

  /** Clears the report's sums (after a take): no record open, no curve day yet. */
  private resetSums(): void {
    this.st[H.REC_COUNT] = 0;
    this.st[H.REC_OPEN] = -1;
    this.st[H.CURVE_DAY] = NaN;
    this.st[H.SPILLED] = 0;
    this.sums?.sets.fill(0);
    // Only minutes a close added to can be non-zero.
    const lo = this.st[H.CURVE_LO];
    const hi = this.st[H.CURVE_HI];
    if (this.sums && hi >= lo)
      for (let k = 0; k < this.paramSets.length; k++)
        this.sums.curve.fill(0, k * DAY_MINUTES + lo, k * DAY_MINUTES + hi + 1);
    this.st[H.CURVE_LO] = DAY_MINUTES;
    this.st[H.CURVE_HI] = -1;
  }

  /** A zeroed buffer for the driver, handed back to this thread's spares by `release`. */
  private own(bytes: number): ArrayBuffer {
    const b = pinned(bytes);
    this.owned.push(b);
    return b;
  }

  /**
   * Hands this run's buffers to the thread's next runs (call once its results are taken: totals,
   * trades, report sums); the run cannot be used afterwards.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const b of this.owned.splice(0)) keepSpare(b);
  }

  private usable(): void {
    if (this.released) throw new Error("KernelRun: used after release()");
  }

  /** Runs one batch; a segment continues from the previous batch while its key is unchanged. */
  run(b: KernelBatch): void {
    this.usable();
    if (b.length === 0) return;
    const c = this.cols;
    c[C.EXPIRY] = addr(b.expiry);
    c[C.EXPIRY_VALID] = addr(b.expiryValid);
    c[C.OPT] = addr(b.opt);
    c[C.OPT_VALID] = addr(b.optValid);
    c[C.OPT_MAP] = addr(b.optMap);
    c[C.STRIKE] = addr(b.strike);
    c[C.STRIKE_VALID] = addr(b.strikeValid);
    const runs = b.tsRuns ?? null;
    // Without a record the driver would read the dictionary as the rows' values: a garbled file's batch.
    if (runs && runs.records.length < CODE_RUN.SIZE)
      throw new TimestampCodeError(`timestamp: no run of codes for a batch of ${b.length} rows`);
    // Runs of codes index their dictionary where the decoder left it (any alignment: the driver's loads take it).
    c[C.TS] = runs ? BigInt(runs.dictionaryAt) : addr(b.ts);
    c[C.TS_CODES] = addr(b.tsCodes ?? null);
    c[C.TS_RUNS] = addr(runs?.records ?? null);
    this.st[H.TS_RUNS] = runs ? runs.records.length / CODE_RUN.SIZE : 0;
    this.st[H.TS_ENTRIES] = runs ? runs.entries : 0;
    this.st[H.TS_ROW0] = b.tsRow0 ?? 0;
    if (this.touch) {
      const q = b.quotes;
      if (!q || q.bid.length < b.length || q.ask.length < b.length)
        throw new Error(`${this.kernel.path}: --fill touch needs the batch's bp0 and sp0`);
      c[C.BID] = addr(q.bid);
      c[C.BID_VALID] = addr(q.bidValid);
      c[C.ASK] = addr(q.ask);
      c[C.ASK_VALID] = addr(q.askValid);
    }
    b.columns.forEach((col, k) => {
      // The kernel casts the pointer to its declared type: anything else would be misread.
      const type = this.kernel.columnTypes[k];
      if (col.values.constructor !== COLUMN_CTOR[type])
        throw new Error(
          `${this.kernel.path}: column ${this.kernel.columns[k]} is declared ${type} but came as ${col.values.constructor.name}`,
        );
      if (col.values.length < b.length)
        throw new Error(
          `${this.kernel.path}: column ${this.kernel.columns[k]} has ${col.values.length} values for ${b.length} rows`,
        );
      c[C.FIRST + 2 * k] = addr(col.values);
      c[C.FIRST + 2 * k + 1] = addr(col.valid);
    });
    let next = 0;
    while (next < b.length) {
      next = Number(this.kernel.symbols.tpd_run(ptr(this.st), ptr(this.sti), ptr(this.cols), next, b.length));
      if (this.cols[C.BAD_TYPE] !== 0n) throw this.refusedColumn();
      if (this.st[H.TS_BAD] !== 0) {
        this.st[H.TS_BAD] = 0;
        throw new TimestampCodeError(`timestamp: a dictionary code past its ${this.st[H.TS_ENTRIES]} values`);
      }
      this.drainTrades();
      // The driver stopped before a block that could overflow the segment records: make room.
      if (next < b.length && this.st[H.REC_COUNT] + this.st[H.BLOCK] + 1 > this.st[H.REC_CAP]) this.drainRecords(false);
    }
  }

  /** The error of the column TP_COLUMN refused: the kernel read it as a C type it was not declared in, or it is not declared. */
  private refusedColumn(): KernelError {
    const k = this.st[H.BAD_COLUMN];
    const asType = new CString(Number(this.cols[C.BAD_TYPE])).toString();
    const { path, columns, columnTypes } = this.kernel;
    const read = `TP_COLUMN(r, ${k}, ${asType})`;
    if (!(k >= 0 && k < columns.length))
      return new KernelError(
        `${path}: ${read}: no column ${k}: tickpack_columns() declares ${columns.length} (${columns.join(", ") || "none"}), numbered from 0`,
      );
    const [name, type] = [columns[k], columnTypes[k]];
    const other = COLUMN_TYPES.find((t) => C_TYPE[t] === asType);
    const remedy = other
      ? `, or declare it ${name}:${other}`
      : ` (columns are read as ${COLUMN_TYPES.map((t) => C_TYPE[t]).join(", ")})`;
    return new KernelError(
      `${path}: ${read} reads column ${name}, declared ${type}, as ${asType}: read it as ${C_TYPE[type]}${remedy}`,
    );
  }

  /** Ends the partition: every set's last segment closes here. */
  endPartition(): void {
    this.usable();
    this.kernel.symbols.tpd_flush(ptr(this.st), ptr(this.sti), ptr(this.cols));
    this.drainTrades();
    this.drainRecords(true);
  }

  /**
   * The report's sums since the last take (call after `endPartition`; with `reportSums`), handed over
   * once: the next partition starts from nothing.
   */
  takeReportSums(): ReportSums {
    this.usable();
    const s = this.sums;
    if (!s) throw new Error("takeReportSums: this run keeps no report sums (KernelRunOptions.reportSums)");
    const sets = this.paramSets.length;
    // The curve's range: its first and last minute with a non-zero PnL in some set, within the minutes
    // the driver added to (a minute's closes can sum to 0).
    const zeroAt = (m: number) => {
      for (let k = 0; k < sets; k++) if (s.curve[k * DAY_MINUTES + m] !== 0) return false;
      return true;
    };
    let lo = this.st[H.CURVE_LO];
    let hi = this.st[H.CURVE_HI];
    while (lo <= hi && zeroAt(lo)) lo++;
    while (hi >= lo && zeroAt(hi)) hi--;
    if (lo > hi) {
      lo = NaN;
      hi = NaN;
    }
    const width = Number.isNaN(lo) ? 0 : hi - lo + 1;
    const curve = new Float64Array(sets * width);
    for (let k = 0; k < sets && width > 0; k++)
      curve.set(s.curve.subarray(k * DAY_MINUTES + lo, k * DAY_MINUTES + hi + 1), k * width);
    const setSums = s.sets.slice();
    setSumsFromHold(setSums, sets);
    const out: ReportSums = {
      sets,
      segments: s.segments.take(),
      setSums,
      curveDay: this.st[H.CURVE_DAY],
      curveLo: lo,
      curveHi: hi,
      curve,
      spilled: this.st[H.SPILLED] !== 0,
    };
    this.resetSums();
    return out;
  }

  /**
   * Moves the segment records out of the driver's buffer: all of them (`all`: no segment is going
   * on), or all but the one going on, which moves to the front and stays open.
   */
  private drainRecords(all: boolean): void {
    const s = this.sums;
    if (!s) return;
    const n = this.st[H.REC_COUNT];
    const open = this.st[H.REC_OPEN];
    if (all || open < 0) {
      s.segments.append(s.rec, s.recTs, 0, n);
      this.st[H.REC_COUNT] = 0;
      this.st[H.REC_OPEN] = -1;
      return;
    }
    // The open record is the last one opened (one per segment start, in row order).
    const size = RECORD.SETS + TALLY.SIZE * this.paramSets.length;
    s.segments.append(s.rec, s.recTs, 0, open);
    s.rec.copyWithin(0, open * size, (open + 1) * size);
    s.recTs[0] = s.recTs[open];
    this.st[H.REC_COUNT] = 1;
    this.st[H.REC_OPEN] = 0;
  }

  /** Totals of each parameter set so far. */
  totals(): SetTotals[] {
    this.usable();
    return this.paramSets.map((_, k) => {
      const b = H.SIZE + k * this.block;
      return {
        rows: this.st[H.ROWS],
        validRows: this.st[b + T.VALID_ROWS],
        trades: this.st[b + T.TRADES],
        pnl: this.st[b + T.PNL],
        fillsAtLast: this.st[b + T.FILLS_AT_LAST],
      };
    });
  }

  /** Trades closed so far (with a trade log), column by column, handed over once. */
  takeTradeColumns(): KernelTradeColumns {
    return this.trades.take();
  }

  /** Trades closed so far as objects, handed over once (for tests and small logs). */
  takeTrades(): KernelTrade[] {
    const c = this.trades.take();
    return Array.from({ length: c.length }, (_, t) => ({
      set: c.set[t],
      expiry: c.expiry[t],
      optCode: c.optCode[t],
      strike: c.strike[t],
      entryTs: c.entryTs[t],
      exitTs: c.exitTs[t],
      entryPrice: c.entryPrice[t],
      exitPrice: c.exitPrice[t],
      pnl: c.pnl[t],
    }));
  }

  private drainTrades(): void {
    const n = this.st[H.TRADE_COUNT];
    if (!this.tradeTs || n === 0) return;
    this.trades.append(this.tradePx!, this.tradeTs, n);
    this.st[H.TRADE_COUNT] = 0;
  }
}
