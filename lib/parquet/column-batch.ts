/** Plain columnar rows in JS memory: typed arrays plus a byte-per-row validity mask. */

/**
 * In-memory kinds of a column. Values: ts_ns → BigInt64Array (epoch ns UTC), i64 → BigInt64Array,
 * f64 → Float64Array, f32 → Float32Array, i16 → Int16Array, date32 → Int32Array (epoch days),
 * bool → Uint8Array (0/1), dict → Int32Array codes into a string dictionary.
 */
export type ColumnKind = "ts_ns" | "i64" | "f64" | "f32" | "i16" | "date32" | "bool" | "dict";

/** A column's name and its packed kind. */
export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
}

/** The typed array behind each column kind. */
export type ValueArray = BigInt64Array | Float64Array | Float32Array | Int16Array | Int32Array | Uint8Array;

/** One column; `valid[i] === 0` marks a null, `valid === null` means no nulls. */
export interface Column {
  kind: ColumnKind;
  /** Values (or dictionary codes for `dict`); entries under a null are unspecified. */
  values: ValueArray;
  valid: Uint8Array | null;
  /** Strings for `dict` columns, indexed by code. */
  dictionary?: string[];
}

/** Rows as named columns of equal length. */
export interface ColumnBatch {
  length: number;
  columns: Map<string, Column>;
}

/** A zero-filled value array of a kind. */
export function allocValues(kind: ColumnKind, length: number): ValueArray {
  switch (kind) {
    case "ts_ns":
    case "i64":
      return new BigInt64Array(length);
    case "f64":
      return new Float64Array(length);
    case "f32":
      return new Float32Array(length);
    case "i16":
      return new Int16Array(length);
    case "date32":
    case "dict":
      return new Int32Array(length);
    case "bool":
      return new Uint8Array(length);
  }
}

/** A column of `length` nulls. */
export function nullColumn(kind: ColumnKind, length: number): Column {
  return {
    kind,
    values: allocValues(kind, length),
    valid: new Uint8Array(length),
    dictionary: kind === "dict" ? [] : undefined,
  };
}

/** A column holding one non-null value in every row (strings for `dict`, numbers/bigints otherwise). */
export function constantColumn(kind: ColumnKind, length: number, value: number | bigint | string): Column {
  if (kind === "dict") return { kind, values: new Int32Array(length), valid: null, dictionary: [value as string] };
  const values = allocValues(kind, length);
  (values as { fill(v: unknown): unknown }).fill(value);
  return { kind, values, valid: null };
}

/** Rows `indices` of a column, in that order. */
export function takeColumn(col: Column, indices: Int32Array): Column {
  const n = indices.length;
  const values = allocValues(col.kind, n);
  if (values instanceof BigInt64Array) {
    // Move 64-bit values as two int32 words: reading a BigInt64Array element allocates a BigInt.
    const src = col.values as BigInt64Array;
    const from = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
    const to = new Int32Array(values.buffer, 0, n * 2);
    for (let i = 0; i < n; i++) {
      const j = indices[i] * 2;
      to[2 * i] = from[j];
      to[2 * i + 1] = from[j + 1];
    }
  } else {
    const src = col.values as Exclude<ValueArray, BigInt64Array>;
    const dst = values as Exclude<ValueArray, BigInt64Array>;
    for (let i = 0; i < n; i++) dst[i] = src[indices[i]];
  }
  let valid: Uint8Array | null = null;
  if (col.valid) {
    const v = col.valid;
    valid = new Uint8Array(n);
    for (let i = 0; i < n; i++) valid[i] = v[indices[i]];
  }
  return { kind: col.kind, values, valid, dictionary: col.dictionary };
}

/** Rows `indices` of every column of a batch. */
export function takeBatch(batch: ColumnBatch, indices: Int32Array): ColumnBatch {
  const columns = new Map<string, Column>();
  for (const [name, col] of batch.columns) columns.set(name, takeColumn(col, indices));
  return { length: indices.length, columns };
}

/** One dictionary holding every string of `dictionaries`, with each one's code → merged code map. */
export function mergeDictionaries(dictionaries: string[][]): { dictionary: string[]; remap: Int32Array[] } {
  const dictionary: string[] = [];
  const codeOf = new Map<string, number>();
  const remap = dictionaries.map((d) =>
    Int32Array.from(d, (str) => {
      let code = codeOf.get(str);
      if (code === undefined) codeOf.set(str, (code = dictionary.push(str) - 1));
      return code;
    }),
  );
  return { dictionary, remap };
}

/** Columns of the same kind one after another; dictionaries are merged and codes remapped. */
export function concatColumns(kind: ColumnKind, parts: Column[], lengths: number[]): Column {
  const total = lengths.reduce((a, b) => a + b, 0);
  const values = allocValues(kind, total);
  const anyNull = parts.some((p) => p.valid !== null);
  const valid = anyNull ? new Uint8Array(total) : null;
  let dictionary: string[] | undefined;
  let offset = 0;
  if (kind === "dict") {
    const merged = mergeDictionaries(parts.map((p) => p.dictionary ?? []));
    dictionary = merged.dictionary;
    const out = values as Int32Array;
    for (let p = 0; p < parts.length; p++) {
      const remap = merged.remap[p];
      const codes = parts[p].values as Int32Array;
      const pv = parts[p].valid;
      for (let i = 0; i < lengths[p]; i++) out[offset + i] = pv && pv[i] === 0 ? 0 : remap[codes[i]];
      offset += lengths[p];
    }
  } else {
    for (let p = 0; p < parts.length; p++) {
      (values as { set(a: ArrayLike<unknown>, o: number): void }).set(parts[p].values as ArrayLike<unknown>, offset);
      offset += lengths[p];
    }
  }
  if (valid) {
    offset = 0;
    for (let p = 0; p < parts.length; p++) {
      if (parts[p].valid) valid.set(parts[p].valid!, offset);
      else valid.fill(1, offset, offset + lengths[p]);
      offset += lengths[p];
    }
  }
  return { kind, values, valid, dictionary };
}

/** Batches one after another; every batch must have the columns of `kinds`. */
export function concatBatches(kinds: ReadonlyMap<string, ColumnKind>, batches: ColumnBatch[]): ColumnBatch {
  const lengths = batches.map((b) => b.length);
  const columns = new Map<string, Column>();
  for (const [name, kind] of kinds) {
    columns.set(
      name,
      concatColumns(
        kind,
        batches.map((b) => b.columns.get(name) ?? nullColumn(kind, b.length)),
        lengths,
      ),
    );
  }
  return { length: lengths.reduce((a, b) => a + b, 0), columns };
}
