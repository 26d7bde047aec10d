/**
 * How a packed folder's parts sit in the page cache, which moves every `--no-cache` figure: bench
 * maps its parts, and what mapping a page costs depends on the folios the cache holds the file in —
 * 4 KiB pages (the file read back through a map after an eviction: ~0.6–0.9 µs a page here, map,
 * fault and unmap, as this tool measures), larger folios (as `write` leaves it: ~0.1–0.2 µs), 2 MiB
 * folios mapped a PMD at a time (~0.02–0.04 µs). docs/bench.md, "The page cache's state", has what
 * that did to the runs.
 *
 * `bun bench/page-cache-state.ts DIR [--drop | --reload-huge]`: the parts' size, how much of it is
 * resident (mincore), and the cost of mapping the resident part (map, one read a 4 KiB page, unmap;
 * the median of 3 passes), in µs a page. `--drop` first drops the parts from the page cache
 * (posix_fadvise DONTNEED: pages written but not yet on disk, or mapped by another process, stay),
 * so that the next bench reads them back as it does after an eviction; `--reload-huge` drops them
 * and reads them back whole through a map advised MADV_HUGEPAGE (2 MiB folios where the kernel's
 * transparent_hugepage setting allows). Two copies of one folder in two states, then `bun
 * bench/report-ab.ts A=COPY1 B=COPY2`, time the same code over both.
 */
import { dlopen, type Pointer, ptr } from "bun:ffi";
import { closeSync, fstatSync, openSync } from "node:fs";
import { type FileMapping, mapOpenFileReadOnly } from "../lib/cache/mapping.ts";
import { LIBC_NAME } from "../lib/libc.ts";
import { listPackedPartitions } from "../lib/packed/layout.ts";
import { median } from "./timed-process.ts";

const PAGE = 4096;
const MADV_HUGEPAGE = 14;
const POSIX_FADV_DONTNEED = 4;

const args = Bun.argv.slice(2);
const dir = args.find((a) => !a.startsWith("--"));
const drop = args.includes("--drop") || args.includes("--reload-huge");
const huge = args.includes("--reload-huge");
if (!dir || args.some((a) => a.startsWith("--") && a !== "--drop" && a !== "--reload-huge")) {
  console.error("usage: bun bench/page-cache-state.ts DIR [--drop | --reload-huge]");
  process.exit(2);
}

// Besides the maps bench makes (lib/cache/mapping.ts): the advice, residency and eviction calls.
const libc = dlopen(LIBC_NAME, {
  madvise: { args: ["ptr", "u64", "i32"], returns: "i32" },
  mincore: { args: ["ptr", "u64", "ptr"], returns: "i32" },
  posix_fadvise: { args: ["i32", "i64", "i64", "i32"], returns: "i32" },
}).symbols;

/** Maps the file open as fd as bench does, runs `use` on the map, unmaps it. */
function withMap<T>(fd: number, path: string, advise: boolean, use: (m: FileMapping) => T): T {
  const m = mapOpenFileReadOnly(fd, path);
  try {
    if (advise) libc.madvise(m.address as Pointer, m.size, MADV_HUGEPAGE);
    return use(m);
  } finally {
    m.unmap();
  }
}

/** One read in each page of the map whose flag in `pages` is set (all, when null). */
function touch(m: FileMapping, pages: Uint8Array | null): number {
  const bytes = m.bytes;
  let sum = 0;
  for (let p = 0, off = 0; off < m.size; p++, off += PAGE) if (!pages || pages[p] & 1) sum += bytes[off];
  return sum;
}

const parts = listPackedPartitions(dir).flatMap((p) => p.parts);
let total = 0;
let resident = 0;
const passes: number[] = [0, 0, 0];
for (const path of parts) {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size === 0) continue;
    total += size;
    if (drop) libc.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (huge) withMap(fd, path, true, (m) => touch(m, null));
    const pages = new Uint8Array(Math.ceil(size / PAGE));
    withMap(fd, path, false, (m) => libc.mincore(m.address as Pointer, m.size, ptr(pages)));
    const here = pages.reduce((n, v) => n + (v & 1), 0);
    resident += here * PAGE;
    for (let k = 0; k < passes.length; k++) {
      const t0 = performance.now();
      withMap(fd, path, false, (m) => touch(m, pages));
      passes[k] += performance.now() - t0;
    }
  } finally {
    closeSync(fd);
  }
}
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const residentPages = resident / PAGE;
console.log(
  `${parts.length} parts, ${mib(total)} MiB, ${mib(resident)} MiB resident (${((100 * resident) / Math.max(total, 1)).toFixed(0)}%)` +
    (huge ? " after a reload through a map advised MADV_HUGEPAGE" : drop ? " after dropping them" : ""),
);
console.log(
  residentPages === 0
    ? "nothing resident to map"
    : `mapping the resident pages: ${median(passes).toFixed(1)} ms a pass, ${((1000 * median(passes)) / residentPages).toFixed(3)} µs a 4 KiB page (median of ${passes.length} passes)`,
);
