import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import {
  ChunkDecodeError,
  type ChunkDesc,
  type DecodedChunk,
  type RowWindow,
} from "../../lib/parquet/native/chunk-desc.ts";
import { encodeStruct, T, type TField, type TStruct } from "../../lib/parquet/thrift-compact.ts";
import { randomFor } from "../../lib/random.ts";
import { cleanupTempDirs, tempDir } from "../helpers/fixtures.ts";
import {
  corruptChunk,
  folderTargets,
  judgeCorruptDecode,
  randomFileTargets,
  randomWindow,
  type FuzzTarget,
} from "../helpers/chunk-corruption.ts";
import { chunkDecoders } from "../helpers/chunk-decoders.ts";
import { uleb, zigzag } from "../helpers/page-bytes.ts";

setDefaultTimeout(180_000);
afterAll(cleanupTempDirs);

const CASES = 3000;

/** Every chunk of a packed folder made by the real gen and repack commands (small row groups keep each chunk quick to decode). */
async function packedTargets(): Promise<FuzzTarget[]> {
  const dir = tempDir("corruption-packed");
  const run = (args: string[]) => {
    const p = Bun.spawnSync(["bun", "run", ...args], {
      cwd: join(import.meta.dir, "../.."),
      stdout: "pipe",
      stderr: "pipe",
      timeout: 120_000,
    });
    if (p.exitCode !== 0) throw new Error(`bun run ${args.join(" ")} failed: ${p.stderr.toString()}`);
  };
  run(["gen", "--out", join(dir, "raw"), "--days", "1", "--strikes", "3", "--tick-prob", "0.05", "--workers", "1"]);
  run(["repack", join(dir, "raw"), "--out", join(dir, "packed"), "--workers", "1", "--row-group-size", "4000"]);
  return folderTargets(join(dir, "packed"));
}

