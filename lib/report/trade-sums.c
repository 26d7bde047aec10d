/*
 * The report's per-trade sums of one partition (lib/report/trade-sums.ts, whose TypeScript references
 * tests compare with these on randomised trades). Built once per thread with TinyCC: the JS loop ran
 * mostly before the JIT had warmed up, ~70 ms for 0.5M trades on the parent thread while the workers
 * wanted both cores.
 *
 * p (doubles): see P_* below. a (pointers): see A_* below; breakdowns are [bucket][set] flattened,
 * each as three arrays (pnl, trades, wins); curves[s] is set s's curve bins (absolute index `first`).
 */
#include <math.h>

enum { P_N, P_SETS, P_WIDTH, P_FIRST, P_DAY, P_ATM_STRIKE, P_ATM_STEP, P_ATM_BUCKETS, P_ATM_SPAN, P_NULL_DTE };
enum {
  A_SET, A_PNL, A_EXPIRY, A_OPT, A_STRIKE, A_ENTRY_TS, A_EXIT_TS, A_CURVES,
  A_DAY, A_DTE = A_DAY + 3, A_EXP = A_DTE + 3, A_OPTB = A_EXP + 3, A_ATM = A_OPTB + 3, A_HOLD = A_ATM + 3, A_SET_SUMS = A_HOLD + 3
};

/* Month (1..12) of an epoch day (Howard Hinnant's civil_from_days). */
static int month_of(long long z) {
  z += 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  return (int)(mp < 10 ? mp + 3 : mp - 9);
}

/* TinyCC neither inlines nor keeps values in registers: a macro, not a call, per bucket. */
#define BUMP(b, k) do { long long k_ = (k); (b)[0][k_] += pnl; (b)[1][k_] += 1; (b)[2][k_] += win; } while (0)

/* floor() of a finite double within the long long range, without a libm call. */
static long long floor_ll(double x) {
  long long q = (long long)x;
  return (double)q > x ? q - 1 : q;
}

