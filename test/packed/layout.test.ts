import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listPackedPartitions, partitionDir } from "../../lib/packed/layout.ts";
import { listRawInputs } from "../../lib/raw/inputs.ts";

const root = mkdtempSync(join(tmpdir(), "tickpack-layout-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function touch(path: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "x");
}

describe("packed layout", () => {
  test("both layouts, parts in index order, state and temp files ignored, symlinked folders followed once", () => {
    const out = join(root, "store");
    const seed = partitionDir(out, "seed", "2025-11-17", "NIFTY");
    for (const i of [10, 2, 0, 1]) touch(join(seed, `part-nifty-${i}.parquet`));
    touch(join(seed, ".part-nifty-0.parquet.tmp-1-abc"));
    touch(join(partitionDir(out, "hive", "2025-11-18", "M&M"), "part-0.parquet"));
    touch(join(out, "_tickpack", "x.parquet"));
    touch(join(out, "loose.parquet"));
    const elsewhere = join(root, "elsewhere", "BANKNIFTY");
    touch(join(elsewhere, "part-banknifty-0.parquet"));
    mkdirSync(join(out, "2025-11-19"), { recursive: true });
    symlinkSync(elsewhere, join(out, "2025-11-19", "BANKNIFTY"));
    symlinkSync(out, join(out, "2025-11-19", "loop")); // a cycle must not hang the walk
    const parts = listPackedPartitions(out);
    const byKey = new Map(parts.map((p) => [`${p.date}/${p.underlying}/${p.layout}`, p]));
    expect(byKey.get("2025-11-17/NIFTY/seed")!.parts.map((f) => f.split("/").pop())).toEqual([
      "part-nifty-0.parquet",
      "part-nifty-1.parquet",
      "part-nifty-2.parquet",
      "part-nifty-10.parquet",
    ]);
    expect(byKey.get("2025-11-18/M&M/hive")!.parts.length).toBe(1);
    expect(byKey.get("2025-11-19/BANKNIFTY/seed")!.parts.length).toBe(1);
    expect(byKey.get("null/null/null")!.parts[0]).toBe(join(out, "loose.parquet"));
    expect(parts.length).toBe(4);
  });

  test("raw inputs: any nesting, symlinks followed, a file reached twice listed once, the output skipped", () => {
    const raw = join(root, "raw");
    touch(join(raw, "a", "NIFTY25NOV24500CE.parquet"));
    touch(join(raw, "b", "c", "NIFTY25NOV24500PE.PARQUET"));
    touch(join(raw, "notes.txt"));
    symlinkSync(join(raw, "a"), join(raw, "again"));
    touch(join(raw, "out", "2025-11-17", "NIFTY", "part-nifty-0.parquet"));
    const inputs = listRawInputs([raw], join(raw, "out")).inputs;
    expect(inputs.map((i) => i.path.slice(raw.length))).toEqual([
      "/a/NIFTY25NOV24500CE.parquet",
      "/b/c/NIFTY25NOV24500PE.PARQUET",
    ]);
  });
});
