/**
 * `bun run bench` (scripts/cli/bench-command.ts). The workers are started before the command's
 * modules load: their own module graph (~40 ms) then loads beside this thread's instead of after it.
 */
import { prestartWorkers } from "../lib/workers/pool.ts";
import { BENCH_WORKER_URL } from "../lib/bench/worker-url.ts";
import { prestartCount } from "./cli/bench-prestart.ts";

// One for now: the command starts the others once it has counted DIR's partitions (one partition, one worker).
prestartWorkers(BENCH_WORKER_URL, Math.min(1, prestartCount(Bun.argv.slice(2), process.env)));
await import("./cli/bench-command.ts");
