/**
 * The native column-chunk decoder (page-decoder.c) built like the kernels — TinyCC by default, or
 * gcc/clang with the same flags (no fast-math, no contraction) — and its binding: host-owned buffers,
 * grown when the C says they are short, and results returned as views on them.
 */
import { CFunction, ptr, type Pointer } from "bun:ffi";
import { join } from "node:path";
import { compileKernelUnit, KernelError, type KernelCompiler } from "../../../kernel/strategy-kernel.ts";
import {
  ChunkDecodeError,
  Codec,
  type ChunkDesc,
  type DecodedChunk,
  PhysicalType,
  type RowWindow,
  windowProblem,
} from "./chunk-desc.ts";
import { loadZstd, type ZstdFunctions } from "./zstd.ts";

const SOURCE = join(import.meta.dir, "page-decoder.c");

const SYMBOLS = {
  tp_decode_chunk: { args: ["ptr", "i64", "ptr"], returns: "i32" },
} as const;

/** io slots of tp_decode_chunk (see page-decoder.c). */
const IO = {
  type: 0,
  maxDef: 1,
  codec: 2,
  numValues: 3,
  start: 4,
  count: 5,
  valuesCap: 6,
  validityCap: 7,
  dictCap: 8,
  strCap: 9,
  hashCap: 10,
  scratchCap: 11,
  reasonCap: 12,
  codes: 13,
  nulls: 16,
  entries: 17,
  runs: 18,
  dictAt: 19,
  needDict: 20,
  needStr: 21,
  needHash: 22,
  needScratch: 23,
  // the buffers' addresses
  atValues: 24,
  atValidity: 25,
  atDict: 26,
  atStr: 27,
  atHash: 28,
  atScratch: 29,
  atZstd: 30,
  atReason: 31,
} as const;
const IO_DOUBLES = 32;
const REASON_BYTES = 512;
/** The most bytes one buffer may be grown to (typed arrays' limit is near it): a page asking for more is garbled or not tickpack's. */
const MAX_BUFFER_BYTES = 2 ** 31 - 8;

/** A loaded native decoder: decodeChunk's arrays are views on buffers it owns per `slot`, valid until its next call with that slot. */
export interface PageDecoder {
  readonly native: true;
  readonly compiler: KernelCompiler;
  /** The libzstd opened, or null when there is none (a ZSTD chunk is then a ChunkDecodeError). */
  readonly zstd: string | null;
  /**
   * `form` "codes": a fixed-width column comes as int32 codes into `dictionaryValues`; "runs": as
   * runs of codes where the window allows it, else as codes (see DecodedChunk). Run records point into
   * `chunk`: they are valid while it is.
   */
  decodeChunk(chunk: Uint8Array, desc: ChunkDesc, window: RowWindow, slot?: number, form?: DecodedForm): DecodedChunk;
  /**
   * The same, of the `length` bytes at `address` (in a map of the file, which must outlive the call
   * and, for runs, their use): no JavaScript view of them is made.
   */
  decodeChunkAt(
    address: number,
    length: number,
    desc: ChunkDesc,
    window: RowWindow,
    slot?: number,
    form?: DecodedForm,
  ): DecodedChunk;
}

/** How a decoded window comes: values, codes into a dictionary, or runs of codes (DecodedChunk). */
export type DecodedForm = "values" | "codes" | "runs";
const FORM_MODE: Record<DecodedForm, number> = { values: 0, codes: 1, runs: 2 };

/** Bytes per value in the output (BYTE_ARRAY: an int32 code). */
function valueWidth(physicalType: number): number {
  switch (physicalType) {
    case PhysicalType.BOOLEAN:
      return 1;
    case PhysicalType.INT64:
    case PhysicalType.DOUBLE:
      return 8;
    default:
      return 4;
  }
}

/** Whether a physical type can come as codes into a dictionary of its values (BYTE_ARRAY always does). */
function hasCodes(physicalType: number): boolean {
  return physicalType !== PhysicalType.BOOLEAN && physicalType !== PhysicalType.BYTE_ARRAY;
}

