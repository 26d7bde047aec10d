/** Progress events that long-running library calls report to whoever renders them. */

/** One step of a phase finished (`done` of `total`), with running totals. */
export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
  rows: number;
  elapsedS: number;
}

/** Receives progress; the library never prints. */
export type ProgressListener = (event: ProgressEvent) => void;
