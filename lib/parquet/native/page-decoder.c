/*
 * One Parquet column chunk of a flat column (definition level ≤ 1) decoded into host-owned buffers:
 * the pages tickpack writes (docs/formats.md) and what arrow-rs writes for them: data pages v1 and v2,
 * a dictionary page, PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY (a chunk may fall back to PLAIN part-way),
 * DELTA_BINARY_PACKED, UNCOMPRESSED and ZSTD (libzstd's functions, passed in by the host). The
 * contract's types are in chunk-desc.ts; page-decoder-reference.ts is the TypeScript reference that
 * tests compare with.
 *
 * No state outlives a call and nothing here allocates: every buffer is the host's. A garbled chunk is
 * an error with a short reason, never a read or write outside the buffers given, and no loop runs
 * longer than the bytes and counts it is given allow. Compiled by TinyCC, which does not optimise:
 * bit-packed values are unpacked 8 at a time with constant shifts and 64-bit loads, into a small
 * stack buffer that a tight loop then checks and gathers from. Assumes a little-endian host.
 *
 * tp_decode_chunk(chunk, len, io): see IO_* (the buffers' addresses are in io too).
 * Returns 0 (decoded), -1 (error: reason holds a NUL-terminated reason), -2 (a buffer is too small:
 * io[IO_NEED_*] say how big each must be; nothing was decoded), -3 (asked for runs, and the window
 * cannot be given so: ask for codes).
 */

/* io slots (doubles in tp_decode_chunk's, long long within): in */
#define IO_TYPE 0
#define IO_MAXDEF 1
#define IO_CODEC 2
#define IO_NUMVALUES 3
#define IO_START 4
#define IO_COUNT 5
#define IO_VALUES_CAP 6   /* bytes */
#define IO_VALIDITY_CAP 7 /* bytes */
#define IO_DICT_CAP 8     /* bytes: fixed-width dictionary values, or BYTE_ARRAY int32 offsets */
#define IO_STR_CAP 9      /* bytes of BYTE_ARRAY strings */
#define IO_HASH_CAP 10    /* int32 slots of the BYTE_ARRAY hash table (a power of two) */
#define IO_SCRATCH_CAP 11 /* bytes of decompressed pages */
#define IO_REASON_CAP 12
#define IO_CODES 13       /* 1: a fixed-width column's values as int32 codes into the dictionary (see `codes`); 2: as runs of codes (see `runs`) */
/* out */
#define IO_NULLS 16
#define IO_ENTRIES 17  /* BYTE_ARRAY: strings in dict/str (codes index them); codes, runs: values in dict */
#define IO_RUNS 18     /* runs: run records in values */
#define IO_DICT_AT 19  /* runs: the address of the dictionary page's values, in the chunk (not copied; any alignment) */
#define IO_NEED_DICT 20
#define IO_NEED_STR 21
#define IO_NEED_HASH 22
#define IO_NEED_SCRATCH 23
#define IO_SLOTS 24
/* then the buffers' addresses: values, validity, dict, str, hash, scratch, zstd, reason */
#define IO_AT_VALUES 24
#define IO_AT_VALIDITY 25
#define IO_AT_DICT 26
#define IO_AT_STR 27
#define IO_AT_HASH 28
#define IO_AT_SCRATCH 29
#define IO_AT_ZSTD 30
#define IO_AT_REASON 31
#define IO_ALL 32

/* zstd: function pointers from libzstd, and a slot for the host's decompression context */
#define Z_CREATE 0
#define Z_FREE 1
#define Z_DECOMPRESS 2
#define Z_ISERROR 3
#define Z_ERRNAME 4
#define Z_DCTX 5

typedef void *(*zstd_create_fn)(void);
typedef unsigned long long (*zstd_decompress_fn)(void *, void *, unsigned long long, const void *, unsigned long long);
typedef unsigned (*zstd_iserror_fn)(unsigned long long);
typedef const char *(*zstd_errname_fn)(unsigned long long);

#define T_BOOLEAN 0
#define T_INT32 1
#define T_INT64 2
#define T_FLOAT 4
#define T_DOUBLE 5
#define T_BYTE_ARRAY 6

#define E_PLAIN 0
#define E_PLAIN_DICTIONARY 2
#define E_RLE 3
#define E_DELTA_BINARY_PACKED 5
#define E_RLE_DICTIONARY 8

#define MAX_STRINGS 2147483647LL
#define CHUNK_VALUES 512

#if defined(__GNUC__) && !defined(__TINYC__)
#define LD64(p) ({ unsigned long long v_; __builtin_memcpy(&v_, (p), 8); v_; })
#define LD32(p) ({ unsigned int v_; __builtin_memcpy(&v_, (p), 4); v_; })
#else
#define LD64(p) (*(const unsigned long long *)(p))
#define LD32(p) (*(const unsigned int *)(p))
#endif

/* libc's, declared here: no system header is needed (TinyCC resolves them in the process). */
void *memcpy(void *, const void *, unsigned long);
void *memmove(void *, const void *, unsigned long);
void *memset(void *, int, unsigned long);

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned char u8;

typedef struct {
  const u8 *chunk;
  i64 len;
  int type, maxdef, codec, width;
  /*
   * codes: values go out as int32 codes into `dict` (vwidth 4), as BYTE_ARRAY's always do: the
   * dictionary page's values first, then each value of a PLAIN or DELTA page appended as its own entry.
   */
  int codes, vwidth;
  /*
   * runs (codes mode 2): no value is unpacked. `values` gets run records of 4 int64 — the window row
   * where the run starts, the codes' bit width (0: one code for the whole run), that code or the
   * address of the run's bit-packed bytes in the chunk, and the index there of the window row's code
   * — and IO_DICT_AT the address of the dictionary page's values, left in the chunk. Only for
   * dictionary-coded, uncompressed, null-free windows (their bytes must outlive the call: they are the
   * chunk's own); else -3. The codes of bit-packed runs are not checked against the dictionary here:
   * whoever reads them checks them.
   */
  int runs, no_runs;
  i64 nruns;
  const u8 *dict_at;
  i64 num_values, wstart, wcount;
  u8 *values, *validity;
  i64 values_cap, validity_cap;
  u8 *dict; /* fixed-width dictionary values, or BYTE_ARRAY offsets (int32, entries + 1) */
  i64 dict_cap, dict_n; /* dict_n: values of the dictionary page */
  u8 *str;
  i64 str_cap, str_used, entries; /* BYTE_ARRAY: strings held (dictionary page first, then appended) */
  int *hash;
  i64 hash_cap;
  int hash_ready;
  u8 *scratch;
  i64 scratch_cap;
  void **zstd;
  char *reason;
  i64 reason_cap, reason_len;
  i64 page_no, page_at, nulls;
  int failed;
} ctx;

/* ---- reasons ---- */

static void say(ctx *c, const char *s) {
  while (*s && c->reason_len < c->reason_cap - 1) c->reason[c->reason_len++] = *s++;
  if (c->reason_cap > 0) c->reason[c->reason_len] = 0;
}

static void say_num(ctx *c, i64 v) {
  char b[24];
  int n = 0;
  u64 u = v < 0 ? (u64)0 - (u64)v : (u64)v;
  if (v < 0) say(c, "-");
  do { b[n++] = (char)('0' + u % 10); u /= 10; } while (u);
  char s[24];
  int i;
  for (i = 0; i < n; i++) s[i] = b[n - 1 - i];
  s[n] = 0;
  say(c, s);
}

/* Starts the reason (the first failure wins); returns -1 for `return fail(...)`. */
static int fail(ctx *c, const char *s) {
  if (c->failed) return -1;
  c->failed = 1;
  c->reason_len = 0;
  if (c->page_no >= 0) {
    say(c, "page ");
    say_num(c, c->page_no);
    say(c, " (at byte ");
    say_num(c, c->page_at);
    say(c, "): ");
  }
  say(c, s);
  return -1;
}

static int fail_n(ctx *c, const char *a, i64 x, const char *b) {
  if (c->failed) return -1;
  fail(c, a);
  say_num(c, x);
  say(c, b);
  return -1;
}

static int fail_nn(ctx *c, const char *a, i64 x, const char *b, i64 y, const char *d) {
  if (c->failed) return -1;
  fail_n(c, a, x, b);
  say_num(c, y);
  say(c, d);
  return -1;
}

static const char *encoding_name(int e) {
  switch (e) {
  case 0: return "PLAIN";
  case 2: return "PLAIN_DICTIONARY";
  case 3: return "RLE";
  case 4: return "BIT_PACKED";
  case 5: return "DELTA_BINARY_PACKED";
  case 6: return "DELTA_LENGTH_BYTE_ARRAY";
  case 7: return "DELTA_BYTE_ARRAY";
  case 8: return "RLE_DICTIONARY";
  case 9: return "BYTE_STREAM_SPLIT";
  default: return 0;
  }
}

static int fail_encoding(ctx *c, const char *what, int e) {
  const char *name = encoding_name(e);
  fail(c, what);
  if (name) say(c, name);
  else { say(c, "encoding "); say_num(c, e); }
  say(c, " is not supported");
  return -1;
}

/* ---- byte helpers ---- */