/** A typed view of `count` values of the physical type on `buffer`. */
function valuesView(physicalType: number, buffer: ArrayBuffer, count: number): DecodedChunk["values"] {
  switch (physicalType) {
    case PhysicalType.BOOLEAN:
      return new Uint8Array(buffer, 0, count);
    case PhysicalType.INT64:
      return new BigInt64Array(buffer, 0, count);
    case PhysicalType.FLOAT:
      return new Float32Array(buffer, 0, count);
    case PhysicalType.DOUBLE:
      return new Float64Array(buffer, 0, count);
    default:
      return new Int32Array(buffer, 0, count);
  }
}

/** A buffer of at least `bytes` (8 at least: bun:ffi gives no address for an empty one), grown by half again over what is asked. */
function grown(current: ArrayBuffer, bytes: number): ArrayBuffer {
  if (current.byteLength >= bytes && current.byteLength >= 8) return current;
  return new ArrayBuffer(Math.min(MAX_BUFFER_BYTES, Math.max(64, Math.ceil((bytes * 1.5) / 8) * 8)));
}

const utf8 = new TextDecoder();

/** tp_decode_chunk's address per compiler, built in this thread (the build stays loaded for the process's life). */
const entries = new Map<KernelCompiler, number>();

/**
 * The address of tp_decode_chunk built with `compiler`, built once per process thread that asks:
 * another thread of the process can call it through `loadPageDecoder(compiler, entry)` without
 * building its own (the C keeps no state; each thread's binding owns its buffers and zstd context).
 * Throws (KernelError) where it cannot be built.
 */
export function pageDecoderEntry(compiler: KernelCompiler = "tcc"): number {
  let entry = entries.get(compiler);
  if (entry === undefined) {
    const symbols = compileKernelUnit(SOURCE, SOURCE, compiler, `#include ${JSON.stringify(SOURCE)}\n`, SYMBOLS);
    entry = Number((symbols.tp_decode_chunk as unknown as { ptr: number }).ptr);
    if (!(entry > 0)) throw new KernelError(`${SOURCE}: the build gave no address for tp_decode_chunk`);
    // The build's functions stay referenced, so its code is never unloaded.
    kept.push(symbols);
    entries.set(compiler, entry);
  }
  return entry;
}
const kept: unknown[] = [];

