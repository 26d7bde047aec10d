import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { checkReadable, RawFileError } from "../../lib/raw/file.ts";
import { listRawInputs } from "../../lib/raw/inputs.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

afterAll(cleanupTempDirs);

function touch(path: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "x");
}

const errno = (code: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });

describe("listing raw inputs", () => {
  test("links that loop are skipped and counted, not thrown; the other files are listed", () => {
    const raw = tempDir("loops");
    touch(join(raw, "a", "NIFTY25NOV24500CE.parquet"));
    symlinkSync("self.parquet", join(raw, "self.parquet")); // a link to itself
    symlinkSync(join(raw, "b2"), join(raw, "b1")); // b1 → b2 → b1
    symlinkSync(join(raw, "b1"), join(raw, "b2"));
    symlinkSync(join(raw, "gone"), join(raw, "dangling.parquet"));
    const listing = listRawInputs([raw], tempDir("o"));
    expect(listing.inputs.map((i) => i.path.slice(raw.length))).toEqual(["/a/NIFTY25NOV24500CE.parquet"]);
    expect(listing.linksSkipped).toBe(4);
    expect(listing.problems).toEqual([]);
  });

  test("a folder that cannot be read is a problem naming it and the reason; the rest is listed", () => {
    const raw = tempDir("eacces");
    touch(join(raw, "open", "NIFTY25NOV24500CE.parquet"));
    touch(join(raw, "locked", "NIFTY25NOV24500PE.parquet"));
    // Root reads a chmod-000 folder anyway: the failure is injected where readdir would raise it.
    const listing = listRawInputs([raw], tempDir("o"), {
      readdir: (dir) => {
        if (dir.endsWith("/locked")) throw errno("EACCES", "scandir", dir);
        return readdirSync(dir, { withFileTypes: true }) as Dirent[];
      },
      stat: (p) => require("node:fs").statSync(p, { throwIfNoEntry: false }),
      realpath: (p) => require("node:fs").realpathSync(p),
    });
    expect(listing.inputs.map((i) => i.path.slice(raw.length))).toEqual(["/open/NIFTY25NOV24500CE.parquet"]);
    expect(listing.problems).toEqual([
      {
        path: join(raw, "locked"),
        error: "cannot list this folder, its files were not read: permission denied (EACCES)",
      },
    ]);
  });

  test("hidden entries are skipped and counted (a hidden folder once); temp files of writes in flight are not counted", () => {
    const raw = tempDir("hidden");
    touch(join(raw, "NIFTY25NOV24500CE.parquet"));
    touch(join(raw, ".old", "NIFTY25NOV24500PE.parquet"));
    touch(join(raw, ".NIFTY25NOV24600PE.parquet"));
    touch(join(raw, ".NIFTY25NOV24700PE.parquet.tmp-123-abc"));
    const listing = listRawInputs([raw], tempDir("o"));
    expect(listing.inputs.length).toBe(1);
    expect(listing.hiddenSkipped).toBe(2);
  });

  test("a user's file with .tmp- in its name is an input (reported if its name is no contract), never skipped in silence", () => {
    const raw = tempDir("tmpname");
    touch(join(raw, "NIFTY25NOV24500CE.tmp-v2.parquet"));
    expect(listRawInputs([raw], tempDir("o")).inputs.map((i) => i.path.slice(raw.length))).toEqual([
      "/NIFTY25NOV24500CE.tmp-v2.parquet",
    ]);
  });
});

describe("checkReadable", () => {
  test("a file that cannot be opened says permission denied, not a wasm trap", () => {
    const f = join(tempDir("perm"), "NIFTY25NOV24500CE.parquet");
    writeFileSync(f, "x");
    expect(() => checkReadable(f)).not.toThrow();
    const denied = () =>
      checkReadable(f, (p) => {
        throw errno("EACCES", "open", p);
      });
    expect(denied).toThrow(RawFileError);
    expect(denied).toThrow("cannot open for reading: permission denied (EACCES)");
  });
});
