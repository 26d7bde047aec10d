/**
 * Random corruptions of real column chunks and what the decoders make of them. A flip inside a PLAIN
 * value's bytes changes that value undetectably, so a decode of a corrupted chunk is judged by
 * agreement: both decoders fail with a ChunkDecodeError, or both succeed with identical results; where
 * only one succeeds, its result must equal the intact chunk's (the corruption was in bytes that one
 * decoder did not need, a skipped page or field). A truncated chunk must fail in both, unless a flip
 * beside the cut made its pages' sizes add up again (a page outside the window is not decompressed):
 * then what decodes must be the intact rows. Anything else thrown is a crash of that decoder.
 * Where the flip lies in a zstd frame that Bun's zstd and the system's libzstd decompress differently,
 * only crashes count (see zstdBuildsDisagree).
 */
import { dlopen, ptr } from "bun:ffi";
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
import type { DecodeChunk } from "./chunk-decoders.ts";
import { decodedDifferences, exactCell } from "./decoded-cells.ts";
import { listColumnChunks, pagesOf, randomFilePlan, writeFilePlan } from "./random-parquet.ts";

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

/**
 * The chunks of the Parquet files under `dir` (a packed folder): every one, or with `sample` that many
 * drawn at random (a reservoir over the files, one file read at a time). A target holds its chunk's
 * rows decoded, a string each: a real folder's every chunk would need memory that grows with it.
 */
export async function folderTargets(dir: string, sample?: { count: number; rng: SeededRandom }): Promise<FuzzTarget[]> {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter(
    (f) => f.endsWith(".parquet") && !f.includes("_tickpack"),
  );
  const kept: { bytes: Uint8Array; desc: ChunkDesc }[] = [];
  let seen = 0;
  for (const f of files.sort())
    for (const c of await listColumnChunks(join(dir, f))) {
      seen++;
      if (!sample) kept.push(c);
      else {
        // A copy: a view would keep the whole file's bytes alive.
        const slot = kept.length < sample.count ? kept.length : sample.rng.int(0, seen - 1);
        if (slot < sample.count) kept[slot] = { bytes: c.bytes.slice(), desc: c.desc };
      }
    }
  return kept.map((c) => fuzzTarget(c.bytes, c.desc));
}

/** A corrupted copy of a chunk and how it was made. */
export interface Corruption {
  bytes: Uint8Array;
  kind: "flip" | "header-flip" | "truncate" | "truncate+flip";
  truncated: boolean;
}

/** A random corruption of `chunk`: one byte flipped anywhere or in a page header, a truncation, or both. */
export function corruptChunk(rng: SeededRandom, chunk: Uint8Array): Corruption {
  const r = rng.next();
  const bytes = chunk.slice();
  // One flip per case: with two, one decoder may reject the first while the second changes a value
  // undetectably, and the other decoder's changed (right) value would look wrong.
  const flip = (b: Uint8Array, at: number) => {
    if (b.length > 0) b[at] ^= rng.int(1, 255);
  };
  if (r < 0.35) {
    flip(bytes, rng.int(0, bytes.length - 1));
    return { bytes, kind: "flip", truncated: false };
  }
  if (r < 0.7) {
    const pages = pagesOf(chunk);
    const p = pages[rng.int(0, pages.length - 1)];
    flip(bytes, rng.int(p.offset, Math.min(bytes.length, p.bodyStart + 4) - 1));
    return { bytes, kind: "header-flip", truncated: false };
  }
  const cut = bytes.subarray(0, rng.int(0, Math.max(0, bytes.length - 1)));
  if (r < 0.85) return { bytes: cut, kind: "truncate", truncated: true };
  flip(cut, rng.int(0, cut.length - 1));
  return { bytes: cut, kind: "truncate+flip", truncated: true };
}

