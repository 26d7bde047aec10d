/**
 * An independent reading of raw and packed files with DuckDB (a second Parquet engine), so tests
 * compare repack's output with the raw files themselves, not with another repack: the contract
 * names and the calendar are read here with their own small parsers, the rejection rule, the
 * duplicates and vol_delta are recomputed in SQL. Timestamps are compared in µs: DuckDB reads the
 * packed TIMESTAMP(NANOS, UTC) as a µs TIMESTAMPTZ.
 */
import { expect } from "bun:test";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { PACKED_UNCOMPRESSED_COLUMNS } from "../../lib/packed/schema.ts";
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
  /** Raw rows to be packed (not rejected), exact duplicates counted once. */
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
  /** Column chunks not ZSTD (nor UNCOMPRESSED where packed files store a column so), and column chunks with values but no min/max statistics. */
  notZstd: number;
  noStatistics: number;
  /** Raw rows the rejection rule rejects, by reason, and those not found (or found but not rejected) under _tickpack/rejected/. */
  rejectedByReason: Record<string, number>;
  missingFromRejected: number;
  notRejected: number;
  /** Packed rows whose symbol names another contract than their expiry, expiry_type, is_monthly, is_weekly, opt_type, strike say. */
  symbolMismatches: unknown[];
  /** Column chunks whose footer min/max/null count differ from their decoded values (see statisticsMismatches). */
  badStatistics: unknown[];
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
/** The contract a symbol or file name names, with its expiry from `calendar` (`U|YYYY-MM` → monthly expiry). */
interface TestContract {
  underlying: string;
  optType: string;
  strike: number;
  expiryType: "monthly" | "weekly";
  /** YYYY-MM-DD, or undefined for a monthly contract the calendar does not list. */
  expiry: string | undefined;
}

/** This test's own reading of a contract name (docs/formats.md, raw input), independent of lib/raw/contract-name.ts. */
export function testContract(name: string, calendar: Map<string, string>): TestContract {
  const stem = basename(name)
    .replace(/\.parquet$/i, "")
    .toUpperCase();
  const monthly = /^(.+?)(\d\d)(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(\d+(?:\.\d+)?)(CE|PE)$/.exec(stem);
  if (monthly) {
    const [, underlying, yy, mon, strike, optType] = monthly;
    const month = String(MONTHS.indexOf(mon) + 1).padStart(2, "0");
    const expiry = calendar.get(`${underlying}|20${yy}-${month}`);
    return { underlying, optType, strike: Number(strike), expiryType: "monthly", expiry };
  }
  const weekly = /^(.+?)(\d\d)([1-9OND])(\d\d)(\d+(?:\.\d+)?)(CE|PE)$/.exec(stem);
  if (!weekly) throw new Error(`${name}: the test cannot read this contract name`);
  const [, underlying, yy, m, dd, strike, optType] = weekly;
  const month = String("123456789OND".indexOf(m) + 1).padStart(2, "0");
  return { underlying, optType, strike: Number(strike), expiryType: "weekly", expiry: `20${yy}-${month}-${dd}` };
}

/** The monthly expiries of a calendar CSV (`underlying,expiry_type,expiry_date[,lot_size]`) as `U|YYYY-MM` → YYYY-MM-DD. */
export function testMonthlyExpiries(csvPath: string): Map<string, string> {
  const [header, ...lines] = readFileSync(csvPath, "utf8").trim().split(/\r?\n/);
  if (!/^underlying,expiry_type,expiry_date(,lot_size)?$/.test(header.trim()))
    throw new Error(`${csvPath}: unexpected header`);
  const monthly = new Map<string, string>();
  for (const line of lines) {
    const [u, type, date] = line.split(",").map((c) => c.trim());
    if (type === "monthly") monthly.set(`${u.toUpperCase()}|${date.slice(0, 7)}`, date);
  }
  return monthly;
}

/** The calendar repack reads by default for a raw file: expiry_calendar.csv in its folder or the nearest one above. */
function calendarNear(path: string): string {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "expiry_calendar.csv"))) return join(dir, "expiry_calendar.csv");
    if (dirname(dir) === dir) throw new Error(`no expiry_calendar.csv above ${path}`);
  }
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

