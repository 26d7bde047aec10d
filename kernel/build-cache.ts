/**
 * gcc/clang builds kept across runs (docs/kernels.md, "Compilers"). A build is named by a hash of
 * everything that makes it — the unit as the compiler sees it after preprocessing, the flags, the
 * compiler's identity — so finding it takes a preprocessor run (~10 ms for a kernel, ~20–40 ms for
 * the page decoder, whose unrolled loops expand to ~400 KB). A direct entry skips that run: keyed by
 * what can be read without the compiler (the unit's text, the flags, the compiler's identity, the
 * environment that moves its include path), it names the build and lists the files the preprocessor
 * read (its `-MD` list) with a hash of their contents. While those contents are unchanged the build is
 * the same one; when any changed (or is gone), the preprocessor runs as before and the entry is
 * written anew.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { tempPathFor } from "../lib/atomic-file.ts";

/**
 * Folder of optimised kernel builds, reused across runs (a gcc build costs ~0.1–0.3 s per thread):
 * `TICKPACK_KERNEL_CACHE`, else `$XDG_CACHE_HOME/tickpack/kernels`, else `~/.cache/tickpack/kernels`.
 */
export function kernelBuildCacheDir(): string {
  return (
    process.env.TICKPACK_KERNEL_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "tickpack", "kernels")
  );
}

/** The compiler as a build depends on it: its real path, size and mtime (an upgrade is a new build). */
export interface CompilerIdentity {
  compiler: string;
  exe: string;
  size: number;
  mtimeMs: number;
}

export function compilerIdentity(compiler: string, exe: string): CompilerIdentity {
  const real = realpathSync(exe);
  const st = statSync(real);
  return { compiler, exe: real, size: st.size, mtimeMs: st.mtimeMs };
}

// Variables gcc and clang search for headers by: a direct entry made under others does not apply.
const INCLUDE_ENV = ["CPATH", "C_INCLUDE_PATH", "GCC_EXEC_PREFIX", "COMPILER_PATH"] as const;

// A unit that uses these expands them to the moment of preprocessing: its build is never the same one.
const CLOCK_MACROS = /__(DATE|TIME|TIMESTAMP)__/;

function sha256(parts: readonly (string | number | Uint8Array)[]): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const p of parts) hasher.update(typeof p === "number" ? String(p) : p).update("\0");
  return hasher.digest("hex");
}

/** What every key of a build holds besides the unit: the compiler's identity and the flags. */
function compilerParts(id: CompilerIdentity, flags: readonly string[]): (string | number)[] {
  return [id.compiler, id.exe, id.size, id.mtimeMs, flags.join(" ")];
}

function fileLabel(source: string): string {
  return basename(source)
    .replace(/\.c$/, "")
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 40);
}

/**
 * The name of a build: a hash of the unit as the compiler sees it after preprocessing (the kernel,
 * every file it includes, the driver and its layout, and the compiler's predefined macros, its
 * version among them), the flags and the compiler's identity, after the compiler and the source's
 * name, which only say whose build it is (a kernel's, or the native page decoder's).
 */
export function buildName(
  id: CompilerIdentity,
  flags: readonly string[],
  preprocessed: Uint8Array,
  source: string,
): string {
  const hash = sha256([...compilerParts(id, flags), preprocessed]);
  return `${id.compiler}-${fileLabel(source)}-${hash.slice(0, 32)}.so`;
}

/** Where the direct entry of a unit (its text, as written for the compiler) is kept. */
export function directEntryPath(
  id: CompilerIdentity,
  flags: readonly string[],
  unitText: string,
  source: string,
): string {
  const env = INCLUDE_ENV.map((k) => `${k}=${process.env[k] ?? ""}`);
  const hash = sha256([...compilerParts(id, flags), ...env, unitText]);
  return join(kernelBuildCacheDir(), `${id.compiler}-${fileLabel(source)}-${hash.slice(0, 32)}.direct.json`);
}

interface DirectEntry {
  build: string;
  files: string[];
  digest: string;
}

/**
 * A hash of the files' contents, or null when one cannot be read (or, with `refuseClock`, expands
 * the clock; a lookup need not look: such a file was refused when the entry was written, and an edit
 * that added the macro changed its contents).
 */
function contentsDigest(files: readonly string[], refuseClock: boolean): string | null {
  const parts: (string | Uint8Array)[] = [];
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(f);
    } catch {
      return null;
    }
    if (refuseClock && CLOCK_MACROS.test(latin1.decode(bytes))) return null;
    parts.push(f, bytes);
  }
  return sha256(parts);
}
const latin1 = new TextDecoder("latin1");

/**
 * The kept build a direct entry names, when the files it lists still hold what they held (else null:
 * the caller preprocesses). A damaged or foreign entry is null too.
 */
export function directBuild(entryPath: string): string | null {
  let entry: DirectEntry;
  try {
    entry = JSON.parse(readFileSync(entryPath, "utf8"));
  } catch {
    return null;
  }
  if (
    typeof entry?.build !== "string" ||
    !/^[A-Za-z0-9_.-]+\.so$/.test(entry.build) ||
    !Array.isArray(entry.files) ||
    !entry.files.every((f) => typeof f === "string") ||
    typeof entry.digest !== "string"
  )
    return null;
  if (contentsDigest(entry.files, false) !== entry.digest) return null;
  const build = join(dirname(entryPath), entry.build);
  return existsSync(build) ? build : null;
}

/**
 * The files a make-style dependency list (`-MD -MF F -MT x`) names, its target `x` and `skip` left
 * out, with make's escapes undone (`\ `, `\#`, `$$`).
 */
export function dependencyFiles(text: string, skip: string): string[] {
  const body = text.replace(/\\\r?\n/g, " ").replace(/^\s*x:/, "");
  const files: string[] = [];
  for (const m of body.matchAll(/(?:\\.|\$\$|[^\s\\])+/g)) {
    const f = m[0].replace(/\$\$/g, "$").replace(/\\(.)/g, "$1");
    if (f !== skip && !files.includes(f)) files.push(f);
  }
  return files;
}

/**
 * Records that the unit of a direct entry built `build`, reading `files` (besides the unit), as the
 * preprocessor saw them from `preprocessedAtMs` (epoch ms) on. Does nothing when a file cannot be read,
 * changed within 2 s of that moment or after it (it may have changed while the compiler read it:
 * what is hashed now need not be what was built; 2 s covers file systems with coarse times), or the
 * unit or a file expands the clock. Written whole by a rename, as builds are: a concurrent run reads
 * the old entry, the new one or none.
 */
export function writeDirectEntry(
  entryPath: string,
  build: string,
  unitText: string,
  files: readonly string[],
  preprocessedAtMs: number,
): void {
  if (CLOCK_MACROS.test(unitText)) return;
  const fresh = (f: string) => {
    const st = statSync(f);
    return Math.max(st.mtimeMs, st.ctimeMs) >= preprocessedAtMs - 2000;
  };
  try {
    if (files.some(fresh)) return;
  } catch {
    return;
  }
  const digest = contentsDigest(files, true);
  if (digest === null) return;
  const entry: DirectEntry = { build: basename(build), files: [...files], digest };
  const temp = tempPathFor(entryPath);
  try {
    mkdirSync(dirname(entryPath), { recursive: true });
    writeFileSync(temp, JSON.stringify(entry));
    renameSync(temp, entryPath);
  } catch {
    // an entry that cannot be written costs the next run a preprocessor run, nothing else
    rmSync(temp, { force: true });
  }
}
