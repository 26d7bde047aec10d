/** Shared command-line plumbing: parseArgs with usage errors (exit 2), help, JSON output. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  addressSpaceShortageMessage,
  isAddressSpaceShortage,
  isOutOfFileDescriptors,
  jitUnavailableProblem,
  outOfFileDescriptorsMessage,
  workersWithinFileLimit,
} from "../../lib/runtime-limits.ts";
import { writeStderr, writeStdout } from "./std-output.ts";
import { defaultWorkers } from "./default-workers.ts";

/** Exit codes of every command (README, "Commands"). */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

/** Prints `message` to stderr and exits with `code`. */
export function die(message: string, code: number): never {
  writeStderr(`${message}\n`);
  process.exit(code);
}

/** Parses argv with node:util parseArgs; `--help` prints `usage` and exits 0; bad flags exit 2. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig["options"]>>(
  usage: string,
  options: T,
  allowPositionals: boolean,
) {
  let parsed;
  try {
    parsed = parseArgs({
      args: Bun.argv.slice(2),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    die(`${(e as Error).message}\n\n${usage}`, EXIT.usage);
  }
  if ((parsed.values as { help?: boolean }).help) {
    writeStdout(usage);
    process.exit(EXIT.ok);
  }
  return parsed;
}

/** A positive integer flag value, or exit 2 naming the flag. */
export function intFlag(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    die(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(value)}`, EXIT.usage);
  return n;
}

/** A number flag value in [min, max], or exit 2 naming the flag. */
export function numberFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    die(`--${name}: expected a number in [${min}, ${max}], got ${JSON.stringify(value)}`, EXIT.usage);
  return n;
}

/**
 * Text for one line of stderr: control characters (a newline in a file name, ESC, …) written as
 * escapes, so that every error stays one line and cannot rewrite the terminal.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** Writes one JSON object on stdout. */
export function printJson(value: unknown): void {
  writeStdout(`${JSON.stringify(value)}\n`);
}

/** The summary lines of what recovery did to commits an interrupted run left (none when it found none). */
export function recoveryLines(r: { finished: number; rolled_back: number }): string[] {
  return [
    ...(r.finished ? [`  finished ${r.finished} commit(s) an interrupted run left`] : []),
    ...(r.rolled_back
      ? [
          `  rolled back ${r.rolled_back} commit(s) an interrupted run left (their new files were lost before any rename): those partitions kept their old version`,
        ]
      : []),
  ];
}

/**
 * The --workers flag (default: one per core), lowered to what the open-file limit allows with a note
 * on stderr (unless `quiet`); exit 1 when not even one worker fits.
 */
export function workersFlag(command: string, value: string | undefined, quiet = false): number {
  const count = workersWithinFileLimit(intFlag("workers", value, defaultWorkers()));
  if (count.problem) die(`${command}: ${count.problem}`, EXIT.problems);
  if (count.lowered && !quiet) writeStderr(`${command}: note: ${count.lowered}\n`);
  return count.workers;
}

/** Exit 1 naming the cause when Bun's JIT is unavailable: every native helper would fail, each blamed on a file. */
export function requireJit(command: string): void {
  const problem = jitUnavailableProblem();
  if (problem) die(`${command}: ${problem}`, EXIT.problems);
}

/** What caused an error when it is the process's limits, not the file it names (out of descriptors, or of address space under a `ulimit -v`), or null. */
export function limitCause(workers: number, error: string): string | null {
  if (isOutOfFileDescriptors(error)) return outOfFileDescriptorsMessage(workers);
  return isAddressSpaceShortage(error) ? addressSpaceShortageMessage(workers) : null;
}

/** Summary lines naming the causes of those of `errors` that are the process's limits; none otherwise. */
export function limitCauseLines(workers: number, errors: string[]): string[] {
  const counts = new Map<string, number>();
  for (const e of errors) {
    const cause = limitCause(workers, e);
    if (cause) counts.set(cause, (counts.get(cause) ?? 0) + 1);
  }
  return [...counts].map(([cause, n]) => `  cause of ${n} of these errors: ${cause}`);
}
