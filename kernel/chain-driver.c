/*
 * The tickpack chain driver (chain ABI 1, kernel/tickpack_chain.h): merges a partition's contract
 * runs into one stream in time order, keeps every contract's as-of state, calls the kernel once per
 * instant for every parameter set, fills its orders and logs every leg. Compiled together with a
 * chain kernel (see chain-kernel.ts). All state lives in host-owned arrays (their layout is
 * kernel/chain-layout.ts's, written as TPC_ enums in front of this file), so a call can stop before
 * any instant — the trade log needs draining, or the instant buffers are too small for the next
 * instant — and the next call resumes there.
 *
 * The merge: a run is a maximal stretch of one contract's rows in one part, already in time order
 * (SPEC §3). The runs not yet exhausted are kept in file order; each instant is one pass over them
 * that takes every row at the instant's timestamp and finds the next instant (the smallest head).
 * Rows of one instant then come in file order, as SPEC §6 asks, and no row is copied or re-sorted:
 * a pass costs one comparison per live run, which on tick data (most contracts tick every second)
 * is a fraction of the rows it takes.
 *
 * Every name defined here begins with tpc_ / TPC_, except the tp_* calls the ABI gives kernels.
 */

#include <string.h>

/* Fields of a set's block in num (its totals, parameters, state and contracts' state). */
typedef struct {
  long long *ctl;
  double *num;
  void **P;
  long long set_block;
  long long closes_now; /* legs the current set has closed in this instant (the log has room for MAX_LEGS) */
} tpc_drv;

static double *tpc_set(tpc_drv *d, long long k) { return d->num + TPC_NUM_SIZE + k * d->set_block; }

/* The stored (or declared) type codes, as TPD_TYPE_CODE gives them: 1 f64, 2 i64, 3 i32, 4 f32, 5 i16. */
static int tpc_size(int code) { return code == 1 || code == 2 ? 8 : code == 3 || code == 4 ? 4 : 2; }

/* Copies value si of src (stored as stype) into slot di of dst (declared as dtype). */
static void tpc_copy(void *dst, long long di, int dtype, const void *src, long long si, int stype) {
  if (dtype == stype) {
    int n = tpc_size(dtype);
    if (n == 8) ((long long *)dst)[di] = ((const long long *)src)[si];
    else if (n == 4) ((int *)dst)[di] = ((const int *)src)[si];
    else ((short *)dst)[di] = ((const short *)src)[si];
    return;
  }
  /* The host allows only conversions that keep every value: integers widen, anything goes to f64. */
  if (dtype == 1) {
    double v = stype == 2 ? (double)((const long long *)src)[si] : stype == 3 ? (double)((const int *)src)[si]
             : stype == 4 ? (double)((const float *)src)[si] : (double)((const short *)src)[si];
    ((double *)dst)[di] = v;
    return;
  }
  long long v = stype == 3 ? (long long)((const int *)src)[si] : (long long)((const short *)src)[si];
  if (dtype == 2) ((long long *)dst)[di] = v;
  else ((int *)dst)[di] = (int)v;
}

static void tpc_copy_bit(unsigned char *dst, long long di, const unsigned char *bits, long long si) {
  dst[di] = (unsigned char)(!bits || ((bits[si >> 3] >> (si & 7)) & 1));
}

/* Records why the run stops (the first error of a call wins); returns -1 for the tp_* call. */
static int tpc_fail(tp_chain_t *c, int err, int contract, int position, int leg, int row, double lots) {
  tpc_drv *d = (tpc_drv *)c->driver;
  if (d->ctl[TPC_CTL_ERROR] == TPC_ERR_NONE) {
    d->ctl[TPC_CTL_ERROR] = err;
    d->ctl[TPC_CTL_ERR_SET] = c->set;
    d->ctl[TPC_CTL_ERR_CONTRACT] = contract;
    d->ctl[TPC_CTL_ERR_POSITION] = position;
    d->ctl[TPC_CTL_ERR_LEG] = leg;
    d->ctl[TPC_CTL_ERR_ROW] = row;
    d->ctl[TPC_CTL_ERR_TS] = c->ts;
    d->num[TPC_NUM_ERR_LOTS] = lots;
  }
  return -1;
}

static int tpc_failed(const tp_chain_t *c) { return ((tpc_drv *)c->driver)->ctl[TPC_CTL_ERROR] != TPC_ERR_NONE; }

double tp_price(const tp_chain_t *c, int contract) {
  if (contract < 0 || contract >= c->ncontracts || !c->has[contract]) return 0.0 / 0.0;
  return c->price[contract];
}

