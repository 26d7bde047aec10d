/** Finding raw input files: every `*.parquet` under the raw folders, in a stable order. */
import { readdirSync, realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { TEMP_MARKER } from "../atomic-file.ts";

/** A raw file found under a raw folder. */
export interface RawInput {
  /** Absolute real path (the manifest key). */
  path: string;
  size: number;
  mtimeMs: number;
  /** Position of its raw folder in the command line. */
  folder: number;
}

/** Raw files under each folder (any nesting, sorted by path), folders in the given order; a file reached twice is listed once; anything under `exclude` is skipped. */
export function listRawInputs(folders: string[], exclude: string): RawInput[] {
  const seen = new Set<string>();
  const out: RawInput[] = [];
  const excluded = realpathSync(exclude) + sep;
  const visited = new Set<string>();
  folders.forEach((folder, index) => {
    const walk = (dir: string) => {
      // Symlinked folders are followed, each real folder once.
      const realDir = realpathSync(dir);
      if (visited.has(realDir)) return;
      visited.add(realDir);
      const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (entry.name.startsWith(".") || entry.name.includes(TEMP_MARKER)) continue;
        const path = join(dir, entry.name);
        const kind = entry.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : entry;
        if (!kind) continue; // a dangling link
        if (kind.isDirectory()) walk(path);
        else if (/\.parquet$/i.test(entry.name)) {
          const real = realpathSync(path);
          if (seen.has(real) || (real + sep).startsWith(excluded)) continue;
          seen.add(real);
          const st = statSync(real);
          out.push({ path: real, size: st.size, mtimeMs: st.mtimeMs, folder: index });
        }
      }
    };
    walk(realpathSync(folder));
  });
  return out;
}
