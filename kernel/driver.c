/*
 * The tickpack driver (ABI 2): cuts a batch into blocks of at most `block` rows, finds each block's
 * segment starts once (a scan of the key columns), then runs every parameter set over the block's
 * segment runs while the block is in cache — the kernel's tickpack_run owns the row loop. Compiled
 * together with a kernel (see strategy-kernel.ts). All state lives in host-owned arrays, so a call
 * can stop at any block boundary (the trade log, or the report sums' segment records, could overflow
 * in the next block) and the next call resumes there.
 *
 * st (double): header, then per set: totals, params, kernel state.
 * sti (int64): per set: entry timestamp, last valid timestamp (the trade log's, then the report sums' own:
 * the sums resolve them at the block's end, the log as it goes).
 * cols (pointers): key columns, timestamps, trade log, scratch, report sums, then each declared
 * column and its bitmap.
 *
 * Two ways to hand closed trades over, either or both: the trade log (every close, in row order),
 * and the report's sums (kernel/report-sums.ts describes them, and its TypeScript reference is what
 * tests hold these to): per segment, its key, the earliest entry of its closes and per set PnL, trades
 * and wins; per set the trade statistics, the holding-time histogram and the PnL by exit minute of the
 * partition's IST day. The sums need no ordering across sets, so blocks stay long, and nothing per
 * trade leaves C.
 */

enum { H_NSETS, H_NPARAMS, H_NSTATE, H_NCOLS, H_HAS_SEG, H_SEG_E, H_SEG_O, H_SEG_S,
       H_ROWS, H_TRADE_COUNT, H_TRADE_CAP, H_BLOCK,
       H_REC_COUNT, H_REC_CAP, H_REC_OPEN, H_CURVE_DAY, H_SPILLED, H_SIZE };
/* Per-set totals at the start of each set's block. */
enum { T_VALID_ROWS, T_TRADES, T_PNL, T_ENTRY, T_SIZE };
enum { C_EXPIRY, C_EXPIRY_VALID, C_OPT, C_OPT_VALID, C_OPT_MAP, C_STRIKE, C_STRIKE_VALID,
       C_TS, C_TRADE_TS, C_TRADE_PX, C_EVENTS, C_STARTS, C_STAGED,
       C_SUM_REC, C_SUM_REC_TS, C_SUM_SETS, C_SUM_CURVE, C_SUM_SLOTS, C_SUM_STAGE, C_SUM_STAGE_TS, C_FIRST };
/* A segment record of the report's sums: key, first entry price, then per set (PnL, trades, wins). */
enum { TPR_E, TPR_O, TPR_S, TPR_PRICE, TPR_SETS };
/*
 * Per set sums, in report-sums.ts SET_SUMS's layout: trades, wins, losses, win PnL, loss PnL, PnL,
 * holding seconds, then per holding bucket (PnL, trades, wins). Trades, wins and PnL are left to the
 * host: they are the buckets' sums.
 */
enum { TPS_TRADES, TPS_WINS, TPS_LOSSES, TPS_WIN_PNL, TPS_LOSS_PNL, TPS_PNL, TPS_HOLD_S, TPS_HOLD, TPS_SIZE = TPS_HOLD + 27 };
/*
 * An event of one set in the current block, staged for the report's sums: an open (kind 0) or a close
 * (1) at batch row `row` (-1: a segment end's close at the last valid row of an earlier block), in the
 * segment of record `rec`, at entry price `price`, with `pnl`.
 */
typedef struct {
  long long kind, row, rec;
  double price, pnl;
} tp_sum_event;
/* Stages an event at x (evaluated once: callers pass `sev + nsev++`). */
#define TP_SUM_STAGE(x, k_, row_, rec_, price_, pnl_) \
  do { tp_sum_event *x_ = (x); x_->kind = (k_); x_->row = (row_); x_->rec = (rec_); x_->price = (price_); x_->pnl = (pnl_); } while (0)

