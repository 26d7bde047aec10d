/** Parameter grids: `fast=3,5,8;slow=13,21` (or a JSON file) expanded into the sets a kernel runs. */
import type { KernelParam } from "../../kernel/strategy-kernel.ts";
import { FILTER_FLAGS, type FilterFlag } from "../read/filters.ts";

/** Parameter name → the values to try. */
export type GridAxes = Map<string, number[]>;

/** A grid that cannot be read, or does not fit the kernel's parameters (exit 2). */
export class GridError extends Error {}

/** Axes of a `name=v1,v2;name2=…` spec. */
export function parseGridSpec(spec: string): GridAxes {
  const axes: GridAxes = new Map();
  for (const part of spec
    .split(";")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new GridError(`--grid: expected name=v1,v2,… in ${JSON.stringify(part)}`);
    const name = part.slice(0, eq).trim();
    const values = part
      .slice(eq + 1)
      .split(",")
      .map((v) => v.trim());
    if (axes.has(name)) throw new GridError(`--grid: ${name} given twice`);
    axes.set(
      name,
      values.map((v) => {
        const n = Number(v);
        if (v === "" || !Number.isFinite(n)) throw new GridError(`--grid: ${name}: not a number: ${JSON.stringify(v)}`);
        return n;
      }),
    );
  }
  if (axes.size === 0) throw new GridError("--grid: empty grid");
  return axes;
}

/** Sets of a grid file: `{"fast": [3, 5], "slow": [21]}` (axes) or `[{"fast": 3, "slow": 21}, …]` (explicit sets); never none. */
export function parseGridFile(text: string, file: string): Record<string, number>[] {
  const where = `--grid-file ${file}`;
  if (text.trim() === "") throw new GridError(`${where}: empty file`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new GridError(`${where}: not JSON (${(e as Error).message})`);
  }
  const num = (name: string, v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new GridError(`${where}: ${name}: not a number: ${JSON.stringify(v)}`);
    return v;
  };
  let sets: Record<string, number>[];
  if (Array.isArray(json)) {
    sets = json.map((set, i) => {
      if (typeof set !== "object" || set === null || Array.isArray(set))
        throw new GridError(`${where}: set ${i} is not an object`);
      return Object.fromEntries(Object.entries(set).map(([k, v]) => [k, num(k, v)]));
    });
  } else if (typeof json === "object" && json !== null) {
    // "filters" is the run's slice (gridFileFilters), not a parameter axis.
    const entries = Object.entries(json).filter(([k]) => k !== GRID_FILE_FILTERS);
    if (entries.length === 0) throw new GridError(`${where}: empty grid (no parameters)`);
    const axes: GridAxes = new Map(entries.map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map((x) => num(k, x))]));
    for (const [k, v] of axes) if (v.length === 0) throw new GridError(`${where}: ${k}: no values`);
    sets = expandAxes(axes);
  } else {
    throw new GridError(`${where}: expected an object of lists or a list of objects`);
  }
  if (sets.length === 0) throw new GridError(`${where}: empty grid (no parameter sets)`);
  return sets;
}

/** The key of a grid file's object form that holds the run's filters instead of a parameter axis. */
export const GRID_FILE_FILTERS = "filters";

/**
 * The filters a grid file sets: `{"fast": [3, 5], "filters": {"strikes": "25500:26000",
 * "expiry-type": "weekly", "underlyings": ["NIFTY"]}}`, named as the flags are (`expiry_type` is
 * taken for `expiry-type`); values as the flag's text, a number, or a list (joined by commas).
 * A grid is one pass, so the filters apply to every set. Empty when the file sets none.
 */
