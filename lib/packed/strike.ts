/**
 * Strikes as packed (docs/formats.md: float32). A split-adjusted stock strike such as 3402.3 is stored as the
 * nearest float32, 3402.300048828125: strikes are compared in the stored type and printed as the
 * decimal the user wrote.
 */

/** A strike as packed: the nearest float32 (what a Float32Array stores). */
export function storedStrike(strike: number): number {
  return Math.fround(strike);
}

/** The shortest decimal that is stored as the float32 strike `v` (3402.300048828125 → 3402.3); other values as they are. */
export function strikeDecimal(v: number): number {
  if (!Number.isFinite(v) || storedStrike(v) !== v) return v;
  // Whole numbers up to 2^24 are float32s a unit or less apart: no other decimal is stored as them
  // (-0 prints as the search below finds it: 0).
  if (Number.isInteger(v) && Math.abs(v) <= 2 ** 24) return v === 0 ? 0 : v;
  // float32 round-trips in at most 9 significant digits.
  for (let digits = 1; digits < 9; digits++) {
    const d = Number(v.toPrecision(digits));
    if (storedStrike(d) === v) return d;
  }
  return v;
}

const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);

/** The float32 next to the float32 `v`, upwards (`dir` 1) or downwards (-1). */
function adjacentFloat32(v: number, dir: 1 | -1): number {
  if (v === 0) return dir * 2 ** -149;
  f32[0] = v;
  bits[0] += v > 0 === dir > 0 ? 1 : -1;
  return f32[0];
}

/**
 * The stored strikes a band [lo, hi] of decimals selects, as float32 bounds: exactly those whose
 * strikeDecimal lies in [lo, hi] (`3402.3:3402.3` selects the strike stored as 3402.300048828125).
 * Each bound is rounded to the nearest float32 and stepped inwards when that float32 prints outside
 * the band (a bound typed with more digits than float32 holds); strikeDecimal is increasing, so the
 * strikes between the two bounds are the selected ones.
 */
export function storedStrikeBand(band: readonly [number, number]): [number, number] {
  let lo = storedStrike(band[0]);
  let hi = storedStrike(band[1]);
  if (strikeDecimal(lo) < band[0]) lo = adjacentFloat32(lo, 1);
  if (strikeDecimal(hi) > band[1]) hi = adjacentFloat32(hi, -1);
  return [lo, hi];
}
