/*
 * tickpack chain kernel ABI, version 1 (see docs/kernels.md, "Chain kernels"; SPEC §6).
 *
 * A chain kernel sees one partition (an IST day × an underlying) as one stream over all of its
 * contracts in time order: the driver (kernel/chain-driver.c) merges the partition's contract runs
 * by timestamp and calls tickpack_chain_instant once per instant (each distinct timestamp), for every
 * parameter set, after that instant's rows have updated every contract's as-of state. The kernel
 * opens and closes positions through the tp_* calls below; the driver fills them, keeps the
 * positions per set, closes what is still open at the end of the partition and reports every leg.
 * Parameters and state are arrays of doubles the host owns; the kernel keeps nothing in globals.
 *
 * A file that includes this header is a chain kernel; one that includes tickpack.h is a
 * per-contract kernel (ABI 2). Both may be passed to bench --kernel.
 */
#ifndef TICKPACK_CHAIN_H
#define TICKPACK_CHAIN_H

#define TICKPACK_CHAIN_ABI 1

/* opt_type of a contract (lib/packed/opt-type.ts): anything but CE and PE is TP_OTHER. */
enum { TP_CE = 0, TP_PE = 1, TP_OTHER = 2 };

typedef struct tp_chain tp_chain_t;

struct tp_chain {
  /* The partition's contracts, sorted by (expiry, opt_type, strike) as the file is: contract c has
     expiry[c] (days since 1970-01-01), opt[c] (TP_CE, TP_PE, TP_OTHER) and strike[c]. Only contracts
     the run selects (bench's filters) are in the table. */
  int ncontracts;
  const int *expiry;
  const int *opt;
  const double *strike;
  /* The partition's distinct expiries, nearest first. */
  int nexpiries;
  const int *expiries;
  /* 09:15:00 IST of the partition's day, epoch ns. */
  long long open_ns;

  /* The instant: epoch ns, and minutes since 09:15 IST ((ts - open_ns) / 60e9; negative before). */
  long long ts;
  double minute;
  /* The instant's rows, in stream order: row i is of contract row_contract[i]; row_valid[i] when its
     price is non-null and > 0. Declared column k of row i: TP_ROW(c, k, T)[i], non-null when
     TP_ROW_OK(c, k)[i]. */
  int nrows;
  const int *row_contract;
  const unsigned char *row_valid;

  /* As of the instant, per contract: has[c] once contract c has had a valid row; then price[c] and
     asof_ts[c] are those of its latest valid row, and TP_ASOF(c, k, T)[c] its declared column k
     (non-null when TP_ASOF_OK(c, k)[c]). */
  const unsigned char *has;
  const double *price;
  const long long *asof_ts;

  /* Declared columns (tickpack_columns), their types (TPD_TYPE_CODE codes) and values. */
  int ncol;
  const unsigned char *col_type;
  const void *const *row_col;
  const unsigned char *const *row_ok;
  const void *const *asof_col;
  const unsigned char *const *asof_ok;
  /* The driver's, for the tp_* calls and the type checks below: do not touch. */
  const void *zeros;
  int bad_column;
  const char *bad_type;
  void *driver;
  long long set;
};

/*
 * Column k as T, checked once per call: when k is not a declared column or T is not its declared C
 * type, a pointer to zeros, and the run stops with an error naming the column (bench exits 2).
 */
static inline const void *tp_chain_column(tp_chain_t *c, const void *const *cols, int k, int code, const char *type) {
  if (k >= 0 && k < c->ncol && code != 0 && c->col_type[k] == code) return cols[k];
  if (!c->bad_type) {
    c->bad_column = k;
    c->bad_type = type;
  }
  return c->zeros;
}
static inline const unsigned char *tp_chain_ok(tp_chain_t *c, const unsigned char *const *oks, int k) {
  if (k >= 0 && k < c->ncol) return oks[k];
  if (!c->bad_type) {
    c->bad_column = k;
    c->bad_type = "validity";
  }
  return (const unsigned char *)c->zeros;
}
/* The instant's rows' column k (index by instant row), and whether each is non-null. */
#define TP_ROW(c, k, T) ((const T *)tp_chain_column((c), (c)->row_col, (k), TPD_TYPE_CODE(T), #T))
#define TP_ROW_OK(c, k) tp_chain_ok((c), (c)->row_ok, (k))
/* Every contract's as-of value of column k (index by contract), and whether each is non-null. */
#define TP_ASOF(c, k, T) ((const T *)tp_chain_column((c), (c)->asof_col, (k), TPD_TYPE_CODE(T), #T))
#define TP_ASOF_OK(c, k) tp_chain_ok((c), (c)->asof_ok, (k))

