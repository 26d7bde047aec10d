/**
 * bench in a child process. A `--kernel` is trusted native code that can crash, call exit() or loop
 * forever, so the parent runs the whole bench in a child and supervises it: SIGTERM/SIGINT/SIGHUP
 * are forwarded (and the child killed if it does not end), an optional timeout kills a runaway
 * kernel, and the child must report its exit explicitly, so that a kernel's own exit() is caught.
 * The child, for its part, ends when its parent is gone. Its stderr passes through the parent, which
 * holds back Bun's crash report: a kernel's crash is not a bug in Bun, and tickpack reports it itself.
 */
import { closeSync, readSync, writeSync } from "node:fs";

/** Set in the child's environment. */
export const CHILD_ENV = "TICKPACK_KERNEL_CHILD";
/** Set to "1" in the child's environment when the parent's stderr is a terminal (the child's is a pipe). */
export const STDERR_TTY_ENV = "TICKPACK_STDERR_TTY";

// The child writes `MARK <exit code>` to this inherited pipe from its JS exit handler; a native
// exit() (a kernel's) skips JS exit handlers, so it writes nothing.
const RESULT_FD = 3;
const MARK = "tickpack-bench-exit ";
const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/** Exit code of a process ended by a signal (128 + its number). */
export const SIGNAL_EXIT: Record<(typeof FORWARDED)[number], number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** How the child ended. */
export type ChildOutcome =
  | { kind: "exited"; code: number; pid: number } // it reported its own exit code
  | { kind: "crashed"; signal: string; reason: string | null; pid: number } // a signal nobody sent (the kernel crashed); reason: Bun's line for it
  | { kind: "no-result"; exitCode: number | null; pid: number } // it ended without reporting (exit() in the kernel)
  | { kind: "timeout"; pid: number }
  | { kind: "interrupted"; signal: (typeof FORWARDED)[number]; pid: number };

/** Options of a supervised child run. */
export interface ChildOptions {
  /** Kill the child after this many seconds. */
  timeoutS?: number;
  /** Seconds a signalled child gets to clean up before SIGKILL. */
  graceS?: number;
}

/** Longest delay one timer holds (2^31 − 1 ms, ~24.8 days): a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fire` after `ms`, however long (a chain of timers past one timer's range); returns the cancel function. */
export function setLongTimeout(fire: () => void, ms: number): () => void {
  let timer: Timer;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fire()), Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

// Bun's crash report starts with this line and runs to the end of the output (tickpack's summary
// line is longer, 64 "=").
const CRASH_REPORT_START = `${"=".repeat(60)}\n`;

/** A stream of text passed to `write`, except Bun's crash report, which it holds back. */
export interface CrashReportFilter {
  push(text: string): void;
  /** Writes what it held that was not a crash report; returns the crash report, or null when there was none. */
  end(): string | null;
}

/** A filter that writes text through to `write` up to a line that starts Bun's crash report. */
export function crashReportFilter(write: (text: string) => void): CrashReportFilter {
  let report: string | null = null;
  let atLineStart = true;
  let held = ""; // a last line begun at a line start that may yet become the report's first line
  return {
    push(text) {
      if (report !== null) {
        report += text;
        return;
      }
      let s = held + text;
      const fromLineStart = held !== "" || atLineStart;
      held = "";
      const inside = s.indexOf(`\n${CRASH_REPORT_START}`);
      const at = fromLineStart && s.startsWith(CRASH_REPORT_START) ? 0 : inside >= 0 ? inside + 1 : -1;
      if (at >= 0) {
        if (at > 0) write(s.slice(0, at));
        report = s.slice(at);
        return;
      }
      const tailAt = s.lastIndexOf("\n") + 1;
      const tail = s.slice(tailAt);
      if (tail !== "" && (tailAt > 0 || fromLineStart) && CRASH_REPORT_START.startsWith(tail)) {
        held = tail;
        s = s.slice(0, tailAt);
      }
      if (s !== "") {
        write(s);
        atLineStart = s.endsWith("\n");
      }
    },
    end() {
      if (held !== "") write(held);
      held = "";
      return report;
    },
  };
}

