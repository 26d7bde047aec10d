/** TypeScript port of examples/iron_condor.c for the reference chain driver, for clarity rather than speed. */
import { OPT_CE, OPT_PE } from "../lib/packed/opt-type.ts";
import type { ChainKernelReference, ChainView } from "../kernel/chain-reference.ts";

const P_ENTRY_MIN = 0,
  P_EXIT_MIN = 1,
  P_WIDTH = 2,
  P_WING = 3,
  P_STOP = 4,
  P_TARGET = 5;
/** S_STAGE: 0 waiting for the entry, 1 open, 2 done; S_POS the position; S_LEG0.. its four contracts; S_CREDIT the net premium received. */
const S_STAGE = 0,
  S_POS = 1,
  S_LEG0 = 2,
  S_CREDIT = 6,
  S_SIZE = 7;

/** The contract `steps` listed strikes from `strike` among x's contracts of type opt, if it has a price now; else -1. */
function pricedStep(c: ChainView, x: number, opt: number, strike: number, steps: number): number {
  const k = c.strikeStep(x, opt, strike, steps);
  if (Number.isNaN(k)) return -1;
  const contract = c.find(x, opt, k);
  return contract >= 0 && c.has[contract] ? contract : -1;
}

export const ironCondorChainKernel: ChainKernelReference = {
  columns: [],
  params: [
    { name: "entry_min", defaultValue: 5 },
    { name: "exit_min", defaultValue: 360 },
    { name: "width", defaultValue: 2 },
    { name: "wing", defaultValue: 2 },
    { name: "stop", defaultValue: 0.5 },
    { name: "target", defaultValue: 0.5 },
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
      // The entry instant whether or not the condor can be built: no condor now means no trade today.
      s[S_STAGE] = 2;
      const atm = c.atm(x);
      if (Number.isNaN(atm)) return;
      // The C kernel reads width and wing as int: truncated.
      const width = Math.trunc(p[P_WIDTH]);
      const wing = Math.trunc(p[P_WING]);
      const shortCe = pricedStep(c, x, OPT_CE, atm, width);
      const shortPe = pricedStep(c, x, OPT_PE, atm, -width);
      if (shortCe < 0 || shortPe < 0) return;
      const longCe = pricedStep(c, x, OPT_CE, c.strike[shortCe], wing);
      const longPe = pricedStep(c, x, OPT_PE, c.strike[shortPe], -wing);
      if (longCe < 0 || longPe < 0) return;
      // Legs 0..3: short CE, short PE, long CE, long PE.
      const legs = [shortCe, shortPe, longCe, longPe];
      const lots = [-1, -1, 1, 1];
      let pos = -1;
      for (let k = 0; k < 4; k++) pos = c.open(pos, legs[k], lots[k]);
      s[S_STAGE] = 1;
      s[S_POS] = pos;
      for (let k = 0; k < 4; k++) s[S_LEG0 + k] = legs[k];
      s[S_CREDIT] = -c.entryValue(pos);
      return;
    }
    if (s[S_STAGE] !== 1) return;
    const legs = s.subarray(S_LEG0, S_LEG0 + 4);
    if (!c.rowContract.some((contract, i) => c.rowValid[i] && legs.includes(contract))) return;
    const pos = s[S_POS];
    const credit = s[S_CREDIT];
    const cost = -c.value(pos);
    if (sinceOpen >= p[P_EXIT_MIN] * 6e10 || cost >= credit * (1 + p[P_STOP]) || cost <= credit * (1 - p[P_TARGET])) {
      c.close(pos);
      s[S_STAGE] = 2;
    }
  },

  end() {},
};
