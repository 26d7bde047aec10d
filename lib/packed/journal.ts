/**
 * Commit journals (`<root>/_tickpack/journal/*.json`): the renames and removals that replace a
 * partition's old parts with new ones, made durable before the first rename so that a crash at any
 * point is finished by the next run. Paths are stored relative to the output folder and must stay
 * inside it, so recovery depends on that folder alone: not on the working directory, and a copy of the
 * folder recovers itself, never the original.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fsyncDir, isTempFileName, writeFileAtomic } from "../atomic-file.ts";
import { STATE_DIR } from "./layout.ts";

/**
 * One new file: its synced temp and the path it replaces, with what identifies its bytes after the
 * rename (size and a hash of its last 64 KiB, the footer: mtimes do not survive a copy of the folder).
 */
export interface JournalRename {
  temp: string;
  final: string;
  size: number;
  tailHash: string;
}

const TAIL_BYTES = 65536;

/** The identity of a file's bytes as a journal records it: its size and a hash of its tail. */
export function fileIdentity(path: string): { size: number; tailHash: string } {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, TAIL_BYTES);
    const tail = new Uint8Array(n);
    readSync(fd, tail, 0, n, size - n);
    return { size, tailHash: Bun.hash.wyhash(tail).toString(16) };
  } finally {
    closeSync(fd);
  }
}

/** A commit: absolute paths in memory, relative to the root on disk. */
export interface Journal {
  renames: JournalRename[];
  removes: string[];
}

/** A journal that cannot be read or points outside its output folder. */
export class JournalError extends Error {}

/** The journal folder of an output root. */
export function journalDir(root: string): string {
  return join(root, STATE_DIR, "journal");
}

function inside(root: string, rel: unknown, journalPath: string): string {
  if (typeof rel !== "string" || rel === "" || isAbsolute(rel))
    throw new JournalError(
      `${journalPath}: corrupt commit journal (entry ${JSON.stringify(rel)} is not a path relative to ${root})`,
    );
  const abs = resolve(root, rel);
  if (!abs.startsWith(resolve(root) + sep))
    throw new JournalError(
      `${journalPath}: corrupt commit journal (entry ${JSON.stringify(rel)} points outside ${root})`,
    );
  return abs;
}

/** Writes a journal durably under `root`; returns its path. */
export function writeJournal(root: string, journal: Journal): string {
  const dir = journalDir(root);
  mkdirSync(dir, { recursive: true });
  const rel = (p: string) => relative(resolve(root), resolve(p));
  const onDisk = {
    version: 2,
    renames: journal.renames.map((r) => ({
      temp: rel(r.temp),
      final: rel(r.final),
      size: r.size,
      tailHash: r.tailHash,
    })),
    removes: journal.removes.map(rel),
  };
  const path = join(dir, `${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 10)}.json`);
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(onDisk)));
  return path;
}

/** Reads one journal, resolving its paths against `root`; throws JournalError naming the file when it is corrupt. */
export function readJournal(root: string, path: string): Journal {
  let parsed: { version?: unknown; renames?: unknown; removes?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new JournalError(`${path}: corrupt commit journal (${(e as Error).message})`);
  }
  if (parsed?.version !== 2 || !Array.isArray(parsed.renames) || !Array.isArray(parsed.removes)) {
    throw new JournalError(
      `${path}: not a commit journal this version of tickpack can finish (expected version 2 with renames and removes)`,
    );
  }
  const renames = parsed.renames.map((r: { temp?: unknown; final?: unknown; size?: unknown; tailHash?: unknown }) => {
    if (typeof r?.size !== "number" || typeof r?.tailHash !== "string")
      throw new JournalError(`${path}: corrupt commit journal (a rename without size and hash)`);
    return { temp: inside(root, r.temp, path), final: inside(root, r.final, path), size: r.size, tailHash: r.tailHash };
  });
  return { renames, removes: parsed.removes.map((p) => inside(root, p, path)) };
}

/** Journal files under `root`, oldest first (temp files of an unfinished journal write are not journals). */
export function listJournals(root: string): string[] {
  const dir = journalDir(root);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json") && !isTempFileName(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Whether the rename's final path holds the file the rename put there (same size and tail hash as its temp). */
export function isRenamedFile(rename: JournalRename): boolean {
  const st = statSync(rename.final, { throwIfNoEntry: false });
  if (st === undefined || st.size !== rename.size) return false;
  return fileIdentity(rename.final).tailHash === rename.tailHash;
}

/** How a journal stands on disk. */
export type JournalState = "pending" | "lost";

/**
 * `pending`: every new file is in place or still in its temp, so the commit can be finished.
 * `lost`: a temp is gone and its final path does not hold it (an OS crash lost a file the journal
 * counted on), so finishing would mix versions.
 */
export function journalState(journal: Journal): JournalState {
  return journal.renames.every((r) => existsSync(r.temp) || isRenamedFile(r)) ? "pending" : "lost";
}

// Fault injection for the crash tests: SIGKILL this process at the Nth commit step (1-based) of this
// thread, a step being each rename, the start of the removals, and the journal's removal.
const KILL_AT_STEP = Number(process.env.TICKPACK_TEST_KILL_AT_COMMIT_STEP ?? 0);
let commitSteps = 0;

/** A point in a commit where the crash tests may kill the process. */
export function commitStep(): void {
  if (KILL_AT_STEP > 0 && ++commitSteps === KILL_AT_STEP) process.kill(process.pid, "SIGKILL");
}

// For the concurrent-reader tests: after each commit, say so on stdout and wait for a line on stdin,
// so that a test reads the folder between two commits of a run, which it cannot time from outside.
const PAUSE_AFTER_COMMIT = process.env.TICKPACK_TEST_PAUSE_AFTER_COMMIT === "1";
/** What a paused writer prints after each commit. */
export const COMMITTED_LINE = "tickpack-test: committed\n";

/** The end of a commit, where the concurrent-reader tests may pause the writer. */
export function commitDone(): void {
  if (!PAUSE_AFTER_COMMIT) return;
  writeSync(1, COMMITTED_LINE);
  readSync(0, Buffer.alloc(1));
}

/**
 * Finishes a commit: renames every temp into place, makes the renames durable, and only then removes
 * the parts the new version no longer has. Safe to run again after a crash at any point.
 */
export function applyJournal(journal: Journal): void {
  const dirs = new Set<string>();
  for (const r of journal.renames) {
    // A rename already done by an interrupted run leaves no temp behind.
    if (existsSync(r.temp)) {
      commitStep();
      renameSync(r.temp, r.final);
    }
    dirs.add(dirname(r.final));
  }
  for (const d of dirs) fsyncDir(d);
  dirs.clear();
  commitStep();
  for (const path of journal.removes) {
    rmSync(path, { force: true });
    dirs.add(dirname(path));
  }
  for (const d of dirs) fsyncDir(d);
}
