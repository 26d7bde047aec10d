/** Views of a packed folder as users see it through the commands: bench's trades per partition, resort --check. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/** Runs a script of this project with `bun` (the running binary), from `cwd`. */
export function runScript(script: string, args: string[], cwd = ROOT, env: Record<string, string> = {}) {
  const p = Bun.spawnSync([process.execPath, join(ROOT, "scripts", script), ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** bench over `dir` with its trade log: `date/underlying` → that partition's trade lines, in order (a partition without trades is absent). */
export function benchTradesByPartition(
  dir: string,
  tradesCsv: string,
  workers = 2,
): { code: number | null; stderr: string; trades: Map<string, string[]> } {
  const r = runScript("bench.ts", [dir, "--trades", tradesCsv, "--json", "--workers", String(workers)]);
  const trades = new Map<string, string[]>();
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, trades };
  const [header, ...lines] = readFileSync(tradesCsv, "utf8").trimEnd().split("\n");
  const cols = header.split(",");
  const d = cols.indexOf("date");
  const u = cols.indexOf("underlying");
  for (const line of lines) {
    const f = line.split(",");
    const key = `${f[d]}/${f[u]}`;
    if (!trades.has(key)) trades.set(key, []);
    trades.get(key)!.push(line);
  }
  return { code: r.code, stderr: r.stderr, trades };
}
