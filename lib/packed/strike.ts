/**
 * Strikes as packed (SPEC §3: float32). A split-adjusted stock strike such as 3402.3 is stored as the
 * nearest float32, 3402.300048828125: strikes are compared in the stored type and printed as the
 * decimal the user wrote.
 */

/** A strike as packed: the nearest float32 (what a Float32Array stores). */
export function storedStrike(strike: number): number {
  return Math.fround(strike);
}

/**
 * The stored strikes a decimal band [lo, hi] selects: [storedStrike(lo), storedStrike(hi)]. Rounding
 * is monotone, so a stored strike lies in it exactly when some decimal in [lo, hi] is stored as it
 * (`3402.3:3402.3` selects the strike written 3402.3, which float32 holds as 3402.300048828125).
 */
export function storedStrikeBand(band: readonly [number, number]): [number, number] {
  return [storedStrike(band[0]), storedStrike(band[1])];
}

/** The shortest decimal that is stored as the float32 strike `v` (3402.300048828125 → 3402.3); other values as they are. */
export function strikeDecimal(v: number): number {
  if (!Number.isFinite(v) || storedStrike(v) !== v) return v;
  // float32 round-trips in at most 9 significant digits.
  for (let digits = 1; digits < 9; digits++) {
    const d = Number(v.toPrecision(digits));
    if (storedStrike(d) === v) return d;
  }
  return v;
}
