/**
 * Taking an output folder for writing (repack, resort): its writer lock (lock.ts), then the commits an
 * interrupted run left finished or rolled back (writer.ts), in that order and nothing else first.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../error-message.ts";
import { JournalError } from "./journal.ts";
import { STATE_DIR } from "./layout.ts";
import { acquireLock } from "./lock.ts";
import { CommitRecoveryError, recoverInterruptedWrites, type Recovery } from "./writer.ts";

/** The folder cannot be taken (not writable, locked, an unfinishable commit): one line, exit 1. */
export class OutputLockError extends Error {}

/** An output folder held for writing. */
export interface HeldOutput {
  /** Gives the lock back. */
  release: () => void;
  /** What recovering the interrupted commits did. */
  recovery: Recovery;
}

/**
 * Takes `root`'s writer lock (`_tickpack/lock`; `breakLock`: whoever holds it) and recovers the
 * interrupted commits in `root`. A state folder made here is removed again when the lock cannot be had.
 */
export function lockOutputForWriting(root: string, breakLock: boolean): HeldOutput {
  const state = join(root, STATE_DIR);
  const created = !existsSync(state);
  try {
    mkdirSync(state, { recursive: true });
  } catch (e) {
    throw new OutputLockError(`${root}: cannot write here (${errorMessage(e)})`);
  }
  let release: () => void;
  try {
    release = acquireLock(join(state, "lock"), { breakLock });
  } catch (e) {
    if (created) rmSync(state, { recursive: true, force: true });
    throw new OutputLockError(errorMessage(e));
  }
  try {
    return { release, recovery: recoverInterruptedWrites(root) };
  } catch (e) {
    release();
    if (e instanceof JournalError || e instanceof CommitRecoveryError) throw new OutputLockError(e.message);
    throw e;
  }
}
