/**
 * A fixed-size pool of Bun Workers running one task at a time each (a pool may post a busy worker
 * its next task ahead, which then waits in the worker: `tasksPerWorker`). A worker that dies (a wasm
 * trap, an uncaught error) fails only the task it was running, and is replaced; one whose wasm memory
 * grew past `recycleWasmBytes` is replaced once its posted tasks are answered, since wasm32 memory
 * never shrinks.
 */
import { errorMessage } from "../error-message.ts";

/** Message a worker posts back for a task. */
export type WorkerReply<R> =
  | { id: number; ok: true; result: R; wasmBytes: number }
  | { id: number; ok: false; error: string; errorName: string; wasmBytes: number };

interface Slot<T, R> {
  worker: Worker;
  /** Tasks posted and not yet answered, in the order posted (the worker runs them in that order). */
  inFlight: Pending<T, R>[];
  /** Replaced once its tasks are answered (its wasm memory grew past the limit). */
  retiring: boolean;
}

interface Pending<T, R> {
  id: number;
  task: T;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

/** Error a task reported (it threw inside the worker); errorName is the thrown error's name ("Error", "KernelError" …). */
export class WorkerTaskError extends Error {
  constructor(
    message: string,
    readonly errorName = "Error",
  ) {
    super(message);
  }
}

/** The worker died while running the task (a wasm trap, an uncaught error); it has been replaced. */
export class WorkerCrashError extends Error {}

/** The error line of a worker's uncaught error (Bun's message carries a source-code frame before it). */
export function crashReason(message: string | undefined): string {
  if (!message) return "worker crashed";
  const line = message.split("\n").find((l) => /^[A-Za-z]*Error\b.*:/.test(l.trim()));
  return (line ?? message.split("\n").filter(Boolean).pop() ?? message).trim().replace(/ \(evaluating '.*'\)$/, "");
}

/** Workers started ahead of their pool, by module URL; the flag says one failed to load its module. */
const prestarted = new Map<string, { worker: Worker; failed: boolean }[]>();

/**
 * Has `count` workers of the module at `url` started ahead of their pool (starting those missing),
 * for the next pool of that module to take: a worker loads its module graph (~40 ms for bench's)
 * while the starting thread loads its own.
 */
export function prestartWorkers(url: string, count: number): void {
  const started = prestarted.get(url) ?? [];
  while (started.length < count) {
    let worker: Worker;
    try {
      worker = new Worker(url);
    } catch {
      break; // the pool meets the same failure and reports it
    }
    const entry = { worker, failed: false };
    // An error before the pool takes it (its module did not load): the pool starts a fresh one instead.
    worker.onerror = () => {
      entry.failed = true;
    };
    started.push(entry);
  }
  prestarted.set(url, started);
}

/**
 * Posts `value` as `prepare` to the prestarted workers of `url` (their pool posts its own again:
 * `prepare` must be idempotent), so that they prepare while this thread still works towards the pool.
 */
export function preparePrestarted(url: string, value: unknown): void {
  for (const { worker } of prestarted.get(url) ?? []) worker.postMessage({ prepare: value });
}

/** A prestarted worker of `url` that loaded, or null; failed ones are ended. */
function takePrestarted(url: string): Worker | null {
  const started = prestarted.get(url);
  for (let entry = started?.shift(); entry; entry = started?.shift()) {
    if (!entry.failed) return entry.worker;
    entry.worker.terminate();
  }
  return null;
}

/** Ends the prestarted workers of `url` that no pool took. */
function endPrestarted(url: string): void {
  for (const { worker } of prestarted.get(url) ?? []) worker.terminate();
  prestarted.delete(url);
}

/** Runs tasks on a fixed number of workers of one module, replacing workers that die or hold too much wasm memory. */
export class WorkerPool<T, R> {
  private slots: Slot<T, R>[] = [];
  private queue: Pending<T, R>[] = [];
  private nextId = 1;
  private readonly tasksPerWorker: number;
  private closed = false;

  /**
   * Starts `size` workers of the module at `url`. `init`, when given, is posted to every worker it
   * starts (replacements too) before any task: what the worker module's `init` handler receives.
   * Options: `prepare` is posted to every worker as it starts, before `init` is ready: work a worker
   * can do while `init` is computed (bench compiles its kernel meanwhile). With `lazyInit`, tasks do
   * not wait for `init`, which is computed only once a worker asks for it (`requestInit` in
   * serve.ts): a bench served from the column cache never compiles parquet-wasm. `tasksPerWorker`
   * (default 1) is how many tasks a worker may be posted at once, while more wait than there are
   * workers: with 2 it starts its next task as it answers one, not a round trip through this thread
   * later (~0.5–1 ms a task, measured on bench's). Each task still runs once: those posted behind
   * the one a worker died in had not started, and go to its replacement.
   */
  constructor(
    private readonly url: string,
    size: number,
    private readonly recycleWasmBytes = 2 * 2 ** 30,
    private readonly init?: () => unknown,
    private readonly options: { prepare?: unknown; lazyInit?: boolean; tasksPerWorker?: number } = {},
  ) {
    this.tasksPerWorker = Math.max(1, options.tasksPerWorker ?? 1);
    for (let i = 0; i < Math.max(1, size) && this.startFailure === null; i++)
      this.trySpawn((slot) => this.slots.push(slot));
    endPrestarted(url);
    if (this.slots.length === 0) throw new WorkerCrashError(this.noWorkersMessage());
    if (init && !options.lazyInit) this.startInit(true);
  }

