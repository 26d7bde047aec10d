import { describe, expect, test } from "bun:test";
import { checksumHex, checksumReference } from "../../lib/cache/checksum.ts";
import { SeededRandom } from "../../lib/random.ts";

describe("checksumHex", () => {
  test("the C build (the only one it runs) equals the TypeScript reference: every length mod 32, and long ranges", () => {
    const r = new SeededRandom(5);
    const lengths = [...Array.from({ length: 80 }, (_, n) => n), 4096, 65_536 + 13, 300_001];
    for (const n of lengths) {
      const bytes = Uint8Array.from({ length: n }, () => r.int(0, 255));
      expect(checksumHex(bytes), `${n} bytes`).toBe(checksumReference(bytes));
    }
  });

  test("one changed byte, or one more zero byte, changes it", () => {
    const bytes = new Uint8Array(1000).fill(7);
    const base = checksumHex(bytes);
    for (const at of [0, 8, 16, 24, 999]) {
      const changed = bytes.slice();
      changed[at] ^= 1;
      expect(checksumHex(changed)).not.toBe(base);
    }
    expect(checksumHex(new Uint8Array(1001).fill(7).fill(0, 1000))).not.toBe(base);
  });
});
