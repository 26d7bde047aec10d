/*
 * ema_cross: the SPEC §4 strategy as a streaming kernel. All state lives in host-owned arrays,
 * so a call may stop at any row (trade buffer full) and the next call resumes; a segment that
 * spans batches or part files is one segment. The kernel knows nothing of files.
 *
 * st (double[ST_SIZE]) and sti (int64[STI_SIZE]) hold parameters, segment state and totals;
 * cols (pointer[COL_SIZE]) holds the batch's column pointers; validity pointers are Arrow
 * bitmaps (LSB first, bit offset 0) or 0 when the column has no nulls.
 */

enum { ST_ALPHA_F, ST_ALPHA_S, ST_MAX_SPREAD, ST_MIN_VOLUME,
       ST_HAS_SEG, ST_SEG_EXPIRY, ST_SEG_OPT, ST_SEG_STRIKE,
       ST_SEEN_VALID, ST_EMA_F, ST_EMA_S, ST_POS, ST_ENTRY, ST_LAST_PRICE,
       ST_ROWS, ST_VALID_ROWS, ST_TRADES, ST_PNL,
       ST_TRADE_COUNT, ST_TRADE_CAP, ST_SIZE };
enum { STI_ENTRY_TS, STI_LAST_TS, STI_SIZE };
enum { COL_EXPIRY, COL_EXPIRY_VALID, COL_OPT, COL_OPT_VALID, COL_OPT_MAP,
       COL_STRIKE, COL_STRIKE_VALID, COL_PRICE, COL_PRICE_VALID,
       COL_BP0, COL_BP0_VALID, COL_SP0, COL_SP0_VALID, COL_VOLUME, COL_VOLUME_VALID,
       COL_TS, COL_TRADE_TS, COL_TRADE_PX, COL_SIZE };

#define VALID(bits, i) (!(bits) || (((bits)[(i) >> 3] >> ((i) & 7)) & 1))
#define NULL_KEY (-1.0e300)

/* Records a closed trade when the host asked for a trade log (trade_px: entry, exit, expiry, opt, strike). */
static void log_trade(double *st, long long *sti, void **cols, long long exit_ts, double exit_px) {
  long long *tts = (long long *)cols[COL_TRADE_TS];
  double *tpx = (double *)cols[COL_TRADE_PX];
  if (!tts) return;
  long long k = (long long)st[ST_TRADE_COUNT];
  tts[2 * k] = sti[STI_ENTRY_TS];
  tts[2 * k + 1] = exit_ts;
  tpx[5 * k] = st[ST_ENTRY];
  tpx[5 * k + 1] = exit_px;
  tpx[5 * k + 2] = st[ST_SEG_EXPIRY];
  tpx[5 * k + 3] = st[ST_SEG_OPT];
  tpx[5 * k + 4] = st[ST_SEG_STRIKE];
  st[ST_TRADE_COUNT] = (double)(k + 1);
}

/* Ends the current segment: a position still open is closed at its last valid price. */
void ema_cross_flush(double *st, long long *sti, void **cols) {
  if (st[ST_HAS_SEG] != 0.0 && st[ST_POS] != 0.0) {
    st[ST_PNL] += st[ST_LAST_PRICE] - st[ST_ENTRY];
    log_trade(st, sti, cols, sti[STI_LAST_TS], st[ST_LAST_PRICE]);
  }
  st[ST_HAS_SEG] = 0.0;
  st[ST_POS] = 0.0;
  st[ST_SEEN_VALID] = 0.0;
}

/*
 * Runs rows [start, n) of a batch. Returns the next row to run: n when done, less when the trade
 * log is full (the host drains it and calls again from there). TinyCC does not optimise, so the
 * hot state lives in locals and goes back to `st` only around segment ends and on return.
 */
