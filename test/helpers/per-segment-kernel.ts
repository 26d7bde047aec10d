/** A user kernel of one trade per segment, for tests that count segments by trades. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** In at a segment's first valid row, out at its end (at its last valid price): one trade per segment with a valid row. */
export const PER_SEGMENT_KERNEL = `#include "tickpack.h"
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return ""; }
int tickpack_state_size(void) { return 3; }
void tickpack_segment_start(const double *p, double *s) { s[0] = 0.0; }
void tickpack_run(const double *p, double *s, tp_rows_t *r) {
  const double *price = TP_COLUMN(r, 0, double);
  const unsigned char *ok = TP_BITS(r, 0);
  long long i;
  for (i = r->start; i < r->end; i++) {
    if (!(price[i] > 0.0) || !TP_OK(ok, i)) continue;
    r->nvalid++;
    r->last_valid = i;
    s[2] = price[i];
    if (s[0] == 0.0) { s[0] = 1.0; s[1] = price[i]; TP_EMIT_OPEN(r, i, price[i]); }
  }
}
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {
  if (s[0] != 0.0) { s[0] = 0.0; ev->action = TP_CLOSE; ev->price = s[2]; ev->pnl = s[2] - s[1]; }
}
`;

/** PER_SEGMENT_KERNEL written as `per-segment.c` in `dir`; returns its path. */
export function writePerSegmentKernel(dir: string): string {
  const path = join(dir, "per-segment.c");
  writeFileSync(path, PER_SEGMENT_KERNEL);
  return path;
}
