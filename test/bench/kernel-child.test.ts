import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crashReportReason, crashReportFilter } from "../../lib/bench/child.ts";
import { cleanupTempDirs, packedFixture, tempDir } from "../helpers/fixtures.ts";
import { runScript } from "../helpers/packed-views.ts";

setDefaultTimeout(60_000);
const BENCH = join(import.meta.dir, "..", "..", "scripts", "bench.ts");

let packed: string;
let kernels: string;
beforeAll(async () => {
  packed = await packedFixture("child", { days: 1 });
  kernels = tempDir("child-kernels");
});
afterAll(cleanupTempDirs);

/** A kernel whose tickpack_run body is `row` (once per run of rows); each file gets its own name so that its processes can be found. */
function kernel(name: string, row: string, includes = ""): string {
  const path = join(kernels, name);
  writeFileSync(
    path,
    `#include "tickpack.h"
${includes}
const char *tickpack_columns(void) { return "price"; }
const char *tickpack_params(void) { return ""; }
int tickpack_state_size(void) { return 0; }
void tickpack_segment_start(const double *p, double *s) {}
void tickpack_run(const double *p, double *s, tp_rows_t *r) { ${row} }
void tickpack_segment_end(const double *p, double *s, tp_event *ev) {}
`,
  );
  return path;
}

/** Pids of live processes whose command line mentions `needle`. */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const state = readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]?.[0];
      if (state === "Z") continue; // a zombie is dead, only not yet reaped
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * Whether `cond` holds within `seconds`: only for what the test knows is already under way (an
 * orphan whose output has closed is reaped a moment later), never to wait for something to start.
 */
async function soon(cond: () => boolean, seconds = 10): Promise<boolean> {
  for (const end = Date.now() + seconds * 1000; Date.now() < end; await Bun.sleep(20)) if (cond()) return true;
  return cond();
}

/** The text of `stream` as it comes: `seen(marker)` resolves true once it holds `marker`, false if it ends without; `ended` resolves to all of it at its end. */
function watchText(stream: ReadableStream<Uint8Array>) {
  let text = "";
  let done = false;
  const waiters: { marker: string; resolve: (seen: boolean) => void }[] = [];
  const settle = () => {
    for (const w of waiters.splice(0))
      if (text.includes(w.marker) || done) w.resolve(text.includes(w.marker));
      else waiters.push(w);
  };
  const ended = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      settle();
    }
    done = true;
    settle();
    return text;
  })();
  const seen = (marker: string) =>
    new Promise<boolean>((resolve) => {
      waiters.push({ marker, resolve });
      settle();
    });
  return { seen, ended };
}

const bench = (args: string[], env: Record<string, string> = {}) => runScript("bench.ts", args, undefined, env);

const LOOP = "volatile int x = 1; while (x) {}";
// A kernel that says on stdout (the bench's, inherited by its child) that it is running, then loops:
// the test acts on that event instead of guessing how long the child takes to get there.
const IN_KERNEL = "tickpack-test: in the kernel";
const ANNOUNCE_AND_LOOP = `static int said = 0; if (!said) { said = 1; write(1, "${IN_KERNEL}\\n", ${IN_KERNEL.length + 1}); } ${LOOP}`;
const WRITE_DECL = "long write(int fd, const void *buf, unsigned long n);";

