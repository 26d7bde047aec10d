/**
 * What a plain bench run imports before its first partition: each worker loads its own module graph
 * (and Bun transpiles each module again for it), so the chain, money, the column cache, the trade log
 * and parquet-wasm's source load only with a task or a flag that needs them (docs/bench.md, Start-up).
 */
import { describe, expect, test } from "bun:test";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** The project's modules that `entries` import statically (type-only imports aside), transitively; paths relative to the root. */
async function staticGraph(...entries: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const todo = entries.map((e) => join(ROOT, e));
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    const rel = relative(ROOT, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const i of transpiler.scanImports(await Bun.file(file).text()))
      if (i.kind === "import-statement" && i.path.startsWith(".")) todo.push(resolve(dirname(file), i.path));
  }
  return seen;
}

/** Loaded only by what uses them. */
const OPTIONAL = [
  "kernel/chain-kernel.ts",
  "lib/chain/run-partition.ts",
  "lib/chain/part-columns.ts",
  "lib/money/trade-money.ts",
  "lib/cache/part-cache.ts",
  "lib/read/cache-fill.ts",
  "lib/read/wasm-source.ts",
  "lib/parquet/source.ts",
  "lib/bench/trade-log.ts",
];

describe("bench's module graphs", () => {
  test("a worker's static imports hold the native read path and the per-contract kernel, nothing optional", async () => {
    const graph = await staticGraph("lib/bench/worker.ts");
    for (const m of ["lib/read/run-partition.ts", "lib/read/native-source.ts", "kernel/strategy-kernel.ts"])
      expect(graph.has(m)).toBe(true);
    expect(OPTIONAL.filter((m) => graph.has(m))).toEqual([]);
  });

  test("the command's static imports hold the run and the pool; a chain kernel, a trade log and parquet-wasm's source load when asked for", async () => {
    const graph = await staticGraph("scripts/bench.ts", "scripts/cli/bench-command.ts");
    for (const m of ["lib/bench/bench.ts", "lib/workers/pool.ts", "kernel/kernel-abi.ts"])
      expect(graph.has(m)).toBe(true);
    // The cache is on by default and money's modules are small: the command keeps both static.
    const asked = OPTIONAL.filter((m) => !m.startsWith("lib/cache/") && !m.startsWith("lib/money/"));
    expect(asked.filter((m) => graph.has(m))).toEqual([]);
  });
});
