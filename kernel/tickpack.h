/*
 * tickpack strategy kernel ABI, version 1 (see docs/kernels.md).
 *
 * A kernel is one C file that includes this header and defines six functions. tickpack's driver
 * (kernel/driver.c) walks the rows of a partition, finds the segments (runs of equal expiry,
 * opt_type, strike), and for every parameter set calls the kernel's functions. Parameters and
 * state are arrays of doubles the host owns; the kernel keeps nothing in globals.
 */
#ifndef TICKPACK_H
#define TICKPACK_H

#define TICKPACK_ABI 1

/* What a row (or a segment end) did to the position. */
enum { TP_NONE = 0, TP_OPEN = 1, TP_CLOSE = 2 };

/* The current row: the declared columns as float64 arrays with Arrow validity bitmaps (0 = no nulls). */
typedef struct {
  const double *const *col;
  const unsigned char *const *valid;
  long long i;
} tp_row_t;

/* Value and non-null test of the k-th declared column at the current row. */
#define TP_VALUE(r, k) ((r)->col[k][(r)->i])
#define TP_OK(r, k) (!(r)->valid[k] || (((r)->valid[k][(r)->i >> 3] >> ((r)->i & 7)) & 1))

typedef struct {
  int action;   /* TP_NONE, TP_OPEN or TP_CLOSE */
  double price; /* entry price for TP_OPEN, exit price for TP_CLOSE */
  double pnl;   /* realised PnL of a TP_CLOSE, in price points */
} tp_event;

/*
 * The kernel defines:
 *   const char *tickpack_columns(void);   comma-separated packed columns it reads, e.g. "price,bp0"
 *   const char *tickpack_params(void);    comma-separated parameter names, each with an optional
 *                                         default: "fast=5,slow=21,max_spread"
 *   int tickpack_state_size(void);        doubles of state per parameter set
 *   void tickpack_segment_start(const double *p, double *s);
 *   int tickpack_row(const double *p, double *s, const tp_row_t *r, tp_event *ev);
 *                                         TP_VALUE(r, k), TP_OK(r, k): the k-th declared column at
 *                                         this row (as a double) and whether it is non-null;
 *                                         returns 1 when the row was valid (counted in valid_rows)
 *   void tickpack_segment_end(const double *p, double *s, tp_event *ev);
 */

#endif
