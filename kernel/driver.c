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
 * cols (pointers): key columns, timestamps, trade log, scratch, report sums, TP_COLUMN's check, then
 * each declared column and its bitmap.
 * Their indices are kernel/driver-layout.ts's (see below).
 *
 * Two ways to hand closed trades over, either or both: the trade log (every close, in row order),
 * and the report's sums (kernel/report-sums.ts describes them, and its TypeScript reference is what
 * tests hold these to): per segment, its key, the earliest entry of its closes and per set PnL, trades
 * and wins; per set the trade statistics, the holding-time histogram and the PnL by exit minute of the
 * partition's IST day. The sums need no ordering across sets, so blocks stay long, and nothing per
 * trade leaves C.
 */

/*
 * Every name the driver defines begins with tpd_ / TPD_: it shares one translation unit with the
 * kernel, which is compiled after it (docs/kernels.md lists the reserved names). The TPD_ names it
 * uses but does not define — the layout of st, sti, cols, the trade log, the report sums' records and
 * per-set sums, and their constants — come before this file, written by kernel/driver-layout.ts from
 * the definitions the host reads. The per-set sums' trades, wins and PnL are left to the host: they
 * are the holding buckets' sums.
 */

/*
 * An event of one set in the current block, staged for the report's sums: an open (kind 0) or a close
 * (1) at batch row `row` (-1: a segment end's close at the last valid row of an earlier block), in the
 * segment of record `rec`, at entry price `price`, with `pnl`.
 */
typedef struct {
  long long kind, row, rec;
  double price, pnl;
} tpd_sum_event;
/* Stages an event at x (evaluated once: callers pass `sev + nsev++`). */
#define TPD_SUM_STAGE(x, k_, row_, rec_, price_, pnl_) \
  do { tpd_sum_event *x_ = (x); x_->kind = (k_); x_->row = (row_); x_->rec = (rec_); x_->price = (price_); x_->pnl = (pnl_); } while (0)

/*
 * A batch's timestamps as the driver reads them, at trades' rows only: values (ts), codes into
 * values (tsc), or runs of codes (runs: lib/parquet/native/code-runs.ts is their layout and the
 * TypeScript reference of tpd_ts_at's read), with what tpd_run reads of st once, not per lookup.
 */
typedef struct {
  const long long *ts;
  const int *tsc;
  const long long *runs;
  long long nruns, entries, row0, hint;
  int bad;
} tpd_ts_src;

static void tpd_ts_init(tpd_ts_src *s, double *st, void **cols) {
  s->ts = (const long long *)cols[TPD_C_TS];
  s->tsc = (const int *)cols[TPD_C_TS_CODES];
  s->runs = (const long long *)cols[TPD_C_TS_RUNS];
  s->nruns = (long long)st[TPD_H_TS_RUNS];
  s->entries = (long long)st[TPD_H_TS_ENTRIES];
  s->row0 = (long long)st[TPD_H_TS_ROW0];
  s->hint = 0;
  s->bad = 0;
}

/*
 * The reads of runs, shared by the lookup functions below and by tpd_sum_apply's loops, which write
 * them out (a call per instant cost TinyCC more than the cache misses, measured):
 * TPD_RUN_FORWARD moves record k on to the last whose row is at most `row` (runs in row order);
 * TPD_CODE_BITS reads the w-bit code at bit `sh` of bytes b, no byte past its last (at most 5:
 * w <= 32); TPD_LOAD_I64 reads an int64 at any alignment (x86-64 and AArch64 take unaligned loads;
 * gcc and clang are told with memcpy).
 */
#define TPD_RUN_FORWARD(runs, n, k, row) \
  while ((k) + 1 < (n) && (runs)[4 * ((k) + 1)] <= (row)) (k)++
#define TPD_CODE_BITS(b, sh, w, out)                                  \
  do {                                                                \
    int nb_ = ((sh) + (w) + 7) >> 3;                                  \
    unsigned long long v_ = (b)[0];                                   \
    if (nb_ > 1) v_ |= (unsigned long long)(b)[1] << 8;               \
    if (nb_ > 2) v_ |= (unsigned long long)(b)[2] << 16;              \
    if (nb_ > 3) v_ |= (unsigned long long)(b)[3] << 24;              \
    if (nb_ > 4) v_ |= (unsigned long long)(b)[4] << 32;              \
    (out) = (long long)((v_ >> (sh)) & ((1ULL << (w)) - 1));          \
  } while (0)
#if defined(__GNUC__) && !defined(__TINYC__)
#define TPD_LOAD_I64(p, out) __builtin_memcpy(&(out), (p), 8)
#else
#define TPD_LOAD_I64(p, out) ((out) = *(const long long *)(p))
#endif