/* Exit minutes of one IST day: the curve's bins (a close outside the partition's first day is "spilled"). */
#define TP_DAY_MINUTES 1440
/* A record's first entry before any close: later than every instant. */
#define TP_NO_TS 0x7fffffffffffffffLL

#define TP_VALID(bits, i) (!(bits) || (((bits)[(i) >> 3] >> ((i) & 7)) & 1))
#define TP_NULL_KEY (-1.0e300)
#define TP_MAX_COLS 64

/*
 * A closed trade waiting, per set, for the end of its block: sets run one after another over a
 * block, and the log keeps v1's order (by row, then set; a segment's end before its next row).
 */
typedef struct {
  long long key; /* 2·row for a segment end found at row, 2·row + 1 for a close on row */
  long long entry_ts, exit_ts;
  double entry, exit, pnl, e, o, s;
} tp_staged;

static long long set_block(double *st) {
  return T_SIZE + (long long)st[H_NPARAMS] + (long long)st[H_NSTATE];
}

/* Staged closes per set and block: one per row plus one per segment end found in the block. */
static long long staged_cap(double *st) {
  return 2 * (long long)st[H_BLOCK] + 2;
}

/* The segment key of batch row i as doubles (null: TP_NULL_KEY), as trades report it. */
static void key_at(void **cols, long long i, double *k) {
  const unsigned char *ev = (const unsigned char *)cols[C_EXPIRY_VALID], *ov = (const unsigned char *)cols[C_OPT_VALID], *sv = (const unsigned char *)cols[C_STRIKE_VALID];
  k[0] = TP_VALID(ev, i) ? (double)((const int *)cols[C_EXPIRY])[i] : TP_NULL_KEY;
  k[1] = TP_VALID(ov, i) ? (double)((const int *)cols[C_OPT_MAP])[((const int *)cols[C_OPT])[i]] : TP_NULL_KEY;
  k[2] = TP_VALID(sv, i) ? (double)((const float *)cols[C_STRIKE])[i] : TP_NULL_KEY;
}

/* Appends a close to the trade log. */
static void tp_log(double *st, void **cols, long long set, long long entry_ts, long long exit_ts, double entry, double exit, double pnl, const double *key) {
  long long *tts = (long long *)cols[C_TRADE_TS];
  double *tpx = (double *)cols[C_TRADE_PX];
  long long t = (long long)st[H_TRADE_COUNT];
  tts[2 * t] = entry_ts;
  tts[2 * t + 1] = exit_ts;
  tpx[7 * t] = (double)set;
  tpx[7 * t + 1] = entry;
  tpx[7 * t + 2] = exit;
  tpx[7 * t + 3] = pnl;
  tpx[7 * t + 4] = key[0];
  tpx[7 * t + 5] = key[1];
  tpx[7 * t + 6] = key[2];
  st[H_TRADE_COUNT] = (double)(t + 1);
}

