/**
 * A trade's segment key as the driver reports it: expiry (epoch days), opt_type's stable code
 * (lib/packed/opt-type.ts), strike (float32 as a double). A null key cell is TPD_NULL_KEY
 * (kernel/driver.c); a NaN strike is a value read from the file, not a null.
 */

/** The driver's TPD_NULL_KEY: a null key cell. */
export const NULL_KEY = -1e300;

/** Whether a reported key value stands for a null cell (NaN does not: it is a stored value). */
export function isNullKey(v: number): boolean {
  return v < -1e299;
}
