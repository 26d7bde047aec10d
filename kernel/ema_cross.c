/*
 * ema_cross (SPEC §4), the built-in strategy, written against the tickpack kernel ABI like any
 * researcher's kernel. Per segment, over its valid rows (price non-null and > 0): the first sets
 * both EMAs; later ones update them, enter long when flat, emaF > emaS, the spread is within
 * max_spread of mid and volume ≥ min_volume, and exit when emaS ≥ emaF. A position still open at
 * the segment's end closes at the last valid price.
 */
#include "tickpack.h"

enum { P_FAST, P_SLOW, P_MAX_SPREAD, P_MIN_VOLUME };
enum { S_SEEN, S_EMA_F, S_EMA_S, S_POS, S_ENTRY, S_LAST, S_ALPHA_F, S_ALPHA_S, S_SIZE };
enum { V_PRICE, V_BP0, V_SP0, V_VOLUME };

const char *tickpack_columns(void) { return "price,bp0,sp0,volume"; }
const char *tickpack_params(void) { return "fast=5,slow=21,max_spread=0.0005,min_volume=1"; }
int tickpack_state_size(void) { return S_SIZE; }

void tickpack_segment_start(const double *p, double *s) {
  s[S_SEEN] = 0.0;
  s[S_POS] = 0.0;
  s[S_ALPHA_F] = 2.0 / (p[P_FAST] + 1.0);
  s[S_ALPHA_S] = 2.0 / (p[P_SLOW] + 1.0);
}

int tickpack_row(const double *p, double *s, const tp_row_t *r, tp_event *ev) {
  double price = TP_VALUE(r, V_PRICE);
  if (!TP_OK(r, V_PRICE) || !(price > 0.0)) return 0;
  if (s[S_SEEN] == 0.0) {
    s[S_SEEN] = 1.0;
    s[S_EMA_F] = s[S_EMA_S] = s[S_LAST] = price;
    return 1;
  }
  double af = s[S_ALPHA_F], as = s[S_ALPHA_S];
  double ef = af * price + (1.0 - af) * s[S_EMA_F];
  double es = as * price + (1.0 - as) * s[S_EMA_S];
  s[S_EMA_F] = ef;
  s[S_EMA_S] = es;
  if (s[S_POS] == 0.0) {
    if (ef > es && TP_OK(r, V_BP0) && TP_OK(r, V_SP0) && TP_OK(r, V_VOLUME)) {
      double b = TP_VALUE(r, V_BP0), a = TP_VALUE(r, V_SP0);
      if (b > 0.0 && a > 0.0 && (a - b) / ((a + b) / 2.0) <= p[P_MAX_SPREAD] && TP_VALUE(r, V_VOLUME) >= p[P_MIN_VOLUME]) {
        s[S_POS] = 1.0;
        s[S_ENTRY] = price;
        ev->action = TP_OPEN;
        ev->price = price;
      }
    }
  } else if (es >= ef) {
    s[S_POS] = 0.0;
    ev->action = TP_CLOSE;
    ev->price = price;
    ev->pnl = price - s[S_ENTRY];
  }
  s[S_LAST] = price;
  return 1;
}

void tickpack_segment_end(const double *p, double *s, tp_event *ev) {
  if (s[S_POS] != 0.0) {
    s[S_POS] = 0.0;
    ev->action = TP_CLOSE;
    ev->price = s[S_LAST];
    ev->pnl = s[S_LAST] - s[S_ENTRY];
  }
}
