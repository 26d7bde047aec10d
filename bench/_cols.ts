import * as pw from "parquet-wasm/node";
const f = await pw.ParquetFile.fromFile(Bun.file(process.argv[2]));
const md = f.metadata(); const rg = md.rowGroup(0);
const rows = rg.numRows();
const out = rg.columns().map(c => [c.columnPath().join("."), c.compressedSize(), c.uncompressedSize()] as const).sort((a,b)=>b[1]-a[1]);
for (const [n, c, u] of out.slice(0, 20)) console.log(n.padEnd(16), (c/rows).toFixed(2), "B/row", (u/rows).toFixed(1));
console.log("total", (out.reduce((a,c)=>a+c[1],0)/rows).toFixed(2));
