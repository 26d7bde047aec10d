import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(120_000);
afterAll(cleanupTempDirs);

describe("listing packed partitions", () => {
  test("a loop of links is skipped like a dangling link: bench and resort --check run, one line each, same rows", async () => {
    const raw = tempDir("ls-raw");
    await genFixture(raw, { days: 1 });
    const packed = tempDir("ls-packed");
    await repackFixture([raw], packed);
    const looped = tempDir("ls-looped");
    cpSync(packed, looped, { recursive: true });
    symlinkSync("self", join(looped, "self")); // ELOOP
    symlinkSync("..", join(looped, "2025-11-17", "up")); // a folder loop: followed once
    symlinkSync("nowhere", join(looped, "dangling"));
    expect(listPackedPartitions(looped).map((p) => p.parts.map((f) => f.slice(looped.length)))).toEqual(
      listPackedPartitions(packed).map((p) => p.parts.map((f) => f.slice(packed.length))),
    );
    const a = runScript("bench.ts", [packed, "--json"]);
    const b = runScript("bench.ts", [looped, "--json"]);
    expect(b.stderr).not.toContain("    at ");
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).rows).toBe(JSON.parse(a.stdout).rows);
    expect(runScript("resort.ts", [looped, "--check"]).code).toBe(0);
  });
});