/* floor(a / b) for b > 0 (C division truncates toward zero). */
static long long floor_div(long long a, long long b) {
  long long q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Opens the record of a segment whose key is k; returns its index (the caller guarantees room). */
static long long tp_sum_open(double *st, void **cols, const double *k) {
  long long nsets = (long long)st[H_NSETS], rs = TPR_SETS + 3 * nsets, n = (long long)st[H_REC_COUNT], q;
  double *r = (double *)cols[C_SUM_REC] + n * rs;
  r[TPR_E] = k[0];
  r[TPR_O] = k[1];
  r[TPR_S] = k[2];
  r[TPR_PRICE] = 0.0 / 0.0;
  for (q = TPR_SETS; q < rs; q++) r[q] = 0;
  ((long long *)cols[C_SUM_REC_TS])[n] = TP_NO_TS;
  st[H_REC_COUNT] = (double)(n + 1);
  return n;
}

/*
 * Adds one set's staged events of a block to the report's sums. The timestamps are loaded first, in
 * one loop of independent loads whose cache misses overlap: read at each event inside the kernel's
 * row loop, each missed on its own (~80 ns; events are ~50 rows apart in an 8-byte column).
 * sti: the set's entry and last valid timestamps; lv_row: its last valid row in the block, or -1.
 * Per close only what cannot be derived later: a set's trades, wins and PnL are its holding buckets'
 * sums, a record's "has a close" its sets' trades, the curve's range its non-zero minutes.
 */
static void tp_sum_apply(double *st, long long *sti, void **cols, const long long *ts, long long set, const tp_sum_event *x, long long n, long long lv_row) {
  long long nsets = (long long)st[H_NSETS], rs = TPR_SETS + 3 * nsets, i;
  long long *t = (long long *)cols[C_SUM_STAGE_TS];
  double *recs = (double *)cols[C_SUM_REC];
  long long *rts = (long long *)cols[C_SUM_REC_TS];
  double *ss = (double *)cols[C_SUM_SETS] + set * TPS_SIZE;
  double *curve = (double *)cols[C_SUM_CURVE] + set * TP_DAY_MINUTES;
  long long entry_ts = sti[0], first_minute = 0;
  int have_day = st[H_CURVE_DAY] == st[H_CURVE_DAY];
  if (have_day) first_minute = (long long)st[H_CURVE_DAY] * TP_DAY_MINUTES - 330;
  if (ts)
    for (i = 0; i < n; i++) t[i] = x[i].row >= 0 ? ts[x[i].row] : 0;
  else
    for (i = 0; i < n; i++) t[i] = 0;
  for (i = 0; i < n; i++) {
    if (x[i].kind == 0) {
      entry_ts = t[i];
      continue;
    }
    long long exit_ts = x[i].row >= 0 ? t[i] : sti[1];
    double pnl = x[i].pnl, entry = x[i].price, win = pnl > 0 ? 1 : 0;
    long long rec = x[i].rec;
    double *r = recs + rec * rs;
    double *rp = r + TPR_SETS + 3 * set;
    rp[0] += pnl;
    rp[1] += 1;
    rp[2] += win;
    /* The earliest entry, and of equal ones the lowest price: the same whatever order closes come in. */
    if (entry_ts < rts[rec] || (entry_ts == rts[rec] && (entry < r[TPR_PRICE] || r[TPR_PRICE] != r[TPR_PRICE]))) {
      rts[rec] = entry_ts;
      r[TPR_PRICE] = entry;
    }
    long long hold = exit_ts - entry_ts;
    if (pnl < 0) {
      ss[TPS_LOSSES] += 1;
      ss[TPS_LOSS_PNL] += pnl;
    } else if (pnl > 0) {
      ss[TPS_WIN_PNL] += pnl;
    }
    ss[TPS_HOLD_S] += (double)hold / 1e9;
    int h = hold < 1000000000LL ? 0 : hold < 5000000000LL ? 1 : hold < 15000000000LL ? 2 : hold < 60000000000LL ? 3 : hold < 300000000000LL ? 4
          : hold < 900000000000LL ? 5 : hold < 3600000000000LL ? 6 : hold < 10800000000000LL ? 7 : 8;
    double *hb = ss + TPS_HOLD + 3 * h;
    hb[0] += pnl;
    hb[1] += 1;
    hb[2] += win;
    /* floor(exit_ts / 1 min) without a 64-bit division: a float estimate, corrected (it is off by less than a minute). */
    long long minute = (long long)((double)exit_ts * (1.0 / 6e10));
    long long rem = exit_ts - minute * 60000000000LL;
    if (rem < 0) minute--;
    else if (rem >= 60000000000LL) minute++;
    /* Minutes of the IST day of the partition's first close (IST midnight is 330 minutes before UTC's). */
    if (!have_day) {
      st[H_CURVE_DAY] = (double)floor_div(minute + 330, TP_DAY_MINUTES);
      first_minute = (long long)st[H_CURVE_DAY] * TP_DAY_MINUTES - 330;
      have_day = 1;
    }
    long long m = minute - first_minute;
    if (m < 0 || m >= TP_DAY_MINUTES) st[H_SPILLED] = 1;
    else curve[m] += pnl;
  }
  sti[0] = entry_ts;
  if (lv_row >= 0) sti[1] = ts ? ts[lv_row] : 0;
}

/* Ends the current segment for every set (end of partition); the trade log has room for one close per set. */
void tp_flush(double *st, long long *sti, void **cols) {
  if (st[H_HAS_SEG] == 0.0) return;
  long long nsets = (long long)st[H_NSETS], np = (long long)st[H_NPARAMS], blk = set_block(st), k;
  for (k = 0; k < nsets; k++) {
    double *b = st + H_SIZE + k * blk;
    tp_event ev;
    ev.action = TP_NONE;
    tickpack_segment_end(b + T_SIZE, b + T_SIZE + np, &ev);
    if (ev.action == TP_OPEN) {
      b[T_TRADES] += 1.0;
      b[T_ENTRY] = ev.price;
    } else if (ev.action == TP_CLOSE) {
      b[T_PNL] += ev.pnl;
      if (cols[C_TRADE_TS]) tp_log(st, cols, k, sti[4 * k], sti[4 * k + 1], b[T_ENTRY], ev.price, ev.pnl, st + H_SEG_E);
      if (cols[C_SUM_REC]) {
        tp_sum_event e1;
        TP_SUM_STAGE(&e1, 1, -1, (long long)st[H_REC_OPEN], b[T_ENTRY], ev.pnl);
        tp_sum_apply(st, sti + 4 * k + 2, cols, 0, k, &e1, 1, -1);
      }
    }
  }
  st[H_HAS_SEG] = 0.0;
  st[H_REC_OPEN] = -1;
}

/* Rows i and i-1 of a batch have the same segment key (null equals null, as in the key_at doubles). */
static int same_key(void **cols, long long i) {
  double a[3], b[3];
  key_at(cols, i, a);
  key_at(cols, i - 1, b);
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

/*
 * Runs rows [start, n) of the batch; returns the next row to run (n, or a block boundary when the
 * trade log could not take a block's worst case: the host drains it and calls again).
 */
long long tp_run(double *st, long long *sti, void **cols, long long start, long long n) {
  const int *expiry = (const int *)cols[C_EXPIRY];
  const int *opt = (const int *)cols[C_OPT];
  const int *opt_map = (const int *)cols[C_OPT_MAP];
  const float *strike = (const float *)cols[C_STRIKE];
  const long long *ts = (const long long *)cols[C_TS];
  const int logging = cols[C_TRADE_TS] != 0;
  const int summing = cols[C_SUM_REC] != 0;
  long long *slot = (long long *)cols[C_SUM_SLOTS];
  tp_sum_event *sev = (tp_sum_event *)cols[C_SUM_STAGE];
  /* Without nulls in the key columns (most batches) rows compare as raw values, without bitmaps. */
  const int key_nulls = cols[C_EXPIRY_VALID] || cols[C_OPT_VALID] || cols[C_STRIKE_VALID];
  long long nsets = (long long)st[H_NSETS], np = (long long)st[H_NPARAMS], blk = set_block(st);
  long long block = (long long)st[H_BLOCK], scap = staged_cap(st);
  int ncols = (int)st[H_NCOLS], c;
  const void *colv[TP_MAX_COLS];
  const unsigned char *colok[TP_MAX_COLS];
  tp_event *events = (tp_event *)cols[C_EVENTS];
  long long *starts = (long long *)cols[C_STARTS];
  tp_staged *staged = (tp_staged *)cols[C_STAGED];
  long long *nstaged = (long long *)(staged ? staged + nsets * scap : 0);
  tp_rows_t r;
  long long b, i, k;
  for (c = 0; c < ncols; c++) {
    colv[c] = cols[C_FIRST + 2 * c];
    colok[c] = (const unsigned char *)cols[C_FIRST + 2 * c + 1];
  }
  r.col = colv;
  r.valid = colok;
  r.ev = events;

  for (b = start; b < n; ) {
    if (logging && st[H_TRADE_COUNT] + (double)(nsets * scap) > st[H_TRADE_CAP]) break;
    /* The sums open a record per segment start: a block needs room for one per row and one more. */
    if (summing && st[H_REC_COUNT] + (double)(block + 1) > st[H_REC_CAP]) break;
    long long bend = b + block < n ? b + block : n;
    double key[3];
    /* Segment starts in [b, bend), found once for all sets. */
    long long ns = 0;
    key_at(cols, b, key);
    int continues = st[H_HAS_SEG] != 0.0 && key[0] == st[H_SEG_E] && key[1] == st[H_SEG_O] && key[2] == st[H_SEG_S];
    if (!continues) starts[ns++] = b;
    if (!key_nulls) {
#ifdef __TINYC__
      /* TinyCC does not vectorise: the plain loop is its fastest (measured). */
      for (i = b + 1; i < bend; i++)
        if (expiry[i] != expiry[i - 1] || strike[i] != strike[i - 1] || (opt[i] != opt[i - 1] && opt_map[opt[i]] != opt_map[opt[i - 1]])) starts[ns++] = i;
#else
      /* Segments are long: test 64 rows at a time with integer operations only (the strike's bits:
         equal bits and not NaN mean equal values), which gcc and clang vectorise, and look for
         the row only in a chunk where something changed (-0 and 0 differ in bits, not in value). */
      const unsigned *sbits = (const unsigned *)strike;
      for (i = b + 1; i < bend; ) {
        long long e = i + 64 <= bend ? i + 64 : bend, j;
        unsigned diff = 1;
        if (e - i == 64) {
          const int *x = expiry + i, *o = opt + i;
          const unsigned *sb = sbits + i;
          int q;
          diff = 0;
          for (q = 0; q < 64; q++) diff |= (unsigned)(x[q] ^ x[q - 1]) | (unsigned)(o[q] ^ o[q - 1]) | (sb[q] ^ sb[q - 1]) | (unsigned)((sb[q] & 0x7fffffffu) > 0x7f800000u);
        }
        if (diff)
          for (j = i; j < e; j++)
            if (expiry[j] != expiry[j - 1] || strike[j] != strike[j - 1] || (opt[j] != opt[j - 1] && opt_map[opt[j]] != opt_map[opt[j - 1]])) starts[ns++] = j;
        i = e;
      }
#endif
    } else {
      for (i = b + 1; i < bend; i++)
        if (!same_key(cols, i)) starts[ns++] = i;
    }
    starts[ns] = bend;
    if (summing) {
      /* Record slots: 0 is the segment going on at the block's start, j > 0 the one starting at starts[j - 1]. */
      slot[0] = (long long)st[H_REC_OPEN];
      for (i = 0; i < ns; i++) {
        double k0[3];
        key_at(cols, starts[i], k0);
        slot[i + 1] = tp_sum_open(st, cols, k0);
      }
    }

    double *pp = st + H_SIZE + T_SIZE, *ps = pp + np;
    for (k = 0; k < nsets; k++, pp += blk, ps += blk) {
      double *tot = pp - T_SIZE;
      tp_staged *mine = logging ? staged + k * scap : 0;
      long long nmine = 0, cur = b, j = 0, nsev = 0, lv_row = -1;
      /* The key trades report: the current segment's first row's (as -0 and 0 are one segment). */
      double skey[3];
      skey[0] = st[H_SEG_E];
      skey[1] = st[H_SEG_O];
      skey[2] = st[H_SEG_S];
      while (cur < bend) {
        if (j < ns && starts[j] == cur) {
          /* A segment begins at cur: the previous one (if any) ends for this set first. */
          if (cur > b || st[H_HAS_SEG] != 0.0) {
            tp_event ev;
            ev.action = TP_NONE;
            tickpack_segment_end(pp, ps, &ev);
            if (ev.action == TP_OPEN) {
              tot[T_TRADES] += 1.0;
              tot[T_ENTRY] = ev.price;
            } else if (ev.action == TP_CLOSE) {
              tot[T_PNL] += ev.pnl;
              if (summing) TP_SUM_STAGE(sev + nsev++, 1, lv_row, slot[j], tot[T_ENTRY], ev.pnl);
              if (logging) {
                tp_staged *t = mine + nmine++;
                t->key = 2 * cur;
                t->entry_ts = sti[4 * k];
                t->exit_ts = sti[4 * k + 1];
                t->entry = tot[T_ENTRY];
                t->exit = ev.price;
                t->pnl = ev.pnl;
                t->e = skey[0];
                t->o = skey[1];
                t->s = skey[2];
              }
            }
          }
          if (logging) key_at(cols, cur, skey);
          tickpack_segment_start(pp, ps);
          j++;
        }
        long long next = j < ns ? starts[j] : bend;
        r.start = cur;
        r.end = next;
        r.nev = 0;
        r.nvalid = 0;
        r.last_valid = -1;
        tickpack_run(pp, ps, &r);
        tot[T_VALID_ROWS] += (double)r.nvalid;
        if (logging && ts && r.last_valid >= 0) sti[4 * k + 1] = ts[r.last_valid];
        if (r.last_valid >= 0) lv_row = r.last_valid;
        for (i = 0; i < r.nev; i++) {
          tp_event *e = events + i;
          if (e->action == TP_OPEN) {
            tot[T_TRADES] += 1.0;
            tot[T_ENTRY] = e->price;
            if (logging) sti[4 * k] = ts ? ts[e->row] : 0;
            if (summing) TP_SUM_STAGE(sev + nsev++, 0, e->row, slot[j], 0.0, 0.0);
          } else if (e->action == TP_CLOSE) {
            tot[T_PNL] += e->pnl;
            if (summing) TP_SUM_STAGE(sev + nsev++, 1, e->row, slot[j], tot[T_ENTRY], e->pnl);
            if (logging) {
              tp_staged *t = mine + nmine++;
              t->key = 2 * e->row + 1;
              t->entry_ts = sti[4 * k];
              t->exit_ts = ts ? ts[e->row] : 0;
              t->entry = tot[T_ENTRY];
              t->exit = e->price;
              t->pnl = e->pnl;
              t->e = skey[0];
              t->o = skey[1];
              t->s = skey[2];
            }
          }
        }
        cur = next;
      }
      if (logging) nstaged[k] = nmine;
      if (summing) tp_sum_apply(st, sti + 4 * k + 2, cols, ts, k, sev, nsev, lv_row);
    }

    if (logging) {
      /* Merge the sets' staged closes into the log by row, then set (few trades: a scan of the sets per trade). */
      long long *pos = nstaged + nsets;
      for (k = 0; k < nsets; k++) pos[k] = 0;
      for (;;) {
        long long best = -1, best_key = 0;
        for (k = 0; k < nsets; k++)
          if (pos[k] < nstaged[k] && (best < 0 || staged[k * scap + pos[k]].key < best_key)) {
            best = k;
            best_key = staged[k * scap + pos[k]].key;
          }
        if (best < 0) break;
        tp_staged *t = staged + best * scap + pos[best]++;
        tp_log(st, cols, best, t->entry_ts, t->exit_ts, t->entry, t->exit, t->pnl, &t->e);
      }
    }
    /* The segment going on at the block's end is the last to start (or the one that continued). */
    if (ns > 0) {
      key_at(cols, starts[ns - 1], key);
      st[H_SEG_E] = key[0];
      st[H_SEG_O] = key[1];
      st[H_SEG_S] = key[2];
      if (summing) st[H_REC_OPEN] = (double)slot[ns];
    }
    st[H_HAS_SEG] = 1.0;
    st[H_ROWS] += (double)(bend - b);
    b = bend;
  }
  return b;
}
