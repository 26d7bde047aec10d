/**
 * The file that marks a folder as tickpack's column cache: `CACHEDIR.TAG` (the Cache Directory Tagging
 * Specification, so that backup tools skip the folder too) with a line naming tickpack. The cache writes
 * it when it creates its folder; a folder without it is used only when all it holds is cache entries.
 */
import {
  closeSync,
  constants,
  existsSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { isTempFileName, tempPathFor } from "../atomic-file.ts";

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

/** Whether a name in a cache folder is the temp file of a marker being written (writeCacheMarker). */
export function isCacheMarkerTemp(name: string): boolean {
  return name.startsWith(`.${CACHE_MARKER}.`) && isTempFileName(name);
}

/**
 * Marks `cacheDir` as the cache; best effort (a cache folder that cannot be written is still read).
 * The text is written to a temp file first and linked into place whole: another bench starting
 * meanwhile reads no marker or all of it (an empty one, between a create and its write, made it
 * refuse the folder as another tool's). A marker already there, ours or another tool's, is kept.
 */
export function writeCacheMarker(cacheDir: string): void {
  const marker = join(cacheDir, CACHE_MARKER);
  const temp = tempPathFor(marker);
  try {
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
    const fd = openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW);
    try {
      writeSync(fd, TEXT);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, marker);
    } catch (e) {
      // A file system without hard links: renamed instead, unless a marker came meanwhile.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" && !existsSync(marker)) renameSync(temp, marker);
    }
  } catch {
    // read-only or full: the folder is recognised by its entries until a run can mark it
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // linked and removed, renamed, or never made
    }
  }
}
