/**
 * How many bench workers to start before the command's modules load: what `--workers` asks for (the
 * pool starts any beyond one per core itself, after the open-file check), none where this process
 * will not run the bench: `--help`, and the parent that supervises a `--kernel` or `--timeout` run
 * in a child (the child starts its own). A count the pool does not take is ended by it.
 */
import { CHILD_ENV } from "../../lib/bench/child.ts";
import { defaultWorkers } from "./default-workers.ts";

/** Workers to prestart for bench's arguments (`Bun.argv.slice(2)`) in this environment. */
export function prestartCount(args: readonly string[], env: Record<string, string | undefined>): number {
  const flag = (name: string) => args.some((a) => a === name || a.startsWith(`${name}=`));
  if (flag("--help") || args.includes("-h")) return 0;
  if (env[CHILD_ENV] === undefined && (flag("--kernel") || flag("--timeout"))) return 0;
  const at = args.findIndex((a) => a === "--workers" || a.startsWith("--workers="));
  const cores = defaultWorkers();
  if (at < 0) return cores;
  const asked = Number(args[at] === "--workers" ? args[at + 1] : args[at].slice("--workers=".length));
  return Number.isInteger(asked) && asked >= 1 ? Math.min(asked, cores) : 0;
}
