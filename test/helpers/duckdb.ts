/**
 * An independent reading of raw and packed files with DuckDB (a second Parquet engine), so tests
 * compare repack's output with the raw files themselves, not with another repack. Timestamps are
 * compared in µs: DuckDB reads the packed TIMESTAMP(NANOS, UTC) as a µs TIMESTAMPTZ.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { parseContractName } from "../../lib/raw/contract-name.ts";
import { RAW_COLUMNS } from "../../lib/raw/schema.ts";

const IST_NS = 19_800_000_000_000n;
const DAY_NS = 86_400_000_000_000n;
const UNIT_NS = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n } as const;

/** A raw file and, for its plain INT64 time columns, the unit the test wrote them in. */
export interface RawFileSpec {
  path: string;
  int64Unit?: keyof typeof UNIT_NS;
}

/** What DuckDB found comparing raw files with the packed output. */
export interface DuckComparison {
  /** Raw rows with a timestamp, exact duplicates counted once. */
  rawRows: number;
  packedRows: number;
  /** Raw rows (normalised) that no packed row equals, and the other way round (multisets). */
  missingFromPacked: number;
  notInRaw: number;
  /** A few rows of each, for the failure message. */
  examples: unknown[];
  /** Packed rows after a row with a greater (expiry, opt_type, strike, timestamp) key. */
  unsortedRows: number;
  /** Packed rows whose vol_delta differs from the one recomputed in SQL. */
  badVolDelta: number;
  /** Packed rows whose date/underlying differ from their folder. */
  wrongFolder: number;
  /** Column chunks not ZSTD, and column chunks with values but no min/max statistics. */
  notZstd: number;
  noStatistics: number;
}

let instance: DuckDBInstance | null = null;

async function connect(): Promise<DuckDBConnection> {
  instance ??= await DuckDBInstance.create(":memory:");
  return instance.connect();
}

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function scalar(c: DuckDBConnection, sql: string): Promise<number> {
  const rows = (await c.runAndReadAll(sql)).getRows();
  return Number(rows[0][0]);
}

/** SQL for epoch ns UTC of a raw time column, from DuckDB's type: naive = IST wall clock, TZ = UTC, BIGINT = the given unit. */
function timeSql(col: string, type: string, unit: keyof typeof UNIT_NS | undefined): string {
  if (type.includes("WITH TIME ZONE")) return `epoch_ns("${col}")`;
  if (type.startsWith("TIMESTAMP")) return `(epoch_ns("${col}") - ${IST_NS})`;
  if (type === "BIGINT") {
    if (!unit) throw new Error(`${col} is BIGINT: the test must say its unit`);
    return `("${col}" * ${UNIT_NS[unit]})`;
  }
  throw new Error(`unexpected time type ${type}`);
}

/** The normalised SELECT of one raw file: packed column types, opt_type/strike filled from the name, IST day and underlying. */
async function rawSelect(c: DuckDBConnection, spec: RawFileSpec): Promise<string> {
  const types = new Map(
    (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(spec.path)})`))
      .getRowObjectsJS()
      .map((r) => [String(r.column_name), String(r.column_type)]),
  );
  const name = parseContractName(spec.path);
  const exprs: string[] = [];
  for (const col of RAW_COLUMNS) {
    const t = types.get(col.name);
    const id = `"${col.name}"`;
    let e: string;
    // DuckDB reads UTC-adjusted TIMESTAMP(NANOS) (the packed type) as µs TIMESTAMPTZ: compare at µs
    // (whole ns are checked with tickpack's reader by the tests that need them).
    if (col.kind === "ts_ns") e = t ? `(${timeSql(col.name, t, spec.int64Unit)} // 1000 * 1000)` : "NULL::BIGINT";
    else if (col.kind === "dict")
      e =
        col.name === "opt_type"
          ? `coalesce(${t ? `${id}::VARCHAR` : "NULL"}, ${q(name.optType)})`
          : t
            ? `${id}::VARCHAR`
            : "NULL::VARCHAR";
    else if (col.kind === "i64") e = t ? `${id}::BIGINT` : "NULL::BIGINT";
    else if (col.kind === "f32") e = `coalesce(${t ? `${id}::DOUBLE` : "NULL"}, ${name.strike})::FLOAT`;
    else if (col.kind === "i16") e = t ? `${id}::SMALLINT` : "NULL::SMALLINT";
    else if (col.name === "changeper") e = t ? `floor(${id}::DOUBLE * 100 + 0.5) / 100` : "NULL::DOUBLE";
    else e = t ? `${id}::DOUBLE` : "NULL::DOUBLE";
    exprs.push(`${e} AS ${id}`);
  }
  const ts = timeSql("timestamp", types.get("timestamp")!, spec.int64Unit);
  exprs.push(`((${ts}) + ${IST_NS}) // ${DAY_NS} AS day`, `${q(name.underlying)} AS underlying`);
  return `SELECT ${exprs.join(", ")} FROM read_parquet(${q(spec.path)}) WHERE "timestamp" IS NOT NULL`;
}

