/** A worker for chunk-index.test.ts: walks footers with the C walk its parent built, and posts what it found. */
import { adoptChunkIndexWalk, chunkIndexNative, chunkIndexWalkAdopted } from "../../lib/parquet/native/chunk-index.ts";

declare const self: Worker;

self.onmessage = (ev: MessageEvent<{ address: number; footers: Uint8Array[]; wanted: string[] }>) => {
  const { address, footers, wanted } = ev.data;
  adoptChunkIndexWalk(address);
  const indexes = footers.map((f) => chunkIndexNative(f, wanted));
  self.postMessage({ adopted: chunkIndexWalkAdopted(), indexes });
};