static void copy_bytes(u8 *d, const u8 *s, i64 n) {
  if (n > 0) memcpy(d, s, (unsigned long)n);
}

static void zero_bytes(u8 *d, i64 n) {
  while (n >= 8) { *(u64 *)d = 0; d += 8; n -= 8; }
  while (n > 0) { *d++ = 0; n--; }
}

/* Unsigned LEB128 of at most 10 bytes, from [*p, end); -1 when truncated or too long. */
static int uvarint(const u8 **p, const u8 *end, u64 *out) {
  u64 r = 0;
  int shift = 0, i;
  for (i = 0; i < 10; i++) {
    if (*p >= end) return -1;
    u8 b = *(*p)++;
    if (shift == 63 && (b & 0x7e)) return -1;
    r |= (u64)(b & 0x7f) << shift;
    if (!(b & 0x80)) { *out = r; return 0; }
    shift += 7;
  }
  return -1;
}

static int zvarint(const u8 **p, const u8 *end, i64 *out) {
  u64 u;
  if (uvarint(p, end, &u)) return -1;
  *out = (i64)(u >> 1) ^ -(i64)(u & 1);
  return 0;
}

/*
 * The widest bit width with unrolled loops of its own (constant shifts and masks); wider ones take the
 * generic loops. TinyCC compiles every case at each run's start: 24 widths, not 56, is ~5 ms less of
 * it (measured), and what repack writes stays well under 24 bits (dictionary indices of a few
 * thousand entries, volume's deltas). gcc and clang builds are cached, so they keep every width.
 */
#ifdef __TINYC__
#define FAST_W 24
#define FAST_W64 24
#else
#define FAST_W 32
#define FAST_W64 56
#endif

/* The cases of `switch (w)`, each running M(width): widths 1..FAST_W (CASES_32) and, where
   FAST_W64 is past 32, 33..56 (CASES_WIDE). One list for every unrolled loop below. */
#define CASES_24(M) \
  case 1: M(1) case 2: M(2) case 3: M(3) case 4: M(4) case 5: M(5) case 6: M(6) case 7: M(7) \
  case 8: M(8) case 9: M(9) case 10: M(10) case 11: M(11) case 12: M(12) case 13: M(13) case 14: M(14) \
  case 15: M(15) case 16: M(16) case 17: M(17) case 18: M(18) case 19: M(19) case 20: M(20) case 21: M(21) \
  case 22: M(22) case 23: M(23) case 24: M(24)
#if FAST_W > 24
#define CASES_32(M) CASES_24(M) \
  case 25: M(25) case 26: M(26) case 27: M(27) case 28: M(28) case 29: M(29) case 30: M(30) case 31: M(31) \
  case 32: M(32)
#else
#define CASES_32(M) CASES_24(M)
#endif
#if FAST_W64 > 32
#define CASES_WIDE(M) \
  case 33: M(33) case 34: M(34) case 35: M(35) case 36: M(36) case 37: M(37) case 38: M(38) case 39: M(39) \
  case 40: M(40) case 41: M(41) case 42: M(42) case 43: M(43) case 44: M(44) case 45: M(45) case 46: M(46) \
  case 47: M(47) case 48: M(48) case 49: M(49) case 50: M(50) case 51: M(51) case 52: M(52) case 53: M(53) \
  case 54: M(54) case 55: M(55) case 56: M(56)
#else
#define CASES_WIDE(M)
#endif

/* ---- bit unpacking ---- */

/* Value i of width w (≤ 64) of a bit-packed stream at p; reads bytes [ (i*w)/8, ceil((i+1)*w/8) ) only. */
static u64 bits_at(const u8 *p, i64 i, int w) {
  i64 bit = i * w;
  const u8 *b = p + (bit >> 3);
  int s = (int)(bit & 7), nb = (s + w + 7) >> 3, k;
  u64 v = 0;
  for (k = 0; k < nb && k < 8; k++) v |= (u64)b[k] << (8 * k);
  v >>= s;
  if (nb == 9) v |= (u64)b[8] << (64 - s);
  return w == 64 ? v : v & (((u64)1 << w) - 1);
}

/* A literal mask: TinyCC keeps a const variable in memory, but folds a constant expression. */
#define MASK(W) ((((u64)1 << (W)) - 1))
/* Value j (0..7) of width W in the group of 8 bit-packed values at p: one 64-bit load, constant shift and mask. */
#define PACKED(W, j) ((LD64(p + ((j) * (W)) / 8) >> (((j) * (W)) % 8)) & MASK(W))

#define U8(W)                                                                                          \
  {                                                                                                    \
    for (; g > 0; g--) {                                                                               \
      o[0] = LD64(p) & MASK(W);                                                                              \
      o[1] = PACKED(W, 1);                                                                             \
      o[2] = PACKED(W, 2);                                                                             \
      o[3] = PACKED(W, 3);                                                                             \
      o[4] = PACKED(W, 4);                                                                             \
      o[5] = PACKED(W, 5);                                                                             \
      o[6] = PACKED(W, 6);                                                                             \
      o[7] = PACKED(W, 7);                                                                             \
      p += (W);                                                                                        \
      o += 8;                                                                                          \
    }                                                                                                  \
  }                                                                                                    \
  break;

/* g groups of 8 values of width w (1..FAST_W64) from p; each group reads bytes [0, w + 8) past its start. */
static void unpack_groups(const u8 *p, int w, i64 g, u64 *o) {
  switch (w) {
  CASES_32(U8)
  CASES_WIDE(U8)
  default: break;
  }
}

/*
 * Of `want` groups of 8 values of width w from q, how many can be read with 64-bit loads: group i
 * reads up to byte i*w + w + 7, which must come before end. Divides only near the end of a page.
 */
static i64 fast_groups(const u8 *q, const u8 *end, int w, i64 want) {
  i64 room = (i64)(end - q) - w - 8;
  if (want <= 0 || room < 0) return 0;
  if ((want - 1) * w <= room) return want;
  return room / w + 1;
}

/*
 * Values [first, first + n) of width w of the bit-packed stream at p into o. The caller has checked
 * that p + ceil((first + n) * w / 8) ≤ end; the fast path also reads ahead, but never at or past end.
 */
static void unpack(const u8 *p, const u8 *end, i64 first, i64 n, int w, u64 *o) {
  if (w == 0) {
    while (n-- > 0) *o++ = 0;
    return;
  }
  while (n > 0 && (first & 7)) { *o++ = bits_at(p, first++, w); n--; }
  if (w <= FAST_W64 && n >= 8) {
    const u8 *q = p + (first >> 3) * w;
    i64 fast = fast_groups(q, end, w, n >> 3);
    unpack_groups(q, w, fast, o);
    o += fast * 8;
    first += fast * 8;
    n -= fast * 8;
  }
  while (n > 0) { *o++ = bits_at(p, first++, w); n--; }
}

/* ---- RLE / bit-packed hybrid ---- */

/* A hint to load a line ahead of its use; never faults, whatever the address. */
#if defined(__GNUC__) && !defined(__TINYC__)
#define PREFETCH(p) __builtin_prefetch(p)
#elif defined(__x86_64__)
#define PREFETCH(p) __asm__ volatile("prefetcht0 (%0)" : : "r"(p))
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Runs of codes ahead whose headers are fetched in advance (see dict_runs). */
#define RUNS_AHEAD 8

typedef struct {
  const u8 *p, *end; /* next run header; end of the encoded bytes */
  int w;
  i64 left;          /* values of the page not yet in a run: no run may hold more */
  int kind;          /* 0: none, 1: RLE, 2: bit-packed */
  i64 n;             /* values left in the current run */
  u64 val;           /* RLE value */
  const u8 *bp;      /* bit-packed run's bytes */
  i64 pos;           /* next value's index in the bit-packed run */
} hybrid;

static void hybrid_init(hybrid *h, const u8 *p, const u8 *end, int w, i64 values) {
  h->p = p; h->end = end; h->w = w; h->left = values; h->kind = 0; h->n = 0; h->val = 0; h->bp = p; h->pos = 0;
}

static int next_run(ctx *c, hybrid *h, const char *what) {
  u64 hdr;
  if (h->left <= 0) { fail(c, what); say(c, ": more values read than the page holds"); return -1; }
  /* most run headers are one byte */
  if (h->p < h->end && *h->p < 0x80) hdr = *h->p++;
  else if (uvarint(&h->p, h->end, &hdr) || hdr > 0xffffffffULL) { fail(c, what); say(c, ": bad or truncated run header"); return -1; }
  if (hdr & 1) {
    i64 count = (i64)(hdr >> 1) * 8, usable = count < h->left ? count : h->left;
    i64 bytes = (i64)(hdr >> 1) * h->w, avail = (i64)(h->end - h->p);
    if (count > h->left + 7) {
      fail(c, what);
      say(c, ": bit-packed run of ");
      say_num(c, count);
      say(c, " values past the ");
      say_num(c, h->left);
      say(c, " the page holds");
      return -1;
    }
    /* Whole groups, as the format has them and arrow-rs writes them: a run cut short is a garbled
       header (one read a byte too long shifts every value after it), never a last run to take. */
    if (bytes > avail) { fail(c, what); say(c, ": bit-packed run runs past the page"); return -1; }
    h->kind = 2; h->bp = h->p; h->pos = 0; h->n = usable; h->p += bytes;
  } else {
    i64 count = (i64)(hdr >> 1), nb = (h->w + 7) / 8, k;
    if (count > h->left) {
      fail(c, what);
      say(c, ": RLE run of ");
      say_num(c, count);
      say(c, " values past the ");
      say_num(c, h->left);
      say(c, " the page holds");
      return -1;
    }
    if (nb > h->end - h->p) { fail(c, what); say(c, ": RLE run runs past the page"); return -1; }
    h->val = 0;
    for (k = 0; k < nb; k++) h->val |= (u64)h->p[k] << (8 * k);
    h->p += nb;
    h->kind = 1; h->n = count;
  }
  h->left -= h->n;
  return 0;
}

