/** Renders library progress on stderr: a live bar on a TTY, at most one line a second otherwise. */
import type { ProgressEvent } from "../../lib/progress.ts";
import { stderrIsTerminal, writeStderr } from "./std-output.ts";

const fmtRows = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n);

/** Least time between two plain progress lines (a cron log must not get a line per file). */
export const PLAIN_LINE_INTERVAL_MS = 1000;

/** Where progress goes: stderr by default; tests give their own writer and clock. */
export interface ProgressOutput {
  /** A live bar (a terminal) or plain lines (a log). */
  tty: boolean;
  write: (text: string) => void;
  /** Milliseconds, monotonic. */
  now: () => number;
}

/** Progress on stderr, drawn as a live bar when `tty` (default: whether stderr is a terminal). */
export const stderrOutput = (tty = stderrIsTerminal()): ProgressOutput => ({
  tty,
  write: (text) => writeStderr(text),
  now: () => performance.now(),
});

/** A listener that prints progress; `finish()` ends a live bar's line. */
export function progressPrinter(output: ProgressOutput = stderrOutput()): {
  listener: (e: ProgressEvent) => void;
  finish: () => void;
} {
  const { tty, write, now } = output;
  let lastLine = Number.NEGATIVE_INFINITY;
  let live = false;
  const listener = (e: ProgressEvent) => {
    const rate = e.elapsedS > 0 && e.rows > 0 ? ` | ${fmtRows(e.rows / e.elapsedS)} rows/s` : "";
    const text = `${e.phase}: ${e.done}/${e.total}${e.rows > 0 ? ` | ${fmtRows(e.rows)} rows` : ""}${rate}`;
    if (tty) {
      const width = 24;
      const filled = e.total > 0 ? Math.round((e.done / e.total) * width) : width;
      write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}\x1b[K`);
      live = true;
      if (e.done === e.total) {
        write("\n");
        live = false;
      }
      return;
    }
    // Plain logs: a phase's last step always (it says the phase ended), any other step only when a
    // second has passed since the last line.
    const t = now();
    if (e.done === e.total || t - lastLine >= PLAIN_LINE_INTERVAL_MS) {
      lastLine = t;
      write(`Progress: ${text}\n`);
    }
  };
  return {
    listener,
    finish: () => {
      if (live) write("\n");
      live = false;
    },
  };
}
