/** TypeScript reference of examples/mid_reversion.c, for clarity rather than speed. */

/** One row: the segment key and the quotes (nulls as null). */
export interface QuoteRow {
  key: string;
  bp0: number | null;
  sp0: number | null;
}

/** Trades and PnL of mid_reversion over partitions (arrays of rows; segments are runs of equal key). */
export function midReversionReference(
  partitions: QuoteRow[][],
  lookback: number,
  band: number,
): { rows: number; validRows: number; trades: number; pnl: number } {
  const out = { rows: 0, validRows: 0, trades: 0, pnl: 0 };
  const alpha = 2 / (lookback + 1);
  for (const rows of partitions) {
    let i = 0;
    while (i < rows.length) {
      let j = i;
      while (j < rows.length && rows[j].key === rows[i].key) j++;
      out.rows += j - i;
      let seen = false,
        ema = 0,
        long = false,
        entry = 0,
        lastBid = 0;
      for (let k = i; k < j; k++) {
        const { bp0: bid, sp0: ask } = rows[k];
        if (bid === null || ask === null || !(bid > 0) || !(ask >= bid)) continue;
        out.validRows++;
        const mid = (bid + ask) / 2;
        if (!seen) {
          seen = true;
          ema = mid;
        } else {
          ema = alpha * mid + (1 - alpha) * ema;
          if (!long && mid < ema * (1 - band)) {
            long = true;
            entry = ask;
            out.trades++;
          } else if (long && mid >= ema) {
            long = false;
            out.pnl += bid - entry;
          }
        }
        lastBid = bid;
      }
      if (long) out.pnl += lastBid - entry;
      i = j;
    }
  }
  return out;
}
