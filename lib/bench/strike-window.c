/*
 * The window of a row group's strikes inside a band (lib/bench/strike-window.ts; strikeWindowReference
 * there is the reference, and tests compare the two): a native loop, because a JS one over every row
 * of every partially selected group gets compiled by the optimising JIT mid-run, which on two busy
 * cores cost a sliced run more than the loop itself (measured).
 *
 * out[0] = first row in [lo, hi] (-1 when none), out[1] = one past the last, out[2] = runs of
 * consecutive rows in the band. NaN is in no band.
 */
void tp_strike_window(const float *strike, long long n, double lo, double hi, long long *out) {
  long long start = -1, end = -1, runs = 0, i;
  for (i = 0; i < n; i++) {
    double v = strike[i];
    if (v >= lo && v <= hi) {
      if (end != i) runs++;
      if (start < 0) start = i;
      end = i + 1;
    }
  }
  out[0] = start;
  out[1] = end;
  out[2] = runs;
}
