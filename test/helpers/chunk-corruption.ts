/**
 * Random corruptions of real column chunks and what the decoders make of them. A flip inside a PLAIN
 * value's bytes changes that value undetectably, so a decode of a corrupted chunk is judged by
 * agreement: both decoders fail with a ChunkDecodeError, or both succeed with identical results; where
 * only one succeeds, its result must equal the intact chunk's (the corruption was in bytes that one
 * decoder did not need, a skipped page or field). Anything else thrown is a crash of that decoder.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import {
  ChunkDecodeError,
  type ChunkDesc,
  type DecodedChunk,
  type RowWindow,
} from "../../lib/parquet/native/chunk-desc.ts";
import { decodeChunk } from "../../lib/parquet/native/page-decoder-reference.ts";
import type { SeededRandom } from "../../lib/random.ts";
import { decodedDifferences, exactCell } from "./decoded-cells.ts";
import { listColumnChunks, pagesOf, randomFilePlan, writeFilePlan } from "./random-parquet.ts";

/** A decoder of the contract's shape (the reference, or a loaded native one). */
export type DecodeChunk = (chunk: Uint8Array, desc: ChunkDesc, window: RowWindow) => DecodedChunk;

/** A chunk to corrupt: its intact bytes, its description and every row as exactCell gives it. */
export interface FuzzTarget {
  bytes: Uint8Array;
  desc: ChunkDesc;
  intactCells: (string | null)[];
}

/** A chunk as a fuzz target: its rows decoded (by the reference) before any corruption. */
export function fuzzTarget(bytes: Uint8Array, desc: ChunkDesc): FuzzTarget {
  const d = decodeChunk(bytes, desc, { start: 0, count: desc.numValues });
  return { bytes, desc, intactCells: Array.from({ length: d.length }, (_, i) => exactCell(d, desc.physicalType, i)) };
}

/** Every non-empty chunk of `files` random files (seeds from `firstSeed`) written into `dir`. */
export async function randomFileTargets(dir: string, firstSeed: number, files: number): Promise<FuzzTarget[]> {
  const targets: FuzzTarget[] = [];
  for (let seed = firstSeed; seed < firstSeed + files; seed++) {
    const path = join(dir, `random-${seed}.parquet`);
    writeFilePlan(path, randomFilePlan(seed));
    for (const c of await listColumnChunks(path)) if (c.bytes.length > 0) targets.push(fuzzTarget(c.bytes, c.desc));
  }
  return targets;
}

/** Every chunk of every Parquet file under `dir` (a packed folder). */
export async function folderTargets(dir: string): Promise<FuzzTarget[]> {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter(
    (f) => f.endsWith(".parquet") && !f.includes("_tickpack"),
  );
  const targets: FuzzTarget[] = [];
  for (const f of files.sort())
    for (const c of await listColumnChunks(join(dir, f))) targets.push(fuzzTarget(c.bytes, c.desc));
  return targets;
}

/** A corrupted copy of a chunk and how it was made. */
export interface Corruption {
  bytes: Uint8Array;
  kind: "flip" | "header-flip" | "truncate" | "truncate+flip";
  truncated: boolean;
}

function flipSome(rng: SeededRandom, bytes: Uint8Array, positions: () => number): void {
  for (let k = rng.int(1, 3); k > 0 && bytes.length > 0; k--) bytes[positions()] ^= rng.int(1, 255);
}