function makeDecoder(compiler: KernelCompiler, entry: number): PageDecoder {
  const decode = CFunction({ ...SYMBOLS.tp_decode_chunk, ptr: entry as unknown as Pointer });
  const zstdFns: ZstdFunctions | null = loadZstd();
  // The decompression context is made by the C on first use and kept in this host-owned slot for the thread's life.
  const zstd = new BigInt64Array(new ArrayBuffer(8 * 6));
  if (zstdFns) {
    zstd[0] = BigInt(zstdFns.createDCtx);
    zstd[1] = BigInt(zstdFns.freeDCtx);
    zstd[2] = BigInt(zstdFns.decompressDCtx);
    zstd[3] = BigInt(zstdFns.isError);
    zstd[4] = BigInt(zstdFns.getErrorName);
  }
  // Doubles, the buffers' addresses included: see tp_decode_chunk. Each over its own ArrayBuffer,
  // whose contents never move (a small typed array's may, in the GC heap).
  const io = new Float64Array(new ArrayBuffer(8 * IO_DOUBLES));
  const ioAt = ptr(io);
  const reason = new Uint8Array(new ArrayBuffer(REASON_BYTES));
  io[IO.reasonCap] = REASON_BYTES;
  io[IO.atZstd] = ptr(zstd);
  io[IO.atReason] = ptr(reason);
  // The C has only their addresses: a buffer nothing refers to would be collected under it. (A
  // decoder is made once per thread and compiler: loadPageDecoder.)
  kept.push(zstd, reason);
  // Only the values and validity outlive a call: one pair per slot; the rest is shared. Addresses
  // are taken when a buffer is made.
  // A slot's own dictionary buffer holds what codes index (the shared one is reused by the next call).
  const slots: {
    values: ArrayBuffer;
    validity: ArrayBuffer;
    valuesAt: number;
    validityAt: number;
    dict: ArrayBuffer;
    dictAt: number;
  }[] = [];
  const shared = (k: number, b: ArrayBuffer) => {
    io[k] = ptr(b);
    return b;
  };
  let dict = new ArrayBuffer(64);
  let dictAt: number = ptr(dict);
  let str = shared(IO.atStr, new ArrayBuffer(64));
  let hash = shared(IO.atHash, new ArrayBuffer(64));
  let scratch = shared(IO.atScratch, new ArrayBuffer(64));
  // A chunk of no bytes is read at a real address (bun:ffi gives none for an empty buffer).
  const empty = new Uint8Array(new ArrayBuffer(8));
  const emptyAt = ptr(empty);
  kept.push(empty);

  /** Slot `slot`'s buffers, grown to hold `count` values of `width` bytes. */
  function slotFor(slot: number, count: number, width: number) {
    let s = slots[slot];
    if (!s) {
      const values = new ArrayBuffer(64);
      const validity = new ArrayBuffer(64);
      const dict = new ArrayBuffer(64);
      s = slots[slot] = { values, validity, valuesAt: ptr(values), validityAt: ptr(validity), dict, dictAt: ptr(dict) };
    }
    // Plain stores, no destructuring: the optimising JIT compiles this on every worker, and an array
    // destructuring inlines the iterator protocol (the largest of a run's compiles, measured).
    if (s.values.byteLength < count * width) {
      s.values = grown(s.values, count * width);
      s.valuesAt = ptr(s.values);
    }
    if (s.validity.byteLength < Math.ceil(count / 8)) {
      s.validity = grown(s.validity, Math.ceil(count / 8));
      s.validityAt = ptr(s.validity);
    }
    return s;
  }

  const decoder: PageDecoder = {
    native: true,
    compiler,
    zstd: zstdFns?.library ?? null,
    decodeChunk(chunk: Uint8Array, desc: ChunkDesc, window: RowWindow, slot = 0, form: DecodedForm = "values") {
      return decoder.decodeChunkAt(chunk.length > 0 ? ptr(chunk) : emptyAt, chunk.length, desc, window, slot, form);
    },
    decodeChunkAt(
      chunkAt: number,
      chunkLength: number,
      desc: ChunkDesc,
      window: RowWindow,
      slot = 0,
      form: DecodedForm = "values",
    ): DecodedChunk {
      const { start, count } = window;
      const outside = windowProblem(desc, window);
      if (outside) throw failure(desc, outside);
      if (desc.codec === Codec.ZSTD && !zstdFns)
        throw failure(desc, "ZSTD-compressed, and libzstd is missing (TICKPACK_LIBZSTD names another path)");
      let mode = hasCodes(desc.physicalType) ? FORM_MODE[form] : 0;
      const codes = mode > 0;
      // Runs of 4 int64 where a row's value would be: a window needs few (-3 asks for codes where it needs more).
      const s = slotFor(slot, count, mode === 2 ? 8 : codes ? 4 : valueWidth(desc.physicalType));
      io[IO.type] = desc.physicalType;
      io[IO.maxDef] = desc.maxDef;
      io[IO.codec] = desc.codec;
      io[IO.numValues] = desc.numValues;
      io[IO.start] = start;
      io[IO.count] = count;
      io[IO.valuesCap] = s.values.byteLength;
      io[IO.validityCap] = s.validity.byteLength;
      io[IO.atValues] = s.valuesAt;
      io[IO.atValidity] = s.validityAt;
      for (let tries = 0; ; tries++) {
        io[IO.codes] = mode;
        io[IO.atDict] = codes ? s.dictAt : dictAt;
        io[IO.dictCap] = codes ? s.dict.byteLength : dict.byteLength;
        io[IO.strCap] = str.byteLength;
        io[IO.hashCap] = hash.byteLength / 4;
        io[IO.scratchCap] = scratch.byteLength;
        const rc = decode(chunkAt as unknown as Pointer, chunkLength, ioAt);
        if (rc === 0) break;
        if (rc === -3 && mode === 2) {
          mode = 1;
          tries--;
        } else growFor(desc, rc, tries, codes ? s : null);
      }
      const nullCount = io[IO.nulls];
      const runs = mode === 2;
      return {
        length: count,
        values: runs ? new Int32Array(0) : valuesView(codes ? PhysicalType.INT32 : desc.physicalType, s.values, count),
        codeRuns: runs
          ? {
              records: new BigInt64Array(s.values, 0, 4 * io[IO.runs]),
              dictionaryAt: io[IO.dictAt],
              entries: io[IO.entries],
              valueBytes: valueWidth(desc.physicalType),
            }
          : null,
        validity: nullCount > 0 ? new Uint8Array(s.validity, 0, Math.ceil(count / 8)) : null,
        nullCount,
        dictionary: desc.physicalType === PhysicalType.BYTE_ARRAY ? dictionaryStrings() : null,
        dictionaryValues:
          codes && !runs
            ? (valuesView(desc.physicalType, s.dict, io[IO.entries]) as Exclude<DecodedChunk["values"], Uint8Array>)
            : null,
      };
    },
  };
  return decoder;

  // Cold paths, out of decodeChunk: the optimising JIT compiles it smaller and sooner.

  /** After a call that did not decode: the error it reported, or the buffers grown as asked (-2). */
  function growFor(
    desc: ChunkDesc,
    rc: number,
    tries: number,
    codesSlot: { dict: ArrayBuffer; dictAt: number } | null,
  ): void {
    if (rc === -1) throw failure(desc, utf8.decode(reason.subarray(0, Math.max(0, reason.indexOf(0)))));
    const need = (k: number) => {
      const n = io[k];
      if (n > MAX_BUFFER_BYTES) throw failure(desc, `a page asks for a buffer of ${n} bytes`);
      return n;
    };
    if (rc !== -2 || tries > 2) throw failure(desc, `the decoder returned ${rc}`);
    // Codes' dictionary is the slot's own (it outlives the call); any other, the shared one.
    const needDict = need(IO.needDict);
    if (codesSlot) {
      if (codesSlot.dict.byteLength < needDict) {
        codesSlot.dict = grown(codesSlot.dict, needDict);
        codesSlot.dictAt = ptr(codesSlot.dict);
      }
    } else if (dict.byteLength < needDict) {
      dict = grown(dict, needDict);
      dictAt = ptr(dict);
    }
    str = shared(IO.atStr, grown(str, need(IO.needStr)));
    // A hash table's size must stay a power of two.
    const slotsNeeded = io[IO.needHash];
    if (slotsNeeded * 4 > hash.byteLength) hash = shared(IO.atHash, new ArrayBuffer(slotsNeeded * 4));
    scratch = shared(IO.atScratch, grown(scratch, need(IO.needScratch)));
  }

  /** A BYTE_ARRAY chunk's strings, which its codes index. */
  function dictionaryStrings(): string[] {
    const entries = io[IO.entries];
    const offsets = new Int32Array(dict, 0, entries + 1);
    const bytes = new Uint8Array(str);
    const out = new Array<string>(entries);
    for (let i = 0; i < entries; i++) out[i] = utf8.decode(bytes.subarray(offsets[i], offsets[i + 1]));
    return out;
  }
}

/** A decode error naming the file and the column. */
function failure(desc: ChunkDesc, why: string): ChunkDecodeError {
  return new ChunkDecodeError(`${desc.file}: column ${desc.column}: ${why}`);
}

const loaded = new Map<KernelCompiler, PageDecoder>();

/**
 * This thread's native decoder built with `compiler` (once per thread and compiler), calling `entry`
 * (pageDecoderEntry of another thread of this process) when given instead of building its own:
 * a TinyCC build of page-decoder.c takes ~25 ms, paid once per process instead of once per worker.
 * Throws (KernelError) where it cannot be built, so a caller falls back to parquet-wasm.
 */
export function loadPageDecoder(compiler: KernelCompiler = "tcc", entry?: number): PageDecoder {
  let decoder = loaded.get(compiler);
  if (!decoder) loaded.set(compiler, (decoder = makeDecoder(compiler, entry ?? pageDecoderEntry(compiler))));
  return decoder;
}
