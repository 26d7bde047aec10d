/*
 * The tickpack driver (ABI 2): cuts a batch into blocks of at most `block` rows, finds each block's
 * segment starts once (a scan of the key columns), then runs every parameter set over the block's
 * segment runs while the block is in cache — the kernel's tickpack_run owns the row loop. Compiled
 * together with a kernel (see strategy-kernel.ts). All state lives in host-owned arrays, so a call
 * can stop at any block boundary (the trade log is full) and the next call resumes there.
 *
 * st (double): header, then per set: totals, params, kernel state.
 * sti (int64): per set: entry timestamp, last valid timestamp.
 * cols (pointers): key columns, timestamps, trade log, scratch, then each declared column and its bitmap.
 */

enum { H_NSETS, H_NPARAMS, H_NSTATE, H_NCOLS, H_HAS_SEG, H_SEG_E, H_SEG_O, H_SEG_S,
       H_ROWS, H_TRADE_COUNT, H_TRADE_CAP, H_BLOCK, H_SIZE };
/* Per-set totals at the start of each set's block. */
enum { T_VALID_ROWS, T_TRADES, T_PNL, T_ENTRY, T_SIZE };
enum { C_EXPIRY, C_EXPIRY_VALID, C_OPT, C_OPT_VALID, C_OPT_MAP, C_STRIKE, C_STRIKE_VALID,
       C_TS, C_TRADE_TS, C_TRADE_PX, C_EVENTS, C_STARTS, C_STAGED, C_FIRST };

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
      if (cols[C_TRADE_TS]) tp_log(st, cols, k, sti[2 * k], sti[2 * k + 1], b[T_ENTRY], ev.price, ev.pnl, st + H_SEG_E);
    }
  }
  st[H_HAS_SEG] = 0.0;
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

    double *pp = st + H_SIZE + T_SIZE, *ps = pp + np;
    for (k = 0; k < nsets; k++, pp += blk, ps += blk) {
      double *tot = pp - T_SIZE;
      tp_staged *mine = logging ? staged + k * scap : 0;
      long long nmine = 0, cur = b, j = 0;
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
              if (logging) {
                tp_staged *t = mine + nmine++;
                t->key = 2 * cur;
                t->entry_ts = sti[2 * k];
                t->exit_ts = sti[2 * k + 1];
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
        if (logging && ts && r.last_valid >= 0) sti[2 * k + 1] = ts[r.last_valid];
        for (i = 0; i < r.nev; i++) {
          tp_event *e = events + i;
          if (e->action == TP_OPEN) {
            tot[T_TRADES] += 1.0;
            tot[T_ENTRY] = e->price;
            if (logging) sti[2 * k] = ts ? ts[e->row] : 0;
          } else if (e->action == TP_CLOSE) {
            tot[T_PNL] += e->pnl;
            if (logging) {
              tp_staged *t = mine + nmine++;
              t->key = 2 * e->row + 1;
              t->entry_ts = sti[2 * k];
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
    }
    st[H_HAS_SEG] = 1.0;
    st[H_ROWS] += (double)(bend - b);
    b = bend;
  }
  return b;
}
