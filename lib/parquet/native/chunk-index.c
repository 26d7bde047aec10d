/*
 * Where a Parquet file's column chunks lie, found in place (lib/parquet/native/chunk-index.ts; the
 * TypeScript walk there is the reference, and tests compare the two). Native because every bench
 * worker walks each part file's footer (~120 KB of Thrift at 64 columns) on the cold path, and a JS
 * walk there is compiled by the JIT in each worker first.
 *
 * Thrift compact protocol; FileMetaData: 2 schema, 4 row_groups, 5 key_value_metadata.
 * SchemaElement: 1 type, 3 repetition_type, 4 name, 5 num_children, 6 converted_type, 10 logicalType
 * (a union: 8 TIMESTAMP {1 isAdjustedToUTC, 2 unit (union: 1 MILLIS, 2 MICROS, 3 NANOS)},
 * 10 INTEGER {1 bitWidth, 2 isSigned}, others looked at only for their id). RowGroup: 1 columns,
 * 3 num_rows. ColumnChunk: 1 file_path, 3 meta_data. ColumnMetaData: 2 encodings, 3 path_in_schema,
 * 4 codec, 5 num_values, 7 total_compressed_size, 9 data_page_offset, 11 dictionary_page_offset.
 *
 * names: the wanted column paths (parts joined by '.'), the k-th at bytes [offs[k], offs[k+1]) (offs
 * holds ncols + 1 values). out (long long):
 *   [elements, groups, pairs, values needed,
 *    per schema element 9 values: type, repetition, name offset, name length, num_children,
 *      converted type, logical type id, logical unit (TIMESTAMP: 1 ms 2 us 3 ns; INTEGER: bit width),
 *      logical flag (TIMESTAMP: adjusted to UTC; INTEGER: signed) (-1 where absent, flag 0,
 *      name offset -1 length 0);
 *    per row group: num_rows (0 where absent), then per wanted column (in `names` order) 8 values:
 *      position (0: not in the group, else 1 + the chunk's index in the group, the first one where a
 *      path repeats), codec (-1), num_values (0), total_compressed_size (0), data_page_offset (-1),
 *      dictionary_page_offset (-1), encodings as a bitmask (bit e: encoding e), external (file_path
 *      not empty, 0/1), the fields of the last chunk with that path;
 *    per key-value pair with a key: key offset, key length, value offset, value length (-1, 0: none)]
 * Offsets are into buf. Returns the values written; -1 for a malformed footer or anything this walk
 * does not take (a list of another element type, the sections out of order or repeated, an encoding
 * past 62, a number past 2^53: the TypeScript walk says what those hold); -2 when cap is short, the
 * values needed then in out[3] (cap is at least 4).
 */

#include "../thrift-cursor.h"

#define SCHEMA_VALUES 9
#define CHUNK_VALUES 8

/* An integer field that a JS number holds exactly (the reference reads it as one). */
static long long num(cur *c) {
  long long v = zigzag(c);
  if (v > 9007199254740992LL || v < -9007199254740992LL) c->bad = 1;
  return v;
}

/* A binary field's length, checked against the bytes left; the cursor is left at its bytes. */
static long long bytes_len(cur *c) {
  unsigned long long l = varint(c);
  if (c->bad || l > (unsigned long long)(c->n - c->at)) { c->bad = 1; return 0; }
  return (long long)l;
}

/* Fills e[6..8] from a LogicalType union. */
static void logical_type(cur *c, long long *e) {
  int id = 0, type;
  while ((type = field(c, &id)) != 0) {
    if (type != 12) { skip(c, type, 0, 4); continue; }
    e[6] = id;
    int fid = 0, ftype;
    while ((ftype = field(c, &fid)) != 0) {
      if (id == 8 && fid == 1 && (ftype == 1 || ftype == 2)) e[8] = ftype == 1;
      else if (id == 8 && fid == 2 && ftype == 12) {
        int uid = 0, utype;
        while ((utype = field(c, &uid)) != 0) {
          if (utype == 12) e[7] = uid;
          skip(c, utype, 0, 6);
        }
      } else if (id == 10 && fid == 1 && ftype == 3) e[7] = (signed char)byte_(c);
      else if (id == 10 && fid == 2 && (ftype == 1 || ftype == 2)) e[8] = ftype == 1;
      else skip(c, ftype, 0, 5);
    }
  }
}

