import { EmaCrossKernel, DEFAULT_PARAMS } from "../kernel/ema_cross.ts";
import { runPartition } from "../lib/strategy-reader.ts";
import { openParquet, withRows, closeParquet } from "../lib/parquet-io.ts";
import { listPackedPartitions } from "../lib/packed-layout.ts";
const parts = listPackedPartitions(process.argv[2]);
for (let rep = 0; rep < 3; rep++) {
  let t0 = performance.now(); let rows = 0;
  for (const p of parts) { const k = new EmaCrossKernel(DEFAULT_PARAMS); await runPartition(p.parts, k, false); rows += k.totals().rows; }
  const full = performance.now() - t0;
  t0 = performance.now();
  for (const p of parts) for (const f of p.parts) { const s = await openParquet(f); for (let g = 0; g < s.rowGroupRows.length; g++) await withRows(s, ["expiry","opt_type","strike","price","bp0","sp0","volume"], { rowGroups: [g] }, () => 0); closeParquet(s); }
  const dec = performance.now() - t0;
  console.log("rows", rows, "full ms", full.toFixed(0), "decode-only ms", dec.toFixed(0), "→", (rows / full * 1000 / 1e6).toFixed(1), "M rows/s (1 core)");
}
