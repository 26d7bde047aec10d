import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ManifestError, readManifest, writeManifest } from "../../lib/packed/manifest.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

afterAll(cleanupTempDirs);

describe("manifest", () => {
  test("a corrupt manifest is a ManifestError naming the file (never a TypeError later)", () => {
    const path = join(tempDir("mf"), "manifest.json");
    for (const [text, why] of [
      ["{not json", "not valid JSON"],
      ['{"version":1,"files":null}', '"files" is not an object'],
      ['{"version":1,"files":[]}', '"files" is not an object'],
      ['{"version":1,"files":{"/a.parquet":{"size":"big"}}}', 'entry "/a.parquet" has no numeric size and mtimeMs'],
      ["null", "not a tickpack manifest"],
    ] as const) {
      writeFileSync(path, text);
      expect(() => readManifest(path)).toThrow(ManifestError);
      expect(() => readManifest(path)).toThrow(`${path}: the manifest of consumed inputs is corrupt (${why}`);
    }
  });

  test("a write that fails (ENOSPC) is one line naming the file and the reason", () => {
    const path = join(tempDir("mf"), "manifest.json");
    const full = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    expect(() => writeManifest(path, { version: 1, files: {} }, full)).toThrow(
      new ManifestError(`${path}: cannot write the manifest of consumed inputs: no space left on device (ENOSPC)`),
    );
  });
});