long long ema_cross_run(double *st, long long *sti, void **cols, long long start, long long n) {
  const int *expiry = (const int *)cols[COL_EXPIRY];
  const unsigned char *expiry_ok = (const unsigned char *)cols[COL_EXPIRY_VALID];
  const int *opt = (const int *)cols[COL_OPT];
  const unsigned char *opt_ok = (const unsigned char *)cols[COL_OPT_VALID];
  const int *opt_map = (const int *)cols[COL_OPT_MAP];
  const float *strike = (const float *)cols[COL_STRIKE];
  const unsigned char *strike_ok = (const unsigned char *)cols[COL_STRIKE_VALID];
  const double *price = (const double *)cols[COL_PRICE];
  const unsigned char *price_ok = (const unsigned char *)cols[COL_PRICE_VALID];
  const double *bp0 = (const double *)cols[COL_BP0];
  const unsigned char *bp0_ok = (const unsigned char *)cols[COL_BP0_VALID];
  const double *sp0 = (const double *)cols[COL_SP0];
  const unsigned char *sp0_ok = (const unsigned char *)cols[COL_SP0_VALID];
  const long long *volume = (const long long *)cols[COL_VOLUME];
  const unsigned char *volume_ok = (const unsigned char *)cols[COL_VOLUME_VALID];
  const long long *ts = (const long long *)cols[COL_TS];
  const int logging = cols[COL_TRADE_TS] != 0;

  double af = st[ST_ALPHA_F], as = st[ST_ALPHA_S];
  double max_spread = st[ST_MAX_SPREAD], min_volume = st[ST_MIN_VOLUME];
  double seg_e = st[ST_SEG_EXPIRY], seg_o = st[ST_SEG_OPT], seg_s = st[ST_SEG_STRIKE];
  int has_seg = st[ST_HAS_SEG] != 0.0, seen = st[ST_SEEN_VALID] != 0.0, pos = st[ST_POS] != 0.0;
  double ema_f = st[ST_EMA_F], ema_s = st[ST_EMA_S], entry = st[ST_ENTRY], last = st[ST_LAST_PRICE];
  double pnl = st[ST_PNL], trades = st[ST_TRADES];
  long long rows = 0, valid_rows = 0, i;

  for (i = start; i < n; i++) {
    double e = VALID(expiry_ok, i) ? (double)expiry[i] : NULL_KEY;
    double o = VALID(opt_ok, i) ? (double)opt_map[opt[i]] : NULL_KEY;
    double s = VALID(strike_ok, i) ? (double)strike[i] : NULL_KEY;
    if (!has_seg || e != seg_e || o != seg_o || s != seg_s) {
      /* A trade can close here: stop first when the log has no room for it. */
      if (logging && st[ST_TRADE_COUNT] >= st[ST_TRADE_CAP]) break;
      st[ST_HAS_SEG] = has_seg; st[ST_POS] = pos; st[ST_ENTRY] = entry; st[ST_LAST_PRICE] = last; st[ST_PNL] = pnl;
      ema_cross_flush(st, sti, cols);
      pnl = st[ST_PNL];
      has_seg = 1; seen = 0; pos = 0;
      st[ST_SEG_EXPIRY] = seg_e = e;
      st[ST_SEG_OPT] = seg_o = o;
      st[ST_SEG_STRIKE] = seg_s = s;
    }
    /* An exit can close a trade on this row: stop before touching any state when the log is full. */
    if (logging && pos && st[ST_TRADE_COUNT] >= st[ST_TRADE_CAP]) break;
    rows++;
    double p = price[i];
    if (!VALID(price_ok, i) || !(p > 0.0)) continue;
    valid_rows++;
    if (!seen) {
      seen = 1;
      ema_f = ema_s = p;
      last = p;
      if (ts) sti[STI_LAST_TS] = ts[i];
      continue;
    }
    ema_f = af * p + (1.0 - af) * ema_f;
    ema_s = as * p + (1.0 - as) * ema_s;
    if (!pos) {
      if (ema_f > ema_s && VALID(bp0_ok, i) && VALID(sp0_ok, i) && VALID(volume_ok, i)) {
        double b = bp0[i], a = sp0[i];
        if (b > 0.0 && a > 0.0 && (a - b) / ((a + b) / 2.0) <= max_spread && (double)volume[i] >= min_volume) {
          pos = 1;
          entry = p;
          trades += 1.0;
          if (ts) sti[STI_ENTRY_TS] = ts[i];
        }
      }
    } else if (ema_s >= ema_f) {
      pnl += p - entry;
      pos = 0;
      st[ST_ENTRY] = entry; st[ST_SEG_EXPIRY] = seg_e; st[ST_SEG_OPT] = seg_o; st[ST_SEG_STRIKE] = seg_s;
      log_trade(st, sti, cols, ts ? ts[i] : 0, p);
    }
    last = p;
    if (ts) sti[STI_LAST_TS] = ts[i];
  }
  st[ST_HAS_SEG] = has_seg; st[ST_SEEN_VALID] = seen; st[ST_POS] = pos;
  st[ST_EMA_F] = ema_f; st[ST_EMA_S] = ema_s; st[ST_ENTRY] = entry; st[ST_LAST_PRICE] = last;
  st[ST_PNL] = pnl; st[ST_TRADES] = trades;
  st[ST_ROWS] += (double)rows;
  st[ST_VALID_ROWS] += (double)valid_rows;
  return i;
}
