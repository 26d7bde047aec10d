import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import * as pw from "parquet-wasm/esm";
import { closeParquet, openParquet, withRows } from "../../lib/parquet/io.ts";
import { withColumnViews } from "../../lib/parquet/source.ts";
import {
  ChunkDecodeError,
  PhysicalType,
  type DecodedChunk,
  type RowWindow,
} from "../../lib/parquet/native/chunk-desc.ts";
import { decodeChunk } from "../../lib/parquet/native/page-decoder-reference.ts";
import { randomFor } from "../../lib/random.ts";
import { chunkDecoders, loadNativeDecoder, NATIVE_COMPILERS } from "../helpers/chunk-decoders.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";
import {
  duckColumns,
  listColumnChunks,
  pagesOf,
  randomFilePlan,
  writeFilePlan,
  type FilePlan,
  type ListedChunk,
} from "../helpers/random-parquet.ts";
import {
  cellDifferences,
  decodedDifferences,
  exactCell,
  exactWasmCell,
  looseCell,
  looseDuckCell,
} from "../helpers/decoded-cells.ts";

setDefaultTimeout(120_000);
afterAll(cleanupTempDirs);

const FILES = 240;

/** A random file on disk, its chunks as DuckDB lists them, and every row of it as parquet-wasm and DuckDB decode it. */
interface Corpus {
  path: string;
  plan: FilePlan;
  chunks: ListedChunk[];
  /** Column name → exact cells per row of the file (parquet-wasm). */
  wasm: Map<string, (string | null)[]>;
  /** Column name → loose cells per row of the file (DuckDB). */
  duck: Map<string, (string | null)[]>;
}

/** Every row group of `path` through parquet-wasm: views for most types, Arrow vectors for booleans (views carry no boolean values). */
async function wasmCells(path: string, chunks: ListedChunk[]): Promise<Map<string, (string | null)[]>> {
  const out = new Map<string, (string | null)[]>();
  const source = await openParquet(path);
  try {
    const groups = [...new Set(chunks.map((c) => c.rowGroup))];
    for (const g of groups) {
      const inGroup = chunks.filter((c) => c.rowGroup === g);
      const names = inGroup.filter((c) => c.desc.physicalType !== PhysicalType.BOOLEAN).map((c) => c.desc.column);
      const bools = inGroup.filter((c) => c.desc.physicalType === PhysicalType.BOOLEAN).map((c) => c.desc.column);
      const typeOf = new Map(inGroup.map((c) => [c.desc.column, c.desc.physicalType]));
      const push = (name: string, cells: (string | null)[]) => out.set(name, [...(out.get(name) ?? []), ...cells]);
      if (names.length > 0)
        await withColumnViews(source, names, { rowGroups: [g] }, (batches) => {
          for (const b of batches)
            names.forEach((name, k) => {
              const col = b.columns[k];
              push(
                name,
                Array.from({ length: b.length }, (_, i) => exactWasmCell(col, typeOf.get(name)!, i)),
              );
            });
        });
      if (bools.length > 0)
        await withRows(source, bools, { rowGroups: [g] }, (table) => {
          for (const name of bools) {
            const v = table.getChild(name)!;
            push(
              name,
              Array.from({ length: table.numRows }, (_, i) => (v.get(i) === null ? null : String(v.get(i)))),
            );
          }
        });
    }
  } finally {
    closeParquet(source);
  }
  return out;
}

let corpus: Corpus[] | null = null;

/** FILES random files, written and read once for the tests below. */
async function randomCorpus(): Promise<Corpus[]> {
  if (corpus) return corpus;
  const dir = tempDir("page-decoder");
  const made: Corpus[] = [];
  for (let seed = 0; seed < FILES; seed++) {
    const plan = randomFilePlan(seed);
    const path = join(dir, `random-${seed}.parquet`);
    writeFilePlan(path, plan);
    const chunks = await listColumnChunks(path);
    const cols = await duckColumns(path, plan.columns);
    const duck = new Map(plan.columns.map((c, k) => [c.name, cols[k].map(looseDuckCell)]));
    made.push({ path, plan, chunks, wasm: await wasmCells(path, chunks), duck });
  }
  corpus = made;
  return made;
}

/** A few windows of a chunk: empty ones at both ends and random ones (page boundaries fall anywhere in them). */
function windowsOf(seed: number, numValues: number): RowWindow[] {
  const rng = randomFor(seed, "windows", numValues);
  const out: RowWindow[] = [
    { start: 0, count: 0 },
    { start: numValues, count: 0 },
  ];
  for (let k = 0; k < 3 && numValues > 0; k++) {
    const start = rng.int(0, numValues - 1);
    out.push({ start, count: rng.int(1, numValues - start) });
  }
  return out;
}

