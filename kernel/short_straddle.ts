/**
 * short_straddle (SPEC §6.1) in plain TypeScript, twice, for clarity rather than speed: the rules
 * read literally over one partition's rows, with no driver; and a port of kernel/short_straddle.c
 * for the reference chain driver. Tests hold each to the other, and the C kernel to both.
 */
import { OPT_CE, OPT_PE } from "../lib/packed/opt-type.ts";
import type { ChainKernelReference, ChainRow } from "./chain-reference.ts";

export interface ShortStraddleParams {
  /** Minutes after 09:15:00 IST. */
  entry_min: number;
  exit_min: number;
  /** Fractions of the premium received. */
  stop: number;
  target: number;
}

export const SHORT_STRADDLE_DEFAULTS: ShortStraddleParams = { entry_min: 5, exit_min: 360, stop: 0.3, target: 0.5 };

export type StraddleExit = "time" | "stop" | "target" | "end";

/** One partition's straddle: no trade, or the trade with its contracts, fills and why it closed. */
export type ShortStraddleResult =
  | { trades: 0; pnl: 0 }
  | {
      trades: 1;
      /** P0 − C(exit), price points. */
      pnl: number;
      /** X, epoch days. */
      expiry: number;
      strike: number;
      /** E and the exit instant, epoch ns. */
      entryTs: bigint;
      exitTs: bigint;
      ceEntry: number;
      peEntry: number;
      ceExit: number;
      peExit: number;
      exit: StraddleExit;
    };

/** A used row (step 1) with its place in the file, for ties. */
interface UsedRow {
  ts: bigint;
  opt: number;
  strike: number;
  price: number;
  fileIndex: number;
}

/** SPEC §6.1 steps 1–8 over one partition's rows in file order. */
export function shortStraddleReference(
  rows: ChainRow[],
  params: ShortStraddleParams,
  openNs: bigint,
): ShortStraddleResult {
  const none = { trades: 0, pnl: 0 } as const;
  // 1. X: the earliest expiry among the partition's contracts (rows with a whole key); its used rows.
  let x = Number.POSITIVE_INFINITY;
  for (const r of rows) {
    if (r.expiry !== null && r.opt !== null && r.strike !== null) x = Math.min(x, r.expiry);
  }
  const used: UsedRow[] = [];
  rows.forEach((r, fileIndex) => {
    if (r.expiry !== x || r.timestamp === null || r.opt === null || r.strike === null) return;
    if (r.price === null || !(r.price > 0)) return;
    used.push({ ts: r.timestamp, opt: r.opt, strike: r.strike, price: r.price, fileIndex });
  });

  // 2. last(opt, strike, t): the price of the latest used row at or before t; of equal timestamps, the later in file order.
  const last = (opt: number, strike: number, t: bigint): number | null => {
    let best: UsedRow | null = null;
    for (const u of used) {
      if (u.opt !== opt || u.strike !== strike || u.ts > t) continue;
      if (best === null || u.ts > best.ts || (u.ts === best.ts && u.fileIndex > best.fileIndex)) best = u;
    }
    return best?.price ?? null;
  };
  const sinceOpenNs = (t: bigint) => Number(t - openNs);

  // 3. E: the earliest used timestamp at or after 09:15 + entry_min.
  let e: bigint | null = null;
  for (const u of used) {
    if (sinceOpenNs(u.ts) >= params.entry_min * 6e10 && (e === null || u.ts < e)) e = u.ts;
  }
  if (e === null) return none;

  // 4–5. ATM: of the strikes with both a CE and a PE price at E, the smallest |CE − PE|, ties to the lower strike.
  const strikes = [...new Set(used.map((u) => u.strike))].sort((a, b) => a - b);
  let atm: number | null = null;
  let atmGap = Number.POSITIVE_INFINITY;
  for (const k of strikes) {
    const ce = last(OPT_CE, k, e);
    const pe = last(OPT_PE, k, e);
    if (ce === null || pe === null) continue;
    if (Math.abs(ce - pe) < atmGap) {
      atmGap = Math.abs(ce - pe);
      atm = k;
    }
  }
  if (atm === null) return none;

  // 6. Sell both at E.
  const ceEntry = last(OPT_CE, atm, e)!;
  const peEntry = last(OPT_PE, atm, e)!;
  const p0 = ceEntry + peEntry;

  // 7. The instants after E with a used row of either leg, in order; exit at the first that meets a rule, else the last (else E).
  const legInstants = [
    ...new Set(used.filter((u) => u.strike === atm && (u.opt === OPT_CE || u.opt === OPT_PE)).map((u) => u.ts)),
  ]
    .filter((t) => t > e)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let exitTs = e;
  let exit: StraddleExit = "end";
  for (const t of legInstants) {
    exitTs = t;
    const c = last(OPT_CE, atm, t)! + last(OPT_PE, atm, t)!;
    if (sinceOpenNs(t) >= params.exit_min * 6e10) exit = "time";
    else if (c >= p0 * (1 + params.stop)) exit = "stop";
    else if (c <= p0 * (1 - params.target)) exit = "target";
    if (exit !== "end") break;
  }

  // 8. PnL = P0 − C(exit).
  const ceExit = last(OPT_CE, atm, exitTs)!;
  const peExit = last(OPT_PE, atm, exitTs)!;
  return {
    trades: 1,
    pnl: p0 - (ceExit + peExit),
    expiry: x,
    strike: atm,
    entryTs: e,
    exitTs,
    ceEntry,
    peEntry,
    ceExit,
    peExit,
    exit,
  };
}