export function gridFileFilters(text: string, file: string): Partial<Record<FilterFlag, string>> {
  const where = `--grid-file ${file}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {}; // parseGridFile reports it
  }
  if (typeof json !== "object" || json === null || Array.isArray(json) || !(GRID_FILE_FILTERS in json)) return {};
  const f = (json as Record<string, unknown>)[GRID_FILE_FILTERS];
  if (typeof f !== "object" || f === null || Array.isArray(f))
    throw new GridError(`${where}: filters: expected an object like {"strikes": "25500:26000"}`);
  const out: Partial<Record<FilterFlag, string>> = {};
  for (const [key, v] of Object.entries(f)) {
    const flag = key.replaceAll("_", "-") as FilterFlag;
    if (!FILTER_FLAGS.includes(flag))
      throw new GridError(
        `${where}: filters: unknown filter ${JSON.stringify(key)} (known: ${FILTER_FLAGS.join(", ")})`,
      );
    const text = (x: unknown) => {
      if (typeof x !== "string" && typeof x !== "number")
        throw new GridError(
          `${where}: filters.${key}: expected text, a number or a list of them, got ${JSON.stringify(x)}`,
        );
      return String(x);
    };
    out[flag] = Array.isArray(v) ? v.map(text).join(",") : text(v);
  }
  return out;
}

/** Bounds a parameter's values must keep (the same for its flag and for a grid). */
export interface ParamBounds {
  integer?: boolean;
  min: number;
  max: number;
}

/** ema_cross's parameters: periods are whole rows ≥ 1, a spread fraction and a volume are ≥ 0. */
export const EMA_CROSS_BOUNDS: Readonly<Record<string, ParamBounds>> = {
  fast: { integer: true, min: 1, max: 1e9 },
  slow: { integer: true, min: 1, max: 1e9 },
  max_spread: { min: 0, max: 1e9 },
  min_volume: { min: 0, max: 1e18 },
};

/** What is wrong with `v` for these bounds (finite is always required), or null. */
export function boundsProblem(v: number, bounds: ParamBounds | undefined): string | null {
  const range = bounds
    ? bounds.integer
      ? `an integer in [${bounds.min}, ${bounds.max}]`
      : `a number in [${bounds.min}, ${bounds.max}]`
    : "a finite number";
  if (!Number.isFinite(v) || (bounds && (v < bounds.min || v > bounds.max || (bounds.integer && !Number.isInteger(v)))))
    return `expected ${range}, got ${v}`;
  return null;
}

/** Throws GridError for the first value outside its parameter's bounds, naming where it came from (`--grid`, `--fast` …). */
export function checkParamBounds(
  sets: Record<string, number>[],
  bounds: Readonly<Record<string, ParamBounds>>,
  source: (name: string) => string,
): void {
  for (const set of sets) {
    for (const [name, v] of Object.entries(set)) {
      const problem = boundsProblem(v, bounds[name]);
      if (problem) throw new GridError(`${source(name)}: ${name}: ${problem}`);
    }
  }
}

/** The cartesian product of the axes, the first axis varying slowest. */
export function expandAxes(axes: GridAxes): Record<string, number>[] {
  let sets: Record<string, number>[] = [{}];
  for (const [name, values] of axes) sets = sets.flatMap((s) => values.map((v) => ({ ...s, [name]: v })));
  return sets;
}

/** Each set as values in the kernel's parameter order (defaults filled); throws GridError on unknown or unset parameters. */
export function resolveParamSets(
  kernelPath: string,
  params: KernelParam[],
  sets: Record<string, number>[],
): number[][] {
  const known = new Set(params.map((p) => p.name));
  return sets.map((set) => {
    for (const name of Object.keys(set)) {
      if (!known.has(name))
        throw new GridError(
          `${kernelPath}: the grid sets ${name}, which the kernel does not declare (it declares: ${params.map((p) => p.name).join(", ") || "none"})`,
        );
    }
    return params.map((p) => {
      const v = set[p.name] ?? p.defaultValue;
      if (v === undefined)
        throw new GridError(`${kernelPath}: parameter ${p.name} has no default and the grid does not set it`);
      return v;
    });
  });
}
