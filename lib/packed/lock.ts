/** One writer (repack or resort) per output folder at a time: an exclusive lock file holding the owner's pid and host. */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { processAlive } from "../atomic-file.ts";

/** Another live run holds the lock (or one on another host, which cannot be checked from here). */
export class LockBusyError extends Error {}

/** How to take the lock. */
export interface LockOptions {
  /** Take the lock whoever holds it: for a lock left by a run on another host that is known to be gone. */
  breakLock?: boolean;
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/**
 * Takes the lock at `path`; a lock left by a dead process of this host (a crash) is taken over.
 * Returns the release function.
 */
export function acquireLock(path: string, options: LockOptions = {}): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(
        fd,
        JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() } satisfies LockOwner),
      );
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner: LockOwner | null = null;
      try {
        owner = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        // A lock file cut short by a crash between open and write.
      }
      if (owner && !options.breakLock) {
        if (owner.host !== hostname()) {
          // A shared filesystem: a pid on another host cannot be checked, so the lock stands until a person says otherwise.
          throw new LockBusyError(
            `${path}: locked by pid ${owner.pid} on host ${owner.host} since ${owner.since}; that host cannot be checked from here: if that run is gone, rerun with --break-lock`,
          );
        }
        if (processAlive(owner.pid))
          throw new LockBusyError(
            `${path}: another run (pid ${owner.pid} on ${owner.host}, since ${owner.since}) is using this output folder`,
          );
      }
      rmSync(path, { force: true });
    }
  }
  throw new LockBusyError(`${path}: could not take the lock`);
}