/*
 * From runs: the record holding batch row `row` (its index; -1 and `bad` set when no record does),
 * found from the last one read (lookups mostly move forward).
 */
static long long tpd_ts_run(tpd_ts_src *s, long long row) {
  const long long *runs = s->runs;
  long long n = s->nruns, k = s->hint;
  row += s->row0;
  if (n <= 0) { s->bad = 1; return -1; }
  if (runs[4 * k] > row) {
    long long lo = 0, hi = n - 1;
    while (lo < hi) {
      long long mid = (lo + hi + 1) >> 1;
      if (runs[4 * mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    k = lo;
  } else
    TPD_RUN_FORWARD(runs, n, k, row);
  s->hint = k;
  if (runs[4 * k] > row) { s->bad = 1; return -1; }
  return k;
}

/*
 * Batch row `row`'s code, from record k: a bit-packed code read within its run's bytes, checked
 * against the `entries` values (past them: `bad` is set and 0 returned; the host voids the run).
 */
static long long tpd_ts_code_in(tpd_ts_src *s, long long k, long long row) {
  const long long *r = s->runs + 4 * k;
  long long code;
  row += s->row0;
  if (r[1] == 0) code = r[2];
  else {
    int w = (int)r[1];
    unsigned long long bit = (unsigned long long)(r[3] + row - r[0]) * (unsigned long long)w;
    const unsigned char *b = (const unsigned char *)r[2] + (bit >> 3);
    TPD_CODE_BITS(b, (int)(bit & 7), w, code);
  }
  if (code < 0 || code >= s->entries) { s->bad = 1; return 0; }
  return code;
}

/* From runs: batch row `row`'s checked code (0 with `bad` set when there is none). */
static long long tpd_ts_code(tpd_ts_src *s, long long row) {
  long long k = tpd_ts_run(s, row);
  return k < 0 ? 0 : tpd_ts_code_in(s, k, row);
}

/* From runs: the value of a checked code, read where the decoder left the dictionary (any alignment). */
static long long tpd_ts_value(const tpd_ts_src *s, long long code) {
  long long v;
  TPD_LOAD_I64((const unsigned char *)s->ts + 8 * code, v);
  return v;
}

#if defined(__GNUC__) && !defined(__TINYC__)
#define TPD_PREFETCH(p) __builtin_prefetch(p)
#elif defined(__x86_64__)
#define TPD_PREFETCH(p) __asm__ volatile("prefetcht0 (%0)" : : "r"(p))
#else
#define TPD_PREFETCH(p) ((void)(p))
#endif

/* Batch row `row`'s timestamp. */
static long long tpd_ts_at(tpd_ts_src *s, long long row) {
  if (s->runs) return tpd_ts_value(s, tpd_ts_code(s, row));
  return s->tsc ? s->ts[s->tsc[row]] : s->ts[row];
}

/*
 * A set's last valid timestamp (sti's LOG_LAST, SUM_LAST) is kept as its batch row (LOG_LAST_ROW,
 * SUM_LAST_ROW: 1 + the row; 0 once resolved) until a close needs it or the batch ends: it changes
 * with every segment piece and block, is needed only at a segment end without a valid row of its own,
 * and a lookup is a cache miss or two.
 */
static long long tpd_last_ts(long long *sti_set, int last, int row_slot, tpd_ts_src *ts) {
  if (sti_set[row_slot] > 0) {
    sti_set[last] = ts ? tpd_ts_at(ts, sti_set[row_slot] - 1) : 0;
    sti_set[row_slot] = 0;
  }
  return sti_set[last];
}

/* A record's first entry before any close: later than every instant. */
#define TPD_NO_TS 0x7fffffffffffffffLL


/*
 * A closed trade waiting, per set, for the end of its block: sets run one after another over a
 * block, and the log keeps v1's order (by row, then set; a segment's end before its next row).
 */
typedef struct {
  long long order; /* 2·row for a segment end found at row, 2·row + 1 for a close on row */
  long long entry_ts, exit_ts;
  double entry, exit, pnl;
  double key[3]; /* the segment's key */
} tpd_staged;

/* Bytes of the structs the host allocates arrays of (it reads them from the build). */
int tpd_event_bytes(void) { return (int)sizeof(tp_event); }
int tpd_staged_bytes(void) { return (int)sizeof(tpd_staged); }
int tpd_sum_event_bytes(void) { return (int)sizeof(tpd_sum_event); }

static long long tpd_set_block(double *st) {
  return TPD_T_SIZE + (long long)st[TPD_H_NPARAMS] + (long long)st[TPD_H_NSTATE];
}

/*
 * --fill touch (SPEC §7): a buy fills at the row's ask (sp0), a sell at its bid (bp0), where the quote
 * is there (non-null, > 0); else at the kernel's price, counted in the set's FILLS_AT_LAST. Per-contract
 * kernels are long only: an open buys, a close sells. With --fill last (no quote columns) the kernel's
 * price and PnL pass unchanged.
 */
static double tpd_quote(void **cols, int which, long long i) {
  const double *q = (const double *)cols[which];
  const unsigned char *ok = (const unsigned char *)cols[which + 1];
  double v = q[i];
  return v > 0 && TP_OK(ok, i) ? v : 0.0 / 0.0;
}

/* The fill of an event whose kernel price is px, at quote q (NaN: none). */
static double tpd_fill(double *tot, double px, double q) {
  if (q > 0) return q;
  tot[TPD_T_FILLS_AT_LAST] += 1;
  return px;
}

/* The segment key of batch row i as doubles (null: TPD_NULL_KEY), as trades report it. */
static void tpd_key_at(void **cols, long long i, double *k) {
  const unsigned char *ev = (const unsigned char *)cols[TPD_C_EXPIRY_VALID], *ov = (const unsigned char *)cols[TPD_C_OPT_VALID], *sv = (const unsigned char *)cols[TPD_C_STRIKE_VALID];
  k[0] = TP_OK(ev, i) ? (double)((const int *)cols[TPD_C_EXPIRY])[i] : TPD_NULL_KEY;
  k[1] = TP_OK(ov, i) ? (double)((const int *)cols[TPD_C_OPT_MAP])[((const int *)cols[TPD_C_OPT])[i]] : TPD_NULL_KEY;
  k[2] = TP_OK(sv, i) ? (double)((const float *)cols[TPD_C_STRIKE])[i] : TPD_NULL_KEY;
}

/* Appends a close to the trade log. */
static void tpd_log(double *st, void **cols, long long set, long long entry_ts, long long exit_ts, double entry, double exit, double pnl, const double *key) {
  long long *tts = (long long *)cols[TPD_C_TRADE_TS];
  double *tpx = (double *)cols[TPD_C_TRADE_PX];
  long long t = (long long)st[TPD_H_TRADE_COUNT];
  double *px = tpx + t * TPD_TPX_SIZE;
  tts[t * TPD_TTS_SIZE + TPD_TTS_ENTRY] = entry_ts;
  tts[t * TPD_TTS_SIZE + TPD_TTS_EXIT] = exit_ts;
  px[TPD_TPX_SET] = (double)set;
  px[TPD_TPX_ENTRY] = entry;
  px[TPD_TPX_EXIT] = exit;
  px[TPD_TPX_PNL] = pnl;
  px[TPD_TPX_EXPIRY] = key[0];
  px[TPD_TPX_OPT] = key[1];
  px[TPD_TPX_STRIKE] = key[2];
  st[TPD_H_TRADE_COUNT] = (double)(t + 1);
}

/* floor(a / b) for b > 0 (C division truncates toward zero). */
static long long tpd_floor_div(long long a, long long b) {
  long long q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Opens the record of a segment whose key is k; returns its index (the caller guarantees room). */
static long long tpd_sum_open(double *st, void **cols, const double *k) {
  long long nsets = (long long)st[TPD_H_NSETS], rs = TPD_R_SETS + TPD_TALLY_SIZE * nsets, n = (long long)st[TPD_H_REC_COUNT], q;
  double *r = (double *)cols[TPD_C_SUM_REC] + n * rs;
  r[TPD_R_E] = k[0];
  r[TPD_R_O] = k[1];
  r[TPD_R_S] = k[2];
  r[TPD_R_PRICE] = 0.0 / 0.0;
  for (q = TPD_R_SETS; q < rs; q++) r[q] = 0;
  ((long long *)cols[TPD_C_SUM_REC_TS])[n] = TPD_NO_TS;
  st[TPD_H_REC_COUNT] = (double)(n + 1);
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
static void tpd_sum_apply(double *st, long long *sti, void **cols, tpd_ts_src *ts, long long set, const tpd_sum_event *x, long long n, long long lv_row) {
  long long nsets = (long long)st[TPD_H_NSETS], rs = TPD_R_SETS + TPD_TALLY_SIZE * nsets;
  long long *t = (long long *)cols[TPD_C_SUM_STAGE_TS], *tp, *tend = t + n;
  double *recs = (double *)cols[TPD_C_SUM_REC] + TPD_R_SETS + TPD_TALLY_SIZE * set;
  long long *rts = (long long *)cols[TPD_C_SUM_REC_TS];
  double *ss = (double *)cols[TPD_C_SUM_SETS] + set * TPD_S_SIZE;
  double *curve = (double *)cols[TPD_C_SUM_CURVE] + set * TPD_DAY_MINUTES;
  long long entry_ts = sti[TPD_STI_SUM_ENTRY], first_minute = 0;
  long long curve_lo = (long long)st[TPD_H_CURVE_LO], curve_hi = (long long)st[TPD_H_CURVE_HI];
  int have_day = st[TPD_H_CURVE_DAY] == st[TPD_H_CURVE_DAY];
  const tpd_sum_event *e, *end = x + n;
  /* The loops walk pointers, not indices: TinyCC keeps every local in memory and recomputes
     x[i] (an imul by the struct's size) at each use, which cost more than the loops' work. */
  if (have_day) first_minute = (long long)st[TPD_H_CURVE_DAY] * TPD_DAY_MINUTES - TPD_IST_OFFSET_MINUTES;
  if (ts && ts->runs && ts->nruns > 0) {
    /* Records, codes, values: three loops of independent loads, each prefetching what the next reads
       (a code's bytes and a dictionary value are each a cache miss of their own), with the reads of
       tpd_ts_run, tpd_ts_code_in and tpd_ts_value written out. *tp < 0: no instant to read. */
    const long long *runs = ts->runs, *last = runs + 4 * (ts->nruns - 1), *r = runs + 4 * ts->hint;
    const long long row0 = ts->row0, entries = ts->entries;
    const unsigned char *dict = (const unsigned char *)ts->ts;
    const unsigned char **at = (const unsigned char **)(t + 2 * (long long)st[TPD_H_BLOCK] + 2), **ap;
    for (e = x, tp = t, ap = at; e < end; e++, tp++, ap++) {
      long long row = e->row, w;
      if (row < 0) {
        *tp = -1;
        continue;
      }
      row += row0;
      if (*r > row) {
        /* behind the record read last (a set's events start its block again): searched */
        long long k = tpd_ts_run(ts, e->row);
        if (k < 0) {
          r = runs;
          *tp = -1;
          continue;
        }
        r = runs + 4 * k;
      } else
        while (r < last && r[4] <= row) r += 4;
      w = r[1];
      if (w == 0) {
        /* one code for the whole run: no byte to read (a negative one is past the values too) */
        *tp = r[2] < 0 ? entries : r[2];
        *ap = 0;
      } else {
        unsigned long long bit = (unsigned long long)(r[3] + row - r[0]) * (unsigned long long)w;
        const unsigned char *b = (const unsigned char *)r[2] + (bit >> 3);
        *ap = b;
        *tp = (long long)((bit & 7) | ((unsigned long long)w << 3));
        TPD_PREFETCH(b);
      }
    }
    ts->hint = (r - runs) >> 2;
    for (tp = t, ap = at; tp < tend; tp++, ap++) {
      long long c = *tp, code;
      const unsigned char *b = *ap;
      if (c < 0) continue;
      if (b)
        TPD_CODE_BITS(b, (int)(c & 7), (int)(c >> 3), code);
      else
        code = c;
      if (code < 0 || code >= entries) {
        ts->bad = 1;
        code = 0;
      }
      *tp = code;
      TPD_PREFETCH(dict + 8 * code);
    }
    for (tp = t; tp < tend; tp++)
      if (*tp < 0)
        *tp = 0;
      else
        TPD_LOAD_I64(dict + 8 * *tp, *tp);
  } else if (ts && ts->runs) {
    /* no record: every lookup is a garbled file's */
    for (e = x, tp = t; e < end; e++, tp++) {
      *tp = 0;
      if (e->row >= 0) ts->bad = 1;
    }
  } else if (ts) {
    for (e = x, tp = t; e < end; e++, tp++) *tp = e->row >= 0 ? tpd_ts_at(ts, e->row) : 0;
  } else {
    for (tp = t; tp < tend; tp++) *tp = 0;
  }
  for (e = x, tp = t; e < end; e++, tp++) {
    long long exit_ts, rec, hold, minute, rem, m;
    double pnl, entry, win, *r, *hb;
    if (e->kind == 0) {
      entry_ts = *tp;
      continue;
    }
    exit_ts = e->row >= 0 ? *tp : tpd_last_ts(sti, TPD_STI_SUM_LAST, TPD_STI_SUM_LAST_ROW, ts);
    pnl = e->pnl;
    entry = e->price;
    win = pnl > 0 ? 1 : 0;
    rec = e->rec;
    /* the set's tally of the segment's record (recs points at set 0's of record 0 plus the set) */
    r = recs + rec * rs;
    r[TPD_TALLY_PNL] += pnl;
    r[TPD_TALLY_TRADES] += 1;
    r[TPD_TALLY_WINS] += win;
    /* The earliest entry, and of equal ones the lowest price: the same whatever order closes come in. */
    if (entry_ts <= rts[rec]) {
      double *price = r - (TPD_R_SETS + TPD_TALLY_SIZE * set) + TPD_R_PRICE;
      if (entry_ts < rts[rec] || entry < *price || *price != *price) {
        rts[rec] = entry_ts;
        *price = entry;
      }
    }
    hold = exit_ts - entry_ts;
    if (pnl < 0) {
      ss[TPD_S_LOSSES] += 1;
      ss[TPD_S_LOSS_PNL] += pnl;
    } else if (pnl > 0) {
      ss[TPD_S_WIN_PNL] += pnl;
    }
    ss[TPD_S_HOLD_S] += (double)hold / 1e9;
    hb = ss + TPD_S_HOLD + TPD_TALLY_SIZE * (TPD_HOLD_BUCKET(hold));
    hb[TPD_TALLY_PNL] += pnl;
    hb[TPD_TALLY_TRADES] += 1;
    hb[TPD_TALLY_WINS] += win;
    /* floor(exit_ts / 1 min) without a 64-bit division: a float estimate, corrected (it is off by less than a minute). */
    minute = (long long)((double)exit_ts * (1.0 / 6e10));
    rem = exit_ts - minute * 60000000000LL;
    if (rem < 0) minute--;
    else if (rem >= 60000000000LL) minute++;
    /* Minutes of the IST day of the partition's first close (IST midnight is TPD_IST_OFFSET_MINUTES before UTC's). */
    if (!have_day) {
      st[TPD_H_CURVE_DAY] = (double)tpd_floor_div(minute + TPD_IST_OFFSET_MINUTES, TPD_DAY_MINUTES);
      first_minute = (long long)st[TPD_H_CURVE_DAY] * TPD_DAY_MINUTES - TPD_IST_OFFSET_MINUTES;
      have_day = 1;
    }
    m = minute - first_minute;
    if (m < 0 || m >= TPD_DAY_MINUTES) st[TPD_H_SPILLED] = 1;
    else {
      curve[m] += pnl;
      if (m < curve_lo) curve_lo = m;
      if (m > curve_hi) curve_hi = m;
    }
  }
  st[TPD_H_CURVE_LO] = (double)curve_lo;
  st[TPD_H_CURVE_HI] = (double)curve_hi;
  sti[TPD_STI_SUM_ENTRY] = entry_ts;
  if (lv_row >= 0) {
    sti[TPD_STI_SUM_LAST] = 0;
    sti[TPD_STI_SUM_LAST_ROW] = ts ? lv_row + 1 : 0;
  }
}

/* Ends the current segment for every set (end of partition); the trade log has room for one close per set. */
void tpd_flush(double *st, long long *sti, void **cols) {
  if (st[TPD_H_HAS_SEG] == 0.0) return;
  long long nsets = (long long)st[TPD_H_NSETS], np = (long long)st[TPD_H_NPARAMS], blk = tpd_set_block(st), k;
  for (k = 0; k < nsets; k++) {
    double *b = st + TPD_H_SIZE + k * blk;
    tp_event ev;
    ev.action = TP_NONE;
    tickpack_segment_end(b + TPD_T_SIZE, b + TPD_T_SIZE + np, &ev);
    if (ev.action == TP_OPEN) {
      b[TPD_T_TRADES] += 1.0;
      b[TPD_T_ENTRY] = ev.price;
    } else if (ev.action == TP_CLOSE) {
      if (cols[TPD_C_BID]) {
        ev.price = tpd_fill(b, ev.price, b[TPD_T_LAST_BID]);
        ev.pnl = ev.price - b[TPD_T_ENTRY];
      }
      b[TPD_T_PNL] += ev.pnl;
      if (cols[TPD_C_TRADE_TS]) tpd_log(st, cols, k, sti[k * TPD_STI_SIZE + TPD_STI_LOG_ENTRY], sti[k * TPD_STI_SIZE + TPD_STI_LOG_LAST], b[TPD_T_ENTRY], ev.price, ev.pnl, st + TPD_H_SEG_E);
      if (cols[TPD_C_SUM_REC]) {
        tpd_sum_event e1;
        TPD_SUM_STAGE(&e1, 1, -1, (long long)st[TPD_H_REC_OPEN], b[TPD_T_ENTRY], ev.pnl);
        tpd_sum_apply(st, sti + k * TPD_STI_SIZE, cols, 0, k, &e1, 1, -1);
      }
    }
  }
  st[TPD_H_HAS_SEG] = 0.0;
  st[TPD_H_REC_OPEN] = -1;
}

/* Rows i and i-1 of a batch have the same segment key (null equals null, as in the tpd_key_at doubles). */
static int tpd_same_key(void **cols, long long i) {
  double a[3], b[3];
  tpd_key_at(cols, i, a);
  tpd_key_at(cols, i - 1, b);
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

#ifdef __TINYC__
/* libc's, resolved when TinyCC links the unit (tpd_run's key scan). */
int memcmp(const void *, const void *, unsigned long);
/* Rows of a key scan's window under TinyCC (64, 128 and 256 measured alike, 512 slower). */
#define TPD_SCAN_ROWS 64
#endif

/*
 * Runs rows [start, n) of the batch; returns the next row to run (n, or a block boundary when the
 * trade log could not take a block's worst case: the host drains it and calls again).
 */
long long tpd_run(double *st, long long *sti, void **cols, long long start, long long n) {
  const int *expiry = (const int *)cols[TPD_C_EXPIRY];
  const int *opt = (const int *)cols[TPD_C_OPT];
  const int *opt_map = (const int *)cols[TPD_C_OPT_MAP];
  const float *strike = (const float *)cols[TPD_C_STRIKE];
  tpd_ts_src tss, *ts = 0;
  const int logging = cols[TPD_C_TRADE_TS] != 0;
  const int summing = cols[TPD_C_SUM_REC] != 0;
  const int touch = cols[TPD_C_BID] != 0;
  long long *slot = (long long *)cols[TPD_C_SUM_SLOTS];
  tpd_sum_event *sev = (tpd_sum_event *)cols[TPD_C_SUM_STAGE];
  /* Without nulls in the key columns (most batches) rows compare as raw values, without bitmaps. */
  const int key_nulls = cols[TPD_C_EXPIRY_VALID] || cols[TPD_C_OPT_VALID] || cols[TPD_C_STRIKE_VALID];
  long long nsets = (long long)st[TPD_H_NSETS], np = (long long)st[TPD_H_NPARAMS], blk = tpd_set_block(st);
  long long block = (long long)st[TPD_H_BLOCK], scap = (long long)st[TPD_H_STAGED_CAP];
  int ncols = (int)st[TPD_H_NCOLS], c;
  const void *colv[TPD_MAX_COLS];
  const unsigned char *colok[TPD_MAX_COLS];
  tp_event *events = (tp_event *)cols[TPD_C_EVENTS];
  long long *starts = (long long *)cols[TPD_C_STARTS];
  tpd_staged *staged = (tpd_staged *)cols[TPD_C_STAGED];
  long long *nstaged = (long long *)(staged ? staged + nsets * scap : 0);
  tp_rows_t r;
  long long b, i, k;
  for (c = 0; c < ncols; c++) {
    colv[c] = cols[TPD_C_FIRST + 2 * c];
    colok[c] = (const unsigned char *)cols[TPD_C_FIRST + 2 * c + 1];
  }
  r.col = colv;
  r.valid = colok;
  r.ev = events;
  r.ncol = ncols;
  r.col_type = (const unsigned char *)cols[TPD_C_COL_TYPES];
  r.zeros = cols[TPD_C_ZEROS];
  r.bad_column = -1;
  r.bad_type = 0;
  if (cols[TPD_C_TS]) {
    tpd_ts_init(&tss, st, cols);
    ts = &tss;
  }

  for (b = start; b < n; ) {
    if (logging && st[TPD_H_TRADE_COUNT] + (double)(nsets * scap) > st[TPD_H_TRADE_CAP]) break;
    /* The sums open a record per segment start: a block needs room for one per row and one more. */
    if (summing && st[TPD_H_REC_COUNT] + (double)(block + 1) > st[TPD_H_REC_CAP]) break;
    long long bend = b + block < n ? b + block : n;
    double key[3];
    /* Segment starts in [b, bend), found once for all sets. */
    long long ns = 0;
    tpd_key_at(cols, b, key);
    int continues = st[TPD_H_HAS_SEG] != 0.0 && key[0] == st[TPD_H_SEG_E] && key[1] == st[TPD_H_SEG_O] && key[2] == st[TPD_H_SEG_S];
    if (!continues) starts[ns++] = b;
    if (!key_nulls) {
#ifdef __TINYC__
      /* TinyCC's code for a row-by-row test keeps its locals in memory (~1.8 ns a row, ~9% of a
         cold run's CPU, measured): a window of rows is compared with the rows one before it by libc's
         memcmp, per key column. Equal bytes in all three mean no key changes in the window, unless
         its strikes are NaN (their bits then all equal the row before's, so that row says); any
         other window is looked at row by row (-0 and 0 differ in bytes, not in value). */
      const unsigned *sbits = (const unsigned *)strike;
      for (i = b + 1; i < bend; ) {
        long long e = i + TPD_SCAN_ROWS <= bend ? i + TPD_SCAN_ROWS : bend, j;
        unsigned long nb = (unsigned long)(e - i) * 4;
        if (memcmp(expiry + i, expiry + i - 1, nb) != 0 || memcmp(opt + i, opt + i - 1, nb) != 0
            || memcmp(sbits + i, sbits + i - 1, nb) != 0 || (sbits[i - 1] & 0x7fffffffu) > 0x7f800000u)
          for (j = i; j < e; j++)
            if (expiry[j] != expiry[j - 1] || strike[j] != strike[j - 1] || (opt[j] != opt[j - 1] && opt_map[opt[j]] != opt_map[opt[j - 1]])) starts[ns++] = j;
        i = e;
      }
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
        if (!tpd_same_key(cols, i)) starts[ns++] = i;
    }
    starts[ns] = bend;
    if (summing) {
      /* Record slots: 0 is the segment going on at the block's start, j > 0 the one starting at starts[j - 1]. */
      slot[0] = (long long)st[TPD_H_REC_OPEN];
      for (i = 0; i < ns; i++) {
        double k0[3];
        tpd_key_at(cols, starts[i], k0);
        slot[i + 1] = tpd_sum_open(st, cols, k0);
      }
    }

    double *pp = st + TPD_H_SIZE + TPD_T_SIZE, *ps = pp + np;
    for (k = 0; k < nsets; k++, pp += blk, ps += blk) {
      double *tot = pp - TPD_T_SIZE;
      tpd_staged *mine = logging ? staged + k * scap : 0;
      long long nmine = 0, cur = b, j = 0, nsev = 0, lv_row = -1;
      /* The key trades report: the current segment's first row's (as -0 and 0 are one segment). */
      double skey[3];
      skey[0] = st[TPD_H_SEG_E];
      skey[1] = st[TPD_H_SEG_O];
      skey[2] = st[TPD_H_SEG_S];
      while (cur < bend) {
        if (j < ns && starts[j] == cur) {
          /* A segment begins at cur: the previous one (if any) ends for this set first. */
          if (cur > b || st[TPD_H_HAS_SEG] != 0.0) {
            tp_event ev;
            ev.action = TP_NONE;
            tickpack_segment_end(pp, ps, &ev);
            if (ev.action == TP_OPEN) {
              tot[TPD_T_TRADES] += 1.0;
              tot[TPD_T_ENTRY] = ev.price;
            } else if (ev.action == TP_CLOSE) {
              if (touch) {
                ev.price = tpd_fill(tot, ev.price, tot[TPD_T_LAST_BID]);
                ev.pnl = ev.price - tot[TPD_T_ENTRY];
              }
              tot[TPD_T_PNL] += ev.pnl;
              if (summing) TPD_SUM_STAGE(sev + nsev++, 1, lv_row, slot[j], tot[TPD_T_ENTRY], ev.pnl);
              if (logging) {
                tpd_staged *t = mine + nmine++;
                t->order = 2 * cur;
                t->entry_ts = sti[k * TPD_STI_SIZE + TPD_STI_LOG_ENTRY];
                t->exit_ts = tpd_last_ts(sti + k * TPD_STI_SIZE, TPD_STI_LOG_LAST, TPD_STI_LOG_LAST_ROW, ts);
                t->entry = tot[TPD_T_ENTRY];
                t->exit = ev.price;
                t->pnl = ev.pnl;
                t->key[0] = skey[0];
                t->key[1] = skey[1];
                t->key[2] = skey[2];
              }
            }
          }
          if (logging) tpd_key_at(cols, cur, skey);
          tot[TPD_T_LAST_BID] = 0.0 / 0.0;
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
        if (r.bad_type) {
          /* The kernel read a column as a type it was not declared in (it got zeros): the run is void, the host reports it. */
          st[TPD_H_BAD_COLUMN] = (double)r.bad_column;
          cols[TPD_C_BAD_TYPE] = (void *)r.bad_type;
          if (ts && ts->bad) st[TPD_H_TS_BAD] = 1;
          return b;
        }
        tot[TPD_T_VALID_ROWS] += (double)r.nvalid;
        if (logging && ts && r.last_valid >= 0) sti[k * TPD_STI_SIZE + TPD_STI_LOG_LAST_ROW] = r.last_valid + 1;
        if (r.last_valid >= 0) {
          lv_row = r.last_valid;
          /* A segment's end sells at its last valid row's bid: kept now, that row may be in an earlier batch then. */
          if (touch) tot[TPD_T_LAST_BID] = tpd_quote(cols, TPD_C_BID, lv_row);
        }
        for (i = 0; i < r.nev; i++) {
          tp_event *e = events + i;
          if (touch) {
            if (e->action == TP_OPEN) e->price = tpd_fill(tot, e->price, tpd_quote(cols, TPD_C_ASK, e->row));
            else if (e->action == TP_CLOSE) {
              e->price = tpd_fill(tot, e->price, tpd_quote(cols, TPD_C_BID, e->row));
              e->pnl = e->price - tot[TPD_T_ENTRY];
            }
          }
          if (e->action == TP_OPEN) {
            tot[TPD_T_TRADES] += 1.0;
            tot[TPD_T_ENTRY] = e->price;
            if (logging) sti[k * TPD_STI_SIZE + TPD_STI_LOG_ENTRY] = ts ? tpd_ts_at(ts, e->row) : 0;
            if (summing) TPD_SUM_STAGE(sev + nsev++, 0, e->row, slot[j], 0.0, 0.0);
          } else if (e->action == TP_CLOSE) {
            tot[TPD_T_PNL] += e->pnl;
            if (summing) TPD_SUM_STAGE(sev + nsev++, 1, e->row, slot[j], tot[TPD_T_ENTRY], e->pnl);
            if (logging) {
              tpd_staged *t = mine + nmine++;
              t->order = 2 * e->row + 1;
              t->entry_ts = sti[k * TPD_STI_SIZE + TPD_STI_LOG_ENTRY];
              t->exit_ts = ts ? tpd_ts_at(ts, e->row) : 0;
              t->entry = tot[TPD_T_ENTRY];
              t->exit = e->price;
              t->pnl = e->pnl;
              t->key[0] = skey[0];
              t->key[1] = skey[1];
              t->key[2] = skey[2];
            }
          }
        }
        cur = next;
      }
      if (logging) nstaged[k] = nmine;
      if (summing) tpd_sum_apply(st, sti + k * TPD_STI_SIZE, cols, ts, k, sev, nsev, lv_row);
    }

    if (logging) {
      /* Merge the sets' staged closes into the log by row, then set (few trades: a scan of the sets per trade). */
      long long *pos = nstaged + nsets;
      for (k = 0; k < nsets; k++) pos[k] = 0;
      for (;;) {
        long long best = -1, best_key = 0;
        for (k = 0; k < nsets; k++)
          if (pos[k] < nstaged[k] && (best < 0 || staged[k * scap + pos[k]].order < best_key)) {
            best = k;
            best_key = staged[k * scap + pos[k]].order;
          }
        if (best < 0) break;
        tpd_staged *t = staged + best * scap + pos[best]++;
        tpd_log(st, cols, best, t->entry_ts, t->exit_ts, t->entry, t->exit, t->pnl, t->key);
      }
    }
    /* The segment going on at the block's end is the last to start (or the one that continued). */
    if (ns > 0) {
      tpd_key_at(cols, starts[ns - 1], key);
      st[TPD_H_SEG_E] = key[0];
      st[TPD_H_SEG_O] = key[1];
      st[TPD_H_SEG_S] = key[2];
      if (summing) st[TPD_H_REC_OPEN] = (double)slot[ns];
    }
    st[TPD_H_HAS_SEG] = 1.0;
    st[TPD_H_ROWS] += (double)(bend - b);
    b = bend;
  }
  /* The batch is done: its rows' instants are resolved while it is there to read. */
  if (b >= n)
    for (k = 0; k < nsets; k++) {
      tpd_last_ts(sti + k * TPD_STI_SIZE, TPD_STI_LOG_LAST, TPD_STI_LOG_LAST_ROW, ts);
      tpd_last_ts(sti + k * TPD_STI_SIZE, TPD_STI_SUM_LAST, TPD_STI_SUM_LAST_ROW, ts);
    }
  if (ts && ts->bad) st[TPD_H_TS_BAD] = 1;
  return b;
}