/** A random corruption of `chunk`: byte flips anywhere or in a page header, a truncation, or both. */
export function corruptChunk(rng: SeededRandom, chunk: Uint8Array): Corruption {
  const r = rng.next();
  const bytes = chunk.slice();
  if (r < 0.35) {
    flipSome(rng, bytes, () => rng.int(0, bytes.length - 1));
    return { bytes, kind: "flip", truncated: false };
  }
  if (r < 0.7) {
    const pages = pagesOf(chunk);
    flipSome(rng, bytes, () => {
      const p = pages[rng.int(0, pages.length - 1)];
      return rng.int(p.offset, Math.min(bytes.length, p.bodyStart + 4) - 1);
    });
    return { bytes, kind: "header-flip", truncated: false };
  }
  const cut = bytes.subarray(0, rng.int(0, Math.max(0, bytes.length - 1)));
  if (r < 0.85) return { bytes: cut, kind: "truncate", truncated: true };
  flipSome(rng, cut, () => rng.int(0, cut.length - 1));
  return { bytes: cut, kind: "truncate+flip", truncated: true };
}

/** A random window: the whole chunk most often, else a random span (possibly empty). */
export function randomWindow(rng: SeededRandom, numValues: number): RowWindow {
  if (rng.next() < 0.6 || numValues === 0) return { start: 0, count: numValues };
  const start = rng.int(0, numValues);
  return { start, count: rng.int(0, numValues - start) };
}

/** How one decode of a corrupted chunk ended. */
type Attempt = { ok: true; decoded: DecodedChunk } | { ok: false; error: unknown };

function attempt(decode: DecodeChunk, bytes: Uint8Array, desc: ChunkDesc, window: RowWindow): Attempt {
  try {
    return { ok: true, decoded: decode(bytes, desc, window) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** What a corrupted decode came to: an outcome to count, and a problem (a broken rule) or null. */
export interface FuzzResult {
  outcome: string;
  problem: string | null;
}

function crash(who: string, error: unknown): string | null {
  if (error instanceof ChunkDecodeError) return null;
  return `${who} threw ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)} (not a ChunkDecodeError)`;
}

function differsFromIntact(d: DecodedChunk, target: FuzzTarget, window: RowWindow): string | null {
  for (let i = 0; i < d.length; i++) {
    const got = exactCell(d, target.desc.physicalType, i);
    const want = target.intactCells[window.start + i];
    if (got !== want) return `row ${window.start + i}: ${got} where the intact chunk has ${want}`;
  }
  return null;
}

/**
 * Decodes one corrupted chunk with the reference and, when given, the native decoder, and judges the
 * outcome as the module comment says. A truncated chunk must fail in both (its pages no longer add up).
 */
export function judgeCorruptDecode(
  target: FuzzTarget,
  corruption: Corruption,
  window: RowWindow,
  reference: DecodeChunk,
  native: DecodeChunk | null,
): FuzzResult {
  const ref = attempt(reference, corruption.bytes, target.desc, window);
  const nat = native ? attempt(native, corruption.bytes, target.desc, window) : null;
  const crashed = (!ref.ok && crash("reference", ref.error)) || (nat && !nat.ok && crash("native", nat.error)) || null;
  if (crashed) return { outcome: "crash", problem: crashed };
  // A chunk of no rows may be cut to nothing and still be right.
  if (corruption.truncated && target.desc.numValues > 0 && (ref.ok || nat?.ok))
    return { outcome: "truncation decoded", problem: "a truncated chunk decoded without an error" };
  if (!nat) return { outcome: ref.ok ? "reference decoded" : "reference error", problem: null };
  if (!ref.ok && !nat.ok) return { outcome: "both error", problem: null };
  if (ref.ok && nat.ok) {
    const d = decodedDifferences(nat.decoded, ref.decoded, target.desc.physicalType, 3);
    return {
      outcome: d.length === 0 ? "both decoded, equal" : "both decoded, different",
      problem: d.length === 0 ? null : `native ≠ reference: ${d.join("; ")}`,
    };
  }
  const [who, decoded] = ref.ok
    ? ["reference only", ref.decoded]
    : ["native only", (nat as { decoded: DecodedChunk }).decoded];
  const wrong = differsFromIntact(decoded, target, window);
  return {
    outcome: `${who} decoded, ${wrong ? "changed" : "intact"}`,
    problem: wrong ? `${who} decoded a corrupted chunk the other rejected, wrongly: ${wrong}` : null,
  };
}
