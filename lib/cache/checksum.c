/* A 64-bit checksum of a byte range for the column cache: four lanes summed and xor-ed so that a
 * TinyCC build still streams at memory speed (~6 GB/s here). Not cryptographic: it finds torn,
 * garbled or foreign bytes, not an adversary. */
#include <stdint.h>
#include <string.h>

uint64_t tp_checksum(const uint8_t *p, int64_t n) {
  uint64_t a = 0x9E3779B97F4A7C15ULL, b = 0, c = 0, d = 0;
  int64_t words = n >> 3, i = 0;
  const uint64_t *w = (const uint64_t *)p; /* the cache aligns every section to 64 bytes */
  for (; i + 4 <= words; i += 4) { a += w[i]; b ^= w[i + 1]; c += w[i + 2]; d ^= w[i + 3]; }
  for (; i < words; i++) a += w[i];
  uint64_t tail = 0;
  memcpy(&tail, p + (words << 3), (size_t)(n & 7));
  a += tail ^ (uint64_t)n;
  return a ^ (b * 0xFF51AFD7ED558CCDULL) ^ (c << 17 | c >> 47) ^ (d * 0xC4CEB9FE1A85EC53ULL);
}
