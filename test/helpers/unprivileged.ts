/**
 * Paths and runs where "cannot write" and "permission denied" hold for root too. CI runs the tests
 * as root, and root reads and writes whatever the mode bits say, so a chmod proves nothing there:
 * a path no one can write is a path under a regular file (ENOTDIR), and a true permission denial
 * is a command run as an unprivileged user (uid/gid 65534 through setpriv when the tests run as
 * root; as the tests' own user, whom the mode bits already bind, otherwise).
 */
import { chownSync, cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./fixtures.ts";

const ROOT = join(import.meta.dir, "..", "..");
const NOBODY = 65534;
const IS_ROOT = process.getuid?.() === 0;
const AS_NOBODY = IS_ROOT ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"] : [];

/** A path that no one, root included, can create or write: `name` under a regular file made in `dir`. */
export function pathNoOneCanWrite(dir: string, name = "out"): string {
  const file = join(dir, "a-regular-file");
  writeFileSync(file, "");
  return join(file, name);
}

/**
 * Makes `path` and everything under it the unprivileged user's (as root: chown to 65534; otherwise
 * they are the tests' own already). `path` must be a tempDir() or inside one given this way: a
 * tempDir is 0700, so its owner is the only one who can enter it.
 */
export function giveToUnprivilegedUser(path: string): void {
  if (!IS_ROOT) return;
  chownSync(path, NOBODY, NOBODY);
  for (const entry of readdirSync(path, { recursive: true })) chownSync(join(path, String(entry)), NOBODY, NOBODY);
}

let readableRoot: string | null = null;

/**
 * The project as the unprivileged user can read it: this checkout when it can (its folders are
 * world-readable), else a world-readable copy of what the scripts run (node_modules without the
 * dev-only packages).
 */
function projectReadableByUnprivileged(): string {
  if (readableRoot) return readableRoot;
  const probe = Bun.spawnSync([...AS_NOBODY, "test", "-r", join(ROOT, "scripts", "repack.ts")]);
  if (probe.exitCode === 0) return (readableRoot = ROOT);
  const copy = tempDir("project");
  const dev = new Set(Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies));
  const modules = join(ROOT, "node_modules");
  for (const entry of ["scripts", "lib", "kernel", "node_modules", "package.json", "tsconfig.json", "bunfig.toml"])
    cpSync(join(ROOT, entry), join(copy, entry), {
      recursive: true,
      filter: (src) => !(src.startsWith(`${modules}/`) && dev.has(src.slice(modules.length + 1))),
    });
  const chmod = Bun.spawnSync(["chmod", "-R", "a+rX", copy]);
  if (chmod.exitCode !== 0) throw new Error(`chmod -R a+rX ${copy}: ${chmod.stderr.toString()}`);
  return (readableRoot = copy);
}

/**
 * Runs `bun scripts/<script> args` as an unprivileged user, with a home folder of its own (the
 * kernel build cache lives there). The folders it reads and writes must be given to that user
 * (giveToUnprivilegedUser) unless the test means them to be out of its reach.
 */
export function runScriptUnprivileged(script: string, args: string[]) {
  if (IS_ROOT && !Bun.which("setpriv"))
    throw new Error(
      "setpriv (util-linux) is needed to run a command as an unprivileged user when the tests run as root",
    );
  const root = projectReadableByUnprivileged();
  const home = tempDir("home");
  giveToUnprivilegedUser(home);
  const env: Record<string, string | undefined> = { ...process.env, HOME: home };
  delete env.XDG_CACHE_HOME;
  delete env.TICKPACK_KERNEL_CACHE;
  const p = Bun.spawnSync([...AS_NOBODY, process.execPath, join(root, "scripts", script), ...args], {
    cwd: home,
    stdout: "pipe",
    stderr: "pipe",
    env,
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}
