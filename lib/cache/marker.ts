/**
 * The file that marks a folder as tickpack's column cache: `CACHEDIR.TAG` (the Cache Directory Tagging
 * Specification, so that backup tools skip the folder too) with a line naming tickpack. The cache writes
 * it when it creates its folder; a folder without it is used only when all it holds is cache entries.
 */
import { closeSync, constants, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export const CACHE_MARKER = "CACHEDIR.TAG";
const SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";
const TICKPACK_LINE = "# This folder is tickpack's column cache (docs/cache.md).";
const TEXT = `${SIGNATURE}
${TICKPACK_LINE}
# tickpack removes only the column files it wrote here. Deleting the whole folder drops the cache.
`;

/** Whether `cacheDir` holds tickpack's marker. */
export function hasCacheMarker(cacheDir: string): boolean {
  try {
    const text = readFileSync(join(cacheDir, CACHE_MARKER), { encoding: "utf8", flag: "r" });
    return text.startsWith(SIGNATURE) && text.includes(TICKPACK_LINE);
  } catch {
    return false;
  }
}

/** Marks `cacheDir` as the cache; best effort (a cache folder that cannot be written is still read). */
export function writeCacheMarker(cacheDir: string): void {
  try {
    const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = constants;
    const fd = openSync(join(cacheDir, CACHE_MARKER), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW);
    try {
      writeSync(fd, TEXT);
    } finally {
      closeSync(fd);
    }
  } catch {
    // read-only or full: the folder is recognised by its entries until a run can mark it
  }
}
