/**
 * bench through tickpack's own page decoder against bench through parquet-wasm: the same results,
 * bit for bit, cold and warm, filtered (windows inside row groups), for chain strategies, with gcc,
 * and parquet-wasm taking over where the native path cannot read (a file tickpack did not write or
 * whose footer does not say it did, an encoding the decoder does not read, no libzstd). JSON
 * `parts_read` says which decoder read each part, so every comparison also checks that the native
 * path is the one being tested.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import * as pw from "parquet-wasm/node";
import { listPackedPartitions } from "../../lib/packed/layout.ts";
import { TICKPACK_VERSION } from "../../lib/packed/schema.ts";
import { decodeStruct, encodeStruct, type TList, type TStruct } from "../../lib/parquet/thrift-compact.ts";
import { compilerPath } from "../../kernel/strategy-kernel.ts";
import { runScript } from "../helpers/packed-views.ts";
import { cleanupTempDirs, genFixture, repackFixture, tempDir } from "../helpers/fixtures.ts";

setDefaultTimeout(180_000);

let packed: string;
let parts: number;
beforeAll(async () => {
  const raw = tempDir("native-decode-raw");
  // Nulls, zero prices and rows out of order (gen's defects), small row groups: many groups and windows.
  await genFixture(raw, { tickProb: 0.3, days: 2, strikesEachSide: 2 });
  packed = tempDir("native-decode-packed");
  await repackFixture([raw], packed, { rowGroupSize: 2500 });
  parts = listPackedPartitions(packed).reduce((a, p) => a + p.parts.length, 0);
});
afterAll(cleanupTempDirs);

type Json = Record<string, unknown> & { parts_read: { cache: number; native: number; wasm: number } };

function bench(args: string[], env: Record<string, string> = {}): Json {
  const r = runScript("bench.ts", [...args, "--json"], undefined, env);
  if (r.code !== 0) throw new Error(`bench ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A run's results without what differs from run to run (times, which decoder, the cache's own figures). */
function results(j: Json): string {
  const { elapsed_s, rows_per_s, row_sets_per_s, parts_read, decoder, cache, ...rest } = j;
  return JSON.stringify(rest);
}

