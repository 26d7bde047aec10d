/**
 * Merging rows into one packed partition: contracts in (expiry, opt_type, strike) order, each
 * contract's rows in time order (ties keep input order), exact duplicates dropped, vol_delta
 * computed. The result is an order over the source batches, not a copy: rows are gathered a
 * chunk at a time while writing, so a partition is held in memory once, not three times.
 */
import {
  allocValues,
  mergeDictionaries,
  type Column,
  type ColumnBatch,
  type ValueArray,
} from "../parquet/column-batch.ts";
import { RAW_COLUMNS } from "../raw/schema.ts";
import { PACKED_COLUMNS } from "./schema.ts";
import { hashString } from "../random.ts";
import { compareContractKeys, rowKeyReader, type ContractKey } from "./contract-key.ts";

/** A partition's rows as an order over source batches. */
export interface MergedPartition {
  sources: ColumnBatch[];
  /** Output row k is row `rowOf[k]` of source `sourceOf[k]`. */
  sourceOf: Uint16Array;
  rowOf: Int32Array;
  volDelta: BigInt64Array;
  length: number;
  duplicatesDropped: number;
  /** Per dict column: the partition-wide dictionary and each source's code remap into it. */
  dictionaries: Map<string, { dictionary: string[]; remap: Int32Array[] }>;
}

/** One contract's rows: its key (sorted by compareContractKeys, nulls first) and where its rows are. */
interface ContractGroup extends ContractKey {
  /** (source, row) pairs in input order, packed as source * 2^32 + row. */
  rows: number[];
}

const ROW_SPAN = 2 ** 32;

/**
 * A comparator of (source, row) pairs by timestamp that reads the int64 values as two int32 words:
 * reading a BigInt64Array element allocates a BigInt, and this runs several times per row.
 * Null timestamps sort first.
 */
function timestampComparator(sources: ColumnBatch[]): (a: number, b: number) => number {
  const words = sources.map((b) => {
    const v = b.columns.get("timestamp")!.values as BigInt64Array;
    return new Int32Array(v.buffer, v.byteOffset, v.length * 2);
  });
  const valid = sources.map((b) => b.columns.get("timestamp")!.valid);
  return (a, b) => {
    const sa = Math.floor(a / ROW_SPAN),
      ra = a % ROW_SPAN;
    const sb = Math.floor(b / ROW_SPAN),
      rb = b % ROW_SPAN;
    const va = valid[sa],
      vb = valid[sb];
    const na = va !== null && va[ra] === 0,
      nb = vb !== null && vb[rb] === 0;
    if (na || nb) return na === nb ? 0 : na ? -1 : 1;
    const wa = words[sa],
      wb = words[sb];
    const ha = wa[2 * ra + 1],
      hb = wb[2 * rb + 1];
    if (ha !== hb) return ha < hb ? -1 : 1;
    const la = wa[2 * ra] >>> 0,
      lb = wb[2 * rb] >>> 0;
    return la === lb ? 0 : la < lb ? -1 : 1;
  };
}