// kernel/short_straddle.c's parameter and state slots.
const P_ENTRY_MIN = 0,
  P_EXIT_MIN = 1,
  P_STOP = 2,
  P_TARGET = 3;
/** S_STAGE: 0 waiting for the entry, 1 short, 2 done; S_POS the position; S_CE, S_PE its contracts; S_P0 the premium received. */
const S_STAGE = 0,
  S_POS = 1,
  S_CE = 2,
  S_PE = 3,
  S_P0 = 4,
  S_SIZE = 5;

/** kernel/short_straddle.c, line for line, for runChainReference. */
export const shortStraddleChainKernel: ChainKernelReference = {
  columns: [],
  params: [
    { name: "entry_min", defaultValue: SHORT_STRADDLE_DEFAULTS.entry_min },
    { name: "exit_min", defaultValue: SHORT_STRADDLE_DEFAULTS.exit_min },
    { name: "stop", defaultValue: SHORT_STRADDLE_DEFAULTS.stop },
    { name: "target", defaultValue: SHORT_STRADDLE_DEFAULTS.target },
  ],
  stateSize: S_SIZE,
  contractStateSize: 0,

  start(_p, s) {
    s[S_STAGE] = 0;
  },

  instant(p, s, c) {
    // Nanoseconds since 09:15, exact as a double for any day's instant.
    const sinceOpen = Number(c.ts - c.openNs);
    if (s[S_STAGE] === 0) {
      if (c.expiries.length === 0 || sinceOpen < p[P_ENTRY_MIN] * 6e10) return;
      const x = c.expiries[0];
      if (!c.rowContract.some((contract, i) => c.rowValid[i] && c.expiry[contract] === x)) return;
      // E is this instant whether or not a strike is eligible: no ATM now means no trade today.
      s[S_STAGE] = 2;
      const atm = c.atm(x);
      if (Number.isNaN(atm)) return;
      const ce = c.find(x, OPT_CE, atm);
      const pe = c.find(x, OPT_PE, atm);
      const pos = c.open(-1, ce, -1);
      c.open(pos, pe, -1);
      s[S_STAGE] = 1;
      s[S_POS] = pos;
      s[S_CE] = ce;
      s[S_PE] = pe;
      s[S_P0] = c.asofPrice[ce] + c.asofPrice[pe];
      return;
    }
    if (s[S_STAGE] !== 1) return;
    const ce = s[S_CE];
    const pe = s[S_PE];
    if (!c.rowContract.some((contract, i) => c.rowValid[i] && (contract === ce || contract === pe))) return;
    const p0 = s[S_P0];
    const now = c.asofPrice[ce] + c.asofPrice[pe];
    if (sinceOpen >= p[P_EXIT_MIN] * 6e10 || now >= p0 * (1 + p[P_STOP]) || now <= p0 * (1 - p[P_TARGET])) {
      c.close(s[S_POS]);
      s[S_STAGE] = 2;
    }
  },

  end() {},
};
