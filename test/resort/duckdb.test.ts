/**
 * resort's output read by DuckDB (an independent reader): the same rows as its input (a multiset of
 * every column), sorted by (expiry, opt_type as a string, strike, timestamp) across the parts of a
 * partition, and footer statistics that agree with the values.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, writeFileSync } from "node:fs";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { readPackedRows } from "../../lib/packed/reader.ts";
import { PACKED_COLUMNS } from "../../lib/packed/schema.ts";
import { packedFileMetadata } from "../../lib/packed/part-writer.ts";
import { takeBatch } from "../../lib/parquet/column-batch.ts";
import { encodeParquet } from "../../lib/parquet/io.ts";
import { SeededRandom } from "../../lib/random.ts";
import { resort } from "../../lib/resort/resort.ts";
import { checkPartitionWithDuckDB, rowDifferences } from "../helpers/duckdb.ts";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);
afterAll(cleanupTempDirs);

let packed: string;
beforeAll(async () => {
  packed = await packedFixture("rsd", { days: 1 });
});

const files = (dir: string) => listPackedPartitions(dir).flatMap((p) => p.parts);

describe("resort against DuckDB", () => {
  test("shuffled partitions (a PE row first, so opt_type's dictionary reads [PE, CE]) come back with the same rows, sorted across parts, statistics true", async () => {
    const dir = tempDir("rsd-store");
    cpSync(packed, dir, { recursive: true });
    for (const [k, p] of listPackedPartitions(dir).entries()) {
      const rows = await readPackedRows(p.parts[0]);
      const rng = new SeededRandom(k + 1);
      const perm = Int32Array.from({ length: rows.length }, (_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const opt = rows.columns.get("opt_type")!;
      const pe = perm.findIndex((r) => opt.dictionary![(opt.values as Int32Array)[r]] === "PE");
      [perm[0], perm[pe]] = [perm[pe], perm[0]];
      const shuffled = takeBatch(rows, perm);
      writeFileSync(
        p.parts[0],
        encodeParquet([shuffled], PACKED_COLUMNS, { rowGroupSize: 1500, metadata: packedFileMetadata(rows.length) }),
      );
    }
    const input = tempDir("rsd-input");
    cpSync(dir, input, { recursive: true });
    for (const p of listPackedPartitions(dir))
      expect((await checkPartitionWithDuckDB(p.parts)).unsortedRows).toBeGreaterThan(0);

    const s = await resort({ dir, check: false, dryRun: false, workers: 2, rowGroupSize: 1000, partRows: 4000 });
    expect(s.failed).toBe(0);
    expect(s.resorted).toBe(listPackedPartitions(input).length);
    expect(await rowDifferences(files(input), files(dir))).toEqual({ missing: 0, extra: 0 });
    const partitions = listPackedPartitions(dir);
    expect(partitions.some((p) => p.parts.length > 1)).toBe(true);
    for (const p of partitions)
      expect({ partition: `${p.date}/${p.underlying}`, ...(await checkPartitionWithDuckDB(p.parts)) }).toEqual({
        partition: `${p.date}/${p.underlying}`,
        unsortedRows: 0,
        badStatistics: [],
      });
  });
});
