/*
 * ema_cross (docs/strategy.md), the built-in strategy, written against the tickpack kernel ABI like any
 * researcher's kernel. Per segment, over its valid rows (price non-null and > 0): the first sets
 * both EMAs; later ones update them, enter long when flat, emaF > emaS, the spread is within
 * max_spread of mid and volume ≥ min_volume, and exit when emaS ≥ emaF. A position still open at
 * the segment's end closes at the last valid price.
 */
#include "tickpack.h"

enum { P_FAST, P_SLOW, P_MAX_SPREAD, P_MIN_VOLUME };
enum { S_SEEN, S_EMA_F, S_EMA_S, S_POS, S_ENTRY, S_LAST, S_ALPHA_F, S_ALPHA_S, S_SIZE };
enum { V_PRICE, V_BP0, V_SP0, V_VOLUME };

/* volume is int64 in packed files: read it as it is stored (no per-batch conversion). */
const char *tickpack_columns(void) { return "price,bp0,sp0,volume:i64"; }
const char *tickpack_params(void) { return "fast=5,slow=21,max_spread=0.0005,min_volume=1"; }
int tickpack_state_size(void) { return S_SIZE; }

void tickpack_segment_start(const double *p, double *s) {
  s[S_SEEN] = 0.0;
  s[S_POS] = 0.0;
  s[S_ALPHA_F] = 2.0 / (p[P_FAST] + 1.0);
  s[S_ALPHA_S] = 2.0 / (p[P_SLOW] + 1.0);
}

void tickpack_run(const double *p, double *s, tp_rows_t *r) {
  const double *price = TP_COLUMN(r, V_PRICE, double), *bp0 = TP_COLUMN(r, V_BP0, double), *sp0 = TP_COLUMN(r, V_SP0, double);
  const long long *volume = TP_COLUMN(r, V_VOLUME, long long);
  const unsigned char *price_ok = TP_BITS(r, V_PRICE), *bp0_ok = TP_BITS(r, V_BP0), *sp0_ok = TP_BITS(r, V_SP0), *volume_ok = TP_BITS(r, V_VOLUME);
  /* State in locals for the loop (TinyCC keeps them on the stack, gcc in registers); written back after. */
  const double af = s[S_ALPHA_F], as = s[S_ALPHA_S], bf = 1.0 - af, bs = 1.0 - as;
  const double max_spread = p[P_MAX_SPREAD], min_volume = p[P_MIN_VOLUME];
  double ef = s[S_EMA_F], es = s[S_EMA_S], entry = s[S_ENTRY], last = s[S_LAST];
  int seen = s[S_SEEN] != 0.0, pos = s[S_POS] != 0.0;
  long long i, end = r->end, nvalid = 0, last_valid = -1;
  for (i = r->start; i < end; i++) {
    double px = price[i];
    /* Invalid rows (null or not > 0) are skipped entirely. */
    if (!(px > 0.0) || !TP_OK(price_ok, i)) continue;
    nvalid++;
    last_valid = i;
    last = px;
    if (!seen) {
      seen = 1;
      ef = es = px;
      continue;
    }
    ef = af * px + bf * ef;
    es = as * px + bs * es;
    if (!pos) {
      /* The cheap tests at once (&, not &&: one branch instead of several that mispredict), the
         division only when they pass, the bitmaps last (a null slot's value is read, never trusted).
         x * 0.5 is x / 2.0 exactly (TinyCC would divide). */
      double b = bp0[i], a = sp0[i];
      if (((ef > es) & (b > 0.0) & (a > 0.0) & ((double)volume[i] >= min_volume)) && (a - b) / ((a + b) * 0.5) <= max_spread
          && TP_OK(bp0_ok, i) && TP_OK(sp0_ok, i) && TP_OK(volume_ok, i)) {
        pos = 1;
        entry = px;
        TP_EMIT_OPEN(r, i, px);
      }
    } else if (es >= ef) {
      pos = 0;
      TP_EMIT_CLOSE(r, i, px, px - entry);
    }
  }
  s[S_SEEN] = seen;
  s[S_EMA_F] = ef;
  s[S_EMA_S] = es;
  s[S_POS] = pos;
  s[S_ENTRY] = entry;
  s[S_LAST] = last;
  r->nvalid = nvalid;
  r->last_valid = last_valid;
}

void tickpack_segment_end(const double *p, double *s, tp_event *ev) {
  if (s[S_POS] != 0.0) {
    s[S_POS] = 0.0;
    ev->action = TP_CLOSE;
    ev->price = s[S_LAST];
    ev->pnl = s[S_LAST] - s[S_ENTRY];
  }
}