/* Skips n values: whole runs and bit-packed groups by arithmetic. */
static int hybrid_skip(ctx *c, hybrid *h, i64 n, const char *what) {
  while (n > 0) {
    if (h->n == 0 && next_run(c, h, what)) return -1;
    i64 t = h->n < n ? h->n : n;
    if (h->kind == 2) h->pos += t;
    h->n -= t;
    n -= t;
  }
  return 0;
}

/* ---- definition levels ---- */

static const u8 POPCOUNT[256] = {
#define B2(n) n, n + 1, n + 1, n + 2
#define B4(n) B2(n), B2(n + 1), B2(n + 1), B2(n + 2)
#define B6(n) B4(n), B4(n + 1), B4(n + 1), B4(n + 2)
    B6(0), B6(1), B6(1), B6(2)
#undef B2
#undef B4
#undef B6
};

/* Set bits of src's bits [s, s + n). */
static i64 count_bits(const u8 *src, i64 s, i64 n) {
  i64 total = 0;
  while (n > 0 && (s & 7)) { total += (src[s >> 3] >> (s & 7)) & 1; s++; n--; }
  while (n >= 8) { total += POPCOUNT[src[s >> 3]]; s += 8; n -= 8; }
  while (n > 0) { total += (src[s >> 3] >> (s & 7)) & 1; s++; n--; }
  return total;
}

/* ORs src's bits [s, s + n) into dst's bits from d (dst cleared beforehand). */
static void or_bits(u8 *dst, i64 d, const u8 *src, i64 s, i64 n) {
  while (n > 0 && (d & 7)) { dst[d >> 3] |= (u8)(((src[s >> 3] >> (s & 7)) & 1) << (d & 7)); d++; s++; n--; }
  if ((s & 7) == 0) {
    while (n >= 8) { dst[d >> 3] = src[s >> 3]; d += 8; s += 8; n -= 8; }
  } else {
    int k = (int)(s & 7);
    /* two source bytes per output byte; the second only while it holds wanted bits */
    while (n >= 8) {
      unsigned v = (unsigned)(src[s >> 3] >> k) | (unsigned)src[(s >> 3) + 1] << (8 - k);
      dst[d >> 3] = (u8)v;
      d += 8; s += 8; n -= 8;
    }
  }
  while (n > 0) { dst[d >> 3] |= (u8)(((src[s >> 3] >> (s & 7)) & 1) << (d & 7)); d++; s++; n--; }
}

static void set_bits(u8 *dst, i64 d, i64 n) {
  while (n > 0 && (d & 7)) { dst[d >> 3] |= (u8)(1 << (d & 7)); d++; n--; }
  if (n >= 8) { memset(dst + (d >> 3), 0xff, (unsigned long)(n >> 3)); d += n & ~(i64)7; n &= 7; }
  while (n > 0) { dst[d >> 3] |= (u8)(1 << (d & 7)); d++; n--; }
}

/*
 * A page's definition levels (bit width 1) for its rows [0, rows): the valid rows before a, in
 * [a, b) (written to validity from bit out) and from b on.
 */
static int def_levels(ctx *c, const u8 *p, const u8 *end, i64 rows, i64 a, i64 b, i64 out, i64 *before, i64 *inside, i64 *after) {
  hybrid h;
  i64 r = 0;
  *before = *inside = *after = 0;
  hybrid_init(&h, p, end, 1, rows);
  while (r < rows) {
    if (next_run(c, &h, "definition levels")) return -1;
    i64 n = h.n, lo, hi;
    if (h.kind == 1 && h.val > 1) return fail_n(c, "definition level ", (i64)h.val, " > 1");
    /* [r, r + n) against [0, a), [a, b), [b, rows) */
    lo = r; hi = r + n < a ? r + n : a;
    if (hi > lo) *before += h.kind == 1 ? (i64)h.val * (hi - lo) : count_bits(h.bp, lo - r, hi - lo);
    lo = r > a ? r : a; hi = r + n < b ? r + n : b;
    if (hi > lo) {
      i64 k = h.kind == 1 ? (i64)h.val * (hi - lo) : count_bits(h.bp, lo - r, hi - lo);
      *inside += k;
      if (h.kind == 1) { if (h.val) set_bits(c->validity, out + lo - a, hi - lo); }
      else or_bits(c->validity, out + lo - a, h.bp, lo - r, hi - lo);
    }
    lo = r > b ? r : b; hi = r + n;
    if (hi > lo) *after += h.kind == 1 ? (i64)h.val * (hi - lo) : count_bits(h.bp, lo - r, hi - lo);
    r += n;
    h.n = 0;
  }
  return 0;
}

/* Moves n values of width bytes from index `from` up to index `to` (> from): they overlap. */
static void move_up(u8 *v, i64 to, i64 from, i64 n, int width) {
  memmove(v + to * width, v + from * width, (unsigned long)(n * width));
}

/*
 * Spreads n compact values at row `out` over rows [out, out + rows) by validity; nulls become 0.
 * Nulls are rare: runs of valid rows are found a byte of validity at a time and moved whole. For
 * PLAIN and DELTA pages; a dictionary page's values are gathered into their rows (dict_values).
 */
static void spread(ctx *c, i64 out, i64 n, i64 rows) {
  i64 r = out + rows, j = out + n, k;
  const u8 *bits = c->validity;
  int w = c->vwidth;
  if (n == rows) return;
  while (r > out) {
    i64 q = r;
    while (q > out && (q & 7)) { if (!((bits[(q - 1) >> 3] >> ((q - 1) & 7)) & 1)) break; q--; }
    if (q > out && !(q & 7)) {
      while (q - 8 >= out && bits[(q - 8) >> 3] == 0xff) q -= 8;
      while (q > out && ((bits[(q - 1) >> 3] >> ((q - 1) & 7)) & 1)) q--;
    }
    if (r > q) {
      j -= r - q;
      if (j != q) move_up(c->values, q, j, r - q, w);
    }
    r = q;
    if (r > out) {
      r--;
      for (k = 0; k < w; k++) c->values[r * w + k] = 0;
    }
  }
}

/* ---- dictionary-encoded values ---- */

/*
 * n copies of the first `w` bytes at o, over [o, o + n * w): doubled by memcpy, a few calls for a
 * page-long run where TinyCC's own loop stores one value at a time (0.5 ns a value, measured).
 */
static void repeat_first(u8 *o, int w, i64 n) {
  i64 have = 1;
  while (have < n) {
    i64 k = have < n - have ? have : n - have;
    memcpy(o + have * w, o, (unsigned long)(k * w));
    have += k;
  }
}

/* Long runs (a key column's page is often one) by doubling; short ones a value at a time. */
#define FILL(T, V)                                                                                     \
  {                                                                                                    \
    T *o = (T *)c->values + at, x = (V);                                                               \
    i64 i = 0;                                                                                         \
    if (t >= 64) { o[0] = x; repeat_first((u8 *)o, (int)sizeof(T), t); i = t; }                          \
    for (; i + 8 <= t; i += 8, o += 8) { o[0] = x; o[1] = x; o[2] = x; o[3] = x; o[4] = x; o[5] = x; o[6] = x; o[7] = x; } \
    for (; i < t; i++) *o++ = x;                                                                       \
  }
#define GATHER(T, D)                                                                                   \
  {                                                                                                    \
    T *o = (T *)c->values + at;                                                                        \
    const T *d = (const T *)(D);                                                                       \
    i64 i;                                                                                             \
    for (i = 0; i < m; i++) o[i] = d[tmp[i]];                                                      \
  }


/*
 * g groups of 8 dictionary indices of width W (1..FAST_W) at p, gathered from d into o; returns the
 * indices' bad bits (negative when one is ≥ dn1 + 1). d holds at least 2^W entries, so a bad index
 * reads the host's padding, never past it, and is reported before any value is used.
 */
/* The eight indices first, then one check of them all: TinyCC keeps `bad` in memory, and updating it per value chained each value to the last. */
#define DG(W)                                                                                          \
  {                                                                                                    \
    for (; g > 0; g--) {                                                                               \
      v0 = PACKED(W, 0); v1 = PACKED(W, 1); v2 = PACKED(W, 2); v3 = PACKED(W, 3);                      \
      v4 = PACKED(W, 4); v5 = PACKED(W, 5); v6 = PACKED(W, 6); v7 = PACKED(W, 7);                      \
      bad |= (dn1 - (i64)v0) | (dn1 - (i64)v1) | (dn1 - (i64)v2) | (dn1 - (i64)v3)                     \
           | (dn1 - (i64)v4) | (dn1 - (i64)v5) | (dn1 - (i64)v6) | (dn1 - (i64)v7);                   \
      STORE(0, v0); STORE(1, v1); STORE(2, v2); STORE(3, v3);                                          \
      STORE(4, v4); STORE(5, v5); STORE(6, v6); STORE(7, v7);                                          \
      p += (W);                                                                                        \
      o += 8;                                                                                          \
    }                                                                                                  \
  }                                                                                                    \
  break;

