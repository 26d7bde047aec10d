/** What identifies a part file's bytes for the column cache: real path, size, mtime and its footer's checksum. */
import { fstatSync, readSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { checksumHex } from "./checksum.ts";
import type { PartKey } from "./column-file.ts";

/** The real path of a part's name; during a commit the name may not exist yet (the bytes are in a temp file), so its folder's. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return join(realpathSync(dirname(path)), basename(path));
  }
}

/**
 * The key of the part known as `path` whose bytes are open as `fd` (a snapshot's descriptor: the
 * version being read, even if a commit renames another over the path meanwhile). The footer holds
 * every row group's offsets and statistics, so a rewrite that kept size and mtime still changes it.
 */
export function partKey(path: string, fd: number): PartKey {
  const st = fstatSync(fd, { bigint: true });
  const bytes = Number(st.size);
  const tail = new Uint8Array(8);
  let footer = "none";
  if (bytes >= 12 && readSync(fd, tail, 0, 8, bytes - 8) === 8) {
    const footerBytes = new DataView(tail.buffer).getUint32(0, true);
    if (footerBytes + 8 <= bytes) {
      const buf = new Uint8Array(footerBytes + 8);
      readSync(fd, buf, 0, buf.byteLength, bytes - buf.byteLength);
      footer = checksumHex(buf);
    }
  }
  return { path: realPath(path), bytes, mtimeNs: st.mtimeNs.toString(), footer };
}
