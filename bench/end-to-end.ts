/**
 * bench end to end, whole processes, alternating in one run: `bench --workers 1`, `bench --workers 2`
 * (the native decoder where the files allow), `bench --workers 2 --decoder wasm` (parquet-wasm for
 * every part), and DuckDB scanning the same 7 columns of the same files with 2 threads.
 * `bun bench/end-to-end.ts [PACKED_DIR] [ROUNDS] [-- extra bench flags]` (default data/m50-packed, 3
 * rounds). bench runs with --no-cache (the decode path). Prints each round and the medians; rows/s are
 * over each process's wall time, and a round in which another process used the CPU is retried.
 */
import { join } from "node:path";
import { listPackedPartitions } from "../lib/packed/layout.ts";
import { median, timedProcess } from "./timed-process.ts";

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

/** Rows/s of one whole-process run, or null when something else used the CPU meanwhile. */
function rowsPerS(cmd: string[]): number | null {
  const r = timedProcess(cmd, root);
  return r.clean ? JSON.parse(r.stdout).rows / r.wallMs / 1000 : null;
}

const runs: Record<string, number[]> = {
  "bench --workers 1": [],
  "bench --workers 2": [],
  "bench 2, --decoder wasm": [],
  "duckdb, 2 threads": [],
};
// --no-cache: this measures the cold path (decode); bench/cache-warm.ts measures the column cache.
const bench = (w: number, ...flags: string[]) => [
  process.execPath,
  join(root, "scripts", "bench.ts"),
  dir,
  "--workers",
  String(w),
  "--json",
  "--no-cache",
  ...flags,
  ...extra,
];
const duck = [process.execPath, "-e", DUCKDB_SCAN];
let noisy = 0;
for (let r = 0; r < rounds && noisy < 4 * rounds; ) {
  const results = {
    "bench --workers 1": rowsPerS(bench(1)),
    "bench --workers 2": rowsPerS(bench(2)),
    "bench 2, --decoder wasm": rowsPerS(bench(2, "--decoder", "wasm")),
    "duckdb, 2 threads": rowsPerS(duck),
  };
  const line = Object.entries(results)
    .map(([k, v]) => `${k} ${v === null ? "(noisy)" : `${v.toFixed(1)}M rows/s`}`)
    .join(" | ");
  if (Object.values(results).some((v) => v === null)) {
    noisy++;
    console.log(`noisy round, retried: ${line}`);
    continue;
  }
  console.log(`round ${++r}: ${line}`);
  for (const [k, v] of Object.entries(results)) runs[k].push(v!);
}
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
console.log(
  `medians over ${runs["bench --workers 1"].length} clean rounds (${dir}${extra.length ? ` ${extra.join(" ")}` : ""}), whole processes:`,
);
for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(20)} ${v.toFixed(1)}M rows/s`);
// Each round's own ratio too: the two runs of a round are neighbours in time, so the machine's drift cancels.
const perRound = (a: string, b: string) => runs[a].map((x, i) => (x / runs[b][i]).toFixed(2)).join(", ");
console.log(
  `  per round: 2 workers / 1 worker ${perRound("bench --workers 2", "bench --workers 1")} (median ${median(runs["bench --workers 2"].map((x, i) => x / runs["bench --workers 1"][i])).toFixed(2)}x); bench (2 workers) / DuckDB ${perRound("bench --workers 2", "duckdb, 2 threads")}`,
);
console.log(
  `  2 workers / 1 worker: ${(m["bench --workers 2"] / m["bench --workers 1"]).toFixed(2)}x; bench (2 workers) / DuckDB: ${(m["bench --workers 2"] / m["duckdb, 2 threads"]).toFixed(2)}x; native / parquet-wasm (2 workers): ${(m["bench --workers 2"] / m["bench 2, --decoder wasm"]).toFixed(2)}x`,
);
