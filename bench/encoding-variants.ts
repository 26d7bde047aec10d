/** What the encoding benchmarks (decode-encodings.ts, decode-timestamp.ts) share: their default file and their decode timing. */
import { parseTable } from "arrow-js-ffi";
import * as pw from "parquet-wasm/node";
import { statSync } from "node:fs";
import { join } from "node:path";
import { listPackedPartitions } from "../lib/packed/layout.ts";

/** The largest part under data/m50-packed: the default file to rewrite per variant. */
export function largestPackedPart(): string {
  return listPackedPartitions(join(import.meta.dir, "..", "data", "m50-packed"))
    .flatMap((p) => p.parts)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
}

/** Milliseconds to decode `columns` of the file at `path`, row group by row group, into views on wasm memory (as bench reads). */
async function decodeMs(path: string, columns: string[], batchSize: number): Promise<number> {
  const t = performance.now();
  const s = await pw.ParquetFile.fromFile(Bun.file(path));
  const groups = s.metadata().numRowGroups();
  for (let g = 0; g < groups; g++) {
    const table = await s.read({ columns, rowGroups: [g], batchSize });
    const ffi = table.intoFFI();
    parseTable(pw.wasmMemory().buffer, ffi.arrayAddrs(), ffi.schemaAddr(), false);
    ffi.drop();
  }
  s.free();
  return performance.now() - t;
}

/** Each file's best decode time of 5, ms (files alternating, after one warm-up round). */
export async function bestDecodeMs(paths: string[], columns: string[], batchSize: number): Promise<number[]> {
  const best = paths.map(() => Infinity);
  for (let round = 0; round < 6; round++) {
    for (const [k, path] of paths.entries()) {
      const ms = await decodeMs(path, columns, batchSize);
      if (round > 0) best[k] = Math.min(best[k], ms);
    }
  }
  return best;
}