static void schema_element(cur *c, long long *e) {
  int id = 0, type;
  e[0] = -1; e[1] = -1; e[2] = -1; e[3] = 0; e[4] = 0; e[5] = -1; e[6] = -1; e[7] = -1; e[8] = 0;
  while ((type = field(c, &id)) != 0) {
    if (id == 1 && type == 5) e[0] = num(c);
    else if (id == 3 && type == 5) e[1] = num(c);
    else if (id == 4 && type == 8) { e[3] = bytes_len(c); e[2] = c->at; c->at += e[3]; }
    else if (id == 5 && type == 5) e[4] = num(c);
    else if (id == 6 && type == 5) e[5] = num(c);
    else if (id == 10 && type == 12) logical_type(c, e);
    else skip(c, type, 0, 3);
  }
}

/* Whether the path list at `at` (nparts binary parts, already bounds-checked) joined by '.' is name[0, len). */
static int path_is(const unsigned char *b, long long n, long long at, long long nparts, const unsigned char *name, long long len) {
  cur c = { b, n, at, 0 };
  long long m = 0, k, l, q;
  for (k = 0; k < nparts; k++) {
    l = bytes_len(&c);
    if (c.bad) return 0;
    if (k > 0) {
      if (m >= len || name[m] != '.') return 0;
      m++;
    }
    if (l > len - m) return 0;
    for (q = 0; q < l; q++)
      if (name[m + q] != b[c.at + q]) return 0;
    m += l;
    c.at += l;
  }
  return m == len;
}

/* Index of the wanted name (names[offs[k], offs[k+1]) ) that the path list at `at` spells, or -1;
 * `hint` is tried first (columns tend to come in the order asked for). */
static long long wanted_path(const unsigned char *b, long long n, long long at, long long nparts, const unsigned char *names, const long long *offs, long long ncols, long long hint) {
  long long k;
  if (hint >= 0 && hint < ncols && path_is(b, n, at, nparts, names + offs[hint], offs[hint + 1] - offs[hint])) return hint;
  for (k = 0; k < ncols; k++)
    if (k != hint && path_is(b, n, at, nparts, names + offs[k], offs[k + 1] - offs[k])) return k;
  return -1;
}

/* One ColumnChunk: its values into v (CHUNK_VALUES, position left to the caller); the index of the wanted column it is, or -1. */
static long long column_chunk(cur *c, const unsigned char *names, const long long *offs, long long ncols, long long hint, long long *v) {
  long long path_at = -1, nparts = 0, k, l;
  int id = 0, type, elem;
  v[1] = -1; v[2] = 0; v[3] = 0; v[4] = -1; v[5] = -1; v[6] = 0; v[7] = 0;
  while ((type = field(c, &id)) != 0) {
    if (id == 1 && type == 8) { l = bytes_len(c); c->at += l; v[7] = l > 0; continue; }
    if (id != 3 || type != 12) { skip(c, type, 0, 4); continue; }
    int mid = 0, mtype;
    while ((mtype = field(c, &mid)) != 0) {
      if (mid == 2 && mtype == 9) {
        long long ne = list_header(c, &elem);
        if (elem != 5 && ne > 0) c->bad = 1;
        v[6] = 0;
        for (k = 0; k < ne && !c->bad; k++) {
          long long e = num(c);
          if (e < 0 || e > 62) c->bad = 1;
          else v[6] |= 1LL << e;
        }
      } else if (mid == 3 && mtype == 9) {
        nparts = list_header(c, &elem);
        if (elem != 8 && nparts > 0) c->bad = 1;
        path_at = c->at;
        for (k = 0; k < nparts && !c->bad; k++) {
          l = bytes_len(c);
          /* The reference decodes each part, and a decoder drops a leading BOM: such a path is left to it. */
          if (l >= 3 && c->b[c->at] == 0xEF && c->b[c->at + 1] == 0xBB && c->b[c->at + 2] == 0xBF) c->bad = 1;
          c->at += l;
        }
      } else if (mid == 4 && mtype == 5) v[1] = num(c);
      else if (mid == 5 && mtype == 6) v[2] = num(c);
      else if (mid == 7 && mtype == 6) v[3] = num(c);
      else if (mid == 9 && mtype == 6) v[4] = num(c);
      else if (mid == 11 && mtype == 6) v[5] = num(c);
      else skip(c, mtype, 0, 5);
    }
  }
  if (c->bad) return -1;
  /* No path_in_schema: the reference names the chunk "" (an empty path). */
  return wanted_path(c->b, c->n, path_at < 0 ? c->at : path_at, path_at < 0 ? 0 : nparts, names, offs, ncols, hint);
}

