/*
 * A chain kernel that shows the stream it is given, for test/kernel/chain-driver.test.ts: at each
 * instant every valid row (of the first 60) opens a leg at its own price and closes it there, with
 * lots = scale × (row + 1 + 1000 × nrows), so the log lists the rows in stream order with their
 * contracts, prices and instants; at the end every contract with a price (of the first 30) opens a
 * leg left for the driver to close, showing the as-of state, and so does every valid row of the
 * last instant (which c still holds), short. Each leg's lots also carry the declared
 * column oi of its row (or as of the end) as oi / 1000, or 0.0005 where it is null. fail_at_start / fail_at_end order on
 * contract 0 there, a bad order before any price, to show that start and end ran.
 */
#include "tickpack_chain.h"

enum { P_SCALE, P_FAIL_AT_START, P_FAIL_AT_END };

const char *tickpack_columns(void) { return "oi"; }
const char *tickpack_params(void) { return "scale=1,fail_at_start=0,fail_at_end=0"; }
int tickpack_state_size(void) { return 0; }
int tickpack_contract_state_size(void) { return 0; }

void tickpack_chain_start(const double *p, double *s, tp_chain_t *c) {
  (void)s;
  if (p[P_FAIL_AT_START] != 0) tp_open(c, -1, 0, 1.0);
}

void tickpack_chain_instant(const double *p, double *s, tp_chain_t *c) {
  const double *aux = TP_ROW(c, 0, double);
  const unsigned char *ok = TP_ROW_OK(c, 0);
  int i;
  (void)s;
  for (i = 0; i < c->nrows && i < 60; i++) {
    if (!c->row_valid[i]) continue;
    int pos = tp_open_at(c, -1, i, p[P_SCALE] * (i + 1 + 1000.0 * c->nrows) + (ok[i] ? aux[i] / 1000 : 0.0005));
    if (pos < 0 || tp_close_leg_at(c, pos, 0, i) < 0) return;
  }
}

void tickpack_chain_end(const double *p, double *s, tp_chain_t *c) {
  const double *aux = TP_ASOF(c, 0, double);
  const unsigned char *ok = TP_ASOF_OK(c, 0);
  int k;
  (void)s;
  if (p[P_FAIL_AT_END] != 0) tp_open(c, -1, 0, 1.0);
  for (k = 0; k < c->ncontracts && k < 30; k++)
    if (c->has[k] && tp_open(c, -1, k, p[P_SCALE] * (k + 1) + (ok[k] ? aux[k] / 1000 : 0.0005)) < 0) return;
  /* c still holds the last instant: its valid rows (of the first 30) open short legs at their own prices. */
  for (k = 0; k < c->nrows && k < 30; k++)
    if (c->row_valid[k] && tp_open_at(c, -1, k, -p[P_SCALE] * (k + 1 + 1000.0 * c->nrows)) < 0) return;
}
