/** The columns of packed partitions (docs/formats.md#packed-output): the raw ones narrowed, then those repack computes. */
import type { ColumnKind, ColumnSpec } from "../parquet/column-batch.ts";
import type { PageLayout } from "../parquet/io.ts";
import { RAW_COLUMNS } from "../raw/schema.ts";

/** Columns repack computes, appended after the raw ones. */
export const COMPUTED_COLUMNS: readonly ColumnSpec[] = [
  { name: "date", kind: "date32" },
  { name: "underlying", kind: "dict" },
  { name: "expiry", kind: "date32" },
  { name: "expiry_type", kind: "dict" },
  { name: "is_monthly", kind: "bool" },
  { name: "is_weekly", kind: "bool" },
  { name: "vol_delta", kind: "i64" },
];

/** Every column of a packed file, in file order. */
export const PACKED_COLUMNS: readonly ColumnSpec[] = [...RAW_COLUMNS, ...COMPUTED_COLUMNS];

/** Each packed column's kind, by name. */
export const PACKED_KINDS: ReadonlyMap<string, ColumnKind> = new Map(PACKED_COLUMNS.map((c) => [c.name, c.kind]));

/**
 * Non-string columns written with dictionary pages: the strategy's key and price columns. Their
 * values repeat in long runs, and dictionary/RLE pages decode ~2x faster than plain ZSTD pages
 * (7 bench columns: 21–25M vs 8–12M rows/s per core, measured) at no extra write time. And
 * `timestamp`, whose instants (whole seconds, a session's ~22.5k of them shared by a row group's
 * contracts) code in ~15 bits against ~33 delta-packed: 3.7 against 4.2 bytes a row, and the codes
 * need not be unpacked at all where only trades' instants are wanted (the report's sums, a trade
 * log: the driver reads runs of codes, lib/parquet/native/code-runs.ts).
 */
export const PACKED_DICTIONARY_COLUMNS: readonly string[] = [
  "expiry",
  "date",
  "strike",
  "price",
  "bp0",
  "sp0",
  "timestamp",
];

/**
 * Columns whose pages packed files store uncompressed (every other column is ZSTD). Their pages are
 * ~13–15-bit dictionary indices (price, bp0, sp0, timestamp: ZSTD shrinks them only 1.3–1.7×; a
 * timestamp's runs of codes point into the pages as stored) and DELTA_BINARY_PACKED bits (volume;
 * timestamp before it was coded by a dictionary), and decompressing them was most of their native decode.
 * Measured by bench/encoding-choices.ts on a 1.8M-row part (TinyCC, one thread, CPU time): bench's 7
 * columns 18.8 → 13.4 ns a row, timestamp 6.9 → 2.8, a 13% window of a row group 28% → 18% of the
 * whole group's cost; for 4.0 → 6.3 bytes a row for the 7 columns (timestamp 0.76 → 4.2) and +22% on
 * the whole file. PLAIN uncompressed timestamps (8 bytes a row) decoded no faster (3.0 vs 3.1 ns a
 * row). Files written before (all ZSTD) stay valid: both decoders read either.
 */
export const PACKED_UNCOMPRESSED_COLUMNS: readonly string[] = ["timestamp", "price", "bp0", "sp0", "volume"];

/**
 * How packed files' data pages are cut and coded. arrow-rs caps a page at 20,000 rows whatever its
 * byte limit, so a 100k-row chunk is 5 pages already (the 1 MiB default byte limit never bites on these
 * rows) and a window skips the pages it does not touch. Smaller byte limits were measured and left out:
 * 16 and 8 KiB pages (18–34 a chunk) cut a 5% window's timestamp cost from 18% to 10% of the whole
 * group's but slowed timestamp's whole decode 2.7 → 3.2 ns a row and added 1–4% to the file; 256 and
 * 64 KiB changed nothing; v2 pages decoded no faster.
 */
export const PACKED_PAGE_LAYOUT: PageLayout = { uncompressedColumns: PACKED_UNCOMPRESSED_COLUMNS };

/** The sort order of packed files, as recorded in their `tickpack.sort` metadata. */
export const PACKED_SORT_ORDER = "expiry,opt_type,strike,timestamp";

/** Version written to the `tickpack.version` metadata key. */
export const TICKPACK_VERSION = "0.1.0";