describe("bench --kernel runs in a child that cannot outlive it or end silently", () => {
  test("a kernel that calls exit(0) is an error naming the kernel (exit 1), not a silent success", () => {
    const k = kernel("exit0.c", "exit(0);", "#include <stdlib.h>");
    const r = bench([packed, "--kernel", k, "--workers", "1", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(k);
    expect(r.stderr).toContain("ended without a result");
  });

  test("--timeout kills a kernel that loops forever: exit 1 naming the kernel and the timeout; nothing left running", async () => {
    const k = kernel("loop-timeout.c", LOOP);
    const r = bench([packed, "--kernel", k, "--workers", "1", "--timeout", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(k);
    expect(r.stderr).toContain("1 s");
    expect(r.stderr).not.toContain("    at ");
    // bench exits only once it has reaped its child.
    expect(processesWith(k)).toEqual([]);
  });

  test("--timeout longer than a timer can hold (2^31 ms) lets a healthy run finish", () => {
    const r = bench([packed, "--workers", "1", "--timeout", "2200000"]);
    expect(r.stderr).not.toContain("did not finish");
    expect(r.code).toBe(0);
  });

  test("a kernel that crashes (NULL dereference): tickpack's message naming the kernel, not Bun's crash report", () => {
    const k = kernel("null-deref.c", "volatile int *null = 0; *null = 1;");
    const r = bench([packed, "--kernel", k, "--workers", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`bench: kernel ${k} crashed the run (SIGSEGV`);
    expect(r.stderr).toContain("Segmentation fault");
    expect(r.stderr).not.toContain("Bun has crashed");
    expect(r.stderr).not.toContain("bun.report");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("--timeout is validated", () => {
    for (const bad of ["0", "-1", "x", ""]) expect(bench([packed, "--timeout", bad]).code).toBe(2);
  });

  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGHUP", 129],
  ] as const) {
    test(`${signal} to bench ends the kernel child too (exit ${code})`, async () => {
      const k = kernel(`loop-${signal}.c`, ANNOUNCE_AND_LOOP, WRITE_DECL);
      const p = Bun.spawn([process.execPath, BENCH, packed, "--kernel", k, "--workers", "1"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const out = watchText(p.stdout);
      try {
        expect(await out.seen(IN_KERNEL)).toBe(true);
        p.kill(signal);
        expect(await p.exited).toBe(code);
        // The parent exits only once it has reaped its child (both carry the kernel path).
        expect(processesWith(k)).toEqual([]);
      } finally {
        for (const pid of processesWith(k)) process.kill(pid, "SIGKILL");
      }
    });
  }

  test("a kernel child whose parent is killed (SIGKILL) notices and ends", async () => {
    const k = kernel("loop-orphan.c", ANNOUNCE_AND_LOOP, WRITE_DECL);
    const p = Bun.spawn([process.execPath, BENCH, packed, "--kernel", k, "--workers", "1"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = watchText(p.stdout);
    try {
      expect(await out.seen(IN_KERNEL)).toBe(true);
      p.kill("SIGKILL");
      await p.exited;
      // The orphaned child holds the stdout pipe too: it ends when the child has ended.
      expect(await out.ended).toBe(`${IN_KERNEL}\n`);
      expect(await soon(() => processesWith(k).length === 0)).toBe(true);
    } finally {
      for (const pid of processesWith(k)) process.kill(pid, "SIGKILL");
    }
  });
});

describe("bench leaves no temp folders behind", () => {
  test("a bench run (built-in kernel, and --kernel in a child) leaves nothing in TMPDIR", () => {
    for (const extra of [[], ["--kernel", join(import.meta.dir, "..", "..", "examples", "mid_reversion.c")]]) {
      const tmp = tempDir("child-tmpdir");
      const r = bench([packed, "--workers", "2", ...extra], { TMPDIR: tmp });
      expect(r.code).toBe(0);
      // bun-cc-* is Bun's own TinyCC header cache (one, reused); tickpack's must all be gone.
      expect(readdirSync(tmp).filter((n) => n.startsWith("tickpack-"))).toEqual([]);
    }
  });

  test("a run stopped by an error, before or while its workers compile the kernel, leaves nothing in TMPDIR", () => {
    // A grid axis the kernel does not have and an unknown --report-axes name are found with the
    // kernel, before the workers are asked to compile it; a folder without packed files only by the
    // run, while they do. Each exits at once.
    const cases: [string[], number][] = [
      [[packed, "--grid", "nope=1,2"], 2],
      [[packed, "--report", join(tempDir("report-out"), "r.html"), "--report-axes", "fast,nope"], 2],
      [[tempDir("no-parts"), "--workers", "2"], 1],
    ];
    for (const [args, code] of cases) {
      const tmp = tempDir("early-exit-tmpdir");
      for (let round = 0; round < 3; round++) expect(bench(args, { TMPDIR: tmp }).code).toBe(code);
      expect(readdirSync(tmp).filter((n) => n.startsWith("tickpack-"))).toEqual([]);
    }
  });

  test("bench never starts more workers than partitions", () => {
    const r = bench([packed, "--workers", "16", "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.workers).toBe(s.partitions);
    expect(s.partitions).toBeLessThan(16);
    expect(existsSync(packed)).toBe(true);
  });
});

describe("the kernel child's stderr passes through without Bun's crash report", () => {
  const RULE = "=".repeat(60);
  const REPORT = `${RULE}\nBun v1.4.5 (a7733435c) Linux x64\n\npanic: Segmentation fault at address 0x0\noh no: Bun has crashed. This indicates a bug in Bun, not your code.\n\n https://bun.report/1.4.5/xyz\n`;
  /** What the filter writes for `text` cut into `size`-character chunks, and the report it held back. */
  function filtered(text: string, size: number): { written: string; report: string | null } {
    let written = "";
    const filter = crashReportFilter((t) => {
      written += t;
    });
    for (let i = 0; i < text.length; i += size) filter.push(text.slice(i, i + size));
    const report = filter.end();
    return { written, report };
  }

  test("text before the report passes, the report is held back, however the text is cut", () => {
    const before = "Progress: bench: 1/2\r[###.....] bench: 1/2\x1b[K\n";
    for (const size of [1, 2, 7, 60, 61, 1000]) {
      const r = filtered(before + REPORT, size);
      expect({ size, written: r.written }).toEqual({ size, written: before });
      expect(r.report).toBe(REPORT);
      expect(crashReportReason(r.report)).toBe("Segmentation fault at address 0x0");
    }
  });

  test("tickpack's own lines pass untouched: its 64-character rule, '=' text, an unfinished last line", () => {
    const text = `${"=".repeat(64)}\nKernel: x\n== a = b\n${"=".repeat(64)}\n${RULE}`;
    for (const size of [1, 3, 59, 60, 64, 1000]) expect(filtered(text, size)).toEqual({ written: text, report: null });
    expect(crashReportReason(null)).toBeNull();
  });

  test("the report's first line counts only at the start of a line", () => {
    const text = `x${RULE}\nmore\n`;
    for (const size of [1, 1000]) expect(filtered(text, size)).toEqual({ written: text, report: null });
  });
});
