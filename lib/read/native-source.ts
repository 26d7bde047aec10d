/**
 * A part decoded by tickpack's own C page decoder (lib/parquet/native/page-decoder.c) straight from a
 * read-only map of the file: no parquet-wasm, no copy of the compressed bytes. Only for files
 * tickpack wrote (their footer says `tickpack.version`) whose wanted columns are flat, of a type
 * the decoder gives in parquet-wasm's formats, and coded as the decoder can (UNCOMPRESSED or ZSTD
 * with libzstd present; PLAIN, dictionary, DELTA_BINARY_PACKED): anything else is left to parquet-wasm.
 */
import { mapOpenFileReadOnly, type FileMapping } from "../cache/mapping.ts";
import type { CColumn, CField } from "../parquet/c-data.ts";
import type { ColumnViews, RowSelection } from "../parquet/source.ts";
import {
  readChunkIndex,
  type ChunkIndex,
  type ChunkLocation,
  type ColumnSchema,
} from "../parquet/native/chunk-index.ts";
import { Codec, ChunkDecodeError, type ChunkDesc, type DecodedChunk } from "../parquet/native/chunk-desc.ts";
import type { DecodedForm, PageDecoder } from "../parquet/native/page-decoder.ts";
import type { PartSource } from "./part-source.ts";

/** Value encodings the decoder reads (parquet.thrift Encoding): PLAIN, PLAIN_DICTIONARY, RLE (levels), DELTA_BINARY_PACKED, RLE_DICTIONARY. */
const NATIVE_ENCODINGS: ReadonlySet<number> = new Set([0, 2, 3, 5, 8]);

/**
 * Whether the decoder reads every encoding of a chunk's list. The native chunk index shares one
 * list among the chunks that have the same encodings: each is checked once per thread.
 */
const nativeLists = new WeakMap<readonly number[], boolean>();
function allNative(encodings: readonly number[]): boolean {
  let ok = nativeLists.get(encodings);
  if (ok === undefined) {
    ok = encodings.every((e) => NATIVE_ENCODINGS.has(e));
    nativeLists.set(encodings, ok);
  }
  return ok;
}

/** The footer's FileMetaData bytes, or null where the file's tail is not a Parquet footer (only they are viewed from JavaScript). */
function footerOf(map: FileMapping): Uint8Array | null {
  const n = map.size;
  if (n < 12) return null;
  const magic = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x41 && b[2] === 0x52 && b[3] === 0x31;
  const tail = map.view(n - 8, n);
  if (!magic(map.view(0, 4)) || !magic(tail.subarray(4))) return null;
  const len = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
  return len > 0 && len <= n - 12 ? map.view(n - 8 - len, n - 8) : null;
}

/** Why the native path cannot read `columns` of a file (its index given), or null when it can. */
function unsupported(index: ChunkIndex, columns: readonly string[], fileSize: number, zstd: boolean): string | null {
  if (!index.keyValue.has("tickpack.version")) return "not written by tickpack";
  if (!index.columns) return "not a flat schema";
  const byName = new Map(index.columns.map((c) => [c.name, c]));
  for (const name of columns) {
    const c = byName.get(name);
    if (!c) continue; // a missing column is the run's error to report
    if (c.format === null) return `column ${name}: type not decoded natively`;
    for (const g of index.rowGroups) {
      const loc = g.chunks.get(name);
      if (!loc || loc.external || loc.numValues !== g.rows) return `column ${name}: chunk not in the file`;
      if (loc.codec !== Codec.UNCOMPRESSED && !(loc.codec === Codec.ZSTD && zstd))
        return `column ${name}: codec ${loc.codec}`;
      if (!allNative(loc.encodings)) return `column ${name}: encodings ${loc.encodings}`;
      if (!(loc.start >= 4 && loc.length > 0 && loc.start + loc.length <= fileSize - 8))
        return `column ${name}: chunk out of the file`;
    }
  }
  return null;
}

/**
 * How a column the caller takes as codes is decoded: a dictionary-coded chunk as runs of codes where
 * its pages are stored uncompressed (nothing unpacked; the runs point into the map), as codes where
 * compressed; any other as values.
 */
function formOf(loc: ChunkLocation): DecodedForm {
  if (!(loc.encodings.includes(2) || loc.encodings.includes(8))) return "values";
  return loc.codec === Codec.UNCOMPRESSED ? "runs" : "codes";
}