const IST_DAY_2000 = 10_957;

/** Names of the packed columns the comparison covers, in its order: the raw ones, then day, underlying and the computed ones. */
const COMPARED = [
  ...RAW_COLUMNS.map((c) => c.name),
  "day",
  "underlying",
  "expiry",
  "expiry_type",
  "is_monthly",
  "is_weekly",
];

/**
 * The normalised SELECT of one raw file, every row: packed column types, opt_type/strike filled from
 * the name, IST day, underlying, expiry and its type from the name and calendar, the reason the
 * rejection rule gives (NULL: packed), and for ordering the full ns timestamp, file and row number.
 */
async function rawSelect(c: DuckDBConnection, spec: RawFileSpec, index: number, calendar: Map<string, string>) {
  const types = new Map(
    (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(spec.path)})`))
      .getRowObjectsJS()
      .map((r) => [String(r.column_name), String(r.column_type)]),
  );
  const name = testContract(spec.path, calendar);
  if (name.expiry === undefined) throw new Error(`${spec.path}: the calendar has no monthly expiry for it`);
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
  const expiry = `DATE ${q(name.expiry)}`;
  const day = `((${ts}) + ${IST_NS}) // ${DAY_NS}`;
  exprs.push(
    `${day} AS day`,
    `${q(name.underlying)} AS underlying`,
    `${expiry} AS expiry`,
    `${q(name.expiryType)} AS expiry_type`,
    `${name.expiryType === "monthly"} AS is_monthly`,
    `${name.expiryType === "weekly"} AS is_weekly`,
    `CASE WHEN "timestamp" IS NULL THEN 'null_timestamp' WHEN ${day} < ${IST_DAY_2000} THEN 'before_2000'
      WHEN ${day} > datediff('day', DATE '1970-01-01', ${expiry}) THEN 'after_expiry' END AS reason`,
    `${ts} AS _ts`,
    `${index} AS _f`,
    "file_row_number AS _rn",
    `${q(spec.path)} AS _source`,
    // Rejected rows keep these as delivered: packed rows have changeper rounded to 2 decimals and
    // opt_type, strike filled in from the name where null.
    `${types.get("changeper") ? `"changeper"::DOUBLE` : "NULL::DOUBLE"} AS _delivered_changeper`,
    `${types.get("opt_type") ? `"opt_type"::VARCHAR` : "NULL::VARCHAR"} AS _delivered_opt_type`,
    `${types.get("strike") ? `"strike"::FLOAT` : "NULL::FLOAT"} AS _delivered_strike`,
  );
  return `SELECT ${exprs.join(", ")} FROM read_parquet(${q(spec.path)}, file_row_number = true)`;
}

/** The raw columns of packed (or rejected-row) files as rawSelect normalises them. */
function rawColumnsOf(): string[] {
  return RAW_COLUMNS.map((col) => {
    const id = `"${col.name}"`;
    if (col.kind === "ts_ns") return `epoch_ns(${id}) AS ${id}`;
    if (col.kind === "f32") return `${id}::FLOAT AS ${id}`;
    if (col.kind === "i16") return `${id}::SMALLINT AS ${id}`;
    if (col.kind === "dict") return `${id}::VARCHAR AS ${id}`;
    return id;
  });
}

function packedSelect(files: string[]): string {
  const exprs = rawColumnsOf();
  exprs.push(
    `datediff('day', DATE '1970-01-01', "date")::BIGINT AS day`,
    "underlying::VARCHAR AS underlying",
    "expiry",
    "expiry_type::VARCHAR AS expiry_type",
    "is_monthly",
    "is_weekly",
    "vol_delta",
  );
  return `SELECT ${exprs.join(", ")} FROM read_parquet([${files.map(q).join(", ")}])`;
}

