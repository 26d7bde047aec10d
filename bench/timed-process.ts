/**
 * Whole-process timings that know whether they were alone: a command's wall time, its own CPU time,
 * and the CPU time the whole machine spent meanwhile (/proc/stat). On a shared 2-core box another
 * process's burst halves a worker's speed unnoticed; a run is "clean" when the machine spent little
 * more CPU than the command itself.
 */
import { readFileSync } from "node:fs";

/** CPU time the machine has spent busy since boot, ms (Linux; 0 elsewhere). */
function machineBusyMs(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait; USER_HZ = 100.
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * 10;
  } catch {
    return 0;
  }
}

/** One timed run of a command. */
export interface TimedRun {
  wallMs: number;
  /** The command's own CPU time (user + system, with its threads). */
  cpuMs: number;
  /** CPU time the whole machine spent during the run. */
  machineMs: number;
  /** Whether the machine spent at most 10% (+30 ms of ticks) more than the command: nothing else ran. */
  clean: boolean;
  stdout: string;
}

/** Runs `cmd` in `cwd` and times it; throws with its stderr when it fails. */
export function timedProcess(cmd: string[], cwd: string): TimedRun {
  const busy0 = machineBusyMs();
  const t = performance.now();
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const wallMs = performance.now() - t;
  const machineMs = machineBusyMs() - busy0;
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: exit ${p.exitCode}\n${p.stderr.toString()}`);
  const u = p.resourceUsage?.cpuTime;
  const cpuMs = u ? Number(u.user + u.system) / 1000 : NaN;
  return { wallMs, cpuMs, machineMs, clean: !(machineMs > cpuMs * 1.1 + 30), stdout: p.stdout.toString() };
}

/** Median of numbers (the upper one of an even count). */
export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** The `q`-quantile of numbers (0 ≤ q ≤ 1; the sorted value at floor(q × n), the last at 1). */
export function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
