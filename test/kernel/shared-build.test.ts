import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { EMA_CROSS_SOURCE, loadKernel, shareKernel } from "../../kernel/strategy-kernel.ts";
import { loadChainKernel, shareChainKernel } from "../../kernel/chain-kernel.ts";
import { SHORT_STRADDLE_SOURCE } from "../../kernel/kernel-abi.ts";
import { SeededRandom } from "../../lib/random.ts";
import { randomPartitions, runGrid } from "../helpers/kernel-batches.ts";
import { loadRunKernel } from "../../lib/bench/bench.ts";

setDefaultTimeout(60_000);
const ROOT = join(import.meta.dir, "..", "..");

/** What the adopting worker posts back. */
interface Adopted {
  sameAsLoaded: boolean;
  params: unknown;
  totals: unknown;
  trades: number;
}

function inWorker(message: unknown): Promise<Adopted> {
  const w = new Worker(join(import.meta.dir, "adopting-worker.ts"));
  return new Promise<Adopted>((resolve, reject) => {
    w.onmessage = (ev) => resolve(ev.data as Adopted);
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(message);
  }).finally(() => w.terminate());
}

describe("a kernel build shared with another thread", () => {
  test("a worker adopting this thread's build runs it to the same totals, bit for bit, without a build of its own", async () => {
    const kernel = loadKernel(EMA_CROSS_SOURCE);
    const shared = shareKernel(kernel)!;
    // Plain data: it crosses postMessage as it is.
    expect(structuredClone(shared)).toEqual(shared);
    for (const [name, at] of Object.entries(shared.addresses)) expect({ name, at: at > 0 }).toEqual({ name, at: true });
    const sets = [
      { fast: 3, slow: 13, max_spread: 0.001, min_volume: 1 },
      { fast: 5, slow: 21, max_spread: 0.01, min_volume: 2 },
    ];
    for (const seed of [1, 2, 3]) {
      const got = await inWorker({ shared, seed, sets });
      const here = runGrid(kernel, randomPartitions(new SeededRandom(seed), 6), sets, (n) => [n >> 1], 4096);
      expect(here.tradeList.length).toBeGreaterThan(0);
      expect(got.sameAsLoaded).toBe(true);
      expect(got.params).toEqual(kernel.params);
      expect(got.totals).toEqual(here.totals);
      expect(got.trades).toBe(here.tradeList.length);
    }
  });

  test("a chain kernel shares what it declared and its build's addresses", () => {
    const chain = loadChainKernel(SHORT_STRADDLE_SOURCE);
    const shared = shareChainKernel(chain)!;
    expect(structuredClone(shared)).toEqual(shared);
    const { run: _, ...declared } = chain;
    const { addresses, ...rest } = shared;
    expect(rest).toEqual(declared);
    expect(Object.keys(addresses).sort()).toEqual(
      [
        "tickpack_columns",
        "tickpack_contract_state_size",
        "tickpack_params",
        "tickpack_state_size",
        "tpc_active_bytes",
        "tpc_run",
      ].sort(),
    );
    expect(() => shareChainKernel({ ...chain })).toThrow("not a chain kernel this thread loaded");
  });

  test("a user's kernel is not shared (it may keep globals, which one build called by two workers would race on)", () => {
    expect(shareKernel(loadKernel(join(ROOT, "examples", "mid_reversion.c")))).toBeNull();
    expect(shareChainKernel(loadChainKernel(join(ROOT, "examples", "iron_condor.c")))).toBeNull();
  });

  test("loadRunKernel hands over either kind of built-in kernel's build, and nothing for a user's", async () => {
    const contract = await loadRunKernel("contract", EMA_CROSS_SOURCE);
    const chain = await loadRunKernel("chain", SHORT_STRADDLE_SOURCE);
    expect(contract.build).toEqual(shareKernel(loadKernel(EMA_CROSS_SOURCE))!);
    expect(chain.build).toEqual(shareChainKernel(loadChainKernel(SHORT_STRADDLE_SOURCE))!);
    expect([contract.abi, chain.abi]).toEqual(["contract", "chain"]);
    expect((await loadRunKernel("contract", join(ROOT, "examples", "mid_reversion.c"))).build).toBeUndefined();
    expect((await loadRunKernel("chain", join(ROOT, "examples", "iron_condor.c"))).build).toBeUndefined();
  });
});
