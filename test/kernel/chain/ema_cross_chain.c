/*
 * ema_cross (SPEC §4) written as a chain kernel: per contract, over its valid rows in time order,
 * the same decisions as kernel/ema_cross.c, kept in each contract's own state. Run over a whole
 * partition it must give the per-contract kernel's trades, one for one: the proof that the chain
 * driver's merge loses, adds and reorders nothing within a contract.
 */
#include "tickpack_chain.h"

enum { P_FAST, P_SLOW, P_MAX_SPREAD, P_MIN_VOLUME };
/* Per contract: seen a valid row, the two EMAs, and the open position + 1 (0: flat). */
enum { C_SEEN, C_EMA_F, C_EMA_S, C_POS, C_SIZE };
enum { V_PRICE, V_BP0, V_SP0, V_VOLUME };

const char *tickpack_columns(void) { return "price,bp0,sp0,volume:i64"; }
const char *tickpack_params(void) { return "fast=5,slow=21,max_spread=0.0005,min_volume=1"; }
int tickpack_state_size(void) { return 0; }
int tickpack_contract_state_size(void) { return C_SIZE; }

void tickpack_chain_start(const double *p, double *s, tp_chain_t *c) {
  (void)p;
  (void)s;
  (void)c;
}

void tickpack_chain_instant(const double *p, double *s, tp_chain_t *c) {
  const double *price = TP_ROW(c, V_PRICE, double), *bp0 = TP_ROW(c, V_BP0, double), *sp0 = TP_ROW(c, V_SP0, double);
  const long long *volume = TP_ROW(c, V_VOLUME, long long);
  const unsigned char *bp0_ok = TP_ROW_OK(c, V_BP0), *sp0_ok = TP_ROW_OK(c, V_SP0), *volume_ok = TP_ROW_OK(c, V_VOLUME);
  const double af = 2.0 / (p[P_FAST] + 1.0), as = 2.0 / (p[P_SLOW] + 1.0), bf = 1.0 - af, bs = 1.0 - as;
  int i;
  for (i = 0; i < c->nrows; i++) {
    if (!c->row_valid[i]) continue;
    double *cs = tp_contract_state(c, s, c->row_contract[i]), px = price[i];
    if (cs[C_SEEN] == 0) {
      cs[C_SEEN] = 1;
      cs[C_EMA_F] = cs[C_EMA_S] = px;
      continue;
    }
    double ef = af * px + bf * cs[C_EMA_F], es = as * px + bs * cs[C_EMA_S];
    cs[C_EMA_F] = ef;
    cs[C_EMA_S] = es;
    if (cs[C_POS] == 0) {
      double b = bp0[i], a = sp0[i];
      if (ef > es && b > 0.0 && a > 0.0 && (double)volume[i] >= p[P_MIN_VOLUME] && (a - b) / ((a + b) * 0.5) <= p[P_MAX_SPREAD]
          && bp0_ok[i] && sp0_ok[i] && volume_ok[i]) {
        int pos = tp_open_at(c, -1, i, 1.0);
        if (pos < 0) return;
        cs[C_POS] = pos + 1;
      }
    } else if (es >= ef) {
      if (tp_close_leg_at(c, (int)cs[C_POS] - 1, 0, i) < 0) return;
      cs[C_POS] = 0;
    }
  }
}

void tickpack_chain_end(const double *p, double *s, tp_chain_t *c) {
  (void)p;
  (void)s;
  (void)c;
}
