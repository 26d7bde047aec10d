/** The text of anything thrown (wasm-bindgen throws strings and plain objects, not only Errors). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