void tp_report_sums(const double *p, void **a) {
  long long n = (long long)p[P_N], S = (long long)p[P_SETS], A = (long long)p[P_ATM_BUCKETS], span = (long long)p[P_ATM_SPAN];
  long long null_dte = (long long)p[P_NULL_DTE];
  double width = p[P_WIDTH], first = p[P_FIRST], day = p[P_DAY], atm = p[P_ATM_STRIKE], step = p[P_ATM_STEP];
  const double *set = (const double *)a[A_SET], *pnls = (const double *)a[A_PNL], *expiry = (const double *)a[A_EXPIRY];
  const double *optc = (const double *)a[A_OPT], *strike = (const double *)a[A_STRIKE];
  const int *entry_w = (const int *)a[A_ENTRY_TS], *exit_w = (const int *)a[A_EXIT_TS];
  double **curves = (double **)a[A_CURVES];
  double **dayb = (double **)&a[A_DAY], **dteb = (double **)&a[A_DTE], **expb = (double **)&a[A_EXP];
  double **optb = (double **)&a[A_OPTB], **atmb = (double **)&a[A_ATM], **holdb = (double **)&a[A_HOLD];
  double *st = (double *)a[A_SET_SUMS];
  double last_expiry = NAN;
  long long last_type = 2, t;
  for (t = 0; t < n; t++) {
    long long s = (long long)set[t];
    double pnl = pnls[t], win = pnl > 0 ? 1 : 0;
    /* Instants as float seconds from the int64s' 32-bit halves, exactly as the reference rounds them. */
    double exit_s = ((double)exit_w[2 * t + 1] * 4294967296.0 + (double)(unsigned)exit_w[2 * t]) / 1e9;
    double entry_s = ((double)entry_w[2 * t + 1] * 4294967296.0 + (double)(unsigned)entry_w[2 * t]) / 1e9;
    curves[s][floor_ll(exit_s / width) - (long long)first] += pnl;
    BUMP(dayb, s);
    double e = expiry[t];
    long long dte = null_dte, type = 2;
    if (e > -1e299) {
      double d = e - day; /* NaN without a date: no bucket below matches */
      dte = d >= 0 && d <= 7 ? (long long)d : d > 7 && d <= 14 ? 8 : d > 14 && d <= 30 ? 9 : d > 30 ? 10 : null_dte;
      if (e != last_expiry) {
        last_expiry = e;
        last_type = month_of(floor_ll(e) + 7) != month_of(floor_ll(e)) ? 1 : 0;
      }
      type = last_type;
    }
    BUMP(dteb, dte * S + s);
    BUMP(expb, type * S + s);
    double code = optc[t];
    long long opt = code == 0 ? 0 : code == 1 ? 1 : 2;
    BUMP(optb, opt * S + s);
    long long dist = A - 1;
    double k = strike[t];
    if (k > -1e299 && atm == atm) {
      double v = (k - atm) / step + 0.5;
      /* Math.round, compared before any integer conversion (a far strike must not wrap). */
      if (v == v) dist = v < (double)-span ? 0 : v >= (double)(span + 1) ? A - 2 : floor_ll(v) + span + 1;
    }
    BUMP(atmb, (opt * A + dist) * S + s);
    double hold = exit_s - entry_s;
    long long h = hold < 1 ? 0 : hold < 5 ? 1 : hold < 15 ? 2 : hold < 60 ? 3 : hold < 300 ? 4 : hold < 900 ? 5 : hold < 3600 ? 6 : hold < 10800 ? 7 : 8;
    BUMP(holdb, h * S + s);
    double *o = st + s * 7;
    o[0] += 1;
    o[1] += win;
    o[2] += pnl < 0 ? 1 : 0;
    o[3] += pnl > 0 ? pnl : 0;
    o[4] += pnl < 0 ? pnl : 0;
    o[5] += pnl;
    o[6] += hold;
  }
}

/* Entry instants as float seconds into out (n doubles), and the exit instants' range into range[0..1]:
   the same rounding as the reference (the int64s' two 32-bit halves, then / 1e9). */
void tp_report_seconds(const int *entry_w, const int *exit_w, long long n, double *out, double *range) {
  double lo = INFINITY, hi = -INFINITY;
  long long t;
  for (t = 0; t < n; t++) {
    out[t] = ((double)entry_w[2 * t + 1] * 4294967296.0 + (double)(unsigned)entry_w[2 * t]) / 1e9;
    double x = ((double)exit_w[2 * t + 1] * 4294967296.0 + (double)(unsigned)exit_w[2 * t]) / 1e9;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  range[0] = lo;
  range[1] = hi;
}

/*
 * The trades the ATM estimate needs (lib/report/atm.ts): of each run of consecutive trades on one
 * contract (equal expiry, opt code and strike; NaN equals nothing), the first one with the earliest
 * entry. Writes their indices to idx; returns how many. The estimate then reads a few hundred
 * trades instead of every one, with the same answer (it keeps each contract's earliest entry).
 */
long long tp_first_entries(const double *expiry, const double *opt, const double *strike, const int *entry_w, long long n, double *idx) {
  long long out = 0, i = 0;
  while (i < n) {
    double e = expiry[i], o = opt[i], k = strike[i];
    long long best = i;
    double best_s = ((double)entry_w[2 * i + 1] * 4294967296.0 + (double)(unsigned)entry_w[2 * i]) / 1e9;
    long long j = i + 1;
    while (j < n && expiry[j] == e && opt[j] == o && strike[j] == k) {
      double s = ((double)entry_w[2 * j + 1] * 4294967296.0 + (double)(unsigned)entry_w[2 * j]) / 1e9;
      if (s < best_s) { best_s = s; best = j; }
      j++;
    }
    idx[out++] = (double)best;
    i = j;
  }
  return out;
}