#define STORE(j, v) o[j] = d[v]
static i64 gather_groups_u64(const u8 *p, int w, i64 g, u64 *o, const u64 *d, i64 dn1) {
  i64 bad = 0;
  u64 v0, v1, v2, v3, v4, v5, v6, v7;
  switch (w) { CASES_32(DG) default: break; }
  return bad;
}
static i64 gather_groups_u32(const u8 *p, int w, i64 g, unsigned *o, const unsigned *d, i64 dn1) {
  i64 bad = 0;
  u64 v0, v1, v2, v3, v4, v5, v6, v7;
  switch (w) { CASES_32(DG) default: break; }
  return bad;
}
#undef STORE
#define STORE(j, v) o[j] = (int)(v)
static i64 code_groups(const u8 *p, int w, i64 g, int *o, i64 dn1) {
  i64 bad = 0;
  u64 v0, v1, v2, v3, v4, v5, v6, v7;
  switch (w) { CASES_32(DG) default: break; }
  return bad;
}
#undef STORE

/* Entries a fixed-width dictionary buffer holds for indices of width w to be gathered unchecked. */
static i64 padded_entries(i64 n) {
  i64 pad = 1;
  while (pad < n && pad < ((i64)1 << 20)) pad <<= 1;
  return pad > n ? pad : n;
}

/* Gives up on runs (the host asks again for codes). */
static int no_runs(ctx *c) {
  c->no_runs = 1;
  return -1;
}

/* Run records (see ctx.runs) of indices [skip, skip + take) of a dictionary-encoded page, for rows from `at`. */
static int dict_runs(ctx *c, const u8 *p, const u8 *end, i64 values, i64 skip, i64 take, i64 at) {
  hybrid h;
  int w;
  i64 cap = c->values_cap / 32;
  if (p < c->chunk || p >= c->chunk + c->len) return no_runs(c); /* decompressed: scratch is reused */
  if (p >= end) return fail(c, "dictionary indices: no bit width");
  w = *p++;
  if (w > 32) return fail_n(c, "dictionary indices: bit width ", w, " > 32");
  hybrid_init(&h, p, end, w, values);
  if (hybrid_skip(c, &h, skip, "dictionary indices")) return -1;
  /* Each run's header is found by reading the one before: a chain of cache misses through pages
     nothing else reads. Most runs are bit-packed and as long as a run gets (63 groups of 8 codes, a
     one-byte header), so the headers RUNS_AHEAD runs on are fetched at that stride as we go. */
  i64 stride = 63 * (i64)w + 1, k;
  for (k = 1; k < RUNS_AHEAD; k++) PREFETCH(h.p + k * stride);
  while (take > 0) {
    i64 *r;
    if (h.n == 0) {
      PREFETCH(h.p + RUNS_AHEAD * stride);
      if (next_run(c, &h, "dictionary indices")) return -1;
    }
    i64 t = h.n < take ? h.n : take;
    if (c->nruns >= cap) return no_runs(c);
    r = (i64 *)c->values + 4 * c->nruns++;
    r[0] = at;
    if (h.kind == 1 || w == 0) {
      u64 v = h.kind == 1 ? h.val : 0;
      if ((i64)v >= c->dict_n) return fail_nn(c, "dictionary index ", (i64)v, " ≥ dictionary size ", c->dict_n, "");
      r[1] = 0; r[2] = (i64)v; r[3] = 0;
    } else {
      r[1] = w; r[2] = (i64)h.bp; r[3] = h.pos;
      h.pos += t;
    }
    h.n -= t;
    take -= t;
    at += t;
  }
  return 0;
}

/* How a dictionary-encoded page's indices are read into values (dict_take): fixed per page. */
typedef struct {
  int w, as_codes, fused, checked;
} dict_read;

/* The next `take` indices of h, as values (or codes) at output rows [at, at + take). */
static int dict_take(ctx *c, hybrid *hp, const dict_read *dr, i64 take, i64 at) {
  hybrid h = *hp;
  u64 tmp[CHUNK_VALUES];
  int w = dr->w, as_codes = dr->as_codes, fused = dr->fused, checked = dr->checked;
  while (take > 0) {
    if (h.n == 0 && next_run(c, &h, "dictionary indices")) return -1;
    i64 t = h.n < take ? h.n : take;
    if (h.kind == 1) {
      /* a run of no values gives no index to check, as the reference and arrow-rs read it */
      if (t > 0 && (i64)h.val >= c->dict_n) return fail_nn(c, "dictionary index ", (i64)h.val, " ≥ dictionary size ", c->dict_n, "");
      switch (as_codes ? T_BYTE_ARRAY : c->type) {
      case T_BYTE_ARRAY: FILL(int, (int)h.val) break;
      case T_BOOLEAN: FILL(u8, c->dict[h.val]) break;
      case T_INT32: case T_FLOAT: FILL(unsigned, ((const unsigned *)c->dict)[h.val]) break;
      default: FILL(u64, ((const u64 *)c->dict)[h.val]) break;
      }
      at += t;
    } else {
      i64 done = 0;
      /* whole groups straight from the run, fused: unpack, check, gather */
      if (fused) {
        while (done < t && (h.pos & 7)) {
          u64 v = bits_at(h.bp, h.pos, w);
          if ((i64)v >= c->dict_n) return fail_nn(c, "dictionary index ", (i64)v, " ≥ dictionary size ", c->dict_n, "");
          switch (as_codes ? T_BYTE_ARRAY : c->type) {
          case T_BYTE_ARRAY: ((int *)c->values)[at] = (int)v; break;
          case T_INT32: case T_FLOAT: ((unsigned *)c->values)[at] = ((const unsigned *)c->dict)[v]; break;
          default: ((u64 *)c->values)[at] = ((const u64 *)c->dict)[v]; break;
          }
          h.pos++; done++; at++;
        }
        {
          const u8 *q = h.bp + (h.pos >> 3) * w;
          i64 fast = fast_groups(q, h.end, w, (t - done) >> 3), bad;
          switch (as_codes ? T_BYTE_ARRAY : c->type) {
          case T_BYTE_ARRAY: bad = code_groups(q, w, fast, (int *)c->values + at, c->dict_n - 1); break;
          case T_INT32: case T_FLOAT: bad = gather_groups_u32(q, w, fast, (unsigned *)c->values + at, (const unsigned *)c->dict, c->dict_n - 1); break;
          default: bad = gather_groups_u64(q, w, fast, (u64 *)c->values + at, (const u64 *)c->dict, c->dict_n - 1); break;
          }
          if (bad < 0) {
            i64 i;
            for (i = 0; i < fast * 8 && (i64)bits_at(h.bp, h.pos + i, w) < c->dict_n; i++) {}
            return fail_nn(c, "dictionary index ", (i64)bits_at(h.bp, h.pos + i, w), " ≥ dictionary size ", c->dict_n, "");
          }
          h.pos += fast * 8; done += fast * 8; at += fast * 8;
        }
      }
      while (done < t) {
        i64 m = t - done < CHUNK_VALUES ? t - done : CHUNK_VALUES, i;
        unpack(h.bp, h.end, h.pos, m, w, tmp);
        if (checked) {
          i64 bad = 0, dn1 = c->dict_n - 1;
          for (i = 0; i < m; i++) bad |= dn1 - (i64)tmp[i];
          if (bad < 0) {
            for (i = 0; i < m && (i64)tmp[i] < c->dict_n; i++) {}
            return fail_nn(c, "dictionary index ", (i64)tmp[i], " ≥ dictionary size ", c->dict_n, "");
          }
        }
        switch (as_codes ? T_BYTE_ARRAY : c->type) {
        case T_BYTE_ARRAY: { int *o = (int *)c->values + at; for (i = 0; i < m; i++) o[i] = (int)tmp[i]; } break;
        case T_BOOLEAN: GATHER(u8, c->dict) break;
        case T_INT32: case T_FLOAT: GATHER(unsigned, c->dict) break;
        default: GATHER(u64, c->dict) break;
        }
        h.pos += m;
        done += m;
        at += m;
      }
    }
    h.n -= t;
    take -= t;
  }
  *hp = h;
  return 0;
}

/*
 * The valid rows from r on (before `end`): the first at or after r in *q, and the end of its run
 * returned (*q == end: none left). Nulls are rare: whole bytes of valid rows are passed at once.
 */
static i64 valid_run(const u8 *bits, i64 r, i64 end, i64 *q) {
  while (r < end && !((bits[r >> 3] >> (r & 7)) & 1)) r++;
  *q = r;
  while (r < end && (r & 7)) {
    if (!((bits[r >> 3] >> (r & 7)) & 1)) return r;
    r++;
  }
  while (r + 8 <= end && bits[r >> 3] == 0xff) r += 8;
  while (r < end && ((bits[r >> 3] >> (r & 7)) & 1)) r++;
  return r;
}

