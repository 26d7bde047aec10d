/**
 * A minimal reader of the Parquet footer (Thrift compact protocol) for what parquet-wasm does not
 * expose: whether each column chunk carries statistics. Reads only the footer bytes.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

type ThriftValue = boolean | number | bigint | Uint8Array | ThriftValue[] | ThriftStruct | Map<ThriftValue, ThriftValue>;
/** A Thrift struct as field id → value. */
type ThriftStruct = Map<number, ThriftValue>;

class CompactReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error("footer ends early");
    return this.buf[this.pos++];
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  private zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return (this.byte() << 24) >> 24;
      case 4:
      case 5:
        return Number(this.zigzag());
      case 6:
        return this.zigzag();
      case 7:
        this.pos += 8;
        return 0;
      case 8: {
        const n = Number(this.varint());
        const out = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 9:
      case 10: {
        const h = this.byte();
        const size = h >> 4 === 15 ? Number(this.varint()) : h >> 4;
        const et = h & 15;
        const out: ThriftValue[] = [];
        for (let i = 0; i < size; i++) out.push(et === 1 || et === 2 ? this.byte() === 1 : this.value(et));
        return out;
      }
      case 11: {
        const size = Number(this.varint());
        const out = new Map<ThriftValue, ThriftValue>();
        if (size === 0) return out;
        const kv = this.byte();
        for (let i = 0; i < size; i++) out.set(this.value(kv >> 4), this.value(kv & 15));
        return out;
      }
      case 12:
        return this.struct();
      default:
        throw new Error(`unknown Thrift type ${type}`);
    }
  }

  struct(): ThriftStruct {
    const out: ThriftStruct = new Map();
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const delta = h >> 4;
      id = delta === 0 ? Number(this.zigzag()) : id + delta;
      out.set(id, this.value(h & 15));
    }
  }
}

/** What the footer says about one column chunk. */
export interface ColumnChunkFacts {
  path: string;
  /** A Statistics struct with min and max (either the legacy or the current fields). */
  hasMinMax: boolean;
  /** Any Statistics struct at all (an all-null chunk has null_count but no min/max). */
  hasStatistics: boolean;
  nullCount: number | null;
  numValues: number;
}

/** Column-chunk facts per row group, from the file's footer (read through `openFd` when given: it stays open). */
export function readColumnChunkFacts(path: string, openFd?: number): ColumnChunkFacts[][] {
  const fd = openFd ?? openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = new Uint8Array(8);
    readSync(fd, tail, 0, 8, size - 8);
    const len = new DataView(tail.buffer).getUint32(0, true);
    const footer = new Uint8Array(len);
    readSync(fd, footer, 0, len, size - 8 - len);
    const meta = new CompactReader(footer).struct();
    const rowGroups = (meta.get(4) as ThriftStruct[] | undefined) ?? [];
    return rowGroups.map((rg) =>
      ((rg.get(1) as ThriftStruct[] | undefined) ?? []).map((chunk) => {
        const md = chunk.get(3) as ThriftStruct;
        const stats = md.get(12) as ThriftStruct | undefined;
        const colPath = ((md.get(3) as Uint8Array[]) ?? []).map((b) => new TextDecoder().decode(b)).join(".");
        const hasMinMax = !!stats && ((stats.has(5) && stats.has(6)) || (stats.has(1) && stats.has(2)));
        const nc = stats?.get(3);
        return { path: colPath, hasMinMax, hasStatistics: !!stats, nullCount: nc === undefined ? null : Number(nc), numValues: Number(md.get(5) as bigint) };
      }),
    );
  } finally {
    if (openFd === undefined) closeSync(fd);
  }
}