function packedSelect(files: string[]): string {
  const exprs = RAW_COLUMNS.map((col) => {
    const id = `"${col.name}"`;
    if (col.kind === "ts_ns") return `epoch_ns(${id}) AS ${id}`;
    if (col.kind === "f32") return `${id}::FLOAT AS ${id}`;
    if (col.kind === "i16") return `${id}::SMALLINT AS ${id}`;
    if (col.kind === "dict") return `${id}::VARCHAR AS ${id}`;
    return id;
  });
  exprs.push(`datediff('day', DATE '1970-01-01', "date")::BIGINT AS day`, `underlying::VARCHAR AS underlying`);
  return `SELECT ${exprs.join(", ")} FROM read_parquet([${files.map(q).join(", ")}])`;
}

/** Compares every raw row with the packed output under `out`, all in DuckDB. */
export async function compareWithDuckDB(raw: RawFileSpec[], out: string): Promise<DuckComparison> {
  const c = await connect();
  try {
    const selects = await Promise.all(raw.map((spec) => rawSelect(c, spec)));
    const partitions = listPackedPartitions(out);
    const files = partitions.flatMap((p) => p.parts);
    await c.run(`CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT DISTINCT * FROM (${selects.join(" UNION ALL ")})`);
    await c.run(`CREATE OR REPLACE TEMP TABLE packed_rows AS ${packedSelect(files)}`);
    const missing = `SELECT * FROM raw_rows EXCEPT ALL SELECT * FROM packed_rows`;
    const extra = `SELECT * FROM packed_rows EXCEPT ALL SELECT * FROM raw_rows`;
    const examples = [
      ...(await c.runAndReadAll(`(${missing} LIMIT 2) UNION ALL (${extra} LIMIT 2)`)).getRowObjectsJS(),
    ].map((r) => ({ ts: r.timestamp, day: r.day, price: r.price, u: r.underlying }));
    let unsortedRows = 0,
      badVolDelta = 0,
      wrongFolder = 0,
      notZstd = 0,
      noStatistics = 0;
    for (const p of partitions) {
      // A partition's parts are one sequence: number rows across them in part order.
      const seq = `SELECT *, row_number() OVER (ORDER BY part, file_row_number) AS n FROM (${p.parts.map((f, i) => `SELECT *, ${i} AS part FROM read_parquet(${q(f)}, file_row_number = true)`).join(" UNION ALL ")})`;
      unsortedRows += await scalar(
        c,
        `SELECT count(*) FROM (SELECT expiry, opt_type::VARCHAR AS o, strike, "timestamp" AS t, lag(expiry) OVER w AS pe, lag(opt_type::VARCHAR) OVER w AS po, lag(strike) OVER w AS ps, lag("timestamp") OVER w AS pt FROM (${seq}) WINDOW w AS (ORDER BY n))
        WHERE pe IS NOT NULL AND (pe > expiry OR (pe = expiry AND (po > o OR (po = o AND (ps > strike OR (ps = strike AND pt > t))))))`,
      );
      badVolDelta += await scalar(
        c,
        `SELECT count(*) FROM (SELECT vol_delta, volume, lag(volume) OVER w AS pv, row_number() OVER w AS k FROM (${seq}) WINDOW w AS (PARTITION BY expiry, opt_type, strike ORDER BY n))
        WHERE vol_delta IS DISTINCT FROM (CASE WHEN k = 1 OR volume IS NULL OR pv IS NULL OR volume < pv THEN 0 ELSE volume - pv END)`,
      );
      if (p.date && p.underlying)
        wrongFolder += await scalar(
          c,
          `SELECT count(*) FROM (${seq}) WHERE "date" IS DISTINCT FROM DATE ${q(p.date)} OR underlying::VARCHAR IS DISTINCT FROM ${q(p.underlying)}`,
        );
      for (const f of p.parts) {
        notZstd += await scalar(c, `SELECT count(*) FROM parquet_metadata(${q(f)}) WHERE compression <> 'ZSTD'`);
        noStatistics += await scalar(
          c,
          `SELECT count(*) FROM parquet_metadata(${q(f)}) WHERE stats_null_count IS NULL OR (num_values > stats_null_count AND (stats_min_value IS NULL OR stats_max_value IS NULL))`,
        );
      }
    }
    return {
      rawRows: await scalar(c, "SELECT count(*) FROM raw_rows"),
      packedRows: await scalar(c, "SELECT count(*) FROM packed_rows"),
      missingFromPacked: await scalar(c, `SELECT count(*) FROM (${missing})`),
      notInRaw: await scalar(c, `SELECT count(*) FROM (${extra})`),
      examples,
      unsortedRows,
      badVolDelta,
      wrongFolder,
      notZstd,
      noStatistics,
    };
  } finally {
    c.closeSync();
  }
}
