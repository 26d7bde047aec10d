/** Finding raw input files: every `*.parquet` under the raw folders, in a stable order. */
import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { join, sep } from "node:path";
import { isTempFileName } from "../atomic-file.ts";
import { fsReason } from "../error-message.ts";

/** A raw file found under a raw folder. */
export interface RawInput {
  /** Absolute real path (the manifest key). */
  path: string;
  size: number;
  mtimeMs: number;
  /** Position of its raw folder in the command line. */
  folder: number;
}

/** A folder or file that could not be listed, and why (one line). */
export interface ListingProblem {
  path: string;
  error: string;
}

/** What listing the raw folders found. */
export interface RawListing {
  inputs: RawInput[];
  /** Folders that could not be read (their files are unknown: the run must not look complete). */
  problems: ListingProblem[];
  /** Hidden entries (names starting with a dot) skipped, folders counted once. */
  hiddenSkipped: number;
  /** Links leading nowhere (dangling, or a loop of links) skipped. */
  linksSkipped: number;
}

/** The file-system calls listing makes (tests inject failures root cannot provoke, e.g. EACCES). */
export interface ListingFs {
  readdir(dir: string): Dirent[];
  /** Follows links; undefined when the path leads nowhere. */
  stat(path: string): Stats | undefined;
  realpath(path: string): string;
}

const nodeFs: ListingFs = {
  readdir: (dir) => readdirSync(dir, { withFileTypes: true }),
  stat: (path) => statSync(path, { throwIfNoEntry: false }),
  realpath: (path) => realpathSync(path),
};

/**
 * Raw files under each folder (any nesting, sorted by path), folders in the given order; a file
 * reached twice is listed once; anything under `exclude` is skipped. A folder that cannot be read
 * is reported, never thrown: the other folders are still listed.
 */
export function listRawInputs(folders: string[], exclude: string, fs: ListingFs = nodeFs): RawListing {
  const seen = new Set<string>();
  const listing: RawListing = { inputs: [], problems: [], hiddenSkipped: 0, linksSkipped: 0 };
  const excluded = fs.realpath(exclude) + sep;
  const visited = new Set<string>();
  const problem = (path: string, what: string, e: unknown) =>
    listing.problems.push({ path, error: `${what}: ${fsReason(e)}` });
  folders.forEach((folder, index) => {
    const walk = (dir: string) => {
      let entries: Dirent[];
      try {
        // Symlinked folders are followed, each real folder once.
        const realDir = fs.realpath(dir);
        if (visited.has(realDir)) return;
        visited.add(realDir);
        entries = fs.readdir(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch (e) {
        return problem(dir, "cannot list this folder, its files were not read", e);
      }
      for (const entry of entries) {
        if (isTempFileName(entry.name)) continue; // a write in flight (gen's, or an abandoned one); a user's `x.tmp-v2.parquet` is an input
        if (entry.name.startsWith(".")) {
          listing.hiddenSkipped++;
          continue;
        }
        const path = join(dir, entry.name);
        let kind: Dirent | Stats | undefined = entry;
        if (entry.isSymbolicLink()) {
          try {
            kind = fs.stat(path);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "ELOOP") {
              problem(path, "cannot follow this link", e);
              continue;
            }
            kind = undefined;
          }
          if (!kind) {
            listing.linksSkipped++; // dangling, or a loop of links: nothing behind it
            continue;
          }
        }
        if (kind.isDirectory()) walk(path);
        else if (/\.parquet$/i.test(entry.name)) {
          try {
            const real = fs.realpath(path);
            if (seen.has(real) || (real + sep).startsWith(excluded)) continue;
            seen.add(real);
            const st = fs.stat(real);
            if (!st) throw Object.assign(new Error("vanished"), { code: "ENOENT" });
            listing.inputs.push({ path: real, size: st.size, mtimeMs: st.mtimeMs, folder: index });
          } catch (e) {
            problem(path, "cannot read this file's details", e);
          }
        }
      }
    };
    walk(folder);
  });
  return listing;
}
