/** One repack per output folder at a time: an exclusive lock file holding the owner's pid. */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";

/** Another live run holds the lock. */
export class LockBusyError extends Error {}

function ownerAlive(pid: number, host: string): boolean {
  if (host !== hostname()) return true; // cannot tell: assume it lives
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock at `path`; a lock left by a dead process (a crash) is taken over. Returns the release function. */
export function acquireLock(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner: { pid: number; host: string; since: string } | null = null;
      try {
        owner = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        // A lock file cut short by a crash between open and write.
      }
      if (owner && ownerAlive(owner.pid, owner.host)) {
        throw new LockBusyError(`${path}: another run (pid ${owner.pid} on ${owner.host}, since ${owner.since}) is using this output folder`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new LockBusyError(`${path}: could not take the lock`);
}
