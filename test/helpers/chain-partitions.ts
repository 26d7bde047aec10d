/** Hand-written and random partitions of chain rows, for the chain driver's and chain kernels' tests. */
import type { ChainRow } from "../../kernel/chain-reference.ts";
import type { SeededRandom } from "../../lib/random.ts";

/** An epoch ns `minutes` (and `seconds`) after 09:15 IST, given that day's 09:15 in epoch ns. */
export const afterOpen = (openNs: bigint, minutes: number, seconds = 0): bigint =>
  openNs + BigInt(minutes * 60 + seconds) * 1_000_000_000n;

/**
 * One random partition in file order: 1–3 expiries, a few strikes each (CE, PE, now and then the
 * other opt code), prices that wander far enough to hit stops and targets, timestamps on a coarse
 * grid so that instants are shared across contracts and within one, and every kind of row a chain
 * driver must leave out or skip: null timestamp, expiry, opt or strike; null, zero and negative prices.
 */
export function randomChainPartition(rng: SeededRandom, day: number, openNs: bigint): ChainRow[] {
  const expiries = [1, 2, 3, 8, 15].filter(() => rng.next() < 0.5).map((d) => day + d);
  if (expiries.length === 0) expiries.push(day + rng.int(0, 7));
  const rows: ChainRow[] = [];
  // Prices on a coarse tick now and then, so that two strikes' |CE − PE| tie for the ATM.
  const tick = rng.next() < 0.3 ? 10 : 0.05;
  for (const expiry of expiries) {
    const strikes = Array.from({ length: rng.int(1, 5) }, (_, i) => 24000 + 50 * i);
    for (const opt of [0, 1, 2]) {
      if (opt === 2 && rng.next() < 0.8) continue;
      for (const strike of strikes) {
        if (rng.next() < 0.15) continue;
        // A call is dear below the money and cheap above it; a put the other way round.
        let price = Math.max(5, 200 + (opt === 0 ? -1 : 1) * (strike - 24100) * 0.8 + rng.normal() * 20);
        // Minutes from before the open to past a short exit_min: coarse, so that instants repeat.
        const minutes = Array.from({ length: rng.int(0, 12) }, () => rng.int(-10, 40) * (rng.next() < 0.2 ? 10 : 1));
        for (const minute of minutes.sort((a, b) => a - b)) {
          price *= Math.exp(rng.normal() * 0.15);
          const quoted = Math.max(tick, Math.round(price / tick) * tick);
          const kind = rng.next();
          rows.push({
            timestamp: kind < 0.03 ? null : afterOpen(openNs, minute, rng.next() < 0.7 ? 0 : 30),
            expiry,
            opt,
            strike,
            price: kind < 0.06 ? null : kind < 0.09 ? 0 : kind < 0.1 ? -quoted : quoted,
          });
        }
      }
    }
  }
  // Rows with a null key part, anywhere in the file.
  for (let i = rng.int(0, 3); i > 0; i--) {
    const at = rng.int(0, rows.length);
    const base = rows[at] ?? { timestamp: openNs, expiry: day, opt: 0, strike: 24000, price: 100 };
    const part = rng.int(0, 2);
    // An earlier expiry on a keyless row must not become the partition's nearest.
    rows.splice(at, 0, {
      ...base,
      expiry: part === 0 ? null : day - 1,
      opt: part === 1 ? null : base.opt,
      strike: part === 2 ? null : base.strike,
      price: 1,
    });
  }
  return rows;
}