/** A column of a decoded window in parquet-wasm's shape (codes and their values where asked as codes). */
function viewOf(field: CField, d: DecodedChunk): CColumn {
  let values: CColumn["values"] = d.codeRuns ? null : d.values;
  if (field.format === "b")
    values = null; // parquet-wasm gives booleans as bits, without a fixed-width view
  else if (field.format === "s") values = Int16Array.from(d.values as Int32Array);
  return {
    field,
    length: d.length,
    nullCount: d.nullCount,
    validity: d.validity,
    values,
    dictionary: d.dictionary,
    strings: null,
    codeValues: d.dictionaryValues ?? null,
    codeRuns: d.codeRuns ?? null,
  };
}

class NativePartSource implements PartSource {
  readonly kind = "native";
  readonly rowGroupRows: readonly number[];
  readonly columns: readonly CField[];
  private readonly schema: Map<string, ColumnSchema>;

  constructor(
    readonly path: string,
    private readonly mapping: FileMapping,
    private readonly index: ChunkIndex,
    private readonly decoder: PageDecoder,
    private readonly decodable: ReadonlySet<string>,
    private readonly coded: ReadonlySet<string>,
  ) {
    this.rowGroupRows = index.rowGroups.map((g) => g.rows);
    const leaves = index.columns ?? [];
    this.schema = new Map(leaves.map((c) => [c.name, c]));
    this.columns = leaves.map((c) => ({ name: c.name, format: c.format ?? "?", dictionaryFormat: c.dictionaryFormat }));
  }

  async read<T>(columns: readonly string[], selection: RowSelection, use: (batches: ColumnViews[]) => T): Promise<T> {
    const fields = columns.map((name) => {
      const c = this.schema.get(name);
      if (!c || !this.decodable.has(name))
        throw new ChunkDecodeError(`${this.path}: column ${name}: not opened for native decoding`);
      return { schema: c, field: { name, format: c.format!, dictionaryFormat: c.dictionaryFormat } };
    });
    // Rows [offset, offset + limit) counted from the first selected group, as parquet-wasm reads them.
    let skip = selection.offset ?? 0;
    let left = selection.limit ?? Number.POSITIVE_INFINITY;
    const batches: ColumnViews[] = [];
    for (const g of selection.rowGroups) {
      const rows = this.rowGroupRows[g];
      if (rows === undefined) throw new ChunkDecodeError(`${this.path}: no row group ${g}`);
      const start = Math.min(skip, rows);
      skip -= start;
      const count = Math.min(rows - start, left);
      if (count <= 0) continue;
      left -= count;
      const slot0 = batches.length * fields.length;
      const group = this.index.rowGroups[g];
      batches.push({
        length: count,
        columns: fields.map(({ schema, field }, k) => {
          const loc = group.chunks.get(field.name) as ChunkLocation;
          const desc: ChunkDesc = {
            file: this.path,
            column: field.name,
            physicalType: schema.physicalType,
            maxDef: schema.maxDef,
            codec: loc.codec,
            numValues: loc.numValues,
          };
          // Read where it is mapped (unsupported() checked it lies in the file).
          const at = this.mapping.address + loc.start;
          const form = this.coded.has(field.name) ? formOf(loc) : "values";
          return viewOf(field, this.decoder.decodeChunkAt(at, loc.length, desc, { start, count }, slot0 + k, form));
        }),
      });
    }
    return use(batches);
  }

  close(): void {
    this.mapping.unmap();
  }
}

/**
 * The part open as `fd` as a native source for `columns`, or null where the native path cannot read
 * them (the caller then decodes with parquet-wasm). The map is of the descriptor: a repack replacing
 * `path` meanwhile does not change what is read. Of `coded`, a dictionary-coded chunk comes as runs of
 * codes or codes (CColumn.codeRuns, codeValues; formOf): its dictionary is not gathered row by row.
 */
export function openNativeSource(
  path: string,
  fd: number,
  columns: readonly string[],
  decoder: PageDecoder,
  coded: readonly string[] = [],
): PartSource | null {
  let mapping: FileMapping;
  try {
    mapping = mapOpenFileReadOnly(fd, path);
  } catch {
    return null;
  }
  try {
    const footer = footerOf(mapping);
    const index = footer && readChunkIndex(footer, columns);
    if (!index || unsupported(index, columns, mapping.size, decoder.zstd !== null) !== null) {
      mapping.unmap();
      return null;
    }
    const present = new Set((index.columns ?? []).map((c) => c.name));
    const decodable = new Set(columns.filter((c) => present.has(c)));
    return new NativePartSource(path, mapping, index, decoder, decodable, new Set(coded));
  } catch {
    // A footer the walk cannot read: parquet-wasm names the problem.
    mapping.unmap();
    return null;
  }
}