/** SQL of a partition's rows, its parts in order as one sequence numbered `n`. */
function partitionSequence(parts: string[]): string {
  return `SELECT *, row_number() OVER (ORDER BY part, file_row_number) AS n FROM (${parts.map((f, i) => `SELECT *, ${i} AS part FROM read_parquet(${q(f)}, file_row_number = true)`).join(" UNION ALL ")})`;
}

/** Rows of a partition (its parts in order) after a row with a greater (expiry, opt_type as a string, strike, timestamp). */
async function unsortedRowsOf(c: DuckDBConnection, parts: string[]): Promise<number> {
  return scalar(
    c,
    `SELECT count(*) FROM (SELECT expiry, opt_type::VARCHAR AS o, strike, "timestamp" AS t, lag(expiry) OVER w AS pe, lag(opt_type::VARCHAR) OVER w AS po, lag(strike) OVER w AS ps, lag("timestamp") OVER w AS pt FROM (${partitionSequence(parts)}) WINDOW w AS (ORDER BY n))
    WHERE pe IS NOT NULL AND (pe > expiry OR (pe = expiry AND (po > o OR (po = o AND (ps > strike OR (ps = strike AND pt > t))))))`,
  );
}

/** What DuckDB finds in one packed partition (its parts in order): unsorted rows, and column chunks whose statistics differ from their values. */
export async function checkPartitionWithDuckDB(
  parts: string[],
): Promise<{ unsortedRows: number; badStatistics: unknown[] }> {
  const c = await connect();
  try {
    const badStatistics: unknown[] = [];
    for (const f of parts) badStatistics.push(...(await statisticsMismatches(c, f)));
    return { unsortedRows: await unsortedRowsOf(c, parts), badStatistics };
  } finally {
    c.closeSync();
  }
}

/** The rows of `files` minus the rows of `others`, and the other way round, as multisets of every column (DuckDB). */
export async function rowDifferences(files: string[], others: string[]): Promise<{ missing: number; extra: number }> {
  const c = await connect();
  const all = (fs: string[]) => `SELECT * FROM read_parquet([${fs.map(q).join(", ")}])`;
  try {
    return {
      missing: await scalar(c, `SELECT count(*) FROM (${all(files)} EXCEPT ALL ${all(others)})`),
      extra: await scalar(c, `SELECT count(*) FROM (${all(others)} EXCEPT ALL ${all(files)})`),
    };
  } finally {
    c.closeSync();
  }
}

/**
 * Column chunks of `file` whose footer statistics (min, max, null count: DuckDB's parquet_metadata)
 * differ from the values DuckDB decodes in that row group, compared as the column's own type.
 */
