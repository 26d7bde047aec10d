/*
 * A Parquet footer's row-group statistics, found in place (lib/parquet/footer.ts; the TypeScript walk
 * there is the reference, and tests compare the two). Native because every bench worker walks its
 * partitions' footers (~113 KB of Thrift each at 64 columns), and the JIT compiling a JS walk in each
 * worker cost a short filtered run more than the walk itself (measured).
 *
 * Thrift compact protocol; FileMetaData: 4 row_groups, 5 key_value_metadata. RowGroup: 1 columns,
 * 3 num_rows. ColumnChunk: 3 meta_data. ColumnMetaData: 1 type, 3 path_in_schema, 12 statistics.
 * Statistics: 1 max, 2 min, 3 null_count, 5 max_value, 6 min_value.
 *
 * names: the wanted column paths, each followed by a NUL. out (long long), at most cap values:
 *   [groups, pairs, then per group: num_rows, then per wanted column (in `names` order) 6 values:
 *    physical type (-1: not found), null count (-1: unknown), min offset, min length, max offset,
 *    max length (-1 offsets: none; the current fields preferred, the legacy ones otherwise);
 *    then per key-value pair: key offset, key length, value offset, value length (-1: none)]
 * Offsets are into buf. Returns the values written, -1 for a malformed footer, -2 when cap is short.
 */

#include "thrift-cursor.h"

/* Index of the wanted name equal to buf[off, off+len), or -1. */
static int wanted(const char *names, long long nnames, const unsigned char *p, long long len) {
  long long k = 0, i = 0;
  while (i < nnames) {
    long long j = i;
    while (names[j]) j++;
    if (j - i == len) {
      long long m = 0;
      while (m < len && (unsigned char)names[i + m] == p[m]) m++;
      if (m == len) return (int)k;
    }
    i = j + 1;
    k++;
  }
  return -1;
}

long long tp_footer_stats(const unsigned char *buf, long long len, const char *names, long long names_len, long long ncols, long long *out, long long cap) {
  cur c = { buf, len, 0, 0 };
  long long w = 2, groups = 0, pairs = 0, i, j;
  int id = 0, type;
  /* Pairs come after the groups in the footer, but are written after them here too. */
  while ((type = field(&c, &id)) != 0) {
    if (id == 4 && type == 9) {
      if (pairs > 0) return -1; /* key-value pairs before the row groups: out's layout cannot say so */
      int elem;
      long long ng = list_header(&c, &elem);
      for (i = 0; i < ng && !c.bad; i++) {
        long long base = w;
        if (w + 1 + 6 * ncols > cap) return -2;
        out[w++] = 0;
        for (j = 0; j < 6 * ncols; j++) out[w++] = -1;
        int rid = 0, rtype;
        while ((rtype = field(&c, &rid)) != 0 && !c.bad) {
          if (rid == 3 && (rtype == 6 || rtype == 5)) { out[base] = zigzag(&c); continue; }
          if (rid != 1 || rtype != 9) { skip(&c, rtype, 0, 1); continue; }
          int celem;
          long long nc = list_header(&c, &celem);
          for (j = 0; j < nc && !c.bad; j++) {
            int cid = 0, ctype;
            while ((ctype = field(&c, &cid)) != 0 && !c.bad) {
              if (cid != 3 || ctype != 12) { skip(&c, ctype, 0, 2); continue; }
              /* ColumnMetaData: the path decides whether the rest is kept. */
              long long phys = -1, nulls = -1, mn = -1, mnl = 0, mx = -1, mxl = 0, lmn = -1, lmnl = 0, lmx = -1, lmxl = 0;
              unsigned char path[512];
              long long plen = 0;
              int have_stats = 0, mid = 0, mtype;
              while ((mtype = field(&c, &mid)) != 0 && !c.bad) {
                if (mid == 1 && mtype == 5) { phys = zigzag(&c); continue; }
                if (mid == 3 && mtype == 9) {
                  int pe;
                  long long np = list_header(&c, &pe), k;
                  for (k = 0; k < np && !c.bad; k++) {
                    long long l = (long long)varint(&c);
                    if (l < 0 || l > c.n - c.at) { c.bad = 1; break; }
                    if (k > 0 && plen < 512) path[plen++] = '.';
                    for (long long q = 0; q < l && plen < 512; q++) path[plen++] = c.b[c.at + q];
                    c.at += l;
                  }
                  continue;
                }
                if (mid == 12 && mtype == 12) {
                  int sid = 0, stype;
                  have_stats = 1;
                  while ((stype = field(&c, &sid)) != 0 && !c.bad) {
                    if (stype == 8 && (sid == 1 || sid == 2 || sid == 5 || sid == 6)) {
                      long long l = (long long)varint(&c);
                      if (l < 0 || l > c.n - c.at) { c.bad = 1; break; }
                      if (sid == 1) { lmx = c.at; lmxl = l; }
                      else if (sid == 2) { lmn = c.at; lmnl = l; }
                      else if (sid == 5) { mx = c.at; mxl = l; }
                      else { mn = c.at; mnl = l; }
                      c.at += l;
                      continue;
                    }
                    if (sid == 3 && stype == 6) { nulls = zigzag(&c); continue; }
                    skip(&c, stype, 0, 4);
                  }
                  continue;
                }
                skip(&c, mtype, 0, 3);
              }
              if (c.bad || plen >= 512) continue;
              int k = wanted(names, names_len, path, plen);
              if (k < 0 || !have_stats) continue;
              long long *o = out + base + 1 + 6 * k;
              o[0] = phys;
              o[1] = nulls;
              if (mn >= 0 && mx >= 0) { o[2] = mn; o[3] = mnl; o[4] = mx; o[5] = mxl; }
              else if (lmn >= 0 && lmx >= 0) { o[2] = lmn; o[3] = lmnl; o[4] = lmx; o[5] = lmxl; }
            }
          }
        }
        groups++;
      }
      continue;
    }
    if (id == 5 && type == 9) {
      int elem;
      long long np = list_header(&c, &elem);
      for (i = 0; i < np && !c.bad; i++) {
        long long ko = -1, kl = 0, vo = -1, vl = 0;
        int kid = 0, ktype;
        while ((ktype = field(&c, &kid)) != 0 && !c.bad) {
          if (ktype == 8 && (kid == 1 || kid == 2)) {
            long long l = (long long)varint(&c);
            if (l < 0 || l > c.n - c.at) { c.bad = 1; break; }
            if (kid == 1) { ko = c.at; kl = l; } else { vo = c.at; vl = l; }
            c.at += l;
            continue;
          }
          skip(&c, ktype, 0, 2);
        }
        if (ko < 0) continue;
        if (w + 4 > cap) return -2;
        out[w++] = ko; out[w++] = kl; out[w++] = vo; out[w++] = vl;
        pairs++;
      }
      continue;
    }
    skip(&c, type, 0, 1);
    if (c.bad) break;
  }
  if (c.bad) return -1;
  out[0] = groups;
  out[1] = pairs;
  return w;
}
