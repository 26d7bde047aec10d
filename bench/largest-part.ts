/** The part file the single-file benchmarks read by default. */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** `path` when it is a file; else the largest Parquet file under the folder (tickpack's own `_` folders left out). */
export function largestPart(path: string): string {
  if (statSync(path).isFile()) return path;
  let best = { path: "", size: -1 };
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith("_")) walk(p);
      else if (e.name.endsWith(".parquet") && statSync(p).size > best.size) best = { path: p, size: statSync(p).size };
    }
  };
  walk(path);
  return best.path;
}
