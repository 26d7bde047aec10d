/**
 * The layout of the arrays the host shares with the chain driver (kernel/chain-driver.c): the one
 * definition of every index both sides use. `chainLayoutC()` writes them as C enums that the build
 * puts in front of the driver, so the driver names them and never numbers them.
 */
import { typeCodeMacroC } from "./column-types.ts";
import { cEnum, layout } from "./driver-layout.ts";

/** `ctl` (int64): sizes, the merge's progress, the trade log's fill and the error of a stopped run. */
export const CTL = layout(
  [
    "NSETS",
    "NPARAMS",
    "NSTATE",
    "NCSTATE",
    // The kernel's declared columns, which the driver copies per row; with --fill touch (TOUCH 1) it
    // reads each fill's quote where its row lies (PART's BID and ASK).
    "NCOLS",
    "TOUCH",
    "NCONTRACTS",
    "NEXPIRIES",
    "NRUNS",
    // The merge: runs not yet exhausted (ACTIVE holds them, in file order), and the next instant.
    "NACTIVE",
    "NEXT_TS",
    // How the merge finds each instant's runs: asked by the host (0 auto, 1 always a pass over every
    // run's head, 2 always a heap), and now (1 or 2, with the heap's size); the pass's totals of heads
    // looked at and runs found due, which decide auto's switch to the heap.
    "MERGE_ASK",
    "MERGE",
    "HEAP_N",
    "SCANNED",
    "DUE",
    // The last instant run (0 before the first) and its rows (the end still shows them to the kernel).
    "LAST_TS",
    "LAST_ROWS",
    // 0 before the partition's start, 1 streaming, 2 ended (every leg closed), 3 inside an instant
    // that stopped for room (PASS_*: where its pass was: the due run it was at, the runs due, the rows
    // taken, the next instant so far, the runs ended, the valid rows).
    "STAGE",
    "PASS_RUN",
    "PASS_DUE",
    "PASS_ROWS",
    "PASS_NEXT",
    "PASS_ENDED",
    "PASS_VALID",
    "OPEN_NS",
    "VALID_ROWS",
    "INSTANTS",
    "LOG_COUNT",
    "LOG_CAP",
    // Rows the instant buffers hold, and (when a run stops for it) how many the next instant needs.
    "INST_CAP",
    "NEED",
    // Why the run stopped (ERR_*), and where: set, contract, position, leg, instant row, instant.
    "ERROR",
    "ERR_SET",
    "ERR_CONTRACT",
    "ERR_POSITION",
    "ERR_LEG",
    "ERR_ROW",
    "ERR_TS",
    "BAD_COLUMN",
  ],
  "SIZE",
);

/** What `tpc_run` returns. */
export const STATUS = { DONE: 0, DRAIN: 1, GROW: 2, ERROR: 3 } as const;

/** Why a run stopped (CTL.ERROR): a bad order, or a column read as another type (ERR_TYPE). */
export const ERR = layout(
  [
    "NONE",
    "NO_CONTRACT",
    "NO_PRICE",
    "BAD_LOTS",
    "NO_POSITION",
    "CLOSED_POSITION",
    "NO_LEG",
    "TOO_MANY_LEGS",
    "BAD_ROW",
    "ROW_CONTRACT",
    "TOO_MANY_CLOSES",
    "TYPE",
  ],
  "COUNT",
);

/** `num` (double): the header, then per set a block: these totals, its parameters, its state, its contracts' state. */
export const NUM = layout(["ERR_LOTS"], "SIZE");
export const SET = layout(["TRADES", "PNL", "NLEGS", "NPOSITIONS", "FILLS_AT_LAST"], "SIZE");

/** An open leg (doubles; its entry timestamp goes to LEG_TS), MAX_LEGS per set. */
export const LEG = layout(["POSITION", "LEG", "CONTRACT", "LOTS", "ENTRY"], "SIZE");
/** A position with open legs, MAX_LEGS per set: its id, the number its next leg gets, its open legs. */
export const POSITION = layout(["ID", "NEXT_LEG", "OPEN"], "SIZE");
/** A logged leg (doubles; its timestamps go to LOG_TS). */
export const LOG = layout(["SET", "POSITION", "LEG", "CONTRACT", "LOTS", "ENTRY", "EXIT", "PNL"], "SIZE");
export const LOG_TS = layout(["ENTRY", "EXIT"], "SIZE");

/** Pointers (`ptrs`): the contract table, the runs, the merge's scratch, the instant, the as-of state, legs, log. */
export const PTR = layout(
  [
    "CONTRACT_EXPIRY",
    "CONTRACT_OPT",
    "CONTRACT_STRIKE",
    "EXPIRIES",
    "RUN_PART",
    "RUN_POS",
    "RUN_END",
    "RUN_CONTRACT",
    "ACTIVE",
    "HEAD",
    "DUE",
    "HEAP",
    "PARTS",
    "COL_SRC",
    "COL_TYPES",
    "ZEROS",
    "INST_CONTRACT",
    "INST_VALID",
    "INST_PRICE",
    // --fill touch: where each instant row, and each contract's latest valid row, lies (part, row).
    "INST_PART",
    "INST_ROW",
    "ASOF_PART",
    "ASOF_ROW",
    "INST_COLS",
    "INST_OK",
    "HAS",
    "ASOF_PRICE",
    "ASOF_TS",
    "ASOF_COLS",
    "ASOF_OK",
    "LEGS",
    "LEG_TS",
    "POSITIONS",
    "LOG",
    "LOG_TS",
    "BAD_TYPE",
    // What tp_contract_state hands out for a contract that does not exist (the run stops).
    "SCRATCH",
  ],
  "SIZE",
);

/** A part's pointers in PARTS: timestamps, price, --fill touch's bp0 and sp0 (0 without) and their bitmaps, then each declared column's values and bitmap. */
export const PART = layout(["TS", "TS_OK", "PRICE", "PRICE_OK", "BID", "BID_OK", "ASK", "ASK_OK"], "COLS");

/** Most legs a set may hold open at once, and close in one instant. */
export const MAX_LEGS = 64;

/** The layout as the C the build puts in front of the chain driver. */
export function chainLayoutC(): string {
  return [
    "/* The chain driver's layout, written by kernel/chain-layout.ts. */",
    cEnum("TPC_CTL_", CTL),
    cEnum("TPC_ST_", STATUS),
    cEnum("TPC_ERR_", ERR),
    cEnum("TPC_NUM_", NUM),
    cEnum("TPC_SET_", SET),
    cEnum("TPC_LEG_", LEG),
    cEnum("TPC_POSN_", POSITION),
    cEnum("TPC_LOG_", LOG),
    cEnum("TPC_LOGTS_", LOG_TS),
    cEnum("TPC_P_", PTR),
    cEnum("TPC_PART_", PART),
    `#define TPC_MAX_LEGS ${MAX_LEGS}`,
    typeCodeMacroC(),
    "",
  ].join("\n");
}