/** Every file under `dir`, relative path → bytes. */
function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (statSync(p).size > 0) out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe("bench: native decoder = parquet-wasm", () => {
  test("--no-cache: the same JSON and trade log, bit for bit, 1 and 2 workers, a grid; every part read natively", () => {
    const logs = { native: join(tempDir("nd-log"), "t.csv"), wasm: join(tempDir("nd-log"), "t.csv") };
    const grid = ["--grid", "fast=3,5;slow=13,21", "--workers", "2"];
    const native = bench([packed, "--no-cache", ...grid, "--trades", logs.native]);
    const wasm = bench([packed, "--no-cache", ...grid, "--trades", logs.wasm, "--decoder", "wasm"]);
    expect(native.parts_read).toEqual({ cache: 0, native: parts, wasm: 0 });
    expect(wasm.parts_read).toEqual({ cache: 0, native: 0, wasm: parts });
    expect(native.decoder).toBe("native");
    expect(results(native)).toBe(results(wasm));
    expect((native.trades as number) > 0).toBe(true);
    expect(readFileSync(logs.native, "utf8")).toBe(readFileSync(logs.wasm, "utf8"));
    const one = bench([packed, "--no-cache", "--workers", "1"]);
    const oneWasm = bench([packed, "--no-cache", "--workers", "1", "--decoder", "wasm"]);
    expect(results(one)).toBe(results(oneWasm));
  });

  test("filters (key windows inside row groups, skipped groups): the same rows run and the same results", () => {
    for (const filter of [
      ["--opt-type", "PE", "--strikes", "25800:26000"],
      ["--expiry-type", "weekly", "--dte", "0:3"],
      ["--underlyings", "BANKNIFTY", "--opt-type", "CE"],
    ]) {
      const native = bench([packed, "--no-cache", ...filter]);
      const wasm = bench([packed, "--no-cache", ...filter, "--decoder", "wasm"]);
      expect(native.parts_read.wasm).toBe(0);
      expect(results(native)).toBe(results(wasm));
    }
  });

  test("a cache filled through either decoder serves the same results warm and holds the same rows and nulls", () => {
    const a = tempDir("nd-cache-native");
    const b = tempDir("nd-cache-wasm");
    const cold = bench([packed, "--cache", a]);
    const coldWasm = bench([packed, "--cache", b, "--decoder", "wasm"]);
    expect(cold.parts_read).toEqual({ cache: 0, native: parts, wasm: 0 });
    expect(coldWasm.parts_read).toEqual({ cache: 0, native: 0, wasm: parts });
    const warm = bench([packed, "--cache", a]);
    const warmWasm = bench([packed, "--cache", b]);
    expect(warm.parts_read).toEqual({ cache: parts, native: 0, wasm: 0 });
    expect(warmWasm.parts_read).toEqual({ cache: parts, native: 0, wasm: 0 });
    for (const j of [coldWasm, warm, warmWasm]) expect(results(j)).toBe(results(cold));
    // Under a null, parquet-wasm leaves whatever its buffer held and the native decoder writes 0: the
    // values' checksums may differ there, never the rows, the types or the validity.
    const headerOf = (bytes: Buffer) => {
      const h = JSON.parse(bytes.subarray(16, 16 + bytes.readUInt32LE(8)).toString("utf8"));
      return JSON.stringify([h.column, h.type, h.encoding, h.rows, h.rowGroupRows, h.nullCount, h.validity?.checksum]);
    };
    const filesA = filesOf(a);
    const filesB = filesOf(b);
    const columns = [...filesA.keys()].filter((k) => k.endsWith(".col"));
    expect(columns.length).toBeGreaterThanOrEqual(parts * 7);
    expect([...filesB.keys()].filter((k) => k.endsWith(".col")).sort()).toEqual(columns.sort());
    for (const k of columns) expect(headerOf(filesA.get(k)!)).toBe(headerOf(filesB.get(k)!));
  });

  test("a chain strategy (short_straddle) and --cc gcc decode the same", () => {
    const native = bench([packed, "--no-cache", "--strategy", "short_straddle"]);
    const wasm = bench([packed, "--no-cache", "--strategy", "short_straddle", "--decoder", "wasm"]);
    expect(native.parts_read.native).toBe(parts);
    expect(results(native)).toBe(results(wasm));
    if (compilerPath("gcc")) {
      const gcc = bench([packed, "--no-cache", "--cc", "gcc"]);
      expect(gcc.parts_read.native).toBe(parts);
      expect(results(gcc)).toBe(results(bench([packed, "--no-cache", "--cc", "gcc", "--decoder", "wasm"])));
    }
  });

  test("parquet-wasm reads what the native path cannot: no libzstd, a file tickpack did not write", async () => {
    const noZstd = bench([packed, "--no-cache"], { TICKPACK_LIBZSTD: "none" });
    expect(noZstd.parts_read).toEqual({ cache: 0, native: 0, wasm: parts });
    expect(results(noZstd)).toBe(results(bench([packed, "--no-cache"])));

    // The same rows rewritten by DuckDB (its own encodings, no tickpack metadata) in one partition.
    const mixed = tempDir("nd-mixed");
    cpSync(packed, mixed, { recursive: true });
    const partition = listPackedPartitions(mixed)[0];
    const part = partition.parts[0];
    const copy = `${part}.duckdb`;
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    await c.run(
      `COPY (SELECT * FROM read_parquet('${part}')) TO '${copy}' (FORMAT parquet, COMPRESSION zstd, KV_METADATA {'tickpack.sort': 'expiry,opt_type,strike,timestamp'})`,
    );
    c.closeSync();
    db.closeSync();
    cpSync(copy, part);
    const r = runScript("bench.ts", [mixed, "--no-cache", "--json"]);
    // Read or refused, the file goes to parquet-wasm, never to the native decoder.
    if (r.code === 0) {
      const j = JSON.parse(r.stdout) as Json;
      expect(j.parts_read.wasm).toBe(1);
      expect(j.parts_read.native).toBe(parts - 1);
      const w = bench([mixed, "--no-cache", "--decoder", "wasm"]);
      expect(results(j)).toBe(results(w));
    } else expect(r.stderr).toContain(part);
  });

  test("parquet-wasm also reads a file tickpack wrote in an encoding its decoder does not read, and one in tickpack's encodings that tickpack's metadata does not claim", () => {
    const whole = results(bench([packed, "--no-cache"]));
    // price as BYTE_STREAM_SPLIT, the footer claiming tickpack's version.
    const bss = tempDir("nd-bss");
    cpSync(packed, bss, { recursive: true });
    const bssPart = listPackedPartitions(bss)[0].parts[0];
    const props = new pw.WriterPropertiesBuilder()
      .setCompression(pw.Compression.ZSTD)
      .setMaxRowGroupSize(2500) // the fixture's row groups, which the JSON counts
      .setColumnDictionaryEnabled("price", false)
      .setColumnEncoding("price", pw.Encoding.BYTE_STREAM_SPLIT)
      .setKeyValueMetadata(new Map([["tickpack.version", TICKPACK_VERSION]]))
      .build();
    writeFileSync(bssPart, pw.writeParquet(pw.readParquet(readFileSync(bssPart)), props));
    const a = bench([bss, "--no-cache"]);
    expect(a.parts_read).toEqual({ cache: 0, native: parts - 1, wasm: 1 });
    expect(results(a)).toBe(whole);
    // tickpack's own file, its footer's tickpack.* key-value pairs taken out (nothing else changed).
    const bare = tempDir("nd-bare");
    cpSync(packed, bare, { recursive: true });
    const barePart = listPackedPartitions(bare)[0].parts[0];
    const bytes = readFileSync(barePart);
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    const body = bytes.subarray(0, bytes.length - 8 - footerLength);
    const meta = decodeStruct(bytes.subarray(body.length, bytes.length - 8));
    const kv = meta.get(5)!.value as TList;
    kv.items = kv.items.filter(
      (e) =>
        !Buffer.from((e as TStruct).get(1)!.value as Uint8Array)
          .toString()
          .startsWith("tickpack."),
    );
    const footer = encodeStruct(meta);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(footer.length, 0);
    tail.write("PAR1", 4);
    writeFileSync(barePart, Buffer.concat([body, footer, tail]));
    const b = bench([bare, "--no-cache"]);
    expect(b.parts_read).toEqual({ cache: 0, native: parts - 1, wasm: 1 });
    expect(results(b)).toBe(whole);
  });

  test("timestamps as repack writes them (read as runs of codes), dictionary-coded ZSTD (as codes) and delta-coded (as values): the same trade log and report", () => {
    /** The report page's data without what differs from run to run. */
    const reportData = (path: string) => {
      const html = readFileSync(path, "utf8");
      const json = html.slice(
        html.indexOf('id="report-data">') + 17,
        html.indexOf("</script>", html.indexOf('id="report-data">')),
      );
      const data = JSON.parse(json);
      data.generated = "";
      data.header = data.header.filter((h: { json: string }) => h.json !== "elapsed_s" && h.json !== "rows_per_s");
      return JSON.stringify(data);
    };
    const run = (dir: string, extra: string[] = []) => {
      const out = tempDir("nd-ts-out");
      const j = bench([dir, "--trades", join(out, "t.csv"), "--report", join(out, "r.html"), ...extra]);
      const { workers, ...json } = JSON.parse(results(j));
      return {
        json,
        parts: j.parts_read,
        cacheErrors: (j.cache as { errors: string[] } | null)?.errors ?? [],
        log: readFileSync(join(out, "t.csv"), "utf8"),
        report: reportData(join(out, "r.html")),
      };
    };
    const want = run(packed, ["--no-cache", "--decoder", "wasm"]);
    expect(want.log.split("\n").length).toBeGreaterThan(100);
    const rewritten = (name: string, props: (b: pw.WriterPropertiesBuilder) => pw.WriterPropertiesBuilder) => {
      const dir = tempDir(`nd-ts-${name}`);
      cpSync(packed, dir, { recursive: true });
      for (const p of listPackedPartitions(dir).flatMap((x) => x.parts)) {
        const b = new pw.WriterPropertiesBuilder()
          .setCompression(pw.Compression.ZSTD)
          .setMaxRowGroupSize(2500)
          .setKeyValueMetadata(new Map([["tickpack.version", TICKPACK_VERSION]]));
        writeFileSync(p, pw.writeParquet(pw.readParquet(readFileSync(p)), props(b).build()));
      }
      return dir;
    };
    const variants = {
      asPacked: packed,
      dictionaryZstd: rewritten("dict-zstd", (b) => b.setColumnDictionaryEnabled("timestamp", true)),
      delta: rewritten("delta", (b) =>
        b
          .setColumnDictionaryEnabled("timestamp", false)
          .setColumnEncoding("timestamp", pw.Encoding.DELTA_BINARY_PACKED),
      ),
    };
    for (const [name, dir] of Object.entries(variants)) {
      const cache = tempDir("nd-ts-cache");
      // The first cached run fills the cache (codes expanded to values), the second is served from it.
      const cached = [
        ["--cache", cache],
        ["--cache", cache],
      ];
      for (const [k, extra] of [["--no-cache"], ["--no-cache", "--workers", "1"], ...cached].entries()) {
        const got = run(dir, extra);
        const read = k < 3 ? { cache: 0, native: parts, wasm: 0 } : { cache: parts, native: 0, wasm: 0 };
        expect({ name, extra, parts: got.parts, cacheErrors: got.cacheErrors }).toEqual({
          name,
          extra,
          parts: read,
          cacheErrors: [],
        });
        expect({ name, extra, json: got.json, log: got.log, report: got.report }).toEqual({
          name,
          extra,
          json: want.json,
          log: want.log,
          report: want.report,
        });
      }
    }
  });

  test("a garbled part is an error naming the file (and, natively, the column) through either decoder, never a hang", async () => {
    const garbled = tempDir("nd-garbled");
    cpSync(packed, garbled, { recursive: true });
    const part = listPackedPartitions(garbled)[0].parts[0];
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    const at = Number(
      (
        await c.runAndReadAll(
          `SELECT data_page_offset FROM parquet_metadata('${part}') WHERE row_group_id = 0 AND path_in_schema = 'volume'`,
        )
      ).getRows()[0][0],
    );
    c.closeSync();
    db.closeSync();
    const bytes = readFileSync(part);
    for (let i = at + 40; i < at + 56; i++) bytes[i] ^= 0x5a;
    writeFileSync(part, bytes);
    const native = runScript("bench.ts", [garbled, "--no-cache"]);
    expect(native.code).toBe(1);
    expect(native.stderr).toContain(`${part}: column volume: `);
    const wasm = runScript("bench.ts", [garbled, "--no-cache", "--decoder", "wasm"]);
    expect(wasm.code).toBe(1);
    expect(wasm.stderr).toContain(`bench: ${part}: `);
  });

  test("--decoder other than native or wasm is a usage error (exit 2)", () => {
    const r = runScript("bench.ts", [packed, "--decoder", "arrow"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--decoder");
  });
});
