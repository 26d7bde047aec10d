import { describe, expect, test } from "bun:test";
import type { ProgressEvent } from "../../lib/progress.ts";
import { PLAIN_LINE_INTERVAL_MS, progressPrinter } from "../../scripts/cli/progress-printer.ts";

/** A printer writing into an array, on a clock the test moves. */
function printerOnClock(tty: boolean) {
  const written: string[] = [];
  let clock = 0;
  const printer = progressPrinter({ tty, write: (t) => written.push(t), now: () => clock });
  return {
    written,
    /** Sends `e` at time `ms`. */
    at: (ms: number, e: ProgressEvent) => {
      clock = ms;
      printer.listener(e);
    },
    finish: printer.finish,
  };
}

const step = (phase: string, done: number, total: number): ProgressEvent => ({
  phase,
  done,
  total,
  rows: 0,
  elapsedS: 0,
});

describe("progress off a terminal", () => {
  test("at most one line a second, plus each phase's last step", () => {
    // The sample's first bench: gen, index, pack and bench steps ~20 a second, ~10 s in all.
    const p = printerOnClock(false);
    const phases: [string, number][] = [
      ["gen", 90],
      ["index", 90],
      ["pack", 12],
      ["bench", 11],
    ];
    const times: number[] = [];
    let ms = 0;
    for (const [phase, total] of phases)
      for (let done = 1; done <= total; done++) {
        ms += 50;
        const before = p.written.length;
        p.at(ms, step(phase, done, total));
        if (p.written.length > before && done < total) times.push(ms);
      }
    p.finish();
    expect(p.written.every((l) => l.startsWith("Progress: ") && l.endsWith("\n"))).toBe(true);
    for (const [phase, total] of phases) expect(p.written).toContain(`Progress: ${phase}: ${total}/${total}\n`);
    // Lines other than a phase's last step come at least a second apart.
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps.every((g) => g >= PLAIN_LINE_INTERVAL_MS)).toBe(true);
    const elapsedS = ms / 1000;
    expect(p.written.length).toBeLessThanOrEqual(Math.ceil(elapsedS) + phases.length);
    expect(p.written.length).toBeGreaterThanOrEqual(Math.floor(elapsedS));
  });

  test("a short phase (few steps, less than a second) prints its first and last step only", () => {
    const p = printerOnClock(false);
    for (let done = 1; done <= 30; done++) p.at(done * 10, step("index", done, 30));
    for (let done = 1; done <= 4; done++) p.at(300 + done * 10, step("pack", done, 4));
    expect(p.written).toEqual(["Progress: index: 1/30\n", "Progress: index: 30/30\n", "Progress: pack: 4/4\n"]);
  });

  test("rows and rate are shown", () => {
    const p = printerOnClock(false);
    p.at(0, { phase: "pack", done: 4, total: 4, rows: 994_140, elapsedS: 3.3 });
    expect(p.written).toEqual(["Progress: pack: 4/4 | 994k rows | 301k rows/s\n"]);
  });
});

describe("progress on a terminal", () => {
  test("one live bar rewritten in place, ended by the phase's last step", () => {
    const p = printerOnClock(true);
    for (let done = 1; done <= 3; done++) p.at(done, step("gen", done, 3));
    expect(p.written.filter((t) => t.startsWith("\r["))).toHaveLength(3);
    expect(p.written.join("").split("\n")).toHaveLength(2);
    p.at(10, step("bench", 1, 2));
    p.finish();
    expect(p.written.at(-1)).toBe("\n");
  });
});