/* The first contract at or after (expiry, opt, strike) in the table's order. */
static int tpc_lower_bound(const tp_chain_t *c, int expiry, int opt, double strike) {
  int lo = 0, hi = c->ncontracts;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    int less = c->expiry[mid] < expiry || (c->expiry[mid] == expiry && (c->opt[mid] < opt || (c->opt[mid] == opt && c->strike[mid] < strike)));
    if (less) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int tp_find(const tp_chain_t *c, int expiry, int opt, double strike) {
  int i = tpc_lower_bound(c, expiry, opt, strike);
  return i < c->ncontracts && c->expiry[i] == expiry && c->opt[i] == opt && c->strike[i] == strike ? i : -1;
}

double tp_atm(const tp_chain_t *c, int expiry) {
  int i = tpc_lower_bound(c, expiry, TP_CE, -1.0 / 0.0), j = tpc_lower_bound(c, expiry, TP_PE, -1.0 / 0.0);
  double best = 0.0 / 0.0, gap = 0.0;
  /* CE and PE strikes of the expiry, both ascending: walk them together. */
  while (i < c->ncontracts && c->expiry[i] == expiry && c->opt[i] == TP_CE && j < c->ncontracts && c->expiry[j] == expiry && c->opt[j] == TP_PE) {
    if (c->strike[i] < c->strike[j]) i++;
    else if (c->strike[j] < c->strike[i]) j++;
    else {
      if (c->has[i] && c->has[j]) {
        double g = c->price[i] - c->price[j];
        if (g < 0) g = -g;
        /* Ascending strikes: a tie keeps the lower one. */
        if (best != best || g < gap) {
          best = c->strike[i];
          gap = g;
        }
      }
      i++;
      j++;
    }
  }
  return best;
}

double tp_strike_step(const tp_chain_t *c, int expiry, int opt, double strike, int steps) {
  int i = tp_find(c, expiry, opt, strike);
  if (i < 0) return 0.0 / 0.0;
  long long k = (long long)i + steps;
  if (k < 0 || k >= c->ncontracts || c->expiry[k] != expiry || c->opt[k] != opt) return 0.0 / 0.0;
  return c->strike[k];
}

double *tp_contract_state(tp_chain_t *c, double *s, int contract) {
  tpc_drv *d = (tpc_drv *)c->driver;
  if (contract < 0 || contract >= c->ncontracts) {
    /* No such contract: the run stops, and the kernel writes meanwhile into scratch of its own. */
    tpc_fail(c, TPC_ERR_NO_CONTRACT, contract, -1, -1, -1, 0);
    return (double *)d->P[TPC_P_SCRATCH];
  }
  return s + d->ctl[TPC_CTL_NSTATE] + (long long)contract * d->ctl[TPC_CTL_NCSTATE];
}

/* The set's position table entry of `position`, or 0 when it has no open leg. */
static double *tpc_position(tpc_drv *d, double *sb, long long set, int position) {
  double *pt = (double *)d->P[TPC_P_POSITIONS] + set * TPC_MAX_LEGS * TPC_POSN_SIZE;
  long long n = (long long)sb[TPC_SET_NPOSITIONS], i;
  for (i = 0; i < n; i++)
    if (pt[i * TPC_POSN_SIZE + TPC_POSN_ID] == position) return pt + i * TPC_POSN_SIZE;
  return 0;
}

/* Appends a closed leg to the log and the set's totals, and removes it from the open legs. */
static void tpc_close_slot(tpc_drv *d, long long set, long long slot, double exit, long long exit_ts) {
  double *sb = tpc_set(d, set);
  double *legs = (double *)d->P[TPC_P_LEGS] + set * TPC_MAX_LEGS * TPC_LEG_SIZE;
  long long *lts = (long long *)d->P[TPC_P_LEG_TS] + set * TPC_MAX_LEGS;
  double *l = legs + slot * TPC_LEG_SIZE;
  double pnl = (exit - l[TPC_LEG_ENTRY]) * l[TPC_LEG_LOTS];
  long long n = d->ctl[TPC_CTL_LOG_COUNT], i;
  double *log = (double *)d->P[TPC_P_LOG] + n * TPC_LOG_SIZE;
  long long *logts = (long long *)d->P[TPC_P_LOG_TS] + n * TPC_LOGTS_SIZE;
  log[TPC_LOG_SET] = (double)set;
  log[TPC_LOG_POSITION] = l[TPC_LEG_POSITION];
  log[TPC_LOG_LEG] = l[TPC_LEG_LEG];
  log[TPC_LOG_CONTRACT] = l[TPC_LEG_CONTRACT];
  log[TPC_LOG_LOTS] = l[TPC_LEG_LOTS];
  log[TPC_LOG_ENTRY] = l[TPC_LEG_ENTRY];
  log[TPC_LOG_EXIT] = exit;
  log[TPC_LOG_PNL] = pnl;
  logts[TPC_LOGTS_ENTRY] = lts[slot];
  logts[TPC_LOGTS_EXIT] = exit_ts;
  d->ctl[TPC_CTL_LOG_COUNT] = n + 1;
  sb[TPC_SET_PNL] += pnl;
  double *pe = tpc_position(d, sb, set, (int)l[TPC_LEG_POSITION]);
  if (pe && --pe[TPC_POSN_OPEN] == 0) {
    /* The position is flat: it leaves the table (closed for good). */
    double *pt = (double *)d->P[TPC_P_POSITIONS] + set * TPC_MAX_LEGS * TPC_POSN_SIZE;
    long long np = (long long)sb[TPC_SET_NPOSITIONS], at = (pe - pt) / TPC_POSN_SIZE;
    for (i = at; i + 1 < np; i++) memcpy(pt + i * TPC_POSN_SIZE, pt + (i + 1) * TPC_POSN_SIZE, sizeof(double) * TPC_POSN_SIZE);
    sb[TPC_SET_NPOSITIONS] = (double)(np - 1);
  }
  /* Open legs stay in opening order. */
  long long nl = (long long)sb[TPC_SET_NLEGS];
  for (i = slot; i + 1 < nl; i++) {
    memcpy(legs + i * TPC_LEG_SIZE, legs + (i + 1) * TPC_LEG_SIZE, sizeof(double) * TPC_LEG_SIZE);
    lts[i] = lts[i + 1];
  }
  sb[TPC_SET_NLEGS] = (double)(nl - 1);
}

static int tpc_open_leg(tp_chain_t *c, int position, int contract, double lots, double fill, int row) {
  tpc_drv *d = (tpc_drv *)c->driver;
  long long set = c->set;
  double *sb = tpc_set(d, set);
  if (tpc_failed(c)) return -1;
  if (!(lots == lots) || lots == 0 || lots - lots != 0) return tpc_fail(c, TPC_ERR_BAD_LOTS, contract, position, -1, row, lots);
  if (!(fill > 0)) return tpc_fail(c, TPC_ERR_NO_PRICE, contract, position, -1, row, lots);
  long long nl = (long long)sb[TPC_SET_NLEGS];
  if (nl >= TPC_MAX_LEGS) return tpc_fail(c, TPC_ERR_TOO_MANY_LEGS, contract, position, -1, row, lots);
  double *pe;
  if (position < 0) {
    long long np = (long long)sb[TPC_SET_NPOSITIONS];
    position = (int)sb[TPC_SET_TRADES];
    sb[TPC_SET_TRADES] += 1;
    pe = (double *)d->P[TPC_P_POSITIONS] + set * TPC_MAX_LEGS * TPC_POSN_SIZE + np * TPC_POSN_SIZE;
    pe[TPC_POSN_ID] = position;
    pe[TPC_POSN_NEXT_LEG] = 0;
    pe[TPC_POSN_OPEN] = 0;
    sb[TPC_SET_NPOSITIONS] = (double)(np + 1);
  } else {
    if (position >= sb[TPC_SET_TRADES]) return tpc_fail(c, TPC_ERR_NO_POSITION, contract, position, -1, row, lots);
    pe = tpc_position(d, sb, set, position);
    if (!pe) return tpc_fail(c, TPC_ERR_CLOSED_POSITION, contract, position, -1, row, lots);
  }
  double *l = (double *)d->P[TPC_P_LEGS] + set * TPC_MAX_LEGS * TPC_LEG_SIZE + nl * TPC_LEG_SIZE;
  l[TPC_LEG_POSITION] = position;
  l[TPC_LEG_LEG] = pe[TPC_POSN_NEXT_LEG];
  l[TPC_LEG_CONTRACT] = contract;
  l[TPC_LEG_LOTS] = lots;
  l[TPC_LEG_ENTRY] = fill;
  ((long long *)d->P[TPC_P_LEG_TS])[set * TPC_MAX_LEGS + nl] = c->ts;
  pe[TPC_POSN_NEXT_LEG] += 1;
  pe[TPC_POSN_OPEN] += 1;
  sb[TPC_SET_NLEGS] = (double)(nl + 1);
  return position;
}

/*
 * The fill price of an order (the one place fills are decided): a buy or a sell of `contract` at the
 * instant, as of its latest valid row (row < 0) or at instant row `row`. --fill last: that row's
 * price. --fill touch (SPEC §7): a buy pays that row's ask (sp0), a sell gets its bid (bp0), where the
 * quote is non-null and > 0; else the price, counted in the set's FILLS_AT_LAST. 0: no price at all.
 * The quotes are read here, at the fill, from the row itself (its part's bp0/sp0): the merge only
 * remembers where each contract's latest valid row and each instant row are.
 */
static double tpc_fill_price(tpc_drv *d, long long set, int contract, int row, int buy) {
  void **P = d->P;
  double price;
  long long i = row >= 0 ? row : contract;
  if (row >= 0) {
    if (!((const unsigned char *)P[TPC_P_INST_VALID])[row]) return 0.0;
    price = ((const double *)P[TPC_P_INST_PRICE])[row];
  } else {
    if (!((const unsigned char *)P[TPC_P_HAS])[contract]) return 0.0;
    price = ((const double *)P[TPC_P_ASOF_PRICE])[contract];
  }
  if (d->ctl[TPC_CTL_TOUCH]) {
    long long part = ((const int *)P[row >= 0 ? TPC_P_INST_PART : TPC_P_ASOF_PART])[i];
    long long at = ((const long long *)P[row >= 0 ? TPC_P_INST_ROW : TPC_P_ASOF_ROW])[i];
    void **pp = (void **)P[TPC_P_PARTS] + part * (TPC_PART_COLS + 2 * d->ctl[TPC_CTL_NCOLS]);
    const double *q = (const double *)pp[buy ? TPC_PART_ASK : TPC_PART_BID];
    const unsigned char *ok = (const unsigned char *)pp[buy ? TPC_PART_ASK_OK : TPC_PART_BID_OK];
    if (q[at] > 0 && (!ok || ((ok[at >> 3] >> (at & 7)) & 1))) return q[at];
    tpc_set(d, set)[TPC_SET_FILLS_AT_LAST] += 1;
  }
  return price;
}

int tp_open(tp_chain_t *c, int position, int contract, double lots) {
  if (contract < 0 || contract >= c->ncontracts) return tpc_fail(c, TPC_ERR_NO_CONTRACT, contract, position, -1, -1, lots);
  return tpc_open_leg(c, position, contract, lots, tpc_fill_price((tpc_drv *)c->driver, c->set, contract, -1, lots > 0), -1);
}

int tp_open_at(tp_chain_t *c, int position, int row, double lots) {
  if (row < 0 || row >= c->nrows) return tpc_fail(c, TPC_ERR_BAD_ROW, -1, position, -1, row, lots);
  if (!c->row_valid[row]) return tpc_fail(c, TPC_ERR_NO_PRICE, c->row_contract[row], position, -1, row, lots);
  int contract = c->row_contract[row];
  return tpc_open_leg(c, position, contract, lots, tpc_fill_price((tpc_drv *)c->driver, c->set, contract, row, lots > 0), row);
}

/* Closes the set's open leg in `slot` at the instant (row < 0: the as-of price). */
static int tpc_close_at(tp_chain_t *c, long long slot, int row) {
  tpc_drv *d = (tpc_drv *)c->driver;
  double *l = (double *)d->P[TPC_P_LEGS] + c->set * TPC_MAX_LEGS * TPC_LEG_SIZE + slot * TPC_LEG_SIZE;
  int contract = (int)l[TPC_LEG_CONTRACT], position = (int)l[TPC_LEG_POSITION], leg = (int)l[TPC_LEG_LEG];
  if (d->closes_now >= TPC_MAX_LEGS) return tpc_fail(c, TPC_ERR_TOO_MANY_CLOSES, contract, position, leg, row, 0);
  /* A long leg sells to close, a short one buys back. */
  double fill = tpc_fill_price(d, c->set, contract, row, l[TPC_LEG_LOTS] < 0);
  if (!(fill > 0)) return tpc_fail(c, TPC_ERR_NO_PRICE, contract, position, leg, row, 0);
  d->closes_now++;
  tpc_close_slot(d, c->set, slot, fill, c->ts);
  return 1;
}

/* The slot of the set's open leg (position, leg), or -1. */
static long long tpc_leg_slot(const tp_chain_t *c, int position, int leg) {
  tpc_drv *d = (tpc_drv *)c->driver;
  double *sb = tpc_set(d, c->set);
  const double *legs = (const double *)d->P[TPC_P_LEGS] + c->set * TPC_MAX_LEGS * TPC_LEG_SIZE;
  long long n = (long long)sb[TPC_SET_NLEGS], i;
  for (i = 0; i < n; i++)
    if (legs[i * TPC_LEG_SIZE + TPC_LEG_POSITION] == position && (leg < 0 || legs[i * TPC_LEG_SIZE + TPC_LEG_LEG] == leg)) return i;
  return -1;
}

int tp_close(tp_chain_t *c, int position) {
  tpc_drv *d = (tpc_drv *)c->driver;
  if (tpc_failed(c)) return -1;
  if (position < 0 || position >= tpc_set(d, c->set)[TPC_SET_TRADES]) return tpc_fail(c, TPC_ERR_NO_POSITION, -1, position, -1, -1, 0);
  int closed = 0;
  long long slot;
  while ((slot = tpc_leg_slot(c, position, -1)) >= 0) {
    if (tpc_close_at(c, slot, -1) < 0) return -1;
    closed++;
  }
  return closed;
}

int tp_close_leg(tp_chain_t *c, int position, int leg) {
  if (tpc_failed(c)) return -1;
  long long slot = leg < 0 ? -1 : tpc_leg_slot(c, position, leg);
  if (slot < 0) return tpc_fail(c, TPC_ERR_NO_LEG, -1, position, leg, -1, 0);
  return tpc_close_at(c, slot, -1);
}

int tp_close_leg_at(tp_chain_t *c, int position, int leg, int row) {
  if (tpc_failed(c)) return -1;
  long long slot = leg < 0 ? -1 : tpc_leg_slot(c, position, leg);
  if (slot < 0) return tpc_fail(c, TPC_ERR_NO_LEG, -1, position, leg, row, 0);
  if (row < 0 || row >= c->nrows) return tpc_fail(c, TPC_ERR_BAD_ROW, -1, position, leg, row, 0);
  tpc_drv *d = (tpc_drv *)c->driver;
  int contract = (int)((const double *)d->P[TPC_P_LEGS])[c->set * TPC_MAX_LEGS * TPC_LEG_SIZE + slot * TPC_LEG_SIZE + TPC_LEG_CONTRACT];
  if (c->row_contract[row] != contract) return tpc_fail(c, TPC_ERR_ROW_CONTRACT, contract, position, leg, row, 0);
  return tpc_close_at(c, slot, row);
}

/* Σ lots × (entry price, or as-of price) over the position's open legs, in opening order. */
static double tpc_value(const tp_chain_t *c, int position, int at_entry) {
  tpc_drv *d = (tpc_drv *)c->driver;
  double *sb = tpc_set(d, c->set);
  const double *legs = (const double *)d->P[TPC_P_LEGS] + c->set * TPC_MAX_LEGS * TPC_LEG_SIZE;
  long long n = (long long)sb[TPC_SET_NLEGS], i;
  double v = 0;
  for (i = 0; i < n; i++) {
    const double *l = legs + i * TPC_LEG_SIZE;
    if (l[TPC_LEG_POSITION] != position) continue;
    v += l[TPC_LEG_LOTS] * (at_entry ? l[TPC_LEG_ENTRY] : c->price[(int)l[TPC_LEG_CONTRACT]]);
  }
  return v;
}

double tp_entry_value(const tp_chain_t *c, int position) { return tpc_value(c, position, 1); }
double tp_value(const tp_chain_t *c, int position) { return tpc_value(c, position, 0); }

int tp_open_legs(const tp_chain_t *c, int position) {
  tpc_drv *d = (tpc_drv *)c->driver;
  double *pe = tpc_position(d, tpc_set(d, c->set), c->set, position);
  return pe ? (int)pe[TPC_POSN_OPEN] : 0;
}

/* The chain view of the current instant (everything but ts, minute and nrows, which the caller sets). */
static void tpc_view(tp_chain_t *c, tpc_drv *d) {
  long long *ctl = d->ctl;
  void **P = d->P;
  c->ncontracts = (int)ctl[TPC_CTL_NCONTRACTS];
  c->expiry = (const int *)P[TPC_P_CONTRACT_EXPIRY];
  c->opt = (const int *)P[TPC_P_CONTRACT_OPT];
  c->strike = (const double *)P[TPC_P_CONTRACT_STRIKE];
  c->nexpiries = (int)ctl[TPC_CTL_NEXPIRIES];
  c->expiries = (const int *)P[TPC_P_EXPIRIES];
  c->open_ns = ctl[TPC_CTL_OPEN_NS];
  c->row_contract = (const int *)P[TPC_P_INST_CONTRACT];
  c->row_valid = (const unsigned char *)P[TPC_P_INST_VALID];
  c->has = (const unsigned char *)P[TPC_P_HAS];
  c->price = (const double *)P[TPC_P_ASOF_PRICE];
  c->asof_ts = (const long long *)P[TPC_P_ASOF_TS];
  c->ncol = (int)ctl[TPC_CTL_NCOLS];
  c->col_type = (const unsigned char *)P[TPC_P_COL_TYPES];
  c->row_col = (const void *const *)P[TPC_P_INST_COLS];
  c->row_ok = (const unsigned char *const *)P[TPC_P_INST_OK];
  c->asof_col = (const void *const *)P[TPC_P_ASOF_COLS];
  c->asof_ok = (const unsigned char *const *)P[TPC_P_ASOF_OK];
  c->zeros = P[TPC_P_ZEROS];
  c->bad_column = -1;
  c->bad_type = 0;
  c->driver = d;
}

/* After a kernel call: a refused column stops the run (its error wins over an order's). */
static int tpc_check(tp_chain_t *c, tpc_drv *d) {
  if (c->bad_type) {
    d->ctl[TPC_CTL_ERROR] = TPC_ERR_TYPE;
    d->ctl[TPC_CTL_BAD_COLUMN] = c->bad_column;
    d->ctl[TPC_CTL_ERR_SET] = c->set;
    d->ctl[TPC_CTL_ERR_TS] = c->ts;
    d->P[TPC_P_BAD_TYPE] = (void *)c->bad_type;
    return 0;
  }
  return !tpc_failed(c);
}

/* Calls f for every set (start, instant or end); 0 when the run must stop. */
static int tpc_each_set(tp_chain_t *c, tpc_drv *d, void (*f)(const double *, double *, tp_chain_t *)) {
  long long nsets = d->ctl[TPC_CTL_NSETS], np = d->ctl[TPC_CTL_NPARAMS], k;
  for (k = 0; k < nsets; k++) {
    double *sb = tpc_set(d, k);
    c->set = k;
    d->closes_now = 0;
    f(sb + TPC_SET_SIZE, sb + TPC_SET_SIZE + np, c);
    if (!tpc_check(c, d)) return 0;
  }
  return 1;
}

/*
 * A run the merge has not exhausted: its part's columns, where it is (pos) and where it ends.
 * Kept by the host (an array of tpc_active_bytes() each), in file order.
 */
/* Rows ahead of a run's position whose cache lines the merge loads early. */
#define TPC_AHEAD 24
/* A hint to fetch the cache line at address x (TinyCC has no builtin: its assembler has the instruction). */
#if !defined(__TINYC__)
#define TPC_PREFETCH(x) __builtin_prefetch(x)
#elif defined(__x86_64__)
#define TPC_PREFETCH(x) __asm__ volatile("prefetcht0 (%0)" : : "r"(x))
#else
#define TPC_PREFETCH(x) ((void)(x))
#endif

/* The head of a run with no row left: after every instant. */
#define TPC_NO_TS 0x7fffffffffffffffLL

typedef struct {
  const long long *ts;
  const unsigned char *ts_ok;
  const double *price;
  const unsigned char *price_ok;
  void **part;
  long long pos, end;
  long long contract;
  int part_index;
} tpc_active;

int tpc_active_bytes(void) { return (int)sizeof(tpc_active); }

/* Row p of a run, or the first after it whose timestamp is not null (null ones take no part). */
static long long tpc_skip_null_ts(const unsigned char *ok, long long p, long long end) {
  if (!ok) return p;
  while (p < end && !((ok[p >> 3] >> (p & 7)) & 1)) p++;
  return p;
}

/* Merge modes (CTL_MERGE): a pass over every live run's head per instant, or a heap of them. */
enum { TPC_MERGE_AUTO = 0, TPC_MERGE_SCAN = 1, TPC_MERGE_HEAP = 2 };

/* Run a comes before run b: by head, then by place in the file (rows of one instant in file order). */
static int tpc_before(const long long *head, int a, int b) { return head[a] < head[b] || (head[a] == head[b] && a < b); }

static void tpc_heap_push(int *heap, long long *n, const long long *head, int a) {
  long long i = (*n)++;
  while (i > 0) {
    long long up = (i - 1) / 2;
    if (!tpc_before(head, a, heap[up])) break;
    heap[i] = heap[up];
    i = up;
  }
  heap[i] = a;
}

static int tpc_heap_pop(int *heap, long long *n, const long long *head) {
  int top = heap[0], last = heap[--(*n)];
  long long i = 0, m = *n;
  for (;;) {
    long long l = 2 * i + 1, r = l + 1, best = i;
    int bv = last;
    if (l < m && tpc_before(head, heap[l], bv)) {
      best = l;
      bv = heap[l];
    }
    if (r < m && tpc_before(head, heap[r], bv)) best = r;
    if (best == i) break;
    heap[i] = heap[best];
    i = best;
  }
  if (m > 0) heap[i] = last;
  return top;
}

/*
 * Runs the stream from where the last call stopped; returns TPC_ST_DONE (every leg closed),
 * TPC_ST_DRAIN (the trade log must be drained), TPC_ST_GROW (the next instant needs CTL_NEED rows of
 * instant buffers) or TPC_ST_ERROR (CTL_ERROR says why).
 */
long long tpc_run(long long *ctl, double *num, void **P) {
  tpc_drv d;
  tp_chain_t c;
  long long nsets = ctl[TPC_CTL_NSETS], ncols = ctl[TPC_CTL_NCOLS], nruns = ctl[TPC_CTL_NRUNS];
  long long part_size = TPC_PART_COLS + 2 * ncols, k, a, i;
  tpc_active *act = (tpc_active *)P[TPC_P_ACTIVE];
  void **parts = (void **)P[TPC_P_PARTS];
  const unsigned char *src = (const unsigned char *)P[TPC_P_COL_SRC];
  const unsigned char *dst = (const unsigned char *)P[TPC_P_COL_TYPES];
  long long *head = (long long *)P[TPC_P_HEAD];
  const int touch = ctl[TPC_CTL_TOUCH] != 0;
  int *inst_part = (int *)P[TPC_P_INST_PART], *asof_part = (int *)P[TPC_P_ASOF_PART];
  long long *inst_row = (long long *)P[TPC_P_INST_ROW], *asof_row = (long long *)P[TPC_P_ASOF_ROW];
  int *due = (int *)P[TPC_P_DUE];
  int *heap = (int *)P[TPC_P_HEAP];
  int *inst_contract = (int *)P[TPC_P_INST_CONTRACT];
  unsigned char *inst_valid = (unsigned char *)P[TPC_P_INST_VALID];
  double *inst_price = (double *)P[TPC_P_INST_PRICE];
  void **inst_cols = (void **)P[TPC_P_INST_COLS];
  unsigned char **inst_ok = (unsigned char **)P[TPC_P_INST_OK];
  unsigned char *has = (unsigned char *)P[TPC_P_HAS];
  double *asof_price = (double *)P[TPC_P_ASOF_PRICE];
  long long *asof_ts = (long long *)P[TPC_P_ASOF_TS];
  void **asof_cols = (void **)P[TPC_P_ASOF_COLS];
  unsigned char **asof_ok = (unsigned char **)P[TPC_P_ASOF_OK];
  d.ctl = ctl;
  d.num = num;
  d.P = P;
  d.set_block = TPC_SET_SIZE + ctl[TPC_CTL_NPARAMS] + ctl[TPC_CTL_NSTATE] + ctl[TPC_CTL_NCONTRACTS] * ctl[TPC_CTL_NCSTATE];
  d.closes_now = 0;
  tpc_view(&c, &d);
  c.ts = ctl[TPC_CTL_LAST_TS];
  c.minute = ctl[TPC_CTL_STAGE] == 0 ? 0 : (double)(c.ts - c.open_ns) / 6e10;
  c.nrows = 0;
  c.set = 0;
  if (ctl[TPC_CTL_STAGE] == 2) return TPC_ST_DONE;
  if (ctl[TPC_CTL_STAGE] == 3) c.ts = ctl[TPC_CTL_NEXT_TS];

  if (ctl[TPC_CTL_STAGE] == 0) {
    const int *run_part = (const int *)P[TPC_P_RUN_PART];
    const long long *run_start = (const long long *)P[TPC_P_RUN_POS];
    const long long *run_end = (const long long *)P[TPC_P_RUN_END];
    const int *run_contract = (const int *)P[TPC_P_RUN_CONTRACT];
    long long first = TPC_NO_TS, n = 0;
    for (a = 0; a < nruns; a++) {
      void **part = parts + (long long)run_part[a] * part_size;
      tpc_active *x = act + n;
      x->ts = (const long long *)part[TPC_PART_TS];
      x->ts_ok = (const unsigned char *)part[TPC_PART_TS_OK];
      x->price = (const double *)part[TPC_PART_PRICE];
      x->price_ok = (const unsigned char *)part[TPC_PART_PRICE_OK];
      x->part = part;
      x->part_index = run_part[a];
      x->end = run_end[a];
      x->contract = run_contract[a];
      x->pos = tpc_skip_null_ts(x->ts_ok, run_start[a], x->end);
      if (x->pos >= x->end) continue;
      head[n] = x->ts[x->pos];
      if (head[n] < first) first = head[n];
      n++;
    }
    ctl[TPC_CTL_NACTIVE] = n;
    ctl[TPC_CTL_NEXT_TS] = first;
    ctl[TPC_CTL_STAGE] = 1;
    if (!tpc_each_set(&c, &d, tickpack_chain_start)) return TPC_ST_ERROR;
  }

  while ((ctl[TPC_CTL_MERGE] == TPC_MERGE_HEAP ? ctl[TPC_CTL_HEAP_N] : ctl[TPC_CTL_NACTIVE]) > 0) {
    long long t = ctl[TPC_CTL_NEXT_TS], nact = ctl[TPC_CTL_NACTIVE], cap = ctl[TPC_CTL_INST_CAP];
    long long n = 0, next = TPC_NO_TS, ended = 0, nvalid = 0, nd = 0, j = 0, heap_n = ctl[TPC_CTL_HEAP_N];
    int heaped = ctl[TPC_CTL_MERGE] == TPC_MERGE_HEAP;
    if (ctl[TPC_CTL_STAGE] == 3) {
      /* An instant stopped for room (TPC_ST_GROW) goes on where it stopped, in bigger buffers. */
      j = ctl[TPC_CTL_PASS_RUN];
      nd = ctl[TPC_CTL_PASS_DUE];
      n = ctl[TPC_CTL_PASS_ROWS];
      next = ctl[TPC_CTL_PASS_NEXT];
      ended = ctl[TPC_CTL_PASS_ENDED];
      nvalid = ctl[TPC_CTL_PASS_VALID];
      ctl[TPC_CTL_STAGE] = 1;
    } else {
      /* Room in the log for every set closing MAX_LEGS legs in this instant (more is an error). */
      if (ctl[TPC_CTL_LOG_COUNT] + nsets * TPC_MAX_LEGS > ctl[TPC_CTL_LOG_CAP]) return TPC_ST_DRAIN;
      if (heaped) {
        /* Popped by (head, place): the runs at t come out in file order. */
        while (heap_n > 0 && head[heap[0]] == t) due[nd++] = tpc_heap_pop(heap, &heap_n, head);
        ctl[TPC_CTL_HEAP_N] = heap_n;
      } else {
        /*
         * The runs whose head is at t, in file order, and the smallest other head: one pass over the
         * heads (one contiguous array) without a branch on them, which would be mispredicted about
         * as often as a run ticks (it cost ~40% of a run, measured).
         */
        for (a = 0; a < nact; a++) {
          long long h = head[a], at = h == t;
          long long m = -(long long)((h < next) & !at);
          due[nd] = (int)a;
          nd += at;
          next = (h & m) | (next & ~m);
        }
        ctl[TPC_CTL_SCANNED] += nact;
        ctl[TPC_CTL_DUE] += nd;
      }
    }
    /* Each due run gives its rows at t, each updating its contract's as-of state as it comes. */
    for (; j < nd; j++) {
      a = due[j];
      tpc_active *x = act + a;
      const long long *ts = x->ts;
      const double *price = x->price;
      const unsigned char *pok = x->price_ok;
      long long p = x->pos, end = x->end;
      int cn = (int)x->contract;
      do {
        if (n == cap) {
          x->pos = p;
          ctl[TPC_CTL_STAGE] = 3;
          ctl[TPC_CTL_PASS_RUN] = j;
          ctl[TPC_CTL_PASS_DUE] = nd;
          ctl[TPC_CTL_PASS_ROWS] = n;
          ctl[TPC_CTL_PASS_NEXT] = next;
          ctl[TPC_CTL_PASS_ENDED] = ended;
          ctl[TPC_CTL_PASS_VALID] = nvalid;
          ctl[TPC_CTL_NEED] = 2 * cap;
          return TPC_ST_GROW;
        }
        double px = price[p];
        int valid = px > 0 && (!pok || ((pok[p >> 3] >> (p & 7)) & 1));
        inst_contract[n] = cn;
        inst_valid[n] = (unsigned char)valid;
        inst_price[n] = px;
        if (touch) {
          inst_part[n] = x->part_index;
          inst_row[n] = p;
          if (valid) {
            asof_part[cn] = x->part_index;
            asof_row[cn] = p;
          }
        }
        if (ncols) {
          void **part = x->part;
          for (k = 0; k < ncols; k++) {
            const void *vals = part[TPC_PART_COLS + 2 * k];
            const unsigned char *bits = (const unsigned char *)part[TPC_PART_COLS + 2 * k + 1];
            tpc_copy(inst_cols[k], n, dst[k], vals, p, src[k]);
            tpc_copy_bit(inst_ok[k], n, bits, p);
            if (valid) {
              tpc_copy(asof_cols[k], cn, dst[k], vals, p, src[k]);
              tpc_copy_bit(asof_ok[k], cn, bits, p);
            }
          }
        }
        if (valid) {
          nvalid++;
          has[cn] = 1;
          asof_price[cn] = px;
          asof_ts[cn] = t;
        }
        n++;
        p++;
        if (x->ts_ok) p = tpc_skip_null_ts(x->ts_ok, p, end);
      } while (p < end && ts[p] == t);
      x->pos = p;
      if (p >= end) {
        head[a] = TPC_NO_TS;
        ended++;
        continue;
      }
      head[a] = ts[p];
      if (ts[p] < next) next = ts[p];
      /* The rows 3 lines ahead, fetched now: each run is its own slow stream, which no hardware
         prefetcher follows (a miss at every 8th row of each cost ~40% of a run, measured). */
      if (p + TPC_AHEAD < end) {
        TPC_PREFETCH(ts + p + TPC_AHEAD);
        TPC_PREFETCH(price + p + TPC_AHEAD);
      }
    }
    if (heaped) {
      /* The due runs go back by their new heads; the ended ones leave (the heap names runs by place: no compaction). */
      for (j = 0; j < nd; j++)
        if (head[due[j]] != TPC_NO_TS) tpc_heap_push(heap, &heap_n, head, due[j]);
      ctl[TPC_CTL_HEAP_N] = heap_n;
      next = heap_n > 0 ? head[heap[0]] : TPC_NO_TS;
    } else if (ended) {
      long long kept = 0;
      for (a = 0; a < nact; a++)
        if (head[a] != TPC_NO_TS) {
          act[kept] = act[a];
          head[kept++] = head[a];
        }
      ctl[TPC_CTL_NACTIVE] = kept;
    }
    ctl[TPC_CTL_NEXT_TS] = next;
    /*
     * Sparse instants (ticks rarely share a timestamp: a pass looks at many more heads than it finds
     * due) switch the rest of the partition to the heap: log(runs) a row instead of runs an instant.
     */
    if (!heaped && ctl[TPC_CTL_MERGE_ASK] != TPC_MERGE_SCAN && ctl[TPC_CTL_NACTIVE] > 0 &&
        (ctl[TPC_CTL_MERGE_ASK] == TPC_MERGE_HEAP ||
         (ctl[TPC_CTL_INSTANTS] >= 256 && ctl[TPC_CTL_NACTIVE] >= 32 && ctl[TPC_CTL_SCANNED] > 16 * ctl[TPC_CTL_DUE]))) {
      heap_n = 0;
      for (a = 0; a < ctl[TPC_CTL_NACTIVE]; a++) tpc_heap_push(heap, &heap_n, head, (int)a);
      ctl[TPC_CTL_HEAP_N] = heap_n;
      ctl[TPC_CTL_MERGE] = TPC_MERGE_HEAP;
    }
    ctl[TPC_CTL_VALID_ROWS] += nvalid;
    ctl[TPC_CTL_INSTANTS] += 1;
    ctl[TPC_CTL_LAST_TS] = t;
    ctl[TPC_CTL_LAST_ROWS] = n;
    c.ts = t;
    c.minute = (double)(t - c.open_ns) / 6e10;
    c.nrows = (int)n;
    if (!tpc_each_set(&c, &d, tickpack_chain_instant)) return TPC_ST_ERROR;
  }

  /* The end, set by set: the kernel's last word, then every leg still open closes at its contract's
     last valid price, at that row's time (or the leg's entry, when the contract had no valid row after it). */
  if (ctl[TPC_CTL_LOG_COUNT] + 2 * nsets * TPC_MAX_LEGS > ctl[TPC_CTL_LOG_CAP]) return TPC_ST_DRAIN;
  /* c still holds the last instant (tickpack_chain.h): its rows are in the instant buffers. */
  c.nrows = (int)ctl[TPC_CTL_LAST_ROWS];
  for (k = 0; k < nsets; k++) {
    double *sb = tpc_set(&d, k);
    const double *legs = (const double *)P[TPC_P_LEGS] + k * TPC_MAX_LEGS * TPC_LEG_SIZE;
    const long long *lts = (const long long *)P[TPC_P_LEG_TS] + k * TPC_MAX_LEGS;
    c.set = k;
    d.closes_now = 0;
    tickpack_chain_end(sb + TPC_SET_SIZE, sb + TPC_SET_SIZE + ctl[TPC_CTL_NPARAMS], &c);
    if (!tpc_check(&c, &d)) return TPC_ST_ERROR;
    while (sb[TPC_SET_NLEGS] > 0) {
      int cn = (int)legs[TPC_LEG_CONTRACT];
      tpc_close_slot(&d, k, 0, tpc_fill_price(&d, k, cn, -1, legs[TPC_LEG_LOTS] < 0), asof_ts[cn] > lts[0] ? asof_ts[cn] : lts[0]);
    }
  }
  ctl[TPC_CTL_STAGE] = 2;
  return TPC_ST_DONE;
}
