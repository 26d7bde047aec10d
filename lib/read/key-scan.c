/*
 * Per-row scans of a batch's segment key for bench's filters (lib/read/key-scan.ts, whose TypeScript
 * references tests compare with these): native loops, because JS ones over every row of every
 * partially selected group get compiled by the optimising JIT mid-run, in each worker, which on two
 * busy cores cost a sliced run more than the loops themselves (measured).
 *
 * tp_strike_window: the window of a row group's strikes inside a band whose bounds are float32 values
 * (lib/packed/strike.ts storedStrikeBand), so the float→double comparison is exact.
 * out[0] = first row in [lo, hi] (-1 when none), out[1] = one past the last, out[2] = runs of
 * consecutive rows in the band. NaN is in no band.
 */
void tp_strike_window(const float *strike, long long n, double lo, double hi, long long *out) {
  const unsigned *b = (const unsigned *)strike;
  long long start = -1, end = -1, runs = 0, i = 0, j;
  while (i < n) {
    /* Rows with row i's bits are in the band as it is: a contract's rows are consecutive, so they are
       passed over eight at a time (TinyCC keeps j in memory: one test per eight rows, not per row). */
    unsigned x = b[i];
    double v = strike[i];
    for (j = i + 1; j + 8 <= n && ((b[j] ^ x) | (b[j + 1] ^ x) | (b[j + 2] ^ x) | (b[j + 3] ^ x) | (b[j + 4] ^ x) | (b[j + 5] ^ x) | (b[j + 6] ^ x) | (b[j + 7] ^ x)) == 0;) j += 8;
    while (j < n && b[j] == x) j++;
    if (v >= lo && v <= hi) {
      if (end != i) runs++;
      if (start < 0) start = i;
      end = j;
    }
    i = j;
  }
  out[0] = start;
  out[1] = end;
  out[2] = runs;
}

/* opt_type's stable code for anything but CE and PE (lib/packed/opt-type.ts OPT_OTHER). */
#define TP_OPT_OTHER 2

#define TP_VALID(bits, i) (!(bits) || (((bits)[(i) >> 3] >> ((i) & 7)) & 1))

/*
 * Starts of the runs of equal segment keys in a batch (expiry, opt_type through its code map, strike;
 * a null equals a null, as in the driver; NaN equals nothing): starts[k] is run k's first row,
 * starts[runs] = n. Returns the runs. starts holds n + 1 values.
 */
long long tp_key_runs(const int *expiry, const unsigned char *ev, const int *opt, const unsigned char *ov, const int *opt_map, long long nmap,
                      const float *strike, const unsigned char *sv, long long n, double *starts) {
  long long runs = 0, i = 0;
  while (i < n) {
    long long i0 = i;
    int en = !TP_VALID(ev, i0), on = !TP_VALID(ov, i0), sn = !TP_VALID(sv, i0);
    int e = expiry[i0];
    int oc = opt[i0];
    int o = oc >= 0 && oc < nmap ? opt_map[oc] : TP_OPT_OTHER;
    float s = strike[i0];
    starts[runs++] = (double)i0;
    i++;
    if (!ev && !ov && !sv) {
      /* Rows whose expiry, opt_type code and strike bits are row i0's are in its run (a strike that is
         not NaN: NaN equals nothing): passed over eight at a time, then row by row as before. */
      if (s == s) {
        const unsigned *sb = (const unsigned *)strike;
        unsigned x = sb[i0];
        while (i + 8 <= n
               && ((unsigned)(expiry[i] ^ e) | (unsigned)(expiry[i + 1] ^ e) | (unsigned)(expiry[i + 2] ^ e) | (unsigned)(expiry[i + 3] ^ e)
                   | (unsigned)(expiry[i + 4] ^ e) | (unsigned)(expiry[i + 5] ^ e) | (unsigned)(expiry[i + 6] ^ e) | (unsigned)(expiry[i + 7] ^ e)
                   | (unsigned)(opt[i] ^ oc) | (unsigned)(opt[i + 1] ^ oc) | (unsigned)(opt[i + 2] ^ oc) | (unsigned)(opt[i + 3] ^ oc)
                   | (unsigned)(opt[i + 4] ^ oc) | (unsigned)(opt[i + 5] ^ oc) | (unsigned)(opt[i + 6] ^ oc) | (unsigned)(opt[i + 7] ^ oc)
                   | (sb[i] ^ x) | (sb[i + 1] ^ x) | (sb[i + 2] ^ x) | (sb[i + 3] ^ x) | (sb[i + 4] ^ x) | (sb[i + 5] ^ x) | (sb[i + 6] ^ x)
                   | (sb[i + 7] ^ x)) == 0)
          i += 8;
      }
      while (i < n && expiry[i] == e && strike[i] == s && (opt[i] >= 0 && opt[i] < nmap ? opt_map[opt[i]] : TP_OPT_OTHER) == o) i++;
    } else {
      while (i < n) {
        int en2 = !TP_VALID(ev, i), on2 = !TP_VALID(ov, i), sn2 = !TP_VALID(sv, i);
        if (en2 != en || on2 != on || sn2 != sn) break;
        if (!en && expiry[i] != e) break;
        if (!on && (opt[i] >= 0 && opt[i] < nmap ? opt_map[opt[i]] : TP_OPT_OTHER) != o) break;
        if (!sn && !(strike[i] == s)) break;
        i++;
      }
    }
  }
  starts[runs] = (double)n;
  return runs;
}
