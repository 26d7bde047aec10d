/** Parameter grids: `fast=3,5,8;slow=13,21` (or a JSON file) expanded into the sets a kernel runs. */
import type { KernelParam } from "../../kernel/strategy-kernel.ts";

/** Parameter name → the values to try. */
export type GridAxes = Map<string, number[]>;

/** A grid that cannot be read, or does not fit the kernel's parameters (exit 2). */
export class GridError extends Error {}

/** Axes of a `name=v1,v2;name2=…` spec. */
export function parseGridSpec(spec: string): GridAxes {
  const axes: GridAxes = new Map();
  for (const part of spec.split(";").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new GridError(`--grid: expected name=v1,v2,… in ${JSON.stringify(part)}`);
    const name = part.slice(0, eq).trim();
    const values = part.slice(eq + 1).split(",").map((v) => v.trim());
    if (axes.has(name)) throw new GridError(`--grid: ${name} given twice`);
    axes.set(name, values.map((v) => {
      const n = Number(v);
      if (v === "" || !Number.isFinite(n)) throw new GridError(`--grid: ${name}: not a number: ${JSON.stringify(v)}`);
      return n;
    }));
  }
  if (axes.size === 0) throw new GridError("--grid: empty grid");
  return axes;
}

/** Sets of a grid file: `{"fast": [3, 5], "slow": [21]}` (axes) or `[{"fast": 3, "slow": 21}, …]` (explicit sets). */
export function parseGridFile(text: string, file: string): Record<string, number>[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new GridError(`${file}: not JSON (${(e as Error).message})`);
  }
  const num = (name: string, v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new GridError(`${file}: ${name}: not a number: ${JSON.stringify(v)}`);
    return v;
  };
  if (Array.isArray(json)) {
    return json.map((set, i) => {
      if (typeof set !== "object" || set === null) throw new GridError(`${file}: set ${i} is not an object`);
      return Object.fromEntries(Object.entries(set).map(([k, v]) => [k, num(k, v)]));
    });
  }
  if (typeof json === "object" && json !== null) {
    const axes: GridAxes = new Map(Object.entries(json).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map((x) => num(k, x))]));
    return expandAxes(axes);
  }
  throw new GridError(`${file}: expected an object of lists or a list of objects`);
}

/** The cartesian product of the axes, the first axis varying slowest. */
export function expandAxes(axes: GridAxes): Record<string, number>[] {
  let sets: Record<string, number>[] = [{}];
  for (const [name, values] of axes) sets = sets.flatMap((s) => values.map((v) => ({ ...s, [name]: v })));
  return sets;
}

/** Each set as values in the kernel's parameter order (defaults filled); throws GridError on unknown or unset parameters. */
export function resolveParamSets(kernelPath: string, params: KernelParam[], sets: Record<string, number>[]): number[][] {
  const known = new Set(params.map((p) => p.name));
  return sets.map((set) => {
    for (const name of Object.keys(set)) {
      if (!known.has(name)) throw new GridError(`${kernelPath}: the grid sets ${name}, which the kernel does not declare (it declares: ${params.map((p) => p.name).join(", ") || "none"})`);
    }
    return params.map((p) => {
      const v = set[p.name] ?? p.defaultValue;
      if (v === undefined) throw new GridError(`${kernelPath}: parameter ${p.name} has no default and the grid does not set it`);
      return v;
    });
  });
}
