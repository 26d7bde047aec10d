/*
 * short_straddle (SPEC §6.1), the built-in chain strategy, written against the chain kernel ABI like
 * any researcher's kernel. Per partition, one lot: at the first instant from 09:15 + entry_min that
 * has a valid row of the nearest expiry X, sell the CE and the PE of X's at-the-money strike; buy
 * both back at the first later instant with a valid row of either leg at which the time is up
 * (09:15 + exit_min), the combined premium has risen by `stop` or fallen by `target` (fractions of
 * the premium received); otherwise the driver closes them at the end of the partition.
 */
#include "tickpack_chain.h"

enum { P_ENTRY_MIN, P_EXIT_MIN, P_STOP, P_TARGET };
/* S_STAGE: 0 waiting for the entry, 1 short, 2 done; S_POS the position; S_CE, S_PE its contracts; S_P0 the premium received. */
enum { S_STAGE, S_POS, S_CE, S_PE, S_P0, S_SIZE };

const char *tickpack_columns(void) { return ""; }
const char *tickpack_params(void) { return "entry_min=5,exit_min=360,stop=0.3,target=0.5"; }
int tickpack_state_size(void) { return S_SIZE; }
int tickpack_contract_state_size(void) { return 0; }

void tickpack_chain_start(const double *p, double *s, tp_chain_t *c) {
  (void)p;
  (void)c;
  s[S_STAGE] = 0;
}

/* Nanoseconds since 09:15 as a double: exact (under 2^53) for any day's instant. */
static double since_open(const tp_chain_t *c) { return (double)(c->ts - c->open_ns); }

void tickpack_chain_instant(const double *p, double *s, tp_chain_t *c) {
  int i;
  if (s[S_STAGE] == 0) {
    if (c->nexpiries == 0 || since_open(c) < p[P_ENTRY_MIN] * 6e10) return;
    int x = c->expiries[0], used = 0;
    for (i = 0; i < c->nrows && !used; i++) used = c->row_valid[i] && c->expiry[c->row_contract[i]] == x;
    if (!used) return;
    /* E is this instant whether or not a strike is eligible: no ATM now means no trade today. */
    s[S_STAGE] = 2;
    double atm = tp_atm(c, x);
    if (atm != atm) return;
    int ce = tp_find(c, x, TP_CE, atm), pe = tp_find(c, x, TP_PE, atm);
    int pos = tp_open(c, -1, ce, -1.0);
    if (pos < 0 || tp_open(c, pos, pe, -1.0) < 0) return;
    s[S_STAGE] = 1;
    s[S_POS] = pos;
    s[S_CE] = ce;
    s[S_PE] = pe;
    s[S_P0] = c->price[ce] + c->price[pe];
    return;
  }
  if (s[S_STAGE] != 1) return;
  int ce = (int)s[S_CE], pe = (int)s[S_PE], moved = 0;
  for (i = 0; i < c->nrows && !moved; i++) moved = c->row_valid[i] && (c->row_contract[i] == ce || c->row_contract[i] == pe);
  if (!moved) return;
  double p0 = s[S_P0], now = c->price[ce] + c->price[pe];
  if (since_open(c) >= p[P_EXIT_MIN] * 6e10 || now >= p0 * (1.0 + p[P_STOP]) || now <= p0 * (1.0 - p[P_TARGET])) {
    tp_close(c, (int)s[S_POS]);
    s[S_STAGE] = 2;
  }
}

void tickpack_chain_end(const double *p, double *s, tp_chain_t *c) {
  (void)p;
  (void)s;
  (void)c;
}