/** Whether two cells (possibly of different sources) hold the same value; dict cells compare strings. */
function sameCell(a: Column, i: number, b: Column, j: number): boolean {
  const na = a.valid !== null && a.valid[i] === 0;
  const nb = b.valid !== null && b.valid[j] === 0;
  if (na || nb) return na === nb;
  if (a.kind === "dict")
    return a.dictionary![(a.values as Int32Array)[i]] === b.dictionary![(b.values as Int32Array)[j]];
  const x = a.values[i];
  const y = b.values[j];
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

/**
 * A row hasher over the raw columns, equal for rows that sameCell finds equal in every column
 * (dict cells by string, nulls alike, -0 as 0, every NaN alike): exact duplicates are looked up
 * among the rows sharing a timestamp by hash, not by comparing with each of them.
 */
function rowHasher(raw: Column[][]): (s: number, r: number) => number {
  const f64 = new Float64Array(1);
  const words = new Int32Array(f64.buffer);
  // Per source and dict column: each code's string hash, computed once.
  const dictHashes = raw.map((cols) =>
    cols.map((c) => (c.kind === "dict" ? Int32Array.from(c.dictionary!, (str) => hashString(str)) : null)),
  );
  const wordViews = raw.map((cols) =>
    cols.map((c) =>
      c.values instanceof BigInt64Array
        ? new Int32Array(c.values.buffer, c.values.byteOffset, c.values.length * 2)
        : null,
    ),
  );
  return (s, r) => {
    let h = 0x811c9dc5;
    const mix = (x: number) => {
      h = Math.imul(h ^ x, 0x01000193);
    };
    const cols = raw[s];
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c];
      if (col.valid !== null && col.valid[r] === 0) {
        mix(0x5bd1e995);
        continue;
      }
      const dh = dictHashes[s][c];
      const wv = wordViews[s][c];
      if (dh) mix(dh[(col.values as Int32Array)[r]]);
      else if (wv) {
        mix(wv[2 * r]);
        mix(wv[2 * r + 1]);
      } else {
        const x = col.values[r] as number;
        if (Number.isNaN(x)) mix(0x7ff80000);
        else if (Number.isInteger(x) && Math.abs(x) < 2 ** 31)
          mix(x | 0); // also makes -0 hash as 0
        else {
          f64[0] = x;
          mix(words[0]);
          mix(words[1]);
        }
      }
    }
    return h;
  };
}

/**
 * One partition from batches in input order (existing rows first); every batch carries all packed
 * columns. Returns the order of the sorted rows (exact duplicates dropped unless `keepDuplicates`)
 * and their vol_delta.
 */
export function mergePartition(sources: ColumnBatch[], keepDuplicates = false): MergedPartition {
  const groups = new Map<string, ContractGroup>();
  let total = 0;
  sources.forEach((batch, s) => {
    total += batch.length;
    const keys = rowKeyReader(batch);
    let current: ContractGroup | undefined;
    // Contracts are contiguous runs in a source: one map lookup per run, not per row.
    for (let i = 0; i < batch.length; i++) {
      if (!current || !keys.same(i, i - 1)) {
        const k = keys.key(i);
        const id = `${k.expiry}|${k.optType}|${k.strike}`;
        current = groups.get(id);
        if (!current) groups.set(id, (current = { ...k, rows: [] }));
      }
      current.rows.push(s * ROW_SPAN + i);
    }
  });

  const compareTs = timestampComparator(sources);
  const addTo = (m: Map<number, number[]>, h: number, j: number) => {
    const list = m.get(h);
    if (list) list.push(j);
    else m.set(h, [j]);
  };
  const volume = sources.map((b) => b.columns.get("volume")!);
  const raw = sources.map((b) => RAW_COLUMNS.map((c) => b.columns.get(c.name)!));
  const hashRow = rowHasher(raw);
  const sourceOf = new Uint16Array(total);
  const rowOf = new Int32Array(total);
  const volDelta = new BigInt64Array(total);
  let at = 0;
  for (const g of [...groups.values()].sort(compareContractKeys)) {
    let rows = g.rows;
    let sorted = true;
    for (let k = 1; k < rows.length && sorted; k++) if (compareTs(rows[k], rows[k - 1]) < 0) sorted = false;
    // Array.prototype.sort is stable: equal timestamps keep input order.
    if (!sorted) rows = rows.slice().sort(compareTs);
    const groupStart = at;
    let runStart = at;
    // Kept rows of the current timestamp by row hash; built once a timestamp has a second row.
    let byHash: Map<number, number[]> | null = null;
    for (let k = 0; k < rows.length; k++) {
      const s = Math.floor(rows[k] / ROW_SPAN);
      const r = rows[k] % ROW_SPAN;
      if (k === 0 || compareTs(rows[k], rows[k - 1]) !== 0) {
        runStart = at;
        byHash = null;
      } else if (!keepDuplicates) {
        // An exact duplicate repeats a kept row of the same timestamp in every raw column.
        if (!byHash) {
          byHash = new Map();
          for (let j = runStart; j < at; j++) addTo(byHash, hashRow(sourceOf[j], rowOf[j]), j);
        }
        const h = hashRow(s, r);
        const candidates = byHash.get(h);
        let duplicate = false;
        if (candidates) {
          const ci = raw[s];
          for (let q = 0; q < candidates.length && !duplicate; q++) {
            const j = candidates[q];
            const cs = raw[sourceOf[j]];
            duplicate = true;
            for (let c = 0; c < ci.length && duplicate; c++) duplicate = sameCell(cs[c], rowOf[j], ci[c], r);
          }
        }
        if (duplicate) continue;
        addTo(byHash, h, at);
      }
      sourceOf[at] = s;
      rowOf[at] = r;
      // vol_delta: difference to the previous kept row of the contract; 0 on resets, nulls and the first row.
      if (at > groupStart) {
        const v = volume[s];
        const pv = volume[sourceOf[at - 1]];
        const pr = rowOf[at - 1];
        const ok = (!v.valid || v.valid[r] === 1) && (!pv.valid || pv.valid[pr] === 1);
        const d = ok ? (v.values as BigInt64Array)[r] - (pv.values as BigInt64Array)[pr] : 0n;
        volDelta[at] = d > 0n ? d : 0n;
      }
      at++;
    }
  }
  const dictionaries = new Map(
    PACKED_COLUMNS.filter((c) => c.kind === "dict").map((c) => [
      c.name,
      mergeDictionaries(sources.map((b) => b.columns.get(c.name)?.dictionary ?? [])),
    ]),
  );
  return {
    sources,
    sourceOf: sourceOf.subarray(0, at),
    rowOf: rowOf.subarray(0, at),
    volDelta: volDelta.subarray(0, at),
    length: at,
    duplicatesDropped: total - at,
    dictionaries,
  };
}