/*
 * Values [skip, skip + take) of a dictionary-encoded page's `values` indices, to output rows
 * [at, at + rows): with nulls among them (rows > take), each run of valid rows (the validity bits
 * are set) takes its values where it lies and a null row is 0. Decoded together and then spread,
 * every value after a page's first null moved: ~0.54 GB a bench run over data/m50-packed, whose
 * price, bp0 and sp0 have a null every ~16k rows.
 */
static int dict_values(ctx *c, const u8 *p, const u8 *end, i64 values, i64 skip, i64 take, i64 at, i64 rows) {
  hybrid h;
  dict_read dr;
  int w;
  if (p >= end) return fail(c, "dictionary indices: no bit width");
  w = *p++;
  if (w > 32) return fail_n(c, "dictionary indices: bit width ", w, " > 32");
  hybrid_init(&h, p, end, w, values);
  if (hybrid_skip(c, &h, skip, "dictionary indices")) return -1;
  dr.w = w;
  dr.as_codes = c->type == T_BYTE_ARRAY || c->codes;
  /* the fused pass reads d[index] before the check: the buffer must hold 2^w entries */
  dr.fused = w > 0 && w <= FAST_W && (dr.as_codes || (c->type != T_BOOLEAN && (c->dict_cap / c->width) >> w >= 1));
  /* indices below 2^w need no check when the dictionary holds 2^w values */
  dr.checked = w >= 32 || c->dict_n < ((i64)1 << w);
  if (rows == take) return dict_take(c, &h, &dr, take, at);
  {
    i64 r = at, stop = at + rows, q, e, left = take;
    while (r < stop) {
      e = valid_run(c->validity, r, stop, &q);
      zero_bytes(c->values + r * c->vwidth, (q - r) * c->vwidth);
      if (e > q) {
        if (e - q > left) return fail(c, "internal: more valid rows than values");
        if (dict_take(c, &h, &dr, e - q, q)) return -1;
        left -= e - q;
      }
      r = e;
    }
    if (left != 0) return fail(c, "internal: fewer valid rows than values");
  }
  return 0;
}

/* ---- DELTA_BINARY_PACKED ---- */

static u64 delta_groups64(const u8 *p, int w, i64 g, long long *o, u64 cur, u64 md);
static unsigned delta_groups32(const u8 *p, int w, i64 g, int *o, unsigned cur, unsigned md);

static int delta_values(ctx *c, const u8 *p, const u8 *end, i64 values, i64 skip, i64 take, i64 at) {
  u64 block, mbs, total, tmp[CHUNK_VALUES];
  i64 first, vpm, k, need = skip + take;
  int is64 = c->type == T_INT64, maxw = is64 ? 64 : 32;
  if (uvarint(&p, end, &block) || uvarint(&p, end, &mbs) || uvarint(&p, end, &total) || zvarint(&p, end, &first))
    return fail(c, "DELTA_BINARY_PACKED: truncated header");
  if (block == 0 || block % 128 || block > (1 << 24)) return fail_n(c, "DELTA_BINARY_PACKED: block size ", (i64)block, " out of range");
  if (mbs == 0 || block % mbs || (block / mbs) % 32)
    return fail_n(c, "DELTA_BINARY_PACKED: ", (i64)mbs, " miniblocks do not divide a block into multiples of 32");
  if ((i64)total != values || total > 0xffffffffULL)
    return fail_nn(c, "DELTA_BINARY_PACKED: header holds ", (i64)total, " values, the levels say ", values, "");
  if (need == 0) return 0;
  vpm = (i64)(block / mbs);
  u64 cur = (u64)first;
  unsigned cur32 = (unsigned)first;
  long long *o64 = (long long *)c->values + at - skip; /* value k goes to o[k] for k ≥ skip */
  int *o32 = (int *)c->values + at - skip;
  if (skip == 0) { if (is64) o64[0] = (long long)cur; else o32[0] = (int)cur32; }
  k = 1;
  while (k < need) {
    i64 mind;
    const u8 *widths;
    i64 i;
    if (zvarint(&p, end, &mind)) return fail(c, "DELTA_BINARY_PACKED: truncated block header");
    if ((i64)(end - p) < (i64)mbs) return fail(c, "DELTA_BINARY_PACKED: truncated bit widths");
    widths = p;
    p += mbs;
    for (i = 0; i < (i64)mbs && k < need; i++) {
      int w = widths[i];
      i64 m = need - k < vpm ? need - k : vpm, nb = vpm * w / 8, done = 0;
      if (w > maxw) return fail_nn(c, "DELTA_BINARY_PACKED: bit width ", w, " > ", maxw, "");
      if (nb > end - p) {
        /* the last miniblock may stop at its last value's byte */
        if ((m * w + 7) / 8 > end - p) return fail(c, "DELTA_BINARY_PACKED: miniblock runs past the page");
        nb = (i64)(end - p);
      }
      if (k >= skip && w >= 1 && w <= (is64 ? FAST_W64 : FAST_W)) {
        /* whole groups in the window: unpacked and added up in one pass */
        i64 fast = fast_groups(p, end, w, m >> 3);
        if (is64) cur = delta_groups64(p, w, fast, o64 + k, cur, (u64)mind);
        else cur32 = delta_groups32(p, w, fast, o32 + k, cur32, (unsigned)mind);
        done = fast * 8;
        k += done;
      }
      while (done < m) {
        i64 n = m - done < CHUNK_VALUES ? m - done : CHUNK_VALUES, j = 0, quiet;
        unpack(p, end, done, n, w, tmp);
        /* values before the window only add up */
        quiet = skip - k > 0 ? (skip - k < n ? skip - k : n) : 0;
        if (is64) {
          u64 md = (u64)mind;
          for (; j < quiet; j++) cur += md + tmp[j];
          for (; j < n; j++) { cur += md + tmp[j]; o64[k + j] = (long long)cur; }
        } else {
          unsigned md = (unsigned)mind;
          for (; j < quiet; j++) cur32 += md + (unsigned)tmp[j];
          for (; j < n; j++) { cur32 += md + (unsigned)tmp[j]; o32[k + j] = (int)cur32; }
        }
        done += n;
        k += n;
      }
      p += nb;
    }
  }
  return 0;
}


/*
 * g groups of 8 deltas of width W at p, added up from cur into o (wrapping in 64 or 32 bits). Two
 * deltas a step: TinyCC keeps `cur` in memory, and a store then a load of it per value was the
 * loop's critical path; per pair it is half as long. DX(j) is delta j plus the block's minimum.
 */
#define DX(W, j) (md + PACKED(W, j))
#define DD(W)                                                                                          \
  {                                                                                                    \
    for (; g > 0; g--) {                                                                               \
      a = DX(W, 0); b = DX(W, 1); o[0] = (T)(cur + a); cur = cur + a + b; o[1] = (T)cur;               \
      a = DX(W, 2); b = DX(W, 3); o[2] = (T)(cur + a); cur = cur + a + b; o[3] = (T)cur;               \
      a = DX(W, 4); b = DX(W, 5); o[4] = (T)(cur + a); cur = cur + a + b; o[5] = (T)cur;               \
      a = DX(W, 6); b = DX(W, 7); o[6] = (T)(cur + a); cur = cur + a + b; o[7] = (T)cur;               \
      p += (W);                                                                                        \
      o += 8;                                                                                          \
    }                                                                                                  \
  }                                                                                                    \
  break;

#define T long long
static u64 delta_groups64(const u8 *p, int w, i64 g, long long *o, u64 cur, u64 md) {
  u64 a, b;
  switch (w) {
  CASES_32(DD)
  CASES_WIDE(DD)
  default: break;
  }
  return cur;
}
#undef T
#define T int
static unsigned delta_groups32(const u8 *p, int w, i64 g, int *o, unsigned cur, unsigned md) {
  unsigned a, b;
  switch (w) { CASES_32(DD) default: break; }
  return cur;
}
#undef T
#undef DX
#undef PACKED
#undef MASK
/* ---- PLAIN ---- */

static int plain_strings(ctx *c, const u8 *p, const u8 *end, i64 skip, i64 take, i64 at);

static int plain_values(ctx *c, const u8 *p, const u8 *end, i64 values, i64 skip, i64 take, i64 at) {
  i64 bytes = (i64)(end - p), i;
  if (c->type == T_BYTE_ARRAY) return plain_strings(c, p, end, skip, take, at);
  if (c->type == T_BOOLEAN) {
    if ((values + 7) / 8 > bytes) return fail_nn(c, "PLAIN: ", values, " booleans in ", bytes, " bytes");
    for (i = 0; i < take; i++) c->values[at + i] = (p[(skip + i) >> 3] >> ((skip + i) & 7)) & 1;
    return 0;
  }
  if (values > bytes / c->width) return fail_nn(c, "PLAIN: ", values, " values in ", bytes, " bytes");
  copy_bytes(c->values + at * c->width, p + skip * c->width, take * c->width);
  return 0;
}

