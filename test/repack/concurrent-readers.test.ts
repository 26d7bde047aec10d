import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, genFixture, packedRows, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { benchTradesByPartition, runScript } from "../helpers/packed-views.ts";
import { COMMITTED_LINE } from "../../lib/packed/journal.ts";

setDefaultTimeout(300_000);

// Small parts and row groups: every commit renames several files, as a real multi-part partition does.
const PACK_OPTS = { partRows: 4000, rowGroupSize: 1000 };
const PACK_FLAGS = ["--part-rows", "4000", "--row-group-size", "1000", "--workers", "1"];

let rawNew: string;
let oldDir: string;
let oldTrades: Map<string, string[]>;
let newTrades: Map<string, string[]>;
let newRows: Map<string, string[]>;

beforeAll(async () => {
  const rawOld = tempDir("cr-raw-old");
  rawNew = tempDir("cr-raw-new");
  await genFixture(rawOld, { seed: 7 });
  // Another seed: new rows for the same contracts, so every partition is rewritten.
  await genFixture(rawNew, { seed: 8 });
  oldDir = tempDir("cr-old");
  await repackFixture([rawOld], oldDir, PACK_OPTS);
  const newDir = tempDir("cr-new");
  cpSync(oldDir, newDir, { recursive: true });
  await repackFixture([rawNew], newDir, PACK_OPTS);
  oldTrades = benchTradesByPartition(oldDir, join(tempDir("t"), "old.csv")).trades;
  newTrades = benchTradesByPartition(newDir, join(tempDir("t"), "new.csv")).trades;
  newRows = await packedRows(newDir);
  expect(oldTrades.size).toBe(4);
  for (const [k, v] of oldTrades) expect(newTrades.get(k)).not.toEqual(v);
});
afterAll(cleanupTempDirs);

const REPACK = join(import.meta.dir, "..", "..", "scripts", "repack.ts");

/**
 * bench and resort --check over `dir`: both succeed, and bench sees every partition in its old
 * version or its new one; returns how many it saw new.
 */
function readAndCountNew(dir: string): number {
  const seen = benchTradesByPartition(dir, join(tempDir("t"), "race.csv"));
  expect(seen.stderr).not.toContain("Error");
  expect(seen.code).toBe(0);
  let fresh = 0;
  for (const key of new Set([...oldTrades.keys(), ...newTrades.keys()])) {
    const got = seen.trades.get(key);
    if (Bun.deepEquals(got, newTrades.get(key))) fresh++;
    else if (!Bun.deepEquals(got, oldTrades.get(key)))
      throw new Error(
        `${key}: bench saw ${got?.length} trades, neither the old version's ${oldTrades.get(key)?.length} nor the new one's ${newTrades.get(key)?.length}`,
      );
  }
  const check = runScript("resort.ts", [dir, "--check", "--row-group-size", "1000"]);
  expect(check.stderr).not.toContain("error:");
  expect(check.code).toBe(0);
  return fresh;
}

describe("readers while repack commits into the same folder", () => {
  test("bench and resort --check see, for every partition, the old version or the new one; never an error", async () => {
    let reads = 0;
    for (let round = 0; round < 3; round++) {
      const dir = tempDir(`cr-race-${round}`);
      cpSync(oldDir, dir, { recursive: true });
      const writer = Bun.spawn([process.execPath, REPACK, rawNew, "--out", dir, ...PACK_FLAGS], {
        stdout: "ignore",
        stderr: "pipe",
      });
      const stderr = new Response(writer.stderr).text(); // drained as it comes: a full pipe would stall the writer
      let done = false;
      const exited = writer.exited.then((code) => {
        done = true;
        return code;
      });
      while (!done) {
        readAndCountNew(dir);
        reads++;
        await Bun.sleep(1);
      }
      expect({ code: await exited, stderr: (await stderr).includes("error:") }).toEqual({ code: 0, stderr: false });
      expect(await packedRows(dir)).toEqual(newRows);
    }
    expect(reads).toBeGreaterThan(0);
  });

  test("between two commits of a run (the writer paused after each): old and new partitions side by side, no error", async () => {
    const dir = tempDir("cr-paused");
    cpSync(oldDir, dir, { recursive: true });
    const writer = Bun.spawn([process.execPath, REPACK, rawNew, "--out", dir, ...PACK_FLAGS], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "ignore",
      env: { ...process.env, TICKPACK_TEST_PAUSE_AFTER_COMMIT: "1" },
    });
    // Each line is one commit done; the writer waits for a line back before it goes on.
    const newAfterEachCommit: number[] = [];
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of writer.stdout) {
      text += decoder.decode(chunk, { stream: true });
      for (; text.includes(COMMITTED_LINE); text = text.replace(COMMITTED_LINE, "")) {
        newAfterEachCommit.push(readAndCountNew(dir));
        writer.stdin.write("\n");
        writer.stdin.flush();
      }
    }
    expect(await writer.exited).toBe(0);
    // One partition more in its new version after each commit: every read fell between two commits.
    expect(newAfterEachCommit).toEqual([...oldTrades.keys()].map((_, i) => i + 1));
    expect(await packedRows(dir)).toEqual(newRows);
  });
});
