/**
 * The column-chunk decoders under many more random corruptions than the test suite runs: byte flips
 * and truncations of real chunks (random files, and a packed folder when given), each decoded by the
 * reference and by the native decoder in this
 * process (a crash ends the run). Prints the count of each outcome and the first broken rules.
 *
 *   bun bench/decoder-fuzz.ts N [--packed DIR] [--chunks C] [--files K] [--seed S] [--cc tcc|gcc]
 *
 * Of a packed folder, C chunks (default 64) drawn at random are corrupted: each is held decoded, and
 * a whole folder's would not fit in memory.
 * Exit status 1 when any case broke a rule (see test/helpers/chunk-corruption.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeChunk } from "../lib/parquet/native/page-decoder-reference.ts";
import { randomFor } from "../lib/random.ts";
import {
  corruptChunk,
  folderTargets,
  judgeCorruptDecode,
  randomFileTargets,
  randomWindow,
} from "../test/helpers/chunk-corruption.ts";
import { loadNativeDecoder, type DecodeChunk } from "../test/helpers/chunk-decoders.ts";
import { KERNEL_COMPILERS, type KernelCompiler } from "../kernel/strategy-kernel.ts";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const cases = Number(process.argv[2]);
if (!Number.isInteger(cases) || cases <= 0) {
  console.error("Usage: bun bench/decoder-fuzz.ts N [--packed DIR] [--chunks C] [--files K] [--seed S] [--cc tcc|gcc]");
  process.exit(2);
}
const packedDir = option("--packed", "");
const files = Number(option("--files", "40"));
const chunks = Number(option("--chunks", "64"));
const seed = Number(option("--seed", "1"));
const compiler = option("--cc", "tcc") as KernelCompiler;
if (!Number.isInteger(chunks) || chunks <= 0) {
  console.error("--chunks: expected a count of chunks");
  process.exit(2);
}
if (!KERNEL_COMPILERS.includes(compiler)) {
  console.error(`--cc: expected ${KERNEL_COMPILERS.join(", ")}`);
  process.exit(2);
}

const loaded = await loadNativeDecoder(compiler);
if (!loaded.native) throw new Error(`the ${compiler} build of the native decoder did not load`);
const native: DecodeChunk = (c, d, w) => loaded.decodeChunk(c, d, w);

const dir = mkdtempSync(join(tmpdir(), "tickpack-decoder-fuzz-"));
try {
  const random = await randomFileTargets(dir, 100_000 + seed * 1000, files);
  const packed = packedDir
    ? await folderTargets(packedDir, { count: chunks, rng: randomFor(seed, "decoder-fuzz", "chunks") })
    : [];
  console.log(
    `${cases} cases over ${random.length} random chunks${packed.length ? ` and ${packed.length} packed chunks` : ""}; decoders: reference and native (${compiler})`,
  );
  const outcomes = new Map<string, number>();
  const problems: string[] = [];
  const started = performance.now();
  for (let i = 0; i < cases; i++) {
    const rng = randomFor(seed, "decoder-fuzz", i);
    const pool = packed.length > 0 && i % 2 === 1 ? packed : random;
    const target = pool[rng.int(0, pool.length - 1)];
    const corruption = corruptChunk(rng, target.bytes);
    const window = randomWindow(rng, target.desc.numValues);
    const { outcome, problem } = judgeCorruptDecode(target, corruption, window, decodeChunk, native);
    const key = `${corruption.kind}: ${outcome}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (problem) problems.push(`case ${i} (${corruption.kind}, ${target.desc.file} ${target.desc.column}): ${problem}`);
  }
  for (const [key, n] of [...outcomes].sort()) console.log(`${String(n).padStart(8)}  ${key}`);
  console.log(`${problems.length} broken rules in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
  process.exitCode = problems.length > 0 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
