/**
 * The commands' stdout and stderr, written through `console` rather than Node's stream objects: Bun
 * builds `process.stdout` and `process.stderr` on their first touch, ~15–20 ms of start-up each
 * (`isTTY` included; measured, whole processes), which was a sixth of a small bench run. `console`
 * writes the same descriptors in order with the streams and is flushed by `process.exit`.
 */
import { dlopen } from "bun:ffi";
import { LIBC_NAME } from "../../lib/libc.ts";

/** Writes `text` (whole lines, ending with a newline) on stdout. */
export function writeStdout(text: string): void {
  if (text.endsWith("\n")) console.log("%s", text.slice(0, -1));
  else process.stdout.write(text);
}

/** Writes `text` on stderr: whole lines through `console`, anything else (a live bar's `\r`) through the stream. */
export function writeStderr(text: string): void {
  if (text.endsWith("\n")) console.error("%s", text.slice(0, -1));
  else process.stderr.write(text);
}

let stderrTerminal: boolean | undefined;

/** Whether stderr is a terminal (isatty(2); without libc, the stream's own answer). */
export function stderrIsTerminal(): boolean {
  if (stderrTerminal !== undefined) return stderrTerminal;
  try {
    const { symbols } = dlopen(LIBC_NAME, { isatty: { args: ["i32"], returns: "i32" } });
    stderrTerminal = symbols.isatty(2) === 1;
  } catch {
    stderrTerminal = process.stderr.isTTY === true;
  }
  return stderrTerminal;
}
