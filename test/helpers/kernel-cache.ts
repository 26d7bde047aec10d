import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Gives the test file its own, empty gcc/clang build cache (TICKPACK_KERNEL_CACHE, which a spawned
 * bench inherits): with the user's, a build made by an earlier run is opened and the compile is
 * never exercised. Returns a function listing the builds made so far (assert the compile happened).
 */
export function privateKernelCache(): () => string[] {
  let dir = "";
  let before: string | undefined;
  beforeAll(() => {
    before = process.env.TICKPACK_KERNEL_CACHE;
    dir = mkdtempSync(join(tmpdir(), "tickpack-kernel-cache-"));
    process.env.TICKPACK_KERNEL_CACHE = dir;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.TICKPACK_KERNEL_CACHE;
    else process.env.TICKPACK_KERNEL_CACHE = before;
    rmSync(dir, { recursive: true, force: true });
  });
  // The kernels' builds: the native page decoder's (built by any --cc gcc|clang run) is not one.
  return () => readdirSync(dir).filter((n) => n.endsWith(".so") && !/^[a-z]+-page-decoder-/.test(n));
}
