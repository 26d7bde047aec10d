/**
 * The layout of the arrays the host shares with the driver (kernel/driver.c): the one definition
 * of every index both sides use. The host reads these objects; `driverLayoutC()` writes them as C
 * enums that the build puts in front of the driver, so the driver names them and never numbers them.
 */
import { typeCodeMacroC } from "./column-types.ts";
import { NULL_KEY } from "./segment-key.ts";
import { DAY_MINUTES, HOLD_BOUNDS_NS, IST_OFFSET_MINUTES, SET_SUMS, TALLY } from "./report-sums.ts";

type Layout<N extends string> = Readonly<Record<N, number>>;

/** Consecutive indices of `names`, and `end` (the count: where what follows starts). */
export function layout<const N extends readonly string[], const E extends string>(
  names: N,
  end: E,
): Layout<N[number] | E> {
  return Object.freeze(Object.fromEntries([...names.map((n, i) => [n, i]), [end, names.length]])) as Layout<
    N[number] | E
  >;
}

/** `st`'s header (doubles); the per-set blocks follow it. */
export const HEADER = layout(
  [
    "NSETS",
    "NPARAMS",
    "NSTATE",
    "NCOLS",
    "HAS_SEG",
    // The key of the segment going on at the end of the last block (SEG_E, SEG_O, SEG_S: read as an array).
    "SEG_E",
    "SEG_O",
    "SEG_S",
    "ROWS",
    "TRADE_COUNT",
    "TRADE_CAP",
    "BLOCK",
    // Staged closes per set and block (logging): one per row and one per segment end.
    "STAGED_CAP",
    "REC_COUNT",
    "REC_CAP",
    "REC_OPEN",
    "CURVE_DAY",
    // The first and last minute of CURVE_DAY any close added to (DAY_MINUTES and -1: none yet).
    "CURVE_LO",
    "CURVE_HI",
    "SPILLED",
    // The column index a kernel's TP_COLUMN refused (when BAD_TYPE is set).
    "BAD_COLUMN",
    // Timestamps as runs of codes (TS_RUNS in cols): the records, the values they index (TS), the
    // batch row 0's row in the runs, and whether a code past the values was read (the run is void).
    "TS_RUNS",
    "TS_ENTRIES",
    "TS_ROW0",
    "TS_BAD",
  ],
  "SIZE",
);

/** A set's block of `st` begins with its totals, then its parameters, then the kernel's state. */
export const SET_TOTALS = layout(
  // FILLS_AT_LAST: --fill touch fills without a quote; LAST_BID: the bid at the segment's last valid row (NaN: none).
  ["VALID_ROWS", "TRADES", "PNL", "ENTRY", "FILLS_AT_LAST", "LAST_BID"],
  "SIZE",
);

/**
 * `sti` (int64) per set: the trade log's entry and last valid timestamps, then the report sums' own;
 * a last valid timestamp not yet looked up is 1 + its batch row in *_LAST_ROW (0: resolved).
 */
export const SET_TIMES = layout(
  ["LOG_ENTRY", "LOG_LAST", "SUM_ENTRY", "SUM_LAST", "LOG_LAST_ROW", "SUM_LAST_ROW"],
  "SIZE",
);

/** `cols` (pointers): key columns, timestamps, trade log, scratch, report sums, TP_COLUMN's check; then each declared column and its bitmap from FIRST on. */
export const COLS = layout(
  [
    "EXPIRY",
    "EXPIRY_VALID",
    "OPT",
    "OPT_VALID",
    "OPT_MAP",
    "STRIKE",
    "STRIKE_VALID",
    "TS",
    "TRADE_TS",
    "TRADE_PX",
    "EVENTS",
    "STARTS",
    "STAGED",
    "SUM_REC",
    "SUM_REC_TS",
    "SUM_SETS",
    "SUM_CURVE",
    "SUM_SLOTS",
    "SUM_STAGE",
    "SUM_STAGE_TS",
    // TP_COLUMN's: the declared columns' type codes (bytes), the middle of ZEROS, and (set by the
    // driver) the C type name TP_COLUMN refused, which ends the run.
    "COL_TYPES",
    "ZEROS",
    "BAD_TYPE",
    // --fill touch's quotes, bp0 and sp0, and their bitmaps (BID 0: --fill last).
    "BID",
    "BID_VALID",
    "ASK",
    "ASK_VALID",
    // With it, row i's timestamp is TS[TS_CODES[i]] (a dictionary-coded column read as codes); with
    // TS_RUNS, TS[code] of row i's code in the run records (lib/parquet/native/code-runs.ts).
    "TS_CODES",
    "TS_RUNS",
  ],
  "FIRST",
);

/** A logged trade's doubles (its timestamps go to TRADE_TS). */
export const TRADE_PX = layout(["SET", "ENTRY", "EXIT", "PNL", "EXPIRY", "OPT", "STRIKE"], "SIZE");
/** A logged trade's int64 timestamps, epoch ns. */
export const TRADE_TS = layout(["ENTRY", "EXIT"], "SIZE");

/** A segment record of the report's sums: key, first entry price, then from SETS on per set a TALLY (report-sums.ts). */
export const RECORD = layout(["E", "O", "S", "PRICE"], "SETS");

/** Most columns a kernel may declare (the driver's stack arrays hold this many). */
export const MAX_COLUMNS = 64;

/** Bytes a row of zeros for a refused column takes, in the widest C scalar (long double _Complex). */
export const ZERO_ROW_BYTES = 32;

export const cEnum = (prefix: string, l: Readonly<Record<string, number>>) =>
  `enum { ${Object.entries(l)
    .map(([k, v]) => `${prefix}${k} = ${v}`)
    .join(", ")} };`;

/** The holding bucket of `h` ns (HOLD_BOUNDS_NS; h evaluated more than once) as one C expression. */
const holdBucketC = (h: string) =>
  `(${HOLD_BOUNDS_NS.map((b, i) => `(${h}) < ${b}LL ? ${i} : `).join("")}${HOLD_BOUNDS_NS.length})`;

/** The layout as the C the build puts in front of driver.c. */
export function driverLayoutC(): string {
  return [
    "/* The driver's layout, written by kernel/driver-layout.ts. */",
    cEnum("TPD_H_", HEADER),
    cEnum("TPD_T_", SET_TOTALS),
    cEnum("TPD_STI_", SET_TIMES),
    cEnum("TPD_C_", COLS),
    cEnum("TPD_TPX_", TRADE_PX),
    cEnum("TPD_TTS_", TRADE_TS),
    cEnum("TPD_R_", RECORD),
    cEnum("TPD_S_", SET_SUMS),
    cEnum("TPD_TALLY_", TALLY),
    `#define TPD_NULL_KEY (${NULL_KEY})`,
    `#define TPD_MAX_COLS ${MAX_COLUMNS}`,
    `#define TPD_DAY_MINUTES ${DAY_MINUTES}`,
    `#define TPD_IST_OFFSET_MINUTES ${IST_OFFSET_MINUTES}`,
    `#define TPD_HOLD_BUCKET(h) ${holdBucketC("h")}`,
    typeCodeMacroC(),
    "",
  ].join("\n");
}
