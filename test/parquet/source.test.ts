import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, fstatSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeParquetFile, openParquetFile, ParquetOpenError } from "../../lib/parquet/source.ts";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";

// Seconds of CPU work each on a quiet machine: the suite must also pass on a loaded one.
setDefaultTimeout(60_000);

afterAll(cleanupTempDirs);

describe("openParquetFile", () => {
  test("names a missing or empty file; closes the descriptor it opened, and only that one", async () => {
    const dir = tempDir("source");
    await expect(openParquetFile(join(dir, "nope.parquet"))).rejects.toThrow(
      new ParquetOpenError("file does not exist"),
    );
    writeFileSync(join(dir, "empty.parquet"), "");
    await expect(openParquetFile(join(dir, "empty.parquet"))).rejects.toThrow("empty file (0 bytes)");
    writeFileSync(join(dir, "junk.parquet"), "not parquet at all");
    await expect(openParquetFile(join(dir, "junk.parquet"))).rejects.toThrow(/not a readable Parquet file/);
    const part = listPackedPartitions(await packedFixture("source", { days: 1, strikesEachSide: 1, tickProb: 0.05 }))[0]
      .parts[0];
    const own = await openParquetFile(part);
    const ownFd = own.ownFd!;
    expect(fstatSync(ownFd).size).toBeGreaterThan(0);
    closeParquetFile(own);
    expect(() => fstatSync(ownFd)).toThrow(/EBADF|bad file descriptor/i);
    // A caller's descriptor stays the caller's.
    const fd = openSync(part, "r");
    const given = await openParquetFile(part, fd);
    expect(given.ownFd).toBeNull();
    closeParquetFile(given);
    expect(fstatSync(fd).size).toBeGreaterThan(0);
    closeSync(fd);
  });
});
