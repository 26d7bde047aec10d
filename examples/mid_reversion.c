/*
 * mid_reversion: an example tickpack kernel (see docs/kernels.md). Buys at the ask when the mid
 * price falls `band` (a fraction) below its EMA, sells at the bid when the mid is back at the EMA;
 * a position open at the segment's end is sold at the last bid.
 *
 *   bun run bench DIR --kernel examples/mid_reversion.c --grid 'lookback=20,50;band=0.001,0.002'
 */
#include "tickpack.h"

enum { P_LOOKBACK, P_BAND };
enum { S_SEEN, S_EMA, S_POS, S_ENTRY, S_LAST_BID, S_SIZE };
enum { V_BP0, V_SP0 };

const char *tickpack_columns(void) { return "bp0,sp0"; }
const char *tickpack_params(void) { return "lookback=50,band=0.002"; }
int tickpack_state_size(void) { return S_SIZE; }

void tickpack_segment_start(const double *p, double *s) {
  s[S_SEEN] = 0.0;
  s[S_POS] = 0.0;
}

void tickpack_run(const double *p, double *s, tp_rows_t *r) {
  const double *bp0 = TP_COLUMN(r, V_BP0, double), *sp0 = TP_COLUMN(r, V_SP0, double);
  const unsigned char *bp0_ok = TP_BITS(r, V_BP0), *sp0_ok = TP_BITS(r, V_SP0);
  const double alpha = 2.0 / (p[P_LOOKBACK] + 1.0), band = p[P_BAND];
  long long i;
  for (i = r->start; i < r->end; i++) {
    if (!TP_OK(bp0_ok, i) || !TP_OK(sp0_ok, i)) continue;
    double bid = bp0[i], ask = sp0[i];
    if (!(bid > 0.0) || !(ask >= bid)) continue;
    r->nvalid++;
    r->last_valid = i;
    double mid = (bid + ask) / 2.0;
    if (s[S_SEEN] == 0.0) {
      s[S_SEEN] = 1.0;
      s[S_EMA] = mid;
      s[S_LAST_BID] = bid;
      continue;
    }
    double ema = alpha * mid + (1.0 - alpha) * s[S_EMA];
    s[S_EMA] = ema;
    if (s[S_POS] == 0.0) {
      if (mid < ema * (1.0 - band)) {
        s[S_POS] = 1.0;
        s[S_ENTRY] = ask;
        TP_EMIT_OPEN(r, i, ask);
      }
    } else if (mid >= ema) {
      s[S_POS] = 0.0;
      TP_EMIT_CLOSE(r, i, bid, bid - s[S_ENTRY]);
    }
    s[S_LAST_BID] = bid;
  }
}

void tickpack_segment_end(const double *p, double *s, tp_event *ev) {
  if (s[S_POS] != 0.0) {
    s[S_POS] = 0.0;
    ev->action = TP_CLOSE;
    ev->price = s[S_LAST_BID];
    ev->pnl = s[S_LAST_BID] - s[S_ENTRY];
  }
}