static unsigned hash_bytes(const u8 *s, i64 n) {
  unsigned h = 2166136261u;
  i64 i;
  for (i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
  return h;
}

/* The code of string s (added when new); -1 when a buffer is short (the sizes checked up front prevent it). */
static int intern(ctx *c, const u8 *s, i64 n, int add) {
  int *offs = (int *)c->dict;
  i64 mask = c->hash_cap - 1, i = hash_bytes(s, n) & mask, probe;
  for (probe = 0; probe < c->hash_cap; probe++, i = (i + 1) & mask) {
    int e = c->hash[i];
    if (e < 0) {
      if (!add) return -1;
      if ((c->entries + 2) * 4 > c->dict_cap || c->str_used + n > c->str_cap) return -1;
      copy_bytes(c->str + c->str_used, s, n);
      c->str_used += n;
      offs[c->entries + 1] = (int)c->str_used;
      c->hash[i] = (int)c->entries;
      return (int)c->entries++;
    }
    if (offs[e + 1] - offs[e] == n) {
      const u8 *t = c->str + offs[e];
      i64 k = 0;
      while (k < n && t[k] == s[k]) k++;
      if (k == n) return e;
    }
  }
  return -1;
}

static int plain_strings(ctx *c, const u8 *p, const u8 *end, i64 skip, i64 take, i64 at) {
  int *o = (int *)c->values + at;
  i64 i;
  if (!c->hash_ready) {
    int *offs = (int *)c->dict;
    for (i = 0; i < c->hash_cap; i++) c->hash[i] = -1;
    /* the dictionary page's strings first, so equal plain values share their codes */
    for (i = 0; i < c->entries; i++) {
      const u8 *s = c->str + offs[i];
      i64 n = offs[i + 1] - offs[i], mask = c->hash_cap - 1, j = hash_bytes(s, n) & mask, probe;
      for (probe = 0; probe < c->hash_cap && c->hash[j] >= 0; probe++) j = (j + 1) & mask;
      c->hash[j] = (int)i;
    }
    c->hash_ready = 1;
  }
  for (i = 0; i < skip + take; i++) {
    i64 n;
    if (end - p < 4) return fail(c, "PLAIN: string length past the page");
    n = LD32(p);
    p += 4;
    if (n > end - p) return fail_n(c, "PLAIN: string of ", n, " bytes past the page");
    if (i >= skip) {
      int code = intern(c, p, n, 1);
      if (code < 0) return fail(c, "internal: string buffers short");
      o[i - skip] = code;
    }
    p += n;
  }
  return 0;
}

/* ---- pages ---- */

typedef struct {
  i64 at, body, next; /* header offset, body offset, next page offset */
  int type;
  i64 unc, comp;
  int has_v1, has_dict, has_v2;
  i64 num_values, v1_enc, v1_def_enc;
  i64 dict_values, dict_enc;
  i64 v2_values, v2_nulls, v2_rows, v2_enc, v2_def_len, v2_rep_len;
  int v2_compressed;
} page;

/* Page headers are walked by the footer walks' cursor; their nesting bound is the reference's. */
#define TP_THRIFT_MAX_DEPTH 32
#include "../thrift-cursor.h"

/* An i32 field: out of int32's range is garbling. */
static i64 ci32(cur *c) {
  i64 v = zigzag(c);
  if (v < -2147483648LL || v > 2147483647LL) c->bad = 1;
  return v;
}

#define IS_I32(t) ((t) == 5)

/* A page header at c->at: its fields in *pg. */
static int page_header(ctx *x, cur *c, page *pg) {
  int id = 0, t, seen_type = 0, seen_unc = 0, seen_comp = 0, seen_v1 = 0, seen_dict = 0, seen_v2 = 0;
  zero_bytes((u8 *)pg, sizeof(page));
  pg->at = c->at;
  pg->v2_compressed = 1;
  while ((t = field(c, &id)) != 0 && !c->bad) {
    if (id == 1 && IS_I32(t)) { pg->type = (int)ci32(c); seen_type = 1; }
    else if (id == 2 && IS_I32(t)) { pg->unc = ci32(c); seen_unc = 1; }
    else if (id == 3 && IS_I32(t)) { pg->comp = ci32(c); seen_comp = 1; }
    else if ((id == 5 || id == 7 || id == 8) && t == 12) {
      int sid = 0, st;
      if (id == 5) pg->has_v1 = 1;
      if (id == 7) pg->has_dict = 1;
      if (id == 8) pg->has_v2 = 1;
      while ((st = field(c, &sid)) != 0 && !c->bad) {
        if (id == 5 && IS_I32(st) && sid >= 1 && sid <= 4) {
          i64 v = ci32(c);
          seen_v1 |= 1 << sid;
          if (sid == 1) pg->num_values = v;
          else if (sid == 2) pg->v1_enc = v;
          else if (sid == 3) pg->v1_def_enc = v;
        } else if (id == 7 && IS_I32(st) && sid <= 2) {
          i64 v = ci32(c);
          if (sid >= 1) seen_dict |= 1 << sid;
          if (sid == 1) pg->dict_values = v;
          else if (sid == 2) pg->dict_enc = v;
        } else if (id == 8 && IS_I32(st) && sid >= 1 && sid <= 6) {
          i64 v = ci32(c);
          seen_v2 |= 1 << sid;
          if (sid == 1) pg->v2_values = v;
          else if (sid == 2) pg->v2_nulls = v;
          else if (sid == 3) pg->v2_rows = v;
          else if (sid == 4) pg->v2_enc = v;
          else if (sid == 5) pg->v2_def_len = v;
          else pg->v2_rep_len = v;
        } else if (id == 8 && sid == 7 && (st == 1 || st == 2)) {
          pg->v2_compressed = st == 1;
        } else skip(c, st, 0, 2);
      }
    } else skip(c, t, 0, 1);
  }
  if (c->bad) return fail(x, "garbled or truncated page header");
  if (!seen_type || !seen_unc || !seen_comp) return fail(x, "page header without its type or sizes");
  /* required fields: read as 0 when missing, a flipped field header would turn a DELTA or dictionary page into PLAIN */
  if ((pg->has_v1 && (seen_v1 & 6) != 6) || (pg->has_dict && (seen_dict & 6) != 6) || (pg->has_v2 && (seen_v2 & 126) != 126))
    return fail(x, "page header without its num_values, encoding or level lengths");
  pg->body = c->at;
  if (pg->unc < 0 || pg->comp < 0) return fail_nn(x, "negative page size (", pg->comp, " compressed, ", pg->unc, " uncompressed)");
  if (pg->comp > x->len - pg->body) return fail_nn(x, "page of ", pg->comp, " bytes runs past the chunk's ", x->len - pg->body, " remaining bytes");
  pg->next = pg->body + pg->comp;
  return 0;
}

/* Frame_Content_Size of the zstd frame at p, or -1 when the frame does not say. */
static i64 zstd_content_size(const u8 *p, i64 n) {
  int d, fcs, single, did, at;
  i64 v = 0, k;
  if (n < 6 || LD32(p) != 0xFD2FB528u) return -1;
  d = p[4];
  fcs = d >> 6;
  single = (d >> 5) & 1;
  did = d & 3;
  at = 5 + (single ? 0 : 1) + (did == 3 ? 4 : did);
  int size = fcs == 0 ? (single ? 1 : 0) : fcs == 1 ? 2 : fcs == 2 ? 4 : 8;
  if (size == 0 || at + size > n) return -1;
  for (k = 0; k < size; k++) v |= (i64)p[at + k] << (8 * k);
  if (size == 2) v += 256;
  return v;
}

/* The page's value bytes (and, v2, its levels in place), decompressed into scratch when they are compressed. */
static int page_bytes(ctx *c, const page *pg, const u8 **out, i64 *out_len) {
  const u8 *src = c->chunk + pg->body;
  i64 comp = pg->comp, unc = pg->unc;
  int compressed = c->codec != 0;
  if (pg->type == 3) {
    src += pg->v2_def_len;
    comp -= pg->v2_def_len;
    unc -= pg->v2_def_len;
    compressed = compressed && pg->v2_compressed;
  }
  if (!compressed) { *out = src; *out_len = comp; return 0; }
  if (!c->zstd || !c->zstd[Z_DECOMPRESS] || !c->zstd[Z_ISERROR]) return fail(c, "ZSTD page, and libzstd is not available");
  if (unc > c->scratch_cap) return fail(c, "internal: scratch short");
  if (!c->zstd[Z_DCTX]) {
    if (!c->zstd[Z_CREATE]) return fail(c, "no ZSTD_createDCtx");
    c->zstd[Z_DCTX] = ((zstd_create_fn)c->zstd[Z_CREATE])();
    if (!c->zstd[Z_DCTX]) return fail(c, "ZSTD_createDCtx failed");
  }
  u64 r = ((zstd_decompress_fn)c->zstd[Z_DECOMPRESS])(c->zstd[Z_DCTX], c->scratch, (u64)unc, src, (u64)comp);
  if (((zstd_iserror_fn)c->zstd[Z_ISERROR])(r)) {
    fail(c, "ZSTD: ");
    if (c->zstd[Z_ERRNAME]) say(c, ((zstd_errname_fn)c->zstd[Z_ERRNAME])(r));
    else say(c, "decompression failed");
    return -1;
  }
  if ((i64)r != unc) return fail_nn(c, "ZSTD page decompressed to ", (i64)r, " bytes, its header says ", unc, "");
  *out = c->scratch;
  *out_len = unc;
  return 0;
}

static int load_dictionary(ctx *c, const page *pg) {
  const u8 *p;
  i64 n, i;
  if (page_bytes(c, pg, &p, &n)) return -1;
  c->dict_n = pg->dict_values;
  if (c->type == T_BYTE_ARRAY) {
    int *offs = (int *)c->dict;
    const u8 *end = p + n;
    offs[0] = 0;
    for (i = 0; i < c->dict_n; i++) {
      i64 len;
      if (end - p < 4) return fail(c, "dictionary: string length past the page");
      len = LD32(p);
      p += 4;
      if (len > end - p) return fail_n(c, "dictionary: string of ", len, " bytes past the page");
      if (c->str_used + len > c->str_cap || (i + 2) * 4 > c->dict_cap) return fail(c, "internal: dictionary buffers short");
      copy_bytes(c->str + c->str_used, p, len);
      c->str_used += len;
      offs[i + 1] = (int)c->str_used;
      p += len;
    }
    c->entries = c->dict_n;
    return 0;
  }
  if (c->type == T_BOOLEAN) {
    if ((c->dict_n + 7) / 8 > n) return fail_nn(c, "dictionary of ", c->dict_n, " booleans in ", n, " bytes");
    for (i = 0; i < c->dict_n; i++) c->dict[i] = (p[i >> 3] >> (i & 7)) & 1;
    return 0;
  }
  if (c->dict_n > n / c->width) return fail_nn(c, "dictionary of ", c->dict_n, " values in ", n, " bytes");
  c->entries = c->dict_n;
  /* runs read it where it lies: the page is uncompressed and outlives the call */
  if (c->runs) c->dict_at = p;
  else copy_bytes(c->dict, p, c->dict_n * c->width);
  return 0;
}

/* Rows [a, b) of a data page of `rows` rows, to output rows from `out`. */
static int data_page(ctx *c, const page *pg, i64 rows, i64 a, i64 b, i64 out) {
  const u8 *p, *end, *lv = 0, *lv_end = 0;
  i64 n, before = a, inside = b - a, after = rows - b; /* a required column: every row a value */
  int enc = (int)(pg->type == 3 ? pg->v2_enc : pg->v1_enc);
  if (page_bytes(c, pg, &p, &n)) return -1;
  end = p + n;
  if (c->maxdef) {
    if (pg->type == 3) {
      lv = c->chunk + pg->body;
      lv_end = lv + pg->v2_def_len;
    } else {
      i64 len;
      if (n < 4) return fail(c, "definition levels' length past the page");
      len = LD32(p);
      if (len > n - 4) return fail_n(c, "definition levels of ", len, " bytes run past the page");
      lv = p + 4;
      lv_end = lv + len;
      p = lv_end;
    }
    if (def_levels(c, lv, lv_end, rows, a, b, out, &before, &inside, &after)) return -1;
    if (pg->type == 3 && pg->v2_nulls != rows - before - inside - after)
      return fail_nn(c, "header says ", pg->v2_nulls, " nulls, the levels ", rows - before - inside - after, "");
    c->nulls += (b - a) - inside;
  }
  i64 values = before + inside + after;
  int r;
  if (c->runs) {
    /* a null in the window would part rows from values */
    if (inside != b - a || !(enc == E_RLE_DICTIONARY || enc == E_PLAIN_DICTIONARY)) return no_runs(c);
    return dict_runs(c, p, end, values, before, inside, out);
  }
  if (enc == E_RLE_DICTIONARY || enc == E_PLAIN_DICTIONARY)
    return dict_values(c, p, end, values, before, inside, out, b - a);
  else if (c->codes) {
    /* decoded onto the dictionary's end, each value its own code (the sizes checked up front) */
    u8 *keep = c->values;
    i64 e = c->entries, i;
    if ((e + inside) * c->width > c->dict_cap) return fail(c, "internal: dictionary buffer short");
    c->values = c->dict + e * c->width;
    r = enc == E_PLAIN ? plain_values(c, p, end, values, before, inside, 0) : delta_values(c, p, end, values, before, inside, 0);
    c->values = keep;
    if (!r) {
      int *o = (int *)c->values + out;
      for (i = 0; i < inside; i++) o[i] = (int)(e + i);
      c->entries = e + inside;
    }
  } else if (enc == E_PLAIN) r = plain_values(c, p, end, values, before, inside, out);
  else r = delta_values(c, p, end, values, before, inside, out);
  if (r) return -1;
  if (c->maxdef) spread(c, out, inside, b - a);
  return 0;
}

/* Why the page cannot be decoded here, or 0. */
static int check_page(ctx *c, const page *pg, int *dict_seen, int *data_seen) {
  int codec_compresses = c->codec != 0;
  if (pg->type == 2) {
    if (!pg->has_dict) return fail(c, "dictionary page without its header");
    if (*dict_seen) return fail(c, "a second dictionary page");
    if (*data_seen) return fail(c, "dictionary page after a data page");
    if (pg->dict_enc != E_PLAIN && pg->dict_enc != E_PLAIN_DICTIONARY) return fail_encoding(c, "dictionary page: ", (int)pg->dict_enc);
    if (pg->dict_values < 0) return fail_n(c, "dictionary of ", pg->dict_values, " values");
    if (!codec_compresses && pg->unc != pg->comp) return fail_nn(c, "uncompressed page of ", pg->comp, " bytes says ", pg->unc, " uncompressed");
    *dict_seen = 1;
    return 0;
  }
  if (pg->type == 0) {
    if (!pg->has_v1) return fail(c, "data page without its header");
    if (pg->num_values < 0) return fail_n(c, "data page of ", pg->num_values, " values");
    if (c->maxdef && pg->v1_def_enc != E_RLE) return fail_encoding(c, "definition levels: ", (int)pg->v1_def_enc);
    if (!codec_compresses && pg->unc != pg->comp) return fail_nn(c, "uncompressed page of ", pg->comp, " bytes says ", pg->unc, " uncompressed");
  } else if (pg->type == 3) {
    if (!pg->has_v2) return fail(c, "data page v2 without its header");
    if (pg->v2_rows < 0 || pg->v2_nulls < 0 || pg->v2_nulls > pg->v2_rows) return fail_nn(c, "data page v2 of ", pg->v2_rows, " rows and ", pg->v2_nulls, " nulls");
    if (pg->v2_rep_len != 0) return fail(c, "repetition levels (a nested column) are not supported");
    if (pg->v2_def_len < 0 || pg->v2_def_len > pg->comp || pg->v2_def_len > pg->unc) return fail_n(c, "definition levels of ", pg->v2_def_len, " bytes run past the page");
    if (!c->maxdef && pg->v2_def_len != 0) return fail(c, "definition levels in a required column");
    if (!c->maxdef && pg->v2_nulls != 0) return fail(c, "nulls in a required column");
    if ((!codec_compresses || !pg->v2_compressed) && pg->unc != pg->comp) return fail_nn(c, "uncompressed page of ", pg->comp, " bytes says ", pg->unc, " uncompressed");
  } else if (pg->type == 1) return 0; /* an index page */
  else return fail_n(c, "page type ", pg->type, " is not supported");
  {
    int enc = (int)(pg->type == 3 ? pg->v2_enc : pg->v1_enc);
    *data_seen = 1;
    if (enc == E_PLAIN_DICTIONARY || enc == E_RLE_DICTIONARY) {
      if (!*dict_seen) return fail(c, "dictionary-encoded data page before the dictionary page");
    } else if (enc == E_DELTA_BINARY_PACKED) {
      if (c->type != T_INT32 && c->type != T_INT64) return fail_encoding(c, "values: ", enc);
    } else if (enc != E_PLAIN) return fail_encoding(c, "values: ", enc);
  }
  return 0;
}

static int decode_chunk(const unsigned char *chunk, long long len, long long *io, unsigned char *values, unsigned char *validity,
                        unsigned char *dict, unsigned char *str, int *hash, unsigned char *scratch, void **zstd, char *reason) {
  ctx c;
  cur hc;
  page pg, dict_pg;
  i64 rows = 0, wend, need_scratch = 0, need_str = 0, plain_strings_in_window = 0;
  int dict_seen = 0, data_seen = 0, dict_needed = 0, decoded_in_window = 0;
  zero_bytes((u8 *)&c, sizeof(ctx));
  zero_bytes((u8 *)&dict_pg, sizeof(page));
  c.chunk = chunk; c.len = len;
  c.type = (int)io[IO_TYPE]; c.maxdef = (int)io[IO_MAXDEF]; c.codec = (int)io[IO_CODEC];
  c.num_values = io[IO_NUMVALUES]; c.wstart = io[IO_START]; c.wcount = io[IO_COUNT];
  c.values = values; c.validity = validity; c.values_cap = io[IO_VALUES_CAP]; c.validity_cap = io[IO_VALIDITY_CAP];
  c.dict = dict; c.dict_cap = io[IO_DICT_CAP]; c.str = str; c.str_cap = io[IO_STR_CAP];
  c.hash = hash; c.hash_cap = io[IO_HASH_CAP]; c.scratch = scratch; c.scratch_cap = io[IO_SCRATCH_CAP];
  c.zstd = zstd; c.reason = reason; c.reason_cap = io[IO_REASON_CAP]; c.page_no = -1;
  io[IO_NULLS] = 0; io[IO_ENTRIES] = 0; io[IO_RUNS] = 0; io[IO_DICT_AT] = 0;
  switch (c.type) {
  case T_BOOLEAN: c.width = 1; break;
  case T_INT32: case T_FLOAT: case T_BYTE_ARRAY: c.width = 4; break;
  case T_INT64: case T_DOUBLE: c.width = 8; break;
  default: fail_n(&c, "physical type ", c.type, " is not supported"); return -1;
  }
  c.codes = io[IO_CODES] != 0 && c.type != T_BOOLEAN && c.type != T_BYTE_ARRAY;
  c.runs = c.codes && io[IO_CODES] == 2;
  c.vwidth = c.runs ? 8 : c.codes ? 4 : c.width;
  if (c.maxdef != 0 && c.maxdef != 1) { fail_n(&c, "max definition level ", c.maxdef, " is not supported"); return -1; }
  if (c.codec != 0 && c.codec != 6) { fail_n(&c, "compression codec ", c.codec, " is not supported"); return -1; }
  if (c.num_values < 0 || c.wstart < 0 || c.wcount < 0 || c.wstart > c.num_values || c.wcount > c.num_values - c.wstart) {
    fail_nn(&c, "rows [", c.wstart, ", ", c.wstart + c.wcount, ") are outside the chunk's ");
    say_num(&c, c.num_values);
    say(&c, " rows");
    return -1;
  }
  if (c.wcount * c.vwidth > c.values_cap || (c.maxdef && (c.wcount + 7) / 8 > c.validity_cap)) { fail(&c, "internal: value buffers short"); return -1; }
  wend = c.wstart + c.wcount;

  /* Pass 1: every page header checked, and the buffers the window needs sized. */
  hc.b = chunk; hc.n = len; hc.at = 0; hc.bad = 0;
  for (c.page_no = 0; hc.at < len; c.page_no++) {
    c.page_at = hc.at;
    if (page_header(&c, &hc, &pg) || check_page(&c, &pg, &dict_seen, &data_seen)) return -1;
    if (c.codec != 0 && (pg.type == 0 || pg.type == 2 || (pg.type == 3 && pg.v2_compressed))) {
      i64 lv = pg.type == 3 ? pg.v2_def_len : 0, fcs = zstd_content_size(chunk + pg.body + lv, pg.comp - lv);
      /* a zstd block holds at most 128 KiB in 4 bytes: a bound on what a garbled size may ask for */
      if (fcs >= 0 && fcs != pg.unc - lv) { fail_nn(&c, "ZSTD frame holds ", fcs, " bytes, the page header says ", pg.unc - lv, ""); return -1; }
      if (pg.unc - lv > (pg.comp - lv) * 32768) { fail_nn(&c, "page of ", pg.comp, " compressed bytes cannot hold ", pg.unc, ""); return -1; }
    }
    if (pg.type == 2) { dict_pg = pg; dict_pg.next = c.page_no; /* its number, for messages */ }
    if (pg.type == 0 || pg.type == 3) {
      i64 n = pg.type == 3 ? pg.v2_rows : pg.num_values;
      int enc = (int)(pg.type == 3 ? pg.v2_enc : pg.v1_enc);
      if (n > c.num_values - rows) { fail_n(&c, "pages hold more rows than the chunk's ", c.num_values, ""); return -1; }
      if (n > 0 && rows < wend && rows + n > c.wstart) {
        i64 body = pg.type == 3 ? pg.unc - pg.v2_def_len : pg.unc;
        if (c.codec != 0 && body > need_scratch) need_scratch = body;
        if (enc == E_PLAIN_DICTIONARY || enc == E_RLE_DICTIONARY) dict_needed = 1;
        else decoded_in_window = 1;
        if (enc == E_PLAIN && c.type == T_BYTE_ARRAY) { plain_strings_in_window = 1; need_str += body; }
      }
      rows += n;
    }
    hc.at = pg.next;
  }
  c.page_no = -1;
  if (rows != c.num_values) { fail_nn(&c, "pages hold ", rows, " rows, the chunk says ", c.num_values, ""); return -1; }
  /* runs point into the chunk's own pages: none decompressed, none decoded */
  if (c.runs && (c.codec != 0 || decoded_in_window)) return -3;
  {
    i64 need_dict = 0, need_hash = 0;
    if (dict_needed) {
      if (c.codec != 0 && dict_pg.unc > need_scratch) need_scratch = dict_pg.unc;
      if (c.type == T_BYTE_ARRAY) {
        if (dict_pg.dict_values > dict_pg.unc / 4) { c.page_no = dict_pg.next; c.page_at = dict_pg.at; fail_nn(&c, "dictionary of ", dict_pg.dict_values, " strings in ", dict_pg.unc, " bytes"); return -1; }
        need_str += dict_pg.unc;
      } else {
        if (c.type == T_BOOLEAN ? (dict_pg.dict_values + 7) / 8 > dict_pg.unc : dict_pg.dict_values > dict_pg.unc / c.width) { c.page_no = dict_pg.next; c.page_at = dict_pg.at; fail_nn(&c, "dictionary of ", dict_pg.dict_values, " values in ", dict_pg.unc, " bytes"); return -1; }
        need_dict = (c.type == T_BOOLEAN ? dict_pg.dict_values : padded_entries(dict_pg.dict_values)) * c.width;
      }
    }
    /* codes index the dictionary without a gather: no padding, room for the values decoded onto it; runs copy none */
    if (c.codes) need_dict = ((dict_needed ? dict_pg.dict_values : 0) + (decoded_in_window ? c.wcount : 0)) * c.width;
    if (c.runs) need_dict = 0;
    if (c.type == T_BYTE_ARRAY) {
      i64 entries = (dict_needed ? dict_pg.dict_values : 0) + (plain_strings_in_window ? c.wcount : 0);
      need_dict = (entries + 1) * 4;
      if (plain_strings_in_window) for (need_hash = 16; need_hash < 2 * entries; need_hash *= 2) {}
      if (need_str > MAX_STRINGS) { fail(&c, "strings of more than 2 GiB"); return -1; }
    }
    io[IO_NEED_DICT] = need_dict; io[IO_NEED_STR] = need_str; io[IO_NEED_HASH] = need_hash; io[IO_NEED_SCRATCH] = need_scratch;
    if (need_dict > c.dict_cap || need_str > c.str_cap || need_hash > c.hash_cap || need_scratch > c.scratch_cap) return -2;
    c.hash_cap = need_hash > 0 ? need_hash : 0;
  }

  /* Pass 2: the dictionary when the window needs it, then the pages holding the window's rows. */
  if (c.maxdef) zero_bytes(validity, (c.wcount + 7) / 8);
  if (c.type == T_BYTE_ARRAY) ((int *)dict)[0] = 0;
  hc.at = 0; rows = 0;
  for (c.page_no = 0; hc.at < len && rows < wend; c.page_no++) {
    c.page_at = hc.at;
    if (page_header(&c, &hc, &pg)) return -1;
    if (pg.type == 2 && dict_needed) { if (load_dictionary(&c, &pg)) return -1; }
    else if (pg.type == 0 || pg.type == 3) {
      i64 n = pg.type == 3 ? pg.v2_rows : pg.num_values;
      if (n > 0 && rows + n > c.wstart) {
        i64 a = c.wstart > rows ? c.wstart - rows : 0, b = wend - rows < n ? wend - rows : n;
        if (data_page(&c, &pg, n, a, b, rows + a - c.wstart)) return c.no_runs ? -3 : -1;
      }
      rows += n;
    }
    hc.at = pg.next;
  }
  io[IO_NULLS] = c.nulls;
  io[IO_ENTRIES] = c.type == T_BYTE_ARRAY || c.codes ? c.entries : 0;
  io[IO_RUNS] = c.nruns;
  io[IO_DICT_AT] = (i64)c.dict_at;
  return 0;
}

/*
 * The host's io block is doubles: the slots above (every value is below 2^53), then the buffers'
 * addresses (user-space addresses are below 2^48). JavaScript writes and reads them as plain
 * numbers and calls with three arguments, where eleven pointers and 64-bit slots (a BigInt a value)
 * made its binding the largest function the optimising JIT compiled in a run (measured).
 */
#define AT(k) ((void *)(unsigned long long)iod[k])
int tp_decode_chunk(const unsigned char *chunk, long long len, double *iod) {
  long long io[IO_SLOTS];
  int k, rc;
  for (k = 0; k < IO_SLOTS; k++) io[k] = (long long)iod[k];
  rc = decode_chunk(chunk, len, io, (unsigned char *)AT(IO_AT_VALUES), (unsigned char *)AT(IO_AT_VALIDITY),
                    (unsigned char *)AT(IO_AT_DICT), (unsigned char *)AT(IO_AT_STR), (int *)AT(IO_AT_HASH),
                    (unsigned char *)AT(IO_AT_SCRATCH), (void **)AT(IO_AT_ZSTD), (char *)AT(IO_AT_REASON));
  for (k = 0; k < IO_SLOTS; k++) iod[k] = (double)io[k];
  return rc;
}
#undef AT