  private initStarted = false;

  /** Computes `init` and posts it to every worker; with `blockTasks`, no task goes out before it. */
  private startInit(blockTasks: boolean): void {
    if (!this.init || this.initStarted) return;
    this.initStarted = true;
    // Workers load their modules while `init` is computed (it may be a compile, even an async one).
    this.initPending = blockTasks;
    void Promise.resolve()
      .then(this.init)
      .then(
        (value) => {
          this.initValue = { value };
        },
        () => {
          // Workers then do without it (a worker compiles what it was not given).
          this.initValue = { value: null };
        },
      )
      .then(() => {
        this.initPending = false;
        for (const slot of this.slots) this.postInit(slot);
        this.dispatch();
      });
  }

  private initPending = false;
  private initValue: { value: unknown } | null = null;

  /** Why the last worker thread could not be started (out of memory or address space), or null. */
  private startFailure: string | null = null;

  private noWorkersMessage(): string {
    return `no worker thread could be started (${this.startFailure})`;
  }

  /** Starts a worker and hands it to `use`; a thread that cannot start is remembered, not thrown. */
  private trySpawn(use: (slot: Slot<T, R>) => void): boolean {
    try {
      use(this.spawn());
      return true;
    } catch (e) {
      this.startFailure = errorMessage(e);
      return false;
    }
  }

  /** Runs a task on the next free worker. */
  run(task: T): Promise<R> {
    if (this.closed) return Promise.reject(new WorkerTaskError("worker pool is closed"));
    if (this.slots.length === 0) return Promise.reject(new WorkerCrashError(this.noWorkersMessage()));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Stops every worker; queued and running tasks are rejected now, the threads are ended on the event
   * loop's next turn: ending a worker tears its heap down on its own thread, which competed for the
   * cores with what the caller does next without waiting (bench's report page took ~9 ms longer after
   * a 2-worker run), and a process that exits first never pays it.
   */
  close(): void {
    this.closed = true;
    for (const p of this.queue) p.reject(new WorkerTaskError("worker pool closed"));
    this.queue = [];
    for (const slot of this.slots) {
      for (const p of slot.inFlight.splice(0)) p.reject(new WorkerTaskError("worker pool closed"));
      const { worker } = slot;
      setTimeout(() => worker.terminate(), 0);
    }
  }

  private postInit(slot: Slot<T, R>): void {
    if (this.initValue) slot.worker.postMessage({ init: this.initValue.value });
  }

  private spawn(): Slot<T, R> {
    const slot: Slot<T, R> = {
      worker: takePrestarted(this.url) ?? new Worker(this.url),
      inFlight: [],
      retiring: false,
    };
    slot.worker.onmessage = (ev: MessageEvent<WorkerReply<R> | { wantInit: true }>) => {
      // A pool without `init` answers at once: the worker then makes what it needs itself.
      if ("wantInit" in ev.data) this.init ? this.startInit(false) : slot.worker.postMessage({ init: null });
      else this.finish(slot, ev.data);
    };
    slot.worker.onerror = (ev: ErrorEvent) => this.crash(slot, crashReason(ev.message));
    if (this.options.prepare !== undefined) slot.worker.postMessage({ prepare: this.options.prepare });
    this.postInit(slot);
    return slot;
  }

  private replace(slot: Slot<T, R>): void {
    slot.worker.terminate();
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed || this.trySpawn((fresh) => (this.slots[i] = fresh))) return;
    // The pool goes on with the workers it has; with none left, what waits fails instead of waiting forever.
    this.slots.splice(i, 1);
    if (this.slots.length === 0)
      for (const p of this.queue.splice(0)) p.reject(new WorkerCrashError(this.noWorkersMessage()));
  }

  private finish(slot: Slot<T, R>, reply: WorkerReply<R>): void {
    const p = slot.inFlight[0];
    if (!p || p.id !== reply.id) return;
    slot.inFlight.shift();
    if (reply.wasmBytes > this.recycleWasmBytes) slot.retiring = true;
    if (slot.retiring && slot.inFlight.length === 0) this.replace(slot);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new WorkerTaskError(reply.error, reply.errorName));
    this.dispatch();
  }

  private crash(slot: Slot<T, R>, message: string): void {
    const [p, ...notStarted] = slot.inFlight.splice(0);
    // The worker runs its tasks in order: those behind the one it died in never started.
    this.queue.unshift(...notStarted);
    this.replace(slot);
    p?.reject(new WorkerCrashError(message));
    this.dispatch();
  }

  private dispatch(): void {
    if (this.initPending) return;
    for (let depth = 1; depth <= this.tasksPerWorker; depth++)
      for (const slot of this.slots) {
        if (this.queue.length === 0) return;
        // A second task goes out only while more wait than there are workers: the last ones go to
        // whichever worker frees first, so that the pool still ends evenly.
        if (depth > 1 && this.queue.length <= this.slots.length) return;
        if (slot.retiring || slot.inFlight.length >= depth) continue;
        const p = this.queue.shift()!;
        slot.inFlight.push(p);
        slot.worker.postMessage({ id: p.id, task: p.task });
      }
  }
}