const cellsOf = (d: DecodedChunk, type: number, cell: typeof exactCell) =>
  Array.from({ length: d.length }, (_, i) => cell(d, type, i));

/** Rows whose slot is not 0 though they are null (the contract zeroes them). */
function nonZeroNullSlots(d: DecodedChunk): number {
  let n = 0;
  for (let i = 0; i < d.length; i++)
    if (d.validity && ((d.validity[i >> 3] >> (i & 7)) & 1) === 0 && d.values[i] !== 0 && d.values[i] !== 0n) n++;
  return n;
}

describe("reference decoder", () => {
  test(`equals parquet-wasm and DuckDB on every chunk of ${FILES} random files, whole and in windows`, async () => {
    const files = await randomCorpus();
    const problems: string[] = [];
    const seen = {
      chunks: 0,
      v2Files: 0,
      v2Pages: 0,
      zstd: 0,
      delta: 0,
      fallbackToPlain: 0,
      fallbackToDelta: 0,
      manyPages: 0,
      allNullPages: 0,
      allNull: 0,
      required: 0,
      windows: 0,
      emptyFiles: 0,
    };
    for (const [seed, f] of files.entries()) {
      if (f.plan.rows === 0) seen.emptyFiles++;
      if (f.plan.version === pw.WriterVersion.V2) seen.v2Files++;
      for (const chunk of f.chunks) {
        const { desc } = chunk;
        const label = `${f.path} rg ${chunk.rowGroup} ${desc.column}`;
        const whole = decodeChunk(chunk.bytes, desc, { start: 0, count: desc.numValues });
        const rows = [chunk.firstRow, chunk.firstRow + desc.numValues] as const;
        problems.push(
          ...cellDifferences(
            `${label} vs parquet-wasm`,
            cellsOf(whole, desc.physicalType, exactCell),
            f.wasm.get(desc.column)!.slice(...rows),
          ),
          ...cellDifferences(
            `${label} vs DuckDB`,
            cellsOf(whole, desc.physicalType, looseCell),
            f.duck.get(desc.column)!.slice(...rows),
          ),
        );
        if (whole.nullCount !== cellsOf(whole, desc.physicalType, exactCell).filter((c) => c === null).length)
          problems.push(`${label}: nullCount ${whole.nullCount} does not count the null rows`);
        if (whole.nullCount === 0 && whole.validity !== null)
          problems.push(`${label}: a validity bitmap without nulls`);
        if (nonZeroNullSlots(whole) > 0) problems.push(`${label}: null rows with non-zero slots`);
        for (const w of windowsOf(seed, desc.numValues)) {
          const part = decodeChunk(chunk.bytes, desc, w);
          seen.windows++;
          problems.push(
            ...cellDifferences(
              `${label} rows [${w.start}, ${w.start + w.count})`,
              cellsOf(part, desc.physicalType, exactCell),
              cellsOf(whole, desc.physicalType, exactCell).slice(w.start, w.start + w.count),
            ),
          );
        }
        seen.chunks++;
        if (desc.codec === 6) seen.zstd++;
        if (desc.maxDef === 0) seen.required++;
        if (desc.numValues > 0 && whole.nullCount === desc.numValues) seen.allNull++;
        if (chunk.encodings.includes("DELTA_BINARY_PACKED")) seen.delta++;
        const pages = pagesOf(chunk.bytes).filter((p) => p.type !== 2);
        const dictionaryPages = pages.filter((p) => p.encoding === 2 || p.encoding === 8).length;
        if (dictionaryPages > 0 && dictionaryPages < pages.length) {
          if (pages.some((p) => p.encoding === 0)) seen.fallbackToPlain++;
          else seen.fallbackToDelta++;
        }
        if (pages.length > 10) seen.manyPages++;
        if (pages.some((p) => p.type === 3)) seen.v2Pages++;
        if (pages.some((p) => p.numValues > 0 && p.numNulls === p.numValues)) seen.allNullPages++;
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // The corpus reaches what it is meant to: if a writer setting stopped working, these would drop to 0.
    for (const [what, n] of Object.entries(seen)) expect({ what, some: n > 0 }).toEqual({ what, some: true });
  });

  test("unsupported encodings and codecs are ChunkDecodeErrors naming them", async () => {
    const dir = tempDir("page-decoder-unsupported");
    const cases: { name: string; plan: FilePlan; reason: RegExp }[] = [];
    const base = randomFilePlan(3);
    const rows = 200;
    const column = (type: "bool" | "utf8" | "float64", encoding?: pw.Encoding) => ({
      name: `x_${type}`,
      type,
      nullable: true,
      dictionary: false,
      encoding,
      cells: Array.from({ length: rows }, (_, i) =>
        i % 7 === 0 ? null : type === "bool" ? i % 3 === 0 : type === "utf8" ? `s${i}` : i / 3,
      ),
    });
    const plan = (
      col: ReturnType<typeof column>,
      version = pw.WriterVersion.V1,
      compression = pw.Compression.ZSTD,
    ): FilePlan => ({
      ...base,
      rows,
      columns: [col],
      version,
      compression,
      rowGroupSize: rows,
      dataPageSizeLimit: 1 << 20,
      dictionaryPageSizeLimit: 1 << 20,
    });
    cases.push(
      {
        name: "rle-booleans",
        plan: plan(column("bool"), pw.WriterVersion.V2),
        reason: /unsupported encoding RLE for BOOLEAN/,
      },
      {
        name: "delta-byte-array",
        plan: plan(column("utf8"), pw.WriterVersion.V2),
        reason: /unsupported encoding DELTA_BYTE_ARRAY/,
      },
      {
        name: "delta-length",
        plan: plan(column("utf8", pw.Encoding.DELTA_LENGTH_BYTE_ARRAY)),
        reason: /unsupported encoding DELTA_LENGTH_BYTE_ARRAY/,
      },
      {
        name: "split",
        plan: plan(column("float64", pw.Encoding.BYTE_STREAM_SPLIT)),
        reason: /unsupported encoding BYTE_STREAM_SPLIT/,
      },
      {
        name: "snappy",
        plan: plan(column("float64"), pw.WriterVersion.V1, pw.Compression.SNAPPY),
        reason: /unsupported codec SNAPPY/,
      },
    );
    for (const c of cases) {
      const path = join(dir, `${c.name}.parquet`);
      writeFilePlan(path, c.plan);
      const [chunk] = await listColumnChunks(path);
      for (const [, decode] of await chunkDecoders()) {
        const attempt = () => decode(chunk.bytes, chunk.desc, { start: 0, count: chunk.desc.numValues });
        expect(attempt).toThrow(ChunkDecodeError);
        expect(attempt).toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: column x_\\w+: `));
      }
      const attempt = () => decodeChunk(chunk.bytes, chunk.desc, { start: 0, count: chunk.desc.numValues });
      expect(attempt).toThrow(
        new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: column x_\\w+: ${c.reason.source}`),
      );
    }
  });

  test("a window outside the chunk's rows is a ChunkDecodeError", async () => {
    const [f] = (await randomCorpus()).filter((x) => x.chunks.some((c) => c.desc.numValues > 1));
    const chunk = f.chunks.find((c) => c.desc.numValues > 1)!;
    const n = chunk.desc.numValues;
    for (const w of [
      { start: -1, count: 1 },
      { start: 0, count: n + 1 },
      { start: n, count: 1 },
      { start: 1.5, count: 0 },
      { start: 0, count: -1 },
    ])
      for (const [who, decode] of await chunkDecoders()) {
        let error: unknown = null;
        try {
          decode(chunk.bytes, chunk.desc, w);
        } catch (e) {
          error = e;
        }
        expect({ who, w, isChunkDecodeError: error instanceof ChunkDecodeError }).toEqual({
          who,
          w,
          isChunkDecodeError: true,
        });
        if (who === "reference") expect((error as Error).message).toMatch(/outside the chunk's/);
      }
  });
});

describe("native decoder", () => {
  const compilers = NATIVE_COMPILERS;
  for (const compiler of compilers)
    test(`${compiler} build equals the reference byte for byte on every chunk and window of the random files`, async () => {
      const decoder = await loadNativeDecoder(compiler);
      expect({ native: decoder.native, compiler: decoder.compiler }).toEqual({ native: true, compiler });
      const problems: string[] = [];
      let compared = 0;
      for (const [seed, f] of (await randomCorpus()).entries())
        for (const chunk of f.chunks) {
          const { desc } = chunk;
          for (const w of [{ start: 0, count: desc.numValues }, ...windowsOf(seed, desc.numValues)]) {
            const want = decodeChunk(chunk.bytes, desc, w);
            const got = decoder.decodeChunk(chunk.bytes, desc, w);
            compared++;
            for (const d of decodedDifferences(got, want, desc.physicalType))
              problems.push(`${f.path} rg ${chunk.rowGroup} ${desc.column} [${w.start}, ${w.start + w.count}): ${d}`);
          }
        }
      expect(compared).toBeGreaterThan(1000);
      expect(problems.slice(0, 10)).toEqual([]);
    });
});
