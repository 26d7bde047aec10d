/** Where packed partitions live on disk (docs/formats.md#packed-output): the prototype's layout and the hive layout. */
import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../error-message.ts";
import type { IsoDate } from "../ist-time.ts";

/** `seed`: `DATE/UNDERLYING/part-underlying-N.parquet` (the prototype's); `hive`: `date=DATE/underlying=U/part-N.parquet`. */
export type Layout = "seed" | "hive";

/** Folder holding tickpack's own state (manifest, lock, journals) inside an output folder. */
export const STATE_DIR = "_tickpack";

/** One partition: a day and underlying, stored as one or more part files that continue each other. */
export interface PackedPartition {
  /** IST trading day, or null when the path does not say. */
  date: IsoDate | null;
  /** Underlying, or null when the path does not say. */
  underlying: string | null;
  layout: Layout | null;
  dir: string;
  /** Part files in index order. */
  parts: string[];
  /** Total bytes of the parts. */
  bytes: number;
}

/** The folder of a partition under `out`. */
export function partitionDir(out: string, layout: Layout, date: IsoDate, underlying: string): string {
  return layout === "hive" ? join(out, `date=${date}`, `underlying=${underlying}`) : join(out, date, underlying);
}

/** File name of part `index` of a partition. */
export function partFileName(layout: Layout, underlying: string, index: number): string {
  return layout === "hive" ? `part-${index}.parquet` : `part-${underlying.toLowerCase()}-${index}.parquet`;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const PART_RE = /^(.*)-(\d+)\.parquet$/i;

/** The stem and index of a part file name (`part-nifty-3.parquet` → `part-nifty`, 3), or null for another name. */
export function parsePartName(name: string): { stem: string; index: number } | null {
  const m = PART_RE.exec(name);
  return m ? { stem: m[1], index: Number(m[2]) } : null;
}

/** A folder under the packed root that cannot be listed (permissions, I/O). */
export class PackedListingError extends Error {}

/** What a symbolic link points to, or null when it points nowhere (dangling, or a loop of links). */
function linkTarget(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") return null;
    throw new PackedListingError(`${path}: cannot follow this link (${errorMessage(e)})`);
  }
}

/** Every packed partition under `root` (both layouts, any other *.parquet as a one-part partition), sorted by path. */
export function listPackedPartitions(root: string): PackedPartition[] {
  const byKey = new Map<string, PackedPartition & { indexOf: Map<string, number> }>();
  const visited = new Set<string>();
  const walk = (dir: string, trail: string[]) => {
    // Symlinked folders are followed (data is often linked in), each real folder once.
    let real: string;
    let entries: Dirent[];
    try {
      real = realpathSync(dir);
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      // A folder we cannot read may hold partitions: a result without them would be wrong without a word.
      throw new PackedListingError(`${dir}: cannot list this folder (${errorMessage(e)})`);
    }
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      // Hidden names include every temp file (`.<name>.tmp-…`).
      if (entry.name === STATE_DIR || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      const kind = entry.isSymbolicLink() ? linkTarget(path) : entry;
      if (!kind) continue; // a dangling link
      if (kind.isDirectory()) {
        walk(path, [...trail, entry.name]);
        continue;
      }
      if (!kind.isFile() || !/\.parquet$/i.test(entry.name)) continue;
      const [d, u] = trail.slice(-2);
      let date: string | null = null;
      let underlying: string | null = null;
      let layout: Layout | null = null;
      if (d?.startsWith("date=") && u?.startsWith("underlying=")) {
        [date, underlying, layout] = [d.slice(5), u.slice(11), "hive"];
      } else if (d && DATE_RE.test(d) && u) {
        [date, underlying, layout] = [d, u, "seed"];
      }
      const m = PART_RE.exec(entry.name);
      // Parts of one partition share folder and stem; anything else is its own partition.
      const key = m ? `${dir}\0${m[1]}` : path;
      let p = byKey.get(key);
      if (!p) {
        p = { date, underlying, layout, dir, parts: [], bytes: 0, indexOf: new Map() };
        byKey.set(key, p);
      }
      p.parts.push(path);
      p.indexOf.set(path, m ? Number(m[2]) : 0);
      // A part a commit removed since the listing counts 0 bytes: readers re-list under the commit lock.
      p.bytes += statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  walk(root, []);
  return [...byKey.values()]
    .map(({ indexOf, ...p }) => ({ ...p, parts: p.parts.sort((a, b) => indexOf.get(a)! - indexOf.get(b)!) }))
    .sort((a, b) => (a.parts[0] < b.parts[0] ? -1 : 1));
}

/** Existing part files of one partition folder, in index order (empty when there are none). */
export function listPartFiles(dir: string, layout: Layout, underlying: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return partsWithStem(dir, names, parsePartName(partFileName(layout, underlying, 0))!.stem);
}

/** Of the file names in `dir`, the paths of the parts named `<stem>-N.parquet` (not hidden), in index order. */
export function partsWithStem(dir: string, names: readonly string[], stem: string): string[] {
  return names
    .filter((n) => !n.startsWith("."))
    .map((n) => ({ n, p: parsePartName(n) }))
    .filter(({ p }) => p !== null && p.stem === stem)
    .sort((a, b) => a.p!.index - b.p!.index)
    .map(({ n }) => join(dir, n));
}