/** A random window: the whole chunk most often, else a random span (possibly empty). */
export function randomWindow(rng: SeededRandom, numValues: number): RowWindow {
  if (rng.next() < 0.6 || numValues === 0) return { start: 0, count: numValues };
  const start = rng.int(0, numValues);
  return { start, count: rng.int(0, numValues - start) };
}

const libzstd = (() => {
  try {
    return dlopen(process.platform === "darwin" ? "libzstd.1.dylib" : "libzstd.so.1", {
      ZSTD_decompress: { args: ["ptr", "u64", "ptr", "u64"], returns: "u64" },
      ZSTD_isError: { args: ["u64"], returns: "u32" },
    }).symbols;
  } catch {
    return null;
  }
})();

/** A zstd frame decompressed by the system's libzstd (what the native decoder uses), null where it fails. */
function systemZstd(frame: Uint8Array, capacity: number): Uint8Array | null {
  if (!libzstd) return null;
  const out = new Uint8Array(capacity + 8);
  const src = frame.length > 0 ? frame : new Uint8Array(1);
  const n = libzstd.ZSTD_decompress(ptr(out), out.length, ptr(src), frame.length);
  return libzstd.ZSTD_isError(n) ? null : out.subarray(0, Number(n));
}

function bunZstd(frame: Uint8Array): Uint8Array | null {
  try {
    return Bun.zstdDecompressSync(frame);
  } catch {
    return null;
  }
}

/**
 * Whether a flipped byte lies in zstd-compressed bytes that Bun's zstd (the reference's) and the
 * system's libzstd (the native decoder's) decompress differently. Frames carry no checksum, so a flip
 * there often decompresses to other bytes, and different zstd versions disagree on ~1% of those
 * (measured: Bun's build against libzstd 1.5.4); the decoders cannot agree on what they are given.
 */
function zstdBuildsDisagree(intact: Uint8Array, corrupted: Uint8Array, codec: number): boolean {
  if (codec !== 6 || corrupted.length !== intact.length) return false;
  const pages = pagesOf(intact);
  for (const [k, p] of pages.entries()) {
    const from = p.bodyStart + p.uncompressedPrefix;
    const end = pages[k + 1]?.offset ?? intact.length;
    if (corrupted.subarray(from, end).every((b, i) => b === intact[from + i])) continue;
    const frame = corrupted.subarray(from, end);
    const [a, b] = [bunZstd(frame), systemZstd(frame, p.uncompressedSize)];
    if (a === null || b === null) {
      if (a !== b) return true;
    } else if (a.length !== b.length || a.some((x, i) => x !== b[i])) return true;
  }
  return false;
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
 * outcome as the module comment says. A truncated chunk must fail in both (its pages no longer add up),
 * unless a flip beside the cut made them add up again: then what decodes must be the intact rows.
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
  if (corruption.kind === "truncate" && target.desc.numValues > 0 && (ref.ok || nat?.ok))
    return { outcome: "truncation decoded", problem: "a truncated chunk decoded without an error" };
  // A flip beside the cut can make the pages' sizes add up again, and a page outside the window is not
  // decompressed by either decoder: whatever decodes must be the intact chunk's rows.
  if (corruption.kind === "truncate+flip" && target.desc.numValues > 0 && (ref.ok || nat?.ok)) {
    for (const [who, r] of [
      ["reference", ref],
      ["native", nat],
    ] as const) {
      const wrong = r?.ok ? differsFromIntact(r.decoded, target, window) : null;
      if (wrong)
        return {
          outcome: "truncation decoded, changed",
          problem: `the ${who} decoded a truncated chunk to rows the intact one does not hold: ${wrong}`,
        };
    }
    return { outcome: "truncation decoded, intact", problem: null };
  }
  if (!nat) return { outcome: ref.ok ? "reference decoded" : "reference error", problem: null };
  if (zstdBuildsDisagree(target.bytes, corruption.bytes, target.desc.codec))
    return { outcome: "zstd builds disagree on the flipped frame", problem: null };
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