/*
 * Helpers (defined by the driver).
 */
/* Contract c's as-of price, or NaN before its first valid row (or when c is no contract). */
double tp_price(const tp_chain_t *c, int contract);
/* The contract (expiry, opt, strike), or -1 when the partition (as selected) has none. */
int tp_find(const tp_chain_t *c, int expiry, int opt, double strike);
/* The at-the-money strike of an expiry at the instant: of the strikes whose CE and PE both have an
   as-of price, the one with the smallest |CE − PE|, ties to the lower strike (SPEC §6.1 step 5);
   NaN when there is none. */
double tp_atm(const tp_chain_t *c, int expiry);
/* The strike `steps` listed strikes above (steps > 0) or below (< 0) `strike` among expiry's
   contracts of type opt, or NaN past the end of the list (or when strike is not listed). */
double tp_strike_step(const tp_chain_t *c, int expiry, int opt, double strike, int steps);
/* This set's scratch of doubles per contract (tickpack_contract_state_size of them), zero at the partition's start. */
double *tp_contract_state(tp_chain_t *c, double *s, int contract);

/*
 * Orders. A leg is a signed quantity of one contract in lots (> 0 long, < 0 short) inside a
 * position; a position counts as one trade. Fills are the driver's: at the instant, at the
 * contract's as-of price (the *_at forms: at instant row `row`'s own price, on its contract); with
 * bench --fill touch at that row's ask for a buy and bid for a sell, where quoted (SPEC §7).
 * Every leg is logged when it closes, with its position, leg number, side and quantity.
 * A bad order (no such contract, no price yet, a quantity of 0 or not finite, an unknown or closed
 * position, more than 64 open legs in a set) returns -1 and stops the run: bench exits 1 naming
 * the kernel and the instant.
 */
/* Opens a leg in `position` (< 0: a new position); returns the position, or -1. */
int tp_open(tp_chain_t *c, int position, int contract, double lots);
int tp_open_at(tp_chain_t *c, int position, int row, double lots);
/* Closes every open leg of the position; returns how many it closed (0: none open), or -1. */
int tp_close(tp_chain_t *c, int position);
/* Closes leg `leg` (numbered 0, 1, … in the order the position opened them); returns 1, or -1. */
int tp_close_leg(tp_chain_t *c, int position, int leg);
int tp_close_leg_at(tp_chain_t *c, int position, int leg, int row);
/* Open legs of the position (0 once closed, or for an unknown one). */
int tp_open_legs(const tp_chain_t *c, int position);
/* Σ lots × price over the position's open legs: at entry (its fills) and now (as-of prices).
   A short straddle's premium received is −tp_entry_value, its cost to buy back now −tp_value. */
double tp_entry_value(const tp_chain_t *c, int position);
double tp_value(const tp_chain_t *c, int position);

/* The kernel defines these (declared here so that a wrong signature is a compile error). */

/* Comma-separated packed columns it reads, each with an optional type: "price,bp0,volume:i64". */
const char *tickpack_columns(void);
/* Comma-separated parameter names, each with an optional default: "entry_min=5,stop=0.3". */
const char *tickpack_params(void);
/* Doubles of state per parameter set, and of state per contract per set (tp_contract_state). */
int tickpack_state_size(void);
int tickpack_contract_state_size(void);
/* A partition begins (state zeroed, no instant yet: c->ts is 0, c->nrows 0). */
void tickpack_chain_start(const double *p, double *s, tp_chain_t *c);
/* One instant. */
void tickpack_chain_instant(const double *p, double *s, tp_chain_t *c);
/* The partition ended (c holds its last instant): close what you want closed at your own terms;
   the driver then closes every leg still open at its contract's last valid price. */
void tickpack_chain_end(const double *p, double *s, tp_chain_t *c);

#endif
