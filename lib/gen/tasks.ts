/** The unit of gen work, run inside a worker: one contract's raw file. */
import * as arrow from "apache-arrow";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import { formatContractName } from "../raw/contract-name.ts";
import { RAW_COLUMNS } from "../raw/schema.ts";
import { packValidity } from "../parquet/arrow-columns.ts";
import { encodeArrowColumns } from "../parquet/io.ts";
import { contractTicks, underlyingSpec, type DefectRates, type SyntheticContract } from "./market.ts";

/** Generate and write one contract's raw Parquet file. */
export interface GenTask {
  kind: "gen";
  path: string;
  seed: number;
  contract: SyntheticContract;
  tickProb: number;
  defects: DefectRates;
  rowGroupSize: number;
}

/** What a gen task wrote. */
export interface GenResult {
  rows: number;
  bytes: number;
}

/** Writes the raw file of one contract (the raw types of docs/formats.md: naive µs timestamps, utf8 strings, int32 year/month). */
export async function runGenTask(task: GenTask): Promise<GenResult> {
  const c = task.contract;
  const t = contractTicks(task.seed, underlyingSpec(c.underlying), c, task.tickProb, task.defects);
  const n = t.length;
  const symbol = formatContractName(c);
  const children: Record<string, arrow.Data> = {};
  const strings = (value: string) => arrow.vectorFromArray(new Array<string>(n).fill(value), new arrow.Utf8()).data[0];
  const ints = (value: number) =>
    arrow.makeData({ type: new arrow.Int32(), length: n, data: new Int32Array(n).fill(value) });
  for (const spec of RAW_COLUMNS) {
    const name = spec.name;
    const valid = t.valid[name];
    const nulls = valid ? packValidity(valid) : { nullBitmap: undefined, nullCount: 0 };
    if (name === "timestamp" || name === "lastTradeTime") {
      children[name] = arrow.makeData({
        type: new arrow.TimestampMicrosecond(),
        length: n,
        data: name === "timestamp" ? t.timestamp : t.lastTradeTime,
      } as never);
    } else if (name === "symbol") children[name] = strings(symbol);
    else if (name === "opt_type") children[name] = strings(c.optType);
    else if (name === "year") children[name] = ints(c.year);
    else if (name === "month") children[name] = ints(c.month);
    else if (t.f64[name])
      children[name] = arrow.makeData({ type: new arrow.Float64(), length: n, data: t.f64[name], ...nulls });
    else children[name] = arrow.makeData({ type: new arrow.Int64(), length: n, data: t.i64[name], ...nulls } as never);
  }
  const bytes = encodeArrowColumns(children, {
    rowGroupSize: task.rowGroupSize,
    metadata: new Map([["generator", "tickpack gen"]]),
    dictionaryEverywhere: true,
  });
  mkdirSync(dirname(task.path), { recursive: true });
  writeFileAtomic(task.path, bytes);
  return { rows: n, bytes: bytes.length };
}
