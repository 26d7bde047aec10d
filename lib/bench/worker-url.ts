/** bench's worker module, by URL: the pool's, and what the command's entry starts ahead of it (kept free of imports). */
export const BENCH_WORKER_URL = new URL("./worker.ts", import.meta.url).href;
