/*
 * tickpack strategy kernel ABI, version 2 (see docs/kernels.md).
 *
 * A kernel is one C file that includes this header and defines six functions. tickpack's driver
 * (kernel/driver.c) finds the segments (runs of equal expiry, opt_type, strike) of each batch once,
 * then, for every parameter set, calls tickpack_run over runs of rows of one segment: the kernel
 * owns the row loop. Parameters and state are arrays of doubles the host owns; the kernel keeps
 * nothing in globals.
 */
#ifndef TICKPACK_H
#define TICKPACK_H

#define TICKPACK_ABI 2

/* What a row (or a segment end) did to the position. */
enum { TP_NONE = 0, TP_OPEN = 1, TP_CLOSE = 2 };

typedef struct {
  long long row; /* batch row of the event (set by TP_EMIT_OPEN/TP_EMIT_CLOSE; unused at a segment end) */
  int action;    /* TP_NONE, TP_OPEN or TP_CLOSE */
  double price;  /* entry price for TP_OPEN, exit price for TP_CLOSE */
  double pnl;    /* realised PnL of a TP_CLOSE, in price points */
} tp_event;

/*
 * A run of rows [start, end) of one segment of the current batch, for one parameter set.
 *
 * col[k]: the k-th declared column's values for the whole batch, in the type it was declared with
 *   (tickpack_columns): "name" or "name:f64" -> const double *, "name:i64" -> const long long *,
 *   "name:i32" -> const int *, "name:f32" -> const float *, "name:i16" -> const short *.
 *   A column stored in the declared type reaches the kernel without a copy (price, bp0, sp0 … are
 *   float64 in packed files; volume, qty, oi … int64; strike float32; expiry, date int32 days).
 *   Read it with TP_COLUMN, which checks the type.
 * valid[k]: its Arrow validity bitmap (bit i set = row i non-null), or 0 when the batch has no null
 *   in that column (most batches): TP_OK(bits, i) tests it, with a fast path for 0.
 * ev: room for one event per row of the run; write them with TP_EMIT_OPEN / TP_EMIT_CLOSE.
 * The kernel sets nvalid (rows it found valid, counted in valid_rows) and last_valid (the last of
 * them, or -1): the driver uses it as the exit time of a position closed at the segment's end.
 * The fields after last_valid are TP_COLUMN's (they follow the others, which keep their places).
 */
typedef struct {
  const void *const *col;
  const unsigned char *const *valid;
  long long start, end;
  tp_event *ev;
  long long nev;
  long long nvalid;
  long long last_valid;
  int ncol;                      /* declared columns */
  const unsigned char *col_type; /* col_type[k]: column k's declared type, as TPD_TYPE_CODE (kernel/column-types.ts) codes it */
  const void *zeros;             /* the middle of zeroed memory that a run's rows in any C type fit on either side of */
  int bad_column;                /* the first column index TP_COLUMN refused, */
  const char *bad_type;          /* and the C type it was asked for, as written (0: none): the driver stops the run and reports it */
} tp_rows_t;

/*
 * Column k of a run, or, when k is not a declared column or T is not the C type it was declared as,
 * rows of zeros from row r->start on (never another type's bits) and the run flagged in bad_type.
 * Checked once per call of TP_COLUMN: take the pointer into a local before the row loop.
 */
static inline const void *tp_column_checked(tp_rows_t *r, int k, int code, unsigned long long size, const char *type) {
  if (k >= 0 && k < r->ncol && code != 0 && r->col_type[k] == code) return r->col[k];
  if (!r->bad_type) {
    r->bad_column = k;
    r->bad_type = type;
  }
  /* As integers: the pointer lies before the zeros for any row but the first few. */
  return (const void *)((unsigned long long)r->zeros - (unsigned long long)r->start * size);
}

/* The k-th declared column as a pointer of type T (T must be its declared type, see col), and its bitmap. */
#define TP_COLUMN(r, k, T) ((const T *)tp_column_checked((r), (k), TPD_TYPE_CODE(T), sizeof(T), #T))
#define TP_BITS(r, k) ((r)->valid[k])
/* Row i of a column with bitmap `bits` is non-null (always, when bits is 0). */
#define TP_OK(bits, i) (!(bits) || (((bits)[(i) >> 3] >> ((i) & 7)) & 1))

/* Events of row i: at most one per row. */
#define TP_EMIT_OPEN(r, i, px) \
  do { tp_event *e_ = (r)->ev + (r)->nev++; e_->row = (i); e_->action = TP_OPEN; e_->price = (px); e_->pnl = 0.0; } while (0)
#define TP_EMIT_CLOSE(r, i, px, profit) \
  do { tp_event *e_ = (r)->ev + (r)->nev++; e_->row = (i); e_->action = TP_CLOSE; e_->price = (px); e_->pnl = (profit); } while (0)

/* The kernel defines these six functions (declared here so that a wrong signature is a compile error). */

/* Comma-separated packed columns it reads, each with an optional type: "price,bp0,sp0,volume:i64". */
const char *tickpack_columns(void);
/* Comma-separated parameter names, each with an optional default: "fast=5,slow=21,max_spread". */
const char *tickpack_params(void);
/* Doubles of state per parameter set. */
int tickpack_state_size(void);
/* A new segment begins: reset the state. */
void tickpack_segment_start(const double *p, double *s);
/* Rows r->start .. r->end-1 of the current segment, in order (a segment arrives in one or more runs). */
void tickpack_run(const double *p, double *s, tp_rows_t *r);
/* The segment ended: ev arrives with action TP_NONE; set TP_CLOSE (price, pnl) to close a position. */
void tickpack_segment_end(const double *p, double *s, tp_event *ev);

#endif
