/**
 * One of several processes racing over the same new cache folders as concurrent bench runs do: each
 * folder claimed (`claimCacheDir`, a run's start) and then filled (`ensureEntryDir`, which makes and
 * marks the folder). `bun test/helpers/cache-claim-child.ts ROOT FOLDERS`: prints the refusals' messages, one a line.
 */
import { join } from "node:path";
import { claimCacheDir, ensureEntryDir } from "../../lib/cache/store.ts";

const [root, count] = process.argv.slice(2);
for (let k = 0; k < Number(count); k++) {
  const dir = join(root, `cache-${k}`);
  try {
    claimCacheDir(dir);
    ensureEntryDir(join(dir, "0123456789abcdef"));
  } catch (e) {
    console.log((e as Error).message);
  }
}
