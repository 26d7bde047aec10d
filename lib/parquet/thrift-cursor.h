/*
 * A Thrift compact-protocol cursor over a buffer, walked in place by the C footer walks
 * (footer-scan.c, native/chunk-index.c) and the page decoder's page headers. No allocation and no
 * state outside the cursor: a read past the end, a varint of more than 10 bytes, a field id outside
 * i16, a field of type 0 or nesting deeper than TP_THRIFT_MAX_DEPTH sets `bad`, after which every
 * read returns 0 and the caller gives up.
 */
#ifndef TP_THRIFT_CURSOR_H
#define TP_THRIFT_CURSOR_H

/* A file's includer may bound nesting tighter (the page decoder holds its reference's 32). */
#ifndef TP_THRIFT_MAX_DEPTH
#define TP_THRIFT_MAX_DEPTH 64
#endif

typedef struct {
  const unsigned char *b;
  long long n, at;
  int bad;
} cur;

static int byte_(cur *c) {
  if (c->at >= c->n) { c->bad = 1; return 0; }
  return c->b[c->at++];
}

/* byte_ without the call, for the walks' per-field paths: TinyCC does not inline, and a call per
   byte was most of a footer walk's time. */
#define BYTE(c) ((c)->at < (c)->n ? (int)(c)->b[(c)->at++] : ((c)->bad = 1, 0))

/* Steps over a varint without computing it, with varint()'s checks (10 bytes at most, the 10th ≤ 1). */
static void skip_varint(cur *c) {
  const unsigned char *b = c->b;
  long long at = c->at, n = c->n, end = at + 10 < n ? at + 10 : n;
  while (at < end) {
    int x = b[at++];
    if (!(x & 0x80)) {
      if (at - c->at == 10 && x > 1) break;
      c->at = at;
      return;
    }
  }
  c->at = at;
  c->bad = 1;
}

/* Reads c->b directly rather than through byte_: a call per byte is what TinyCC's code spends most on. */
static unsigned long long varint(cur *c) {
  unsigned long long r = 0;
  int shift = 0;
  const unsigned char *b = c->b;
  long long at = c->at, n = c->n;
  while (at < n) {
    int x = b[at++];
    /* The 10th byte holds bit 63 only: more would be lost, not read. */
    if (shift > 63 || (shift == 63 && x > 1)) break;
    r |= (unsigned long long)(x & 0x7f) << shift;
    if (!(x & 0x80)) { c->at = at; return r; }
    shift += 7;
  }
  c->at = at;
  c->bad = 1;
  return 0;
}

static long long zigzag(cur *c) {
  unsigned long long v = varint(c);
  return (long long)(v >> 1) ^ -(long long)(v & 1);
}

/* Steps over a binary (a string): its varint length, then its bytes, which must be there. */
static void skip_binary(cur *c) {
  long long n = (long long)varint(c);
  if (c->bad || n < 0 || n > c->n - c->at) { c->bad = 1; return; }
  c->at += n;
}

static void skip(cur *c, int type, int in_container, int depth);

static void skip_struct(cur *c, int depth) {
  for (;;) {
    int h = BYTE(c), t;
    if (c->bad || h == 0) return;
    if ((h >> 4) == 0) skip_varint(c);
    /* skip's nesting bound, for the fields taken here too */
    if (depth + 1 > TP_THRIFT_MAX_DEPTH) { c->bad = 1; return; }
    t = h & 15;
    /* The common scalars here, not through skip's call and switch. */
    if (t >= 4 && t <= 6) skip_varint(c);
    else if (t == 8) skip_binary(c);
    else if (t != 1 && t != 2) skip(c, t, 0, depth + 1);
    if (c->bad) return;
  }
}

static void skip(cur *c, int type, int in_container, int depth) {
  long long n, i;
  if (depth > TP_THRIFT_MAX_DEPTH) { c->bad = 1; return; }
  switch (type) {
  case 1: case 2: if (in_container) BYTE(c); return;
  case 3: BYTE(c); return;
  case 4: case 5: case 6: skip_varint(c); return;
  case 7: c->at += 8; if (c->at > c->n) c->bad = 1; return;
  case 8: skip_binary(c); return;
  case 9: case 10: {
    int h = byte_(c), elem = h & 15;
    n = (h >> 4) == 15 ? (long long)varint(c) : (h >> 4);
    for (i = 0; i < n && !c->bad; i++) skip(c, elem, 1, depth + 1);
    return;
  }
  case 11: {
    n = (long long)varint(c);
    if (n == 0) return;
    int kv = byte_(c);
    for (i = 0; i < n && !c->bad; i++) { skip(c, kv >> 4, 1, depth + 1); skip(c, kv & 15, 1, depth + 1); }
    return;
  }
  case 12: skip_struct(c, depth); return;
  default: c->bad = 1;
  }
}

/* The next field header of a struct: its type (0 at the stop byte), its id in *id. */
static int field(cur *c, int *id) {
  int h = BYTE(c);
  if (c->bad || h == 0) return 0;
  /* Type 0 is the stop byte alone: read as a stop, a field would end its struct early. */
  if ((h & 15) == 0) { c->bad = 1; return 0; }
  if ((h >> 4) == 0) {
    long long v = zigzag(c);
    /* Thrift ids are i16: a wider one cast to int could alias a field this walk reads. */
    if (v < -32768 || v > 32767) { c->bad = 1; return 0; }
    *id = (int)v;
  } else *id += h >> 4;
  if (*id > 32767) { c->bad = 1; return 0; }
  return h & 15;
}

/* A list header: its element type in *elem, its size (every element takes a byte at least, so a size
 * past the bytes left is malformed: callers may size their output by it). */
static long long list_header(cur *c, int *elem) {
  int h = byte_(c);
  long long n;
  *elem = h & 15;
  n = (h >> 4) == 15 ? (long long)varint(c) : (h >> 4);
  if (n < 0 || n > c->n - c->at) { c->bad = 1; return 0; }
  return n;
}

#endif