async function statisticsMismatches(c: DuckDBConnection, file: string): Promise<unknown[]> {
  const groups = (
    await c.runAndReadAll(
      `SELECT DISTINCT row_group_id AS id, row_group_num_rows AS n FROM parquet_metadata(${q(file)}) ORDER BY id`,
    )
  ).getRowObjectsJS();
  let first = 0;
  const ranges = groups.map((g) => {
    const r = `(${Number(g.id)}, ${first}, ${first + Number(g.n)})`;
    first += Number(g.n);
    return r;
  });
  const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(file)})`))
    .getRowObjectsJS()
    .map((t) => ({ col: String(t.column_name), type: String(t.column_type) }));
  // One pass over the file for every column's min, max and null count per row group.
  const aggregates = types.map(
    ({ col }, k) => `min("${col}") AS mn${k}, max("${col}") AS mx${k}, count(*) - count("${col}") AS nl${k}`,
  );
  await c.run(
    `CREATE OR REPLACE TEMP TABLE decoded_stats AS WITH rg(id, lo, hi) AS (VALUES ${ranges.join(", ")})
    SELECT rg.id, ${aggregates.join(", ")} FROM read_parquet(${q(file)}, file_row_number = true) JOIN rg ON file_row_number >= lo AND file_row_number < hi GROUP BY rg.id`,
  );
  await c.run(`CREATE OR REPLACE TEMP TABLE footer_stats AS SELECT * FROM parquet_metadata(${q(file)})`);
  const perColumn = types.map(
    ({ col, type }, k) =>
      `SELECT ${q(col)} AS "column", id, d.mn${k}::VARCHAR AS decoded_min, f.mn::VARCHAR AS footer_min, d.mx${k}::VARCHAR AS decoded_max, f.mx::VARCHAR AS footer_max, d.nl${k} AS decoded_nulls, f.nulls AS footer_nulls
      FROM decoded_stats d FULL JOIN (SELECT row_group_id AS id, stats_min_value::${type} AS mn, stats_max_value::${type} AS mx, stats_null_count AS nulls FROM footer_stats WHERE path_in_schema = ${q(col)}) f USING (id)
      WHERE d.mn${k} IS DISTINCT FROM f.mn OR d.mx${k} IS DISTINCT FROM f.mx OR d.nl${k} IS DISTINCT FROM f.nulls`,
  );
  return (await c.runAndReadAll(perColumn.join(" UNION ALL "))).getRowObjectsJS().map((r) => ({ file, ...r }));
}

/**
 * Compares every raw row with the packed output under `out` and its rejected rows, all in DuckDB.
 * `calendar` defaults to the one repack reads: expiry_calendar.csv next to (or above) the raw files.
 */
export async function compareWithDuckDB(raw: RawFileSpec[], out: string, calendar?: string): Promise<DuckComparison> {
  const c = await connect();
  try {
    const monthly = testMonthlyExpiries(calendar ?? calendarNear(raw[0].path));
    const selects = await Promise.all(raw.map((spec, i) => rawSelect(c, spec, i, monthly)));
    const partitions = listPackedPartitions(out);
    const files = partitions.flatMap((p) => p.parts);
    const cols = COMPARED.map((n) => `"${n}"`).join(", ");
    await c.run(`CREATE OR REPLACE TEMP TABLE raw_all AS ${selects.join(" UNION ALL ")}`);
    // Exact duplicates (equal in every raw column) count once; vol_delta over what is packed, in time
    // order (ties in input order), per contract and IST day.
    await c.run(
      `CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT ${cols},
        CASE WHEN k = 1 OR volume IS NULL OR pv IS NULL OR volume < pv THEN 0 ELSE volume - pv END AS vol_delta
      FROM (SELECT *, lag(volume) OVER w AS pv, row_number() OVER w AS k
        FROM (SELECT * FROM raw_all WHERE reason IS NULL QUALIFY row_number() OVER (PARTITION BY ${cols}, _ts ORDER BY _f, _rn) = 1)
        WINDOW w AS (PARTITION BY underlying, day, expiry, opt_type, strike ORDER BY _ts, _f, _rn))`,
    );
    await c.run(`CREATE OR REPLACE TEMP TABLE packed_rows AS ${packedSelect(files)}`);
    const missing = `SELECT * FROM raw_rows EXCEPT ALL SELECT * FROM packed_rows`;
    const extra = `SELECT * FROM packed_rows EXCEPT ALL SELECT * FROM raw_rows`;
    const examples = [
      ...(await c.runAndReadAll(`(${missing} LIMIT 2) UNION ALL (${extra} LIMIT 2)`)).getRowObjectsJS(),
    ].map((r) => ({ ts: r.timestamp, day: r.day, price: r.price, u: r.underlying, vd: r.vol_delta, e: r.expiry }));

    const delivered = new Set(["changeper", "opt_type", "strike"]);
    const rawCols = RAW_COLUMNS.map((col) =>
      delivered.has(col.name) ? `_delivered_${col.name} AS "${col.name}"` : `"${col.name}"`,
    ).join(", ");
    await c.run(
      `CREATE OR REPLACE TEMP TABLE rejected_expected AS SELECT ${rawCols}, _source AS source_file, reason FROM raw_all WHERE reason IS NOT NULL`,
    );
    const rejectedFiles = existsSync(join(out, "_tickpack", "rejected"))
      ? readdirSync(join(out, "_tickpack", "rejected"))
          .filter((f) => f.endsWith(".rejected"))
          .map((f) => join(out, "_tickpack", "rejected", f))
      : [];
    await c.run(
      rejectedFiles.length > 0
        ? `CREATE OR REPLACE TEMP TABLE rejected_rows AS SELECT ${rawColumnsOf().join(", ")}, source_file::VARCHAR AS source_file, reason::VARCHAR AS reason FROM read_parquet([${rejectedFiles.map(q).join(", ")}])`
        : "CREATE OR REPLACE TEMP TABLE rejected_rows AS SELECT * FROM rejected_expected LIMIT 0",
    );
    const rejectedByReason: Record<string, number> = {};
    for (const r of (
      await c.runAndReadAll("SELECT reason, count(*) AS n FROM rejected_expected GROUP BY reason")
    ).getRowObjectsJS())
      rejectedByReason[String(r.reason)] = Number(r.n);

    const symbolMismatches: unknown[] = [];
    for (const r of (
      await c.runAndReadAll(
        `SELECT DISTINCT symbol, underlying, strftime(expiry, '%Y-%m-%d') AS expiry, expiry_type, is_monthly, is_weekly, opt_type, strike FROM packed_rows WHERE symbol IS NOT NULL`,
      )
    ).getRowObjectsJS()) {
      const named = testContract(String(r.symbol), monthly);
      const expected = {
        underlying: named.underlying,
        expiry: named.expiry,
        expiry_type: named.expiryType,
        is_monthly: named.expiryType === "monthly",
        is_weekly: named.expiryType === "weekly",
        opt_type: named.optType,
        strike: named.strike,
      };
      const got = { ...r, strike: Number(r.strike) };
      delete (got as Record<string, unknown>).symbol;
      if (JSON.stringify(got) !== JSON.stringify(expected)) symbolMismatches.push({ symbol: r.symbol, got, expected });
    }
    let unsortedRows = 0,
      badVolDelta = 0,
      wrongFolder = 0,
      notZstd = 0,
      noStatistics = 0;
    const badStatistics: unknown[] = [];
    for (const p of partitions) {
      // A partition's parts are one sequence: number rows across them in part order.
      const seq = partitionSequence(p.parts);
      unsortedRows += await unsortedRowsOf(c, p.parts);
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
        badStatistics.push(...(await statisticsMismatches(c, f)));
        notZstd += await scalar(
          c,
          `SELECT count(*) FROM parquet_metadata(${q(f)}) WHERE compression <> 'ZSTD' AND NOT (compression = 'UNCOMPRESSED' AND path_in_schema IN (${PACKED_UNCOMPRESSED_COLUMNS.map(q).join(", ")}))`,
        );
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
      rejectedByReason,
      missingFromRejected: await scalar(
        c,
        "SELECT count(*) FROM (SELECT * FROM rejected_expected EXCEPT ALL SELECT * FROM rejected_rows)",
      ),
      notRejected: await scalar(
        c,
        "SELECT count(*) FROM (SELECT * FROM rejected_rows EXCEPT ALL SELECT * FROM rejected_expected)",
      ),
      symbolMismatches,
      badStatistics,
    };
  } finally {
    c.closeSync();
  }
}

/** Asserts that a comparison found the packed output equal to the raw rows in every respect it checks (and `rowsOut` packed rows, when given). */
export function expectPackedAsRaw(c: DuckComparison, rowsOut?: number): void {
  expect({ missing: c.missingFromPacked, extra: c.notInRaw, examples: c.examples }).toEqual({
    missing: 0,
    extra: 0,
    examples: [],
  });
  expect(c.packedRows).toBe(c.rawRows);
  if (rowsOut !== undefined) expect(c.packedRows).toBe(rowsOut);
  expect({
    unsorted: c.unsortedRows,
    volDelta: c.badVolDelta,
    folder: c.wrongFolder,
    zstd: c.notZstd,
    stats: c.noStatistics,
  }).toEqual({ unsorted: 0, volDelta: 0, folder: 0, zstd: 0, stats: 0 });
  expect({ missing: c.missingFromRejected, extra: c.notRejected }).toEqual({ missing: 0, extra: 0 });
  expect(c.symbolMismatches).toEqual([]);
  expect(c.badStatistics.slice(0, 5)).toEqual([]);
}
