/** Run by compiler-threads.test.ts in a child process: the test runner's own compiler threads keep their class. */
import { readdirSync, readFileSync } from "node:fs";
import { COMPILER_THREAD_NAME, idleCompilerThreads, SCHED_IDLE } from "../../lib/workers/compiler-threads.ts";

// Hot enough for the optimising JIT, whose first compile starts the compiler threads.
function hot(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + i * 7) % 1000003;
  return s;
}
let sink = 0;
for (let k = 0; k < 2000; k++) sink += hot(2000);

const threads = () =>
  readdirSync("/proc/self/task").map((t) => {
    const name = readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim();
    const policy = Number(/^policy\s*:\s*(\d+)/m.exec(readFileSync(`/proc/self/task/${t}/sched`, "utf8"))?.[1]);
    return { compiler: name === COMPILER_THREAD_NAME, policy };
  });
const before = threads();
const moved = idleCompilerThreads();
const again = idleCompilerThreads();
// No thread started since: the call only counts them.
const unchanged = idleCompilerThreads();
// A thread more (a worker's): the next call looks at every thread again.
const worker = new Worker(URL.createObjectURL(new Blob(["postMessage(0)"])));
await new Promise((resolve) => (worker.onmessage = resolve));
const afterStart = idleCompilerThreads();
worker.terminate();
console.log(JSON.stringify({ sink, moved, again, unchanged, afterStart, before, after: threads(), idle: SCHED_IDLE }));
process.exit(0);
