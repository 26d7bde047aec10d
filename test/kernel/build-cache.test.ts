import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dependencyFiles } from "../../kernel/build-cache.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..", "..");
const GCC = Bun.which("gcc");

describe("dependencyFiles", () => {
  test("reads a make-style list: continuation lines, make's escapes, the target and the unit left out, each file once", () => {
    const text = [
      "x: /tmp/unit.c /usr/include/stdc-predef.h \\",
      " /home/a\\ b/my\\#kernel.c /opt/$$HOME/h.h \\",
      " /usr/include/stdc-predef.h",
      "",
    ].join("\n");
    expect(dependencyFiles(text, "/tmp/unit.c")).toEqual([
      "/usr/include/stdc-predef.h",
      "/home/a b/my#kernel.c",
      "/opt/$HOME/h.h",
    ]);
    expect(dependencyFiles("x:\n", "/tmp/unit.c")).toEqual([]);
  });
});

describe.skipIf(!GCC)(`gcc builds kept across runs${GCC ? "" : " (skipped: no gcc on PATH)"}`, () => {
  let dir = "";
  let cache = "";
  let log = "";
  let bin = "";
  const kernel = () => join(dir, "k1.c");
  const header = () => join(dir, "rules.h");

  beforeAll(() => {
    dir = tempDir("build-cache");
    cache = join(dir, "cache");
    log = join(dir, "gcc.log");
    bin = join(dir, "bin");
    // A gcc that writes down how it was called: preprocessor runs (-E) and builds (-o) are counted.
    mkdirSync(bin);
    writeFileSync(join(bin, "gcc"), `#!/bin/sh\nprintf '%s\\n' "$*" >> "$GCC_CALLS"\nexec ${GCC} "$@"\n`);
    chmodSync(join(bin, "gcc"), 0o755);
    writeFileSync(header(), "#define ANSWER 3\n");
    writeFileSync(kernel(), '#include "rules.h"\nint answer(void) { return ANSWER; }\n');
    writeFileSync(join(dir, "k2.c"), "int answer(void) { return 4; }\n");
    writeFileSync(
      join(dir, "clock.c"),
      "static const char *t = __TIME__;\nint answer(void) { return t[0] ? 7 : 0; }\n",
    );
    writeFileSync(
      join(dir, "compile.ts"),
      `import { compileKernelUnit } from ${JSON.stringify(join(ROOT, "kernel", "strategy-kernel.ts"))};\n` +
        "const k = process.argv[2];\n" +
        'const s = compileKernelUnit(k, k, "gcc", "#include " + JSON.stringify(k) + "\\n", { answer: { args: [], returns: "i32" } });\n' +
        "console.log(s.answer());\n",
    );
    // A file written less than 2 s before the preprocessor read it gets no direct entry (it may have
    // changed while it was read): these are older by the time the tests build.
    Bun.sleepSync(2100);
  });
  afterAll(cleanupTempDirs);

  /** Compiles `source` in a fresh process; its answer, and the gcc calls it made. */
  const compile = (source: string) => {
    rmSync(log, { force: true });
    const r = Bun.spawnSync([process.execPath, join(dir, "compile.ts"), source], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, GCC_CALLS: log, TICKPACK_KERNEL_CACHE: cache },
    });
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    let calls: string[] = [];
    try {
      calls = readFileSync(log, "utf8").trim().split("\n");
    } catch {
      // no call
    }
    return {
      answer: Number(r.stdout.toString().trim()),
      preprocessed: calls.filter((c) => / -E /.test(` ${c} `)).length,
      built: calls.filter((c) => / -o /.test(` ${c} `)).length,
    };
  };
  const entries = (label: string) =>
    readdirSync(cache).filter((n) => n.startsWith(`gcc-${label}-`) && n.endsWith(".direct.json"));

  test("a kept build is opened without running gcc while the files it read hold the same bytes; an edited header is a new build, even with its mtime put back", () => {
    expect(compile(kernel())).toEqual({ answer: 3, preprocessed: 1, built: 1 });
    expect(entries("k1")).toHaveLength(1);
    expect(compile(kernel())).toEqual({ answer: 3, preprocessed: 0, built: 0 });

    const { mtime } = statSync(header());
    writeFileSync(header(), "#define ANSWER 5\n"); // same size
    utimesSync(header(), mtime, mtime);
    expect(compile(kernel())).toEqual({ answer: 5, preprocessed: 1, built: 1 });
    // The header just changed, so no entry was written for it: the next run preprocesses again.
    expect(compile(kernel())).toEqual({ answer: 5, preprocessed: 1, built: 0 });

    // Back to the bytes the entry holds: its build again, without gcc.
    writeFileSync(header(), "#define ANSWER 3\n");
    expect(compile(kernel())).toEqual({ answer: 3, preprocessed: 0, built: 0 });
  });

  test("a damaged direct entry, or one whose build is gone, leaves the preprocessor to find or make the build, and is written again", () => {
    const k2 = join(dir, "k2.c");
    expect(compile(k2)).toEqual({ answer: 4, preprocessed: 1, built: 1 });
    const [entry] = entries("k2");
    writeFileSync(join(cache, entry), '{"build": "../../etc/passwd.so", "files": [], "digest"');
    expect(compile(k2)).toEqual({ answer: 4, preprocessed: 1, built: 0 });
    expect(compile(k2)).toEqual({ answer: 4, preprocessed: 0, built: 0 });

    const { build } = JSON.parse(readFileSync(join(cache, entry), "utf8"));
    rmSync(join(cache, build));
    expect(compile(k2)).toEqual({ answer: 4, preprocessed: 1, built: 1 });
    expect(compile(k2)).toEqual({ answer: 4, preprocessed: 0, built: 0 });
  });

  test("a unit that expands __TIME__ gets no direct entry: every run preprocesses it", () => {
    const clock = join(dir, "clock.c");
    expect(compile(clock)).toEqual({ answer: 7, preprocessed: 1, built: 1 });
    expect(compile(clock).preprocessed).toBe(1);
    expect(entries("clock")).toEqual([]);
  });
});
