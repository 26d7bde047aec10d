/**
 * A count with en-US thousands separators (`12,758`), as `toLocaleString("en-US")` writes it, without
 * loading the engine's number formatting on first use (5–18 ms of a command's start-up, measured).
 * Anything but a safe integer is left to `toLocaleString`.
 */
export function groupedCount(x: number): string {
  if (!Number.isSafeInteger(x) || Object.is(x, -0)) return x.toLocaleString("en-US");
  const digits = String(Math.abs(x)).replace(/\B(?=(\d{3})+$)/g, ",");
  return x < 0 ? `-${digits}` : digits;
}