describe("corrupted chunks", () => {
  test(`${CASES} random flips and truncations of real chunks: an error, or decoders that agree`, async () => {
    const [packed, random] = [await packedTargets(), await randomFileTargets(tempDir("corruption-random"), 1000, 30)];
    expect(packed.length).toBeGreaterThan(50);
    // The reference and the TinyCC build, in this process: a crash ends the run.
    const all = await chunkDecoders(["tcc"]);
    const reference = all[0][1];
    const native = all[1]?.[1] ?? null;
    const outcomes = new Map<string, number>();
    const problems: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const rng = randomFor(7, "corruption", i);
      const pool = i % 2 === 0 ? packed : random;
      const target = pool[rng.int(0, pool.length - 1)];
      const corruption = corruptChunk(rng, target.bytes);
      const window = randomWindow(rng, target.desc.numValues);
      const { outcome, problem } = judgeCorruptDecode(target, corruption, window, reference, native);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (problem)
        problems.push(`case ${i} (${corruption.kind}, ${target.desc.file} ${target.desc.column}): ${problem}`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // Most corruptions are caught; some (a flipped PLAIN value, a skipped field) decode.
    const errors = (outcomes.get("reference error") ?? 0) + (outcomes.get("both error") ?? 0);
    expect(errors).toBeGreaterThan(CASES / 3);
  });
});

// Hand-made chunks, one broken rule each: the Thrift header written by the footer's encoder, not the decoder's reader.

const i32 = (v: number): TField => ({ type: T.I32, value: v });
const struct = (fields: Record<number, number | boolean | TField>): TStruct =>
  new Map(
    Object.entries(fields).map(([k, v]) => [
      Number(k),
      typeof v === "boolean" ? { type: v ? T.TRUE : T.FALSE, value: v } : typeof v === "number" ? i32(v) : v,
    ]),
  );
const concat = (...parts: (Uint8Array | number[])[]) => new Uint8Array(parts.flatMap((p) => [...p]));

/** A page: its header (type, sizes = body length unless given, the type's own header under `id`) and body. */
function page(
  type: number,
  id: number,
  sub: Record<number, number | boolean>,
  body: Uint8Array | number[],
  sizes?: { compressed?: number; uncompressed?: number; extra?: Record<number, TField> },
): Uint8Array {
  const n = body.length;
  const h = struct({ 1: type, 2: sizes?.uncompressed ?? n, 3: sizes?.compressed ?? n, ...sizes?.extra });
  h.set(id, { type: T.STRUCT, value: struct(sub) });
  return concat(encodeStruct(h), body);
}
const dictionaryPage = (body: Uint8Array | number[], n: number) => page(2, 7, { 1: n, 2: 0 }, body);
const dataPage = (body: Uint8Array | number[], rows: number, encoding: number, sizes?: Parameters<typeof page>[4]) =>
  page(0, 5, { 1: rows, 2: encoding, 3: 3, 4: 3 }, body, sizes);
const dataPageV2 = (
  levels: number[],
  values: number[],
  v2: { rows: number; nulls: number; encoding: number; rep?: number },
) =>
  page(3, 8, { 1: v2.rows, 2: v2.nulls, 3: v2.rows, 4: v2.encoding, 5: levels.length, 6: v2.rep ?? 0, 7: false }, [
    ...levels,
    ...values,
  ]);
const int32s = (...v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
const le32 = (n: number) => [...new Uint8Array(Uint32Array.of(n).buffer)];

const DESC: ChunkDesc = { file: "crafted.parquet", column: "x", physicalType: 1, maxDef: 0, codec: 0, numValues: 8 };
const DICTIONARY = dictionaryPage(int32s(10, 20, 30), 3);
/** Indices 0,1,2,0,1,2,0,1: bit width 2, one bit-packed group of 8. */
const INDICES = [2, 3, 36, 73];
const EXPECTED = [10, 20, 30, 10, 20, 30, 10, 20];
const RLE_DICTIONARY = 8;
const PLAIN = 0;
const DELTA = 5;

/** A DELTA_BINARY_PACKED page body: one block of 128 values in 4 miniblocks, every delta `minDelta` (bit widths 0). */
const deltaBody = (
  first: bigint,
  minDelta: bigint,
  total: number,
  header?: { block?: number; miniblocks?: number; width?: number },
) => [
  ...uleb(BigInt(header?.block ?? 128)),
  ...uleb(BigInt(header?.miniblocks ?? 4)),
  ...uleb(BigInt(total)),
  ...zigzag(first),
  ...zigzag(minDelta),
  ...[header?.width ?? 0, 0, 0, 0],
  ...new Array(((header?.width ?? 0) * 32) / 8).fill(0),
];

function nested(depth: number): TField {
  return { type: T.STRUCT, value: depth === 0 ? new Map() : new Map([[1, nested(depth - 1)]]) };
}

interface Crafted {
  name: string;
  chunk: Uint8Array;
  desc?: Partial<ChunkDesc>;
  window?: RowWindow;
}

const BROKEN: (Crafted & { reason: RegExp })[] = [
  {
    name: "dictionary index past the dictionary",
    chunk: concat(DICTIONARY, dataPage([2, 3, 36, 201], 8, RLE_DICTIONARY)),
    reason: /value 3 out of range/,
  },
  {
    name: "a second dictionary page",
    chunk: concat(DICTIONARY, DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY)),
    reason: /second dictionary page/,
  },
  {
    name: "a dictionary page after data",
    chunk: concat(dataPage(int32s(...EXPECTED), 8, PLAIN), DICTIONARY),
    reason: /dictionary page after data pages/,
  },
  {
    name: "dictionary indices without a dictionary",
    chunk: dataPage(INDICES, 8, RLE_DICTIONARY),
    reason: /without a dictionary page/,
  },
  {
    name: "pages with fewer rows than the chunk",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY)),
    desc: { numValues: 9 },
    reason: /pages hold 8 rows, the chunk 9/,
  },
  {
    name: "pages with more rows than the chunk",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY)),
    desc: { numValues: 7 },
    window: { start: 0, count: 7 },
    reason: /more rows than the chunk's 7/,
  },
  {
    name: "a page past the chunk",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY, { compressed: 5 })),
    reason: /page of 5 bytes runs past the end of the chunk/,
  },
  {
    name: "a negative page size",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY, { compressed: -1 })),
    reason: /negative compressed_page_size/,
  },
  {
    name: "a Thrift varint of 11 bytes",
    chunk: concat([0x15, ...new Array(10).fill(0x80), 0x00], DICTIONARY),
    reason: /varint longer than 10 bytes/,
  },
  {
    name: "a header nested 33 deep",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY, { extra: { 9: nested(32) } })),
    reason: /nested deeper than 32/,
  },
  {
    name: "a dictionary bit width of 33",
    chunk: concat(DICTIONARY, dataPage([33, 3, 36, 73], 8, RLE_DICTIONARY)),
    reason: /bit width 33 > 32/,
  },
  {
    name: "an RLE run past the page's values",
    chunk: concat(DICTIONARY, dataPage([2, 9 << 1, 1], 8, RLE_DICTIONARY)),
    reason: /RLE run of 9 values, only 8 left/,
  },
  {
    name: "a bit-packed run past the page's values",
    chunk: concat(DICTIONARY, dataPage([2, 5, 36, 73, 36, 73], 8, RLE_DICTIONARY)),
    reason: /bit-packed run of 16 values, only 8 left/,
  },
  {
    name: "a bit-packed run past its bytes",
    chunk: concat(DICTIONARY, dataPage([2, 3, 36], 8, RLE_DICTIONARY)),
    reason: /bit-packed run runs past its bytes/,
  },
  {
    name: "fewer PLAIN values than rows",
    chunk: dataPage(int32s(1, 2, 3, 4, 5, 6, 7), 8, PLAIN),
    reason: /PLAIN: 8 values in 28 bytes/,
  },
  {
    name: "fewer values than the levels say are valid",
    chunk: dataPage([...le32(2), 8 << 1, 1, ...int32s(1, 2, 3)], 8, PLAIN),
    desc: { maxDef: 1 },
    reason: /PLAIN: 8 values in 12 bytes/,
  },
  {
    name: "a definition level of 2",
    chunk: dataPage([...le32(2), 8 << 1, 2, ...int32s(...EXPECTED)], 8, PLAIN),
    desc: { maxDef: 1 },
    reason: /definition levels: value 2 out of range/,
  },
  {
    name: "definition levels past their page",
    chunk: dataPage([...le32(100), 8 << 1, 1], 8, PLAIN),
    desc: { maxDef: 1 },
    reason: /definition levels of 100 bytes/,
  },
  {
    name: "definition levels that end early",
    chunk: dataPage([...le32(2), 4 << 1, 1], 8, PLAIN),
    desc: { maxDef: 1 },
    reason: /definition levels runs past the end/,
  },
  {
    name: "a v2 null count the levels deny",
    chunk: dataPageV2([8 << 1, 1], [...int32s(...EXPECTED)], { rows: 8, nulls: 1, encoding: PLAIN }),
    desc: { maxDef: 1 },
    reason: /says 1 nulls, its levels 0/,
  },
  {
    name: "v2 repetition levels",
    chunk: dataPageV2([8 << 1, 1], [...int32s(...EXPECTED)], { rows: 8, nulls: 0, encoding: PLAIN, rep: 1 }),
    desc: { maxDef: 1 },
    reason: /repetition levels/,
  },
  {
    name: "a zstd page of another size than its header's",
    chunk: dataPage(Bun.zstdCompressSync(int32s(...EXPECTED)), 8, PLAIN, { uncompressed: 33 }),
    desc: { codec: 6 },
    reason: /zstd .*32 bytes.* 33|zstd .*33/,
  },
  {
    name: "garbage where a zstd frame should be",
    chunk: dataPage([1, 2, 3, 4, 5, 6, 7, 8], 8, PLAIN, { uncompressed: 32 }),
    desc: { codec: 6 },
    reason: /zstd/,
  },
  {
    name: "an uncompressed page of another size than its header's",
    chunk: dataPage(int32s(...EXPECTED), 8, PLAIN, { uncompressed: 31 }),
    reason: /holds 32 bytes, its header says 31/,
  },
  {
    name: "a DELTA block size not a multiple of 128",
    chunk: dataPage(deltaBody(1n, 1n, 8, { block: 100 }), 8, DELTA),
    reason: /block size 100/,
  },
  {
    name: "DELTA miniblocks not dividing the block",
    chunk: dataPage(deltaBody(1n, 1n, 8, { miniblocks: 3 }), 8, DELTA),
    reason: /3 miniblocks/,
  },
  {
    name: "DELTA miniblocks of 16 values",
    chunk: dataPage(deltaBody(1n, 1n, 8, { miniblocks: 8 }), 8, DELTA),
    reason: /8 miniblocks/,
  },
  {
    name: "a DELTA bit width of 33 in INT32",
    chunk: dataPage(deltaBody(1n, 1n, 8, { width: 33 }), 8, DELTA),
    reason: /bit width 33 > 32/,
  },
  {
    name: "a DELTA page with fewer values than rows",
    chunk: dataPage(deltaBody(1n, 1n, 4), 8, DELTA),
    reason: /holds 4 values, its levels say 8/,
  },
  {
    name: "a DELTA miniblock past its page",
    chunk: dataPage(deltaBody(1n, 1n, 8, { width: 8 }).slice(0, -26), 8, DELTA),
    reason: /miniblock runs past/,
  },
  {
    name: "a DELTA first value of more than 64 bits",
    chunk: dataPage(
      [...uleb(128n), ...uleb(4n), ...uleb(8n), ...new Array(9).fill(0xff), 0x02, 2, 0, 0, 0, 0],
      8,
      DELTA,
    ),
    reason: /varint past 64 bits/,
  },
  {
    name: "BIT_PACKED definition levels",
    chunk: page(0, 5, { 1: 8, 2: PLAIN, 3: 4, 4: 3 }, [...le32(2), 8 << 1, 1, ...int32s(...EXPECTED)]),
    desc: { maxDef: 1 },
    reason: /unsupported definition level encoding BIT_PACKED/,
  },
  // Required Thrift fields: read as 0 when missing, a flipped field header would turn a DELTA or dictionary page into PLAIN values.
  {
    name: "a data page header without its encoding",
    chunk: page(0, 5, { 1: 8, 3: 3, 4: 3 }, [...deltaBody(1n, 1n, 8), ...int32s(...EXPECTED)]),
    reason: /DataPageHeader lacks num_values or encoding/,
  },
  {
    name: "a data page header without its num_values",
    chunk: page(0, 5, { 2: PLAIN, 3: 3, 4: 3 }, int32s(...EXPECTED)),
    reason: /DataPageHeader lacks num_values or encoding/,
  },
  {
    name: "a v2 data page header without its encoding",
    chunk: page(3, 8, { 1: 8, 2: 0, 3: 8, 5: 0, 6: 0, 7: false }, [...deltaBody(1n, 1n, 8), ...int32s(...EXPECTED)]),
    reason: /DataPageHeaderV2 lacks encoding/,
  },
  {
    name: "a dictionary page header without its encoding",
    chunk: concat(page(2, 7, { 1: 3 }, int32s(10, 20, 30)), dataPage(INDICES, 8, RLE_DICTIONARY)),
    reason: /DictionaryPageHeader lacks num_values or encoding/,
  },
  {
    name: "DELTA for a DOUBLE column",
    chunk: dataPage(deltaBody(1n, 1n, 8), 8, DELTA),
    desc: { physicalType: 5 },
    reason: /unsupported encoding DELTA_BINARY_PACKED for DOUBLE/,
  },
  {
    name: "an unknown page type",
    chunk: concat(page(7, 5, { 1: 8, 2: 0 }, int32s(...EXPECTED))),
    reason: /unsupported page type 7/,
  },
  {
    name: "a data page without its header",
    chunk: concat(page(0, 7, { 1: 8, 2: 0 }, int32s(...EXPECTED))),
    reason: /without its header/,
  },
  {
    name: "a REPEATED column",
    chunk: dataPage(int32s(...EXPECTED), 8, PLAIN),
    desc: { maxDef: 2 as 1 },
    reason: /unsupported definition level 2/,
  },
  {
    name: "INT96",
    chunk: dataPage(int32s(...EXPECTED), 8, PLAIN),
    desc: { physicalType: 3 },
    reason: /unsupported physical type INT96/,
  },
  {
    name: "SNAPPY",
    chunk: dataPage(int32s(...EXPECTED), 8, PLAIN),
    desc: { codec: 1 },
    reason: /unsupported codec SNAPPY/,
  },
];

