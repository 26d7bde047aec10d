/** The text of anything thrown (wasm-bindgen throws strings and plain objects, not only Errors). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A file-system error as a short reason: "permission denied (EACCES)", "a loop of symbolic links (ELOOP)", … */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const known: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ELOOP: "a loop of symbolic links",
    ENOENT: "no such file or folder",
    ENOTDIR: "not a folder",
    EIO: "input/output error",
    ENOSPC: "no space left on device",
    EROFS: "read-only file system",
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  return errorMessage(e).split("\n")[0];
}