long long tp_chunk_index(const unsigned char *buf, long long len, const unsigned char *names, const long long *offs, long long ncols, long long *out, long long cap) {
  cur c = { buf, len, 0, 0 };
  long long w = 4, elements = 0, groups = 0, pairs = 0, i, j, n;
  long long per_group = 1 + CHUNK_VALUES * ncols;
  int id = 0, type, elem, section = 0;
  if (cap < 4 || ncols < 0) return -1;
  while ((type = field(&c, &id)) != 0) {
    if (type != 9 || (id != 2 && id != 4 && id != 5)) { skip(&c, type, 0, 1); continue; }
    /* out holds the sections in this order, each once: a footer otherwise is left to the reference. */
    int s = id == 2 ? 1 : id == 4 ? 2 : 3;
    if (s <= section) return -1;
    section = s;
    n = list_header(&c, &elem);
    if (n > 0 && elem != 12) return -1;
    for (i = 0; i < n && !c.bad; i++) {
      if (id == 2) {
        long long e[SCHEMA_VALUES];
        schema_element(&c, e);
        if (w + SCHEMA_VALUES <= cap)
          for (j = 0; j < SCHEMA_VALUES; j++) out[w + j] = e[j];
        w += SCHEMA_VALUES;
        elements++;
      } else if (id == 4) {
        long long *g = w + per_group <= cap ? out + w : 0, position = 0, hint = 0;
        int gid = 0, gtype;
        if (g) {
          g[0] = 0;
          for (j = 1; j < per_group; j++) g[j] = (j - 1) % CHUNK_VALUES == 0 ? 0 : -1;
        }
        while ((gtype = field(&c, &gid)) != 0) {
          if (gid == 3 && gtype == 6) { long long r = num(&c); if (g) g[0] = r; continue; }
          if (gid != 1 || gtype != 9) { skip(&c, gtype, 0, 2); continue; }
          int celem;
          long long nc = list_header(&c, &celem), k;
          if (nc > 0 && celem != 12) c.bad = 1;
          for (k = 0; k < nc && !c.bad; k++) {
            long long v[CHUNK_VALUES];
            long long at = column_chunk(&c, names, offs, ncols, hint, v);
            position++;
            if (at < 0) continue;
            hint = at + 1;
            if (!g) continue;
            long long *o = g + 1 + CHUNK_VALUES * at;
            v[0] = o[0] > 0 ? o[0] : position;
            for (j = 0; j < CHUNK_VALUES; j++) o[j] = v[j];
          }
        }
        w += per_group;
        groups++;
      } else {
        long long ko = -1, kl = 0, vo = -1, vl = 0, l;
        int kid = 0, ktype;
        while ((ktype = field(&c, &kid)) != 0) {
          if (ktype == 8 && (kid == 1 || kid == 2)) {
            l = bytes_len(&c);
            if (kid == 1) { ko = c.at; kl = l; } else { vo = c.at; vl = l; }
            c.at += l;
            continue;
          }
          skip(&c, ktype, 0, 2);
        }
        if (ko < 0) continue;
        if (w + 4 <= cap) { out[w] = ko; out[w + 1] = kl; out[w + 2] = vo; out[w + 3] = vl; }
        w += 4;
        pairs++;
      }
    }
    if (c.bad) return -1;
  }
  if (c.bad) return -1;
  out[0] = elements;
  out[1] = groups;
  out[2] = pairs;
  out[3] = w;
  return w > cap ? -2 : w;
}
