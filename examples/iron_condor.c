/*
 * iron_condor: an example chain kernel (docs/chain-kernels.md). Per partition, one lot of each leg:
 * at the first instant from 09:15 + entry_min that has a valid row of the nearest expiry X, sell the
 * CE `width` listed strikes above X's at-the-money strike and the PE `width` listed strikes below it,
 * and buy the CE `wing` listed strikes above the short CE and the PE `wing` listed strikes below the
 * short PE, as one position of four legs. Buy it back at the first later instant with a valid row of
 * any leg at which the time is up (09:15 + exit_min), or the cost to buy it back has risen to
 * credit × (1 + stop) or fallen to credit × (1 − target); otherwise the driver closes it at the end
 * of the partition.
 */
#include "tickpack_chain.h"

enum { P_ENTRY_MIN, P_EXIT_MIN, P_WIDTH, P_WING, P_STOP, P_TARGET };
/* S_STAGE: 0 waiting for the entry, 1 open, 2 done; S_POS the position; S_LEG0.. its four contracts; S_CREDIT the net premium received. */
enum { S_STAGE, S_POS, S_LEG0, S_CREDIT = S_LEG0 + 4, S_SIZE };

const char *tickpack_columns(void) { return ""; }
const char *tickpack_params(void) { return "entry_min=5,exit_min=360,width=2,wing=2,stop=0.5,target=0.5"; }
int tickpack_state_size(void) { return S_SIZE; }
int tickpack_contract_state_size(void) { return 0; }

void tickpack_chain_start(const double *p, double *s, tp_chain_t *c) {
  (void)p;
  (void)c;
  s[S_STAGE] = 0;
}

/* Nanoseconds since 09:15 as a double: exact (under 2^53) for any day's instant. */
static double since_open(const tp_chain_t *c) { return (double)(c->ts - c->open_ns); }

/* Whether any of the instant's valid rows is of expiry x. */
static int valid_row_of_expiry(const tp_chain_t *c, int x) {
  int i;
  for (i = 0; i < c->nrows; i++)
    if (c->row_valid[i] && c->expiry[c->row_contract[i]] == x) return 1;
  return 0;
}

/* Whether any of the instant's valid rows is of one of the position's four contracts (state doubles). */
static int valid_row_of_legs(const tp_chain_t *c, const double *legs) {
  int i, k;
  for (i = 0; i < c->nrows; i++)
    for (k = 0; k < 4; k++)
      if (c->row_valid[i] && c->row_contract[i] == (int)legs[k]) return 1;
  return 0;
}

/* The contract `steps` listed strikes from `strike` among x's contracts of type opt, if it has a price now; else -1. */
static int priced_step(const tp_chain_t *c, int x, int opt, double strike, int steps) {
  double k = tp_strike_step(c, x, opt, strike, steps);
  if (k != k) return -1;
  int contract = tp_find(c, x, opt, k);
  return contract >= 0 && c->has[contract] ? contract : -1;
}

void tickpack_chain_instant(const double *p, double *s, tp_chain_t *c) {
  int k;
  if (s[S_STAGE] == 0) {
    if (c->nexpiries == 0 || since_open(c) < p[P_ENTRY_MIN] * 6e10) return;
    int x = c->expiries[0];
    if (!valid_row_of_expiry(c, x)) return;
    /* The entry instant whether or not the condor can be built: no condor now means no trade today. */
    s[S_STAGE] = 2;
    double atm = tp_atm(c, x);
    if (atm != atm) return;
    int width = (int)p[P_WIDTH], wing = (int)p[P_WING];
    int short_ce = priced_step(c, x, TP_CE, atm, width), short_pe = priced_step(c, x, TP_PE, atm, -width);
    if (short_ce < 0 || short_pe < 0) return;
    int long_ce = priced_step(c, x, TP_CE, c->strike[short_ce], wing);
    int long_pe = priced_step(c, x, TP_PE, c->strike[short_pe], -wing);
    if (long_ce < 0 || long_pe < 0) return;
    /* Legs 0..3: short CE, short PE, long CE, long PE. */
    int legs[4] = {short_ce, short_pe, long_ce, long_pe};
    double lots[4] = {-1.0, -1.0, 1.0, 1.0};
    int pos = -1;
    for (k = 0; k < 4; k++)
      if ((pos = tp_open(c, pos, legs[k], lots[k])) < 0) return;
    s[S_STAGE] = 1;
    s[S_POS] = pos;
    for (k = 0; k < 4; k++) s[S_LEG0 + k] = legs[k];
    s[S_CREDIT] = -tp_entry_value(c, pos);
    return;
  }
  if (s[S_STAGE] != 1) return;
  if (!valid_row_of_legs(c, s + S_LEG0)) return;
  int pos = (int)s[S_POS];
  double credit = s[S_CREDIT], cost = -tp_value(c, pos);
  if (since_open(c) >= p[P_EXIT_MIN] * 6e10 || cost >= credit * (1.0 + p[P_STOP]) ||
      cost <= credit * (1.0 - p[P_TARGET])) {
    tp_close(c, pos);
    s[S_STAGE] = 2;
  }
}

void tickpack_chain_end(const double *p, double *s, tp_chain_t *c) {
  (void)p;
  (void)s;
  (void)c;
}