const INT64_MAX = 2n ** 63n - 1n;
const DECODABLE: (Crafted & { values: (number | bigint | null)[] })[] = [
  {
    name: "a dictionary and its indices",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY)),
    values: EXPECTED,
  },
  {
    name: "a window of it",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY)),
    window: { start: 3, count: 4 },
    values: EXPECTED.slice(3, 7),
  },
  {
    name: "a fallback to PLAIN after dictionary pages",
    chunk: concat(DICTIONARY, dataPage(INDICES, 8, RLE_DICTIONARY), dataPage(int32s(-5, 7), 2, PLAIN)),
    desc: { numValues: 10 },
    window: { start: 6, count: 4 },
    values: [10, 20, -5, 7],
  },
  {
    name: "an empty data page and an index page among the pages",
    chunk: concat(DICTIONARY, page(1, 9, {}, []), dataPage([], 0, PLAIN), dataPage(INDICES, 8, RLE_DICTIONARY)),
    values: EXPECTED,
  },
  {
    name: "unknown header fields (a crc, a binary, a list, nested structs)",
    chunk: concat(
      DICTIONARY,
      dataPage(INDICES, 8, RLE_DICTIONARY, {
        extra: {
          4: i32(12345),
          10: { type: T.BINARY, value: new Uint8Array([1, 2, 3]) },
          11: { type: T.LIST, value: { elem: T.I64, items: [1n, 2n, 3n] } },
          12: nested(20),
        },
      }),
    ),
    values: EXPECTED,
  },
  {
    name: "an RLE run of length 0",
    chunk: concat(DICTIONARY, dataPage([2, 0, 0, 4 << 1, 2, 4 << 1, 1], 8, RLE_DICTIONARY)),
    values: [30, 30, 30, 30, 20, 20, 20, 20],
  },
  {
    name: "INT32 DELTA wrapping past the maximum",
    chunk: dataPage(deltaBody(2147483647n, 1n, 3), 3, DELTA),
    desc: { numValues: 3 },
    values: [2147483647, -2147483648, -2147483647],
  },
  {
    name: "a last DELTA miniblock that stops at its last value's byte",
    chunk: dataPage(deltaBody(1n, 1n, 8, { width: 8 }).slice(0, -25), 8, DELTA),
    values: [1, 2, 3, 4, 5, 6, 7, 8],
  },
  {
    name: "INT64 DELTA wrapping past the maximum",
    chunk: dataPage(deltaBody(INT64_MAX, 1n, 3), 3, DELTA),
    desc: { numValues: 3, physicalType: 2 },
    values: [INT64_MAX, -INT64_MAX - 1n, -INT64_MAX],
  },
  {
    name: "INT64 DELTA with a min delta of -2^63 and 64-bit widths",
    chunk: dataPage(
      [...deltaBody(0n, -(2n ** 63n), 2, { width: 64 }).slice(0, -256), 0xff, ...new Array(255).fill(0)],
      2,
      DELTA,
    ),
    desc: { numValues: 2, physicalType: 2 },
    values: [0n, -(2n ** 63n) + 255n],
  },
  {
    name: "an all-null v2 page",
    chunk: dataPageV2([8 << 1, 0], [], { rows: 8, nulls: 8, encoding: PLAIN }),
    desc: { maxDef: 1 },
    values: new Array(8).fill(null),
  },
  {
    name: "a v2 page with nulls, zstd values",
    chunk: page(
      3,
      8,
      { 1: 8, 2: 2, 3: 8, 4: PLAIN, 5: 2, 6: 0 },
      [3, 0b01111110, ...Bun.zstdCompressSync(int32s(1, 2, 3, 4, 5, 6))],
      { uncompressed: 2 + 24 },
    ),
    desc: { maxDef: 1, codec: 6 },
    values: [null, 1, 2, 3, 4, 5, 6, null],
  },
];

