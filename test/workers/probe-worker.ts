/** A pool worker for the pool's tests: replies when its module loaded and what `prepare` values it received. */
import { serveTasks } from "../../lib/workers/serve.ts";

const loadedAt = performance.timeOrigin + performance.now();
const prepared: unknown[] = [];

serveTasks<{ echo: number }>({
  run: (task) => ({ echo: task.echo, loadedAt, prepared }),
  wasmBytes: () => 0,
  collectAfter: () => false,
  prepare: (value) => prepared.push(value),
});
