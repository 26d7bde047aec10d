/*
 * The tickpack driver: walks a batch's rows, finds segment ends, and runs every parameter set's
 * kernel over each row while it is hot in cache. Compiled together with a kernel (see
 * strategy-kernel.ts). All state lives in host-owned arrays, so a call can stop at any row (the
 * trade log is full) and the next call resumes there.
 *
 * st (double): header, then per set: totals, params, kernel state.
 * sti (int64): per set: entry timestamp, last valid timestamp.
 * cols (pointers): key columns, timestamps, trade log, then each declared column (float64) and its bitmap.
 */

enum { H_NSETS, H_NPARAMS, H_NSTATE, H_NCOLS, H_HAS_SEG, H_SEG_E, H_SEG_O, H_SEG_S,
       H_ROWS, H_TRADE_COUNT, H_TRADE_CAP, H_SIZE };
/* Per-set totals at the start of each set's block. */
enum { T_VALID_ROWS, T_TRADES, T_PNL, T_ENTRY, T_SIZE };
enum { C_EXPIRY, C_EXPIRY_VALID, C_OPT, C_OPT_VALID, C_OPT_MAP, C_STRIKE, C_STRIKE_VALID,
       C_TS, C_TRADE_TS, C_TRADE_PX, C_TYPES, C_FIRST };

#define TP_VALID(bits, i) (!(bits) || (((bits)[(i) >> 3] >> ((i) & 7)) & 1))
#define TP_NULL_KEY (-1.0e300)
#define TP_MAX_COLS 64

static long long set_block(double *st) {
  return T_SIZE + (long long)st[H_NPARAMS] + (long long)st[H_NSTATE];
}

/* Applies an event of set k at time ts; TP_CLOSE goes to the trade log when there is one. */
static void tp_apply(double *st, long long *sti, void **cols, long long k, double *blk, tp_event *ev, long long ts) {
  if (ev->action == TP_OPEN) {
    blk[T_TRADES] += 1.0;
    blk[T_ENTRY] = ev->price;
    sti[2 * k] = ts;
  } else if (ev->action == TP_CLOSE) {
    blk[T_PNL] += ev->pnl;
    long long *tts = (long long *)cols[C_TRADE_TS];
    if (tts) {
      double *tpx = (double *)cols[C_TRADE_PX];
      long long t = (long long)st[H_TRADE_COUNT];
      tts[2 * t] = sti[2 * k];
      tts[2 * t + 1] = ts;
      tpx[7 * t] = (double)k;
      tpx[7 * t + 1] = blk[T_ENTRY];
      tpx[7 * t + 2] = ev->price;
      tpx[7 * t + 3] = ev->pnl;
      tpx[7 * t + 4] = st[H_SEG_E];
      tpx[7 * t + 5] = st[H_SEG_O];
      tpx[7 * t + 6] = st[H_SEG_S];
      st[H_TRADE_COUNT] = (double)(t + 1);
    }
  }
}

/* Ends the current segment for every set (end of partition, or a key change). */
void tp_flush(double *st, long long *sti, void **cols) {
  if (st[H_HAS_SEG] == 0.0) return;
  long long nsets = (long long)st[H_NSETS], np = (long long)st[H_NPARAMS], blk = set_block(st), k;
  for (k = 0; k < nsets; k++) {
    double *b = st + H_SIZE + k * blk;
    tp_event ev;
    ev.action = TP_NONE;
    tickpack_segment_end(b + T_SIZE, b + T_SIZE + np, &ev);
    tp_apply(st, sti, cols, k, b, &ev, sti[2 * k + 1]);
  }
  st[H_HAS_SEG] = 0.0;
}

/* Runs rows [start, n); returns the next row to run (n, or earlier when the trade log is full). */
long long tp_run(double *st, long long *sti, void **cols, long long start, long long n) {
  const int *expiry = (const int *)cols[C_EXPIRY];
  const unsigned char *expiry_ok = (const unsigned char *)cols[C_EXPIRY_VALID];
  const int *opt = (const int *)cols[C_OPT];
  const unsigned char *opt_ok = (const unsigned char *)cols[C_OPT_VALID];
  const int *opt_map = (const int *)cols[C_OPT_MAP];
  const float *strike = (const float *)cols[C_STRIKE];
  const unsigned char *strike_ok = (const unsigned char *)cols[C_STRIKE_VALID];
  const long long *ts = (const long long *)cols[C_TS];
  const int logging = cols[C_TRADE_TS] != 0;
  long long nsets = (long long)st[H_NSETS], np = (long long)st[H_NPARAMS], blk = set_block(st);
  int ncols = (int)st[H_NCOLS], c;
  const double *colv[TP_MAX_COLS];
  const unsigned char *colok[TP_MAX_COLS];
  tp_row_t row;
  long long i, k;
  for (c = 0; c < ncols; c++) {
    colv[c] = (const double *)cols[C_FIRST + 2 * c];
    colok[c] = (const unsigned char *)cols[C_FIRST + 2 * c + 1];
  }
  row.col = colv;
  row.valid = colok;

  /* TinyCC does not optimise: the segment key and set pointers live in locals, not in st. */
  double seg_e = st[H_SEG_E], seg_o = st[H_SEG_O], seg_s = st[H_SEG_S];
  int has_seg = st[H_HAS_SEG] != 0.0;
  double *first = st + H_SIZE;
  double rows = 0.0;
  for (i = start; i < n; i++) {
    /* A row can close one trade per set at a segment end and one on the row itself. */
    if (logging && st[H_TRADE_COUNT] + 2.0 * (double)nsets > st[H_TRADE_CAP]) break;
    double e = TP_VALID(expiry_ok, i) ? (double)expiry[i] : TP_NULL_KEY;
    double o = TP_VALID(opt_ok, i) ? (double)opt_map[opt[i]] : TP_NULL_KEY;
    double s = TP_VALID(strike_ok, i) ? (double)strike[i] : TP_NULL_KEY;
    if (!has_seg || e != seg_e || o != seg_o || s != seg_s) {
      tp_flush(st, sti, cols);
      st[H_HAS_SEG] = 1.0;
      has_seg = 1;
      st[H_SEG_E] = seg_e = e;
      st[H_SEG_O] = seg_o = o;
      st[H_SEG_S] = seg_s = s;
      for (k = 0; k < nsets; k++) {
        double *b = first + k * blk;
        tickpack_segment_start(b + T_SIZE, b + T_SIZE + np);
      }
    }
    row.i = i;
    long long t = ts ? ts[i] : 0;
    double *pp = first + T_SIZE, *ps = first + T_SIZE + np;
    tp_event ev;
    ev.action = TP_NONE;
    for (k = 0; k < nsets; k++, pp += blk, ps += blk) {
      if (tickpack_row(pp, ps, &row, &ev)) {
        pp[T_VALID_ROWS - T_SIZE] += 1.0;
        if (ts) sti[2 * k + 1] = t;
      }
      if (ev.action != TP_NONE) {
        tp_apply(st, sti, cols, k, pp - T_SIZE, &ev, t);
        ev.action = TP_NONE;
      }
    }
    rows += 1.0;
  }
  st[H_ROWS] += rows;
  return i;
}
