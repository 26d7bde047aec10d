/** The byte encodings that hand-made Parquet pages are written in: LEB128 varints, zigzag, bit-packing. */

/** Unsigned LEB128 of a bigint (taken as 64 bits). */
export function uleb(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? b | 0x80 : b);
  } while (x > 0n);
  return out;
}

/** Zigzag then LEB128, as Thrift and DELTA_BINARY_PACKED write signed integers. */
export const zigzag = (v: bigint): number[] => uleb(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));

/** Parquet's bit-packing: values LSB first, `w` bits each, in whole bytes. */
export function bitPacked(values: bigint[], w: number): number[] {
  const out = new Uint8Array(Math.ceil((values.length * w) / 8));
  values.forEach((v, i) => {
    for (let b = 0; b < w; b++) if ((v >> BigInt(b)) & 1n) out[(i * w + b) >> 3] |= 1 << ((i * w + b) & 7);
  });
  return Array.from(out);
}