/** Maximal runs of output rows that are consecutive rows of one source: [source, first row, length]. */
function runsOf(m: MergedPartition, start: number, end: number): Int32Array {
  const runs: number[] = [];
  let k = start;
  while (k < end) {
    const s = m.sourceOf[k];
    const r = m.rowOf[k];
    let len = 1;
    while (k + len < end && m.sourceOf[k + len] === s && m.rowOf[k + len] === r + len) len++;
    runs.push(s, r, len);
    k += len;
  }
  return Int32Array.from(runs);
}

/**
 * Output rows [start, end) of a merged partition as columns (dict codes in the partition-wide
 * dictionary). Sources are mostly whole time-ordered contracts, so rows are copied run by run
 * with typed-array `set` (a memcpy), not element by element.
 */
export function gatherRows(m: MergedPartition, start: number, end: number): ColumnBatch {
  const n = end - start;
  const runs = runsOf(m, start, end);
  const columns = new Map<string, Column>();
  for (const spec of PACKED_COLUMNS) {
    if (spec.name === "vol_delta") {
      columns.set(spec.name, { kind: "i64", values: m.volDelta.slice(start, end), valid: null });
      continue;
    }
    const srcCols = m.sources.map((b) => b.columns.get(spec.name)!);
    const values = allocValues(spec.kind, n) as ValueArray & { set(a: ArrayLike<number | bigint>, o: number): void };
    const valid = srcCols.some((c) => c.valid !== null) ? new Uint8Array(n) : null;
    const dict = m.dictionaries.get(spec.name);
    const identity = dict?.remap.map((r) => r.every((code, i) => code === i));
    let at = 0;
    for (let q = 0; q < runs.length; q += 3) {
      const s = runs[q],
        r = runs[q + 1],
        len = runs[q + 2];
      const src = srcCols[s];
      if (dict && !identity![s]) {
        const codes = src.values as Int32Array;
        const remap = dict.remap[s];
        const to = values as Int32Array;
        for (let i = 0; i < len; i++) to[at + i] = remap[codes[r + i]] ?? 0;
      } else values.set(src.values.subarray(r, r + len) as ArrayLike<number | bigint>, at);
      if (valid) {
        if (src.valid) valid.set(src.valid.subarray(r, r + len), at);
        else valid.fill(1, at, at + len);
      }
      at += len;
    }
    columns.set(spec.name, { kind: spec.kind, values, valid, dictionary: dict?.dictionary });
  }
  return { length: n, columns };
}
