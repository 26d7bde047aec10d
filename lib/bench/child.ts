/**
 * bench in a child process. A `--kernel` is trusted native code that can crash, call exit() or loop
 * forever, so the parent runs the whole bench in a child and supervises it: SIGTERM/SIGINT/SIGHUP
 * are forwarded (and the child killed if it does not end), an optional timeout kills a runaway
 * kernel, and the child must report its exit explicitly, so that a kernel's own exit() is caught.
 * The child, for its part, ends when its parent is gone.
 */
import { closeSync, readSync, writeSync } from "node:fs";

/** Set in the child's environment. */
export const CHILD_ENV = "TICKPACK_KERNEL_CHILD";

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
  | { kind: "crashed"; signal: string; pid: number } // a signal nobody sent (the kernel crashed)
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

/** Runs `script args` as a bench child (same runtime, stdout and stderr shared) and supervises it until it ends. */
export async function runChild(script: string, args: string[], options: ChildOptions = {}): Promise<ChildOutcome> {
  const child = Bun.spawn([process.execPath, script, ...args], {
    env: { ...process.env, [CHILD_ENV]: "1" },
    stdio: ["ignore", "inherit", "inherit", "pipe"],
  });
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
  const timeout =
    options.timeoutS === undefined
      ? null
      : setTimeout(() => {
          timedOut = true;
          child.kill("SIGTERM");
          killSoon();
        }, options.timeoutS * 1000);
  await child.exited;
  for (const [signal, handler] of handlers) process.off(signal, handler);
  if (timeout) clearTimeout(timeout);
  if (killTimer) clearTimeout(killTimer);
  const report = readAll(child.stdio[RESULT_FD] as number);
  const pid = child.pid;
  if (interrupted) return { kind: "interrupted", signal: interrupted, pid };
  if (timedOut) return { kind: "timeout", pid };
  const m = report.match(new RegExp(`${MARK}(\\d+)`));
  if (m) return { kind: "exited", code: Number(m[1]), pid };
  if (child.signalCode) return { kind: "crashed", signal: String(child.signalCode), pid };
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
