/**
 * bench end to end, whole processes, alternating in one run: `bench --workers 1`, `bench --workers 2`,
 * and DuckDB scanning the same 7 columns of the same files with 2 threads (the bar the issue sets).
 * `bun bench/end-to-end.ts [PACKED_DIR] [ROUNDS] [-- extra bench flags]` (default data/m50-packed, 3
 * rounds). Prints each round and the medians; rows/s are over each process's wall time.
 */
import { join } from "node:path";
import { listPackedPartitions } from "../lib/packed/layout.ts";

const root = join(import.meta.dir, "..");
const sep = Bun.argv.indexOf("--");
const args = sep < 0 ? Bun.argv.slice(2) : Bun.argv.slice(2, sep);
const extra = sep < 0 ? [] : Bun.argv.slice(sep + 1);
const dir = args[0] ?? join(root, "data", "m50-packed");
const rounds = Number(args[1] ?? 3);
// The very files bench reads (DuckDB's glob does not follow linked folders).
const files = listPackedPartitions(dir).flatMap((p) => p.parts);

const DUCKDB_SCAN = `
import { DuckDBInstance } from "@duckdb/node-api";
const db = await DuckDBInstance.create(":memory:", { threads: "2" });
const c = await db.connect();
const r = await c.runAndReadAll(\`SELECT count(*) AS n, sum(epoch(expiry)) + sum(strike) + sum(price) + sum(bp0) + sum(sp0) + sum(volume) + count(opt_type) AS x
  FROM read_parquet(${JSON.stringify(files).replaceAll('"', "'")})\`);
console.log(JSON.stringify({ rows: Number(r.getRowObjects()[0].n) }));
`;

function timed(cmd: string[]): { rows: number; ms: number } {
  const t = performance.now();
  const p = Bun.spawnSync(cmd, { cwd: root, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t;
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: exit ${p.exitCode}\n${p.stderr.toString()}`);
  return { rows: JSON.parse(p.stdout.toString()).rows, ms };
}

const runs: Record<string, number[]> = { "bench --workers 1": [], "bench --workers 2": [], "duckdb, 2 threads": [] };
const bench = (w: number) => timed([process.execPath, join(root, "scripts", "bench.ts"), dir, "--workers", String(w), "--json", ...extra]);
const duck = () => timed([process.execPath, "-e", DUCKDB_SCAN]);
for (let r = 0; r < rounds; r++) {
  const results = { "bench --workers 1": bench(1), "bench --workers 2": bench(2), "duckdb, 2 threads": duck() };
  console.log(`round ${r + 1}: ` + Object.entries(results).map(([k, v]) => `${k} ${(v.rows / v.ms / 1000).toFixed(1)}M rows/s`).join(" | "));
  for (const [k, v] of Object.entries(results)) runs[k].push(v.rows / v.ms / 1000);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
console.log(`medians over ${rounds} rounds (${dir}${extra.length ? " " + extra.join(" ") : ""}), whole processes:`);
for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(20)} ${v.toFixed(1)}M rows/s`);
console.log(`  2 workers / 1 worker: ${(m["bench --workers 2"] / m["bench --workers 1"]).toFixed(2)}x; bench (2 workers) / DuckDB: ${(m["bench --workers 2"] / m["duckdb, 2 threads"]).toFixed(2)}x`);
