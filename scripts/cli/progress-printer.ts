/** Renders library progress on stderr: a live bar on a TTY, one line per step otherwise (throttled past 100 steps). */
import type { ProgressEvent } from "../../lib/progress.ts";

const fmtRows = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n);

/** A listener that prints progress to stderr (a live bar when `tty`); `finish()` ends a live bar's line. */
export function progressPrinter(tty = process.stderr.isTTY === true): {
  listener: (e: ProgressEvent) => void;
  finish: () => void;
} {
  let lastLine = 0;
  let live = false;
  const listener = (e: ProgressEvent) => {
    const rate = e.elapsedS > 0 && e.rows > 0 ? ` | ${fmtRows(e.rows / e.elapsedS)} rows/s` : "";
    const text = `${e.phase}: ${e.done}/${e.total}${e.rows > 0 ? ` | ${fmtRows(e.rows)} rows` : ""}${rate}`;
    if (tty) {
      const width = 24;
      const filled = e.total > 0 ? Math.round((e.done / e.total) * width) : width;
      process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}\x1b[K`);
      live = true;
      if (e.done === e.total) {
        process.stderr.write("\n");
        live = false;
      }
      return;
    }
    // Plain logs: one line per step, or at most one a second when there are many steps.
    const now = performance.now();
    if (e.total <= 100 || e.done === e.total || now - lastLine > 1000) {
      lastLine = now;
      process.stderr.write(`Progress: ${text}\n`);
    }
  };
  return { listener, finish: () => live && process.stderr.write("\n") };
}