const descOf = (c: Crafted): ChunkDesc => ({ ...DESC, ...c.desc });
const windowOf = (c: Crafted): RowWindow => c.window ?? { start: 0, count: descOf(c).numValues };

function valuesOf(d: DecodedChunk): (number | bigint | null)[] {
  return Array.from(d.values as ArrayLike<number | bigint>, (v, i) =>
    d.validity && ((d.validity[i >> 3] >> (i & 7)) & 1) === 0 ? null : v,
  );
}

describe("hand-made chunks", () => {
  for (const c of BROKEN)
    test(`${c.name}: a ChunkDecodeError naming the file, the column and the reason`, async () => {
      for (const [who, decode] of await chunkDecoders()) {
        let error: unknown = null;
        try {
          decode(c.chunk, descOf(c), windowOf(c));
        } catch (e) {
          error = e;
        }
        expect({ who, isChunkDecodeError: error instanceof ChunkDecodeError }).toEqual({
          who,
          isChunkDecodeError: true,
        });
        expect((error as Error).message).toStartWith("crafted.parquet: column x: ");
        if (who === "reference") expect((error as Error).message).toMatch(c.reason);
      }
    });

  for (const c of DECODABLE)
    test(`${c.name}: decoded`, async () => {
      for (const [who, decode] of await chunkDecoders()) {
        const d = decode(c.chunk, descOf(c), windowOf(c));
        expect({ who, values: valuesOf(d) }).toEqual({ who, values: c.values });
        expect({ who, nullCount: d.nullCount, validity: d.validity === null }).toEqual({
          who,
          nullCount: c.values.filter((v) => v === null).length,
          validity: c.values.every((v) => v !== null),
        });
      }
    });
});
