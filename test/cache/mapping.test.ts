import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toArrayBuffer } from "bun:ffi";
import { mapFileReadOnly, mapOpenFileReadOnly } from "../../lib/cache/mapping.ts";
import { randomFor } from "../../lib/random.ts";

const dir = mkdtempSync(join(tmpdir(), "tickpack-mapping-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe("file mappings", () => {
  const rnd = randomFor(7, "mapping");
  const content = Uint8Array.from({ length: 100_003 }, () => Math.floor(rnd.next() * 256));
  const path = fileOf("random.bin", content);

  test("a view holds the file's bytes of its range, and nothing outside the file is viewed", () => {
    const map = mapFileReadOnly(path);
    try {
      expect(map.size).toBe(content.length);
      for (const [s, e] of [
        [0, 4],
        [17, 4099],
        [content.length - 8, content.length],
        [500, 500],
      ])
        expect(map.view(s, e)).toEqual(content.subarray(s, e));
      expect(() => map.view(-1, 4)).toThrow(RangeError);
      expect(() => map.view(10, 9)).toThrow(RangeError);
      expect(() => map.view(0, content.length + 1)).toThrow(RangeError);
      expect(map.bytes).toEqual(content);
    } finally {
      map.unmap();
    }
  });

  test("the address is the map's first byte: C readers get the file without a view", () => {
    const fd = openSync(path, "r");
    const map = mapOpenFileReadOnly(fd, path);
    closeSync(fd);
    try {
      expect(map.address).toBeGreaterThan(0);
      const at = 31_337;
      expect(new Uint8Array(toArrayBuffer(map.address, at, 64))).toEqual(content.subarray(at, at + 64));
    } finally {
      map.unmap();
    }
  });

  test("an empty file maps as no bytes at no address", () => {
    const map = mapFileReadOnly(fileOf("empty.bin", new Uint8Array(0)));
    expect(map.size).toBe(0);
    expect(map.address).toBe(0);
    expect(map.view(0, 0).length).toBe(0);
    expect(() => map.view(0, 1)).toThrow(RangeError);
    expect(map.bytes.length).toBe(0);
    map.unmap();
  });
});
