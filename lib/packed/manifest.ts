/** The record of consumed raw files (`<out>/_tickpack/manifest.json`) that makes repack incremental. */
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../atomic-file.ts";
import { fsReason } from "../error-message.ts";

/** Identity of a consumed input: a changed size or mtime means it is consumed again. */
export interface ConsumedFile {
  size: number;
  mtimeMs: number;
}

/** Consumed inputs by absolute path. */
export interface Manifest {
  version: 1;
  files: Record<string, ConsumedFile>;
}

/** The manifest cannot be read or written; the message names it and says what to do. */
export class ManifestError extends Error {}

function isConsumedFile(v: unknown): v is ConsumedFile {
  const f = v as ConsumedFile;
  return typeof f === "object" && f !== null && Number.isFinite(f.size) && Number.isFinite(f.mtimeMs);
}

/**
 * The manifest at `path`, or an empty one when there is none. A corrupt one throws ManifestError
 * rather than being taken as empty or set aside: nothing is lost either way, but treating every
 * input as fresh would silently re-read the whole raw store, so the user decides.
 */
export function readManifest(path: string): Manifest {
  if (!existsSync(path)) return { version: 1, files: {} };
  const corrupt = (why: string) =>
    new ManifestError(
      `${path}: the manifest of consumed inputs is corrupt (${why}); nothing was changed. Restore it, or move it away to re-read every input (rows already packed come back as exact duplicates and are dropped)`,
    );
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ManifestError(`${path}: cannot read the manifest of consumed inputs: ${fsReason(e)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw corrupt(`not valid JSON: ${(e as Error).message}`);
  }
  const m = parsed as Manifest;
  if (typeof m !== "object" || m === null || m.version !== 1) throw corrupt("not a tickpack manifest, version 1");
  if (typeof m.files !== "object" || m.files === null || Array.isArray(m.files))
    throw corrupt('"files" is not an object');
  for (const [file, entry] of Object.entries(m.files))
    if (!isConsumedFile(entry)) throw corrupt(`entry ${JSON.stringify(file)} has no numeric size and mtimeMs`);
  return m;
}

/** Writes the manifest atomically; throws ManifestError (one line: path and reason) when it cannot. */
export function writeManifest(
  path: string,
  manifest: Manifest,
  write: (path: string, bytes: Uint8Array) => void = writeFileAtomic,
): void {
  try {
    write(path, new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
  } catch (e) {
    throw new ManifestError(`${path}: cannot write the manifest of consumed inputs: ${fsReason(e)}`);
  }
}

/** Whether a file is recorded with this exact size and mtime. */
export function isConsumed(manifest: Manifest, path: string, stat: ConsumedFile): boolean {
  const seen = manifest.files[path];
  return seen !== undefined && seen.size === stat.size && seen.mtimeMs === stat.mtimeMs;
}
