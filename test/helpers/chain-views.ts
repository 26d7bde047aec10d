/**
 * Chain rows (kernel/chain-reference.ts's ChainRow, file order) as the column views a partition's
 * parts give the chain host (lib/parquet/source.ts ColumnViews), so that tests run the lib code from
 * partitionStream on: the key scan, the contract table and the C chain driver.
 */
import type { ChainRow } from "../../kernel/chain-reference.ts";
import type { CColumn, CValues } from "../../lib/parquet/c-data.ts";
import type { ColumnViews } from "../../lib/parquet/source.ts";

/** A declared column of a kernel and the type a part stores it as. */
export interface DeclaredColumn {
  name: string;
  /** f64 and i64 as a kernel may declare them; i32 and f32 for a column the driver converts. */
  type: "f64" | "i64" | "i32" | "f32";
}

/** opt_type's dictionary: code k is OPT_CODE k (CE 0, PE 1, anything else 2). */
const OPT_DICTIONARY = ["CE", "PE", "XX"];

/** An Arrow validity bitmap (LSB first) of `ok`, or null when nothing is null. */
function validityOf(ok: boolean[]): Uint8Array | null {
  if (ok.every(Boolean)) return null;
  const bits = new Uint8Array(Math.max(1, Math.ceil(ok.length / 8)));
  ok.forEach((v, i) => {
    if (v) bits[i >> 3] |= 1 << (i & 7);
  });
  return bits;
}

function column(
  name: string,
  format: string,
  values: CValues,
  ok: boolean[],
  dictionary: string[] | null = null,
): CColumn {
  return {
    field: { name, format, dictionaryFormat: dictionary ? "u" : null },
    length: values.length,
    nullCount: ok.filter((v) => !v).length,
    validity: validityOf(ok),
    values,
    dictionary,
    strings: null,
  };
}

/**
 * The parts of `rows` split before each index of `splits` (ascending, inside (0, rows.length)), as
 * column views named by the returned `columns`. A null's slot holds a plausible value (a key or
 * timestamp of a neighbour, a positive price): only the bitmap says it is null.
 */
export function chainViews(
  rows: readonly ChainRow[],
  splits: readonly number[],
  declared: readonly DeclaredColumn[] = [],
): { views: ColumnViews[]; columns: string[] } {
  const bounds = [0, ...splits, rows.length];
  const columns = ["expiry", "opt_type", "strike", "timestamp", "price", ...declared.map((d) => d.name)];
  const views: ColumnViews[] = [];
  for (let q = 0; q + 1 < bounds.length; q++) {
    const part = rows.slice(bounds[q], bounds[q + 1]);
    const n = part.length;
    const filler = part.find((r) => r.timestamp !== null)?.timestamp ?? 1n;
    const cols: CColumn[] = [
      column(
        "expiry",
        "tdD",
        Int32Array.from(part, (r) => r.expiry ?? part[0].expiry ?? 0),
        part.map((r) => r.expiry !== null),
      ),
      column(
        "opt_type",
        "i",
        Int32Array.from(part, (r) => r.opt ?? 0),
        part.map((r) => r.opt !== null),
        OPT_DICTIONARY,
      ),
      column(
        "strike",
        "f",
        Float32Array.from(part, (r) => r.strike ?? 24000),
        part.map((r) => r.strike !== null),
      ),
      column(
        "timestamp",
        "tsn:UTC",
        BigInt64Array.from(part, (r) => r.timestamp ?? filler),
        part.map((r) => r.timestamp !== null),
      ),
      column(
        "price",
        "g",
        Float64Array.from(part, (r) => r.price ?? 100),
        part.map((r) => r.price !== null),
      ),
    ];
    for (const d of declared) {
      const v = part.map((r) => r.values?.[d.name] ?? null);
      const ok = v.map((x) => x !== null);
      const filled = v.map((x) => x ?? 7);
      const values: Record<DeclaredColumn["type"], () => CColumn> = {
        i64: () => column(d.name, "l", BigInt64Array.from(filled, BigInt), ok),
        f64: () => column(d.name, "g", Float64Array.from(filled), ok),
        i32: () => column(d.name, "i", Int32Array.from(filled), ok),
        f32: () => column(d.name, "f", Float32Array.from(filled), ok),
      };
      cols.push(values[d.type]());
    }
    views.push({ length: n, columns: cols });
  }
  return { views, columns };
}

/**
 * `rows` with each maximal run of one (non-null) key in timestamp order, as SPEC §3 writes a file:
 * stable, and rows with a null timestamp keep their places inside the run.
 */
export function sortedRuns(rows: readonly ChainRow[]): ChainRow[] {
  const out = [...rows];
  const key = (r: ChainRow) =>
    r.expiry === null || r.opt === null || r.strike === null ? null : `${r.expiry}|${r.opt}|${r.strike}`;
  for (let i = 0; i < out.length; ) {
    let j = i + 1;
    const k = key(out[i]);
    while (k !== null && j < out.length && key(out[j]) === k) j++;
    const at = [];
    for (let x = i; x < j; x++) if (out[x].timestamp !== null) at.push(x);
    const sorted = at
      .map((x) => out[x])
      .sort((a, b) => (a.timestamp! < b.timestamp! ? -1 : a.timestamp! > b.timestamp! ? 1 : 0));
    at.forEach((x, m) => {
      out[x] = sorted[m];
    });
    i = j;
  }
  return out;
}