/** The reason line of Bun's crash report ("Segmentation fault at address 0x0"), or null. */
export function crashReportReason(report: string | null): string | null {
  return report?.match(/^panic(?:\([^)\n]*\))?: (.+)$/m)?.[1]?.trim() ?? null;
}

/** Forwards the child's stderr to ours, holding back Bun's crash report; resolves to the report (or null). */
async function forwardStderr(stream: ReadableStream<Uint8Array>): Promise<string | null> {
  const filter = crashReportFilter((text) => process.stderr.write(text));
  const decoder = new TextDecoder();
  for await (const chunk of stream) filter.push(decoder.decode(chunk, { stream: true }));
  filter.push(decoder.decode());
  return filter.end();
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(256);
  let text = "";
  try {
    for (;;) {
      const n = readSync(fd, buf);
      if (n === 0) break;
      text += buf.toString("utf8", 0, n);
    }
  } catch {
    // EAGAIN: the child is gone and everything it wrote has been read
  } finally {
    closeSync(fd);
  }
  return text;
}

/** Runs `script args` as a bench child (same runtime, stdout shared, stderr forwarded) and supervises it until it ends. */
export async function runChild(script: string, args: string[], options: ChildOptions = {}): Promise<ChildOutcome> {
  const child = Bun.spawn([process.execPath, script, ...args], {
    env: { ...process.env, [CHILD_ENV]: "1", ...(process.stderr.isTTY ? { [STDERR_TTY_ENV]: "1" } : {}) },
    stdio: ["ignore", "inherit", "pipe", "pipe"],
  });
  const crashReport = forwardStderr(child.stderr);
  const grace = (options.graceS ?? 3) * 1000;
  let interrupted: (typeof FORWARDED)[number] | null = null;
  let timedOut = false;
  let killTimer: Timer | null = null;
  const killSoon = () => {
    killTimer ??= setTimeout(() => child.kill("SIGKILL"), grace);
  };
  const handlers = FORWARDED.map((signal) => {
    const handler = () => {
      interrupted ??= signal;
      child.kill(signal);
      killSoon();
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const cancelTimeout =
    options.timeoutS === undefined
      ? null
      : setLongTimeout(() => {
          timedOut = true;
          child.kill("SIGTERM");
          killSoon();
        }, options.timeoutS * 1000);
  await child.exited;
  const reason = crashReportReason(await crashReport);
  for (const [signal, handler] of handlers) process.off(signal, handler);
  cancelTimeout?.();
  if (killTimer) clearTimeout(killTimer);
  const report = readAll(child.stdio[RESULT_FD] as number);
  const pid = child.pid;
  if (interrupted) return { kind: "interrupted", signal: interrupted, pid };
  if (timedOut) return { kind: "timeout", pid };
  const m = report.match(new RegExp(`${MARK}(\\d+)`));
  if (m) return { kind: "exited", code: Number(m[1]), pid };
  if (child.signalCode) return { kind: "crashed", signal: String(child.signalCode), reason, pid };
  return { kind: "no-result", exitCode: child.exitCode, pid };
}

/**
 * Called first thing in the child: reports every exit the JS side makes to the parent, and ends
 * the child (through its SIGHUP handling) when the parent is gone — reparented, as after a SIGKILL.
 */
export function serveAsChild(): void {
  process.on("exit", (code) => {
    try {
      writeSync(RESULT_FD, `${MARK}${code}\n`);
    } catch {
      // no parent pipe (run by hand): nothing to report to
    }
  });
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, "SIGHUP");
  }, 250).unref();
}

/** Signals on which a bench run stops (cleaning up first): the ones the parent forwards. */
export const STOP_SIGNALS = FORWARDED;
