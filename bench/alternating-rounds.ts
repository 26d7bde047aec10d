/**
 * Whole-process cases timed in alternating rounds (every case once a round, in order), a round in
 * which another process used the CPU retried: the measuring core that the bench/ scripts report from.
 */
import { timedProcess, type TimedRun } from "./timed-process.ts";

/** `bun scripts/bench.ts DIR --workers 2 --json …flags`, as a command line. */
export function benchCommand(root: string, dir: string, ...flags: string[]): string[] {
  return [process.execPath, `${root}/scripts/bench.ts`, dir, "--workers", "2", "--json", ...flags];
}

/**
 * Runs `rounds` clean rounds of `cases` (a case's command is asked for anew each round) in `cwd`;
 * gives up after 4 × rounds noisy ones. Returns each case's clean runs, in round order. Every other
 * round runs the cases in reverse order: these machines' speed drifts by ~10% within seconds
 * (measured: 16 runs of one command in a row, 581–739 ms, in slow and fast stretches), and under a
 * drift a fixed order always runs one case later; A B, B A rounds cancel a steady one.
 */
export function alternatingRounds(
  cases: Record<string, () => string[]>,
  rounds: number,
  cwd: string,
): Record<string, TimedRun[]> {
  const runs: Record<string, TimedRun[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  let noisy = 0;
  for (let r = 0; r < rounds && noisy < 4 * rounds; ) {
    const order = r % 2 === 0 ? Object.entries(cases) : Object.entries(cases).reverse();
    const round = order.map(([name, cmd]) => [name, timedProcess(cmd(), cwd)] as const);
    if (round.some(([, t]) => !t.clean)) {
      noisy++;
      console.log("noisy round (another process used the CPU), retried");
      continue;
    }
    r++;
    console.log(`round ${r}: ${round.map(([k, t]) => `${k} ${(t.wallMs / 1000).toFixed(3)} s`).join(" | ")}`);
    for (const [k, t] of round) runs[k].push(t);
  }
  return runs;
}
