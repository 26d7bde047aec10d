/** The record of consumed raw files (`<out>/_tickpack/manifest.json`) that makes repack incremental. */
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../atomic-file.ts";

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

/** The manifest at `path`, or an empty one when there is none; throws when it is unreadable. */
export function readManifest(path: string): Manifest {
  if (!existsSync(path)) return { version: 1, files: {} };
  let parsed: Manifest;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: manifest is not valid JSON (${(e as Error).message}); move it away to repack everything again`);
  }
  if (parsed?.version !== 1 || typeof parsed.files !== "object") throw new Error(`${path}: not a tickpack manifest (version 1)`);
  return parsed;
}

/** Writes the manifest atomically. */
export function writeManifest(path: string, manifest: Manifest): void {
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
}

/** Whether a file is recorded with this exact size and mtime. */
export function isConsumed(manifest: Manifest, path: string, stat: ConsumedFile): boolean {
  const seen = manifest.files[path];
  return seen !== undefined && seen.size === stat.size && seen.mtimeMs === stat.mtimeMs;
}
