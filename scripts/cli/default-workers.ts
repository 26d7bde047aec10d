/** Worker count default: one per core. */
export function defaultWorkers(): number {
  return navigator.hardwareConcurrency || 2;
}
