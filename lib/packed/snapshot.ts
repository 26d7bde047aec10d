/**
 * A partition as readers see it during a commit: its parts listed and opened together under the
 * shared commit lock, so that every part belongs to the same version. A commit whose journal is
 * durable but not yet (or not fully) applied is read as its new version: the journal decides.
 */
import { closeSync, existsSync, openSync, readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { stateRootOf, withSharedCommitLock } from "./commit-lock.ts";
import { journalState, listJournals, readJournal } from "./journal.ts";
import { parsePartName, partsWithStem } from "./layout.ts";

/** One part of a snapshot: the path it is known by and an open descriptor of the bytes to read. */
export interface SnapshotPart {
  path: string;
  fd: number;
}

/** A partition's parts, in order, opened as one version; `close` releases the descriptors. */
export interface PartitionSnapshot {
  parts: SnapshotPart[];
  close(): void;
}

/** The parts in `dir` with the same stem as `first`, in index order (what a commit may have changed since listing). */
function currentParts(parts: readonly string[]): string[] {
  const first = parts[0];
  const name = parsePartName(basename(first));
  if (!name) return [...parts];
  const dir = dirname(first);
  return partsWithStem(dir, readdirSync(dir), name.stem);
}

/** Each part (by absolute path) → the file holding its bytes: the part list after applying, in thought, every durable journal. */
function resolveThroughJournals(root: string | null, parts: string[]): Map<string, string> {
  const source = new Map(parts.map((p) => [resolve(p), p] as [string, string]));
  if (root === null || parts.length === 0) return source;
  const dir = dirname(resolve(parts[0]));
  const stem = parsePartName(basename(parts[0]))?.stem;
  for (const jpath of listJournals(root)) {
    const journal = readJournal(root, jpath);
    // A commit that lost a file is rolled back by the next writer: it is not a version.
    if (journalState(journal) === "lost") continue;
    for (const r of journal.renames) {
      const mine =
        dirname(r.final) === dir &&
        (stem === undefined ? source.has(r.final) : parsePartName(basename(r.final))?.stem === stem);
      if (!mine) continue;
      source.set(r.final, existsSync(r.temp) ? r.temp : r.final);
    }
    for (const removed of journal.removes) source.delete(removed);
  }
  return source;
}

/** Opens every part of a partition (given as listed: one file, or parts sharing a folder and stem) as one version. */
export function openPartitionSnapshot(parts: readonly string[]): PartitionSnapshot {
  if (parts.length === 0) return { parts: [], close() {} };
  const root = stateRootOf(dirname(parts[0]));
  const opened: SnapshotPart[] = [];
  const close = () => {
    for (const p of opened.splice(0)) closeSync(p.fd);
  };
  try {
    withSharedCommitLock(root, () => {
      const sources = resolveThroughJournals(root, currentParts(parts));
      const ordered = [...sources.keys()].sort(
        (a, b) => (parsePartName(basename(a))?.index ?? 0) - (parsePartName(basename(b))?.index ?? 0),
      );
      // Named as the caller names the partition's folder, so messages show the paths it knows.
      const dir = dirname(parts[0]);
      for (const abs of ordered)
        opened.push({
          path: parts.length === 1 && resolve(parts[0]) === abs ? parts[0] : join(dir, basename(abs)),
          fd: openSync(sources.get(abs)!, "r"),
        });
    });
  } catch (e) {
    close();
    throw e;
  }
  return { parts: opened, close };
}
