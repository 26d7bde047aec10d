/**
 * The types a kernel declares its columns in (`name:type` in tickpack_columns; plain `name` is f64),
 * the C type TP_COLUMN must read each as, and the codes by which it checks that (tickpack.h).
 */

/** How a kernel reads a column. */
export type ColumnType = "f64" | "i64" | "i32" | "f32" | "i16";
export const COLUMN_TYPES: readonly ColumnType[] = ["f64", "i64", "i32", "f32", "i16"];

/** The C type TP_COLUMN reads a column of each type as. */
export const C_TYPE: Readonly<Record<ColumnType, string>> = {
  f64: "double",
  i64: "long long",
  i32: "int",
  f32: "float",
  i16: "short",
};

/** A column type's code in tp_rows_t's col_type (0 is none: the code of a C type that is no column type). */
export function columnTypeCode(type: ColumnType): number {
  return COLUMN_TYPES.indexOf(type) + 1;
}

/**
 * TP_COLUMN's code of the C type T, as the C macro TPD_TYPE_CODE(T). `long` is int64_t on LP64
 * (Linux), the same 8 bytes as `long long`; every other type (unsigned ones included: they would
 * read a negative value as a large one) has code 0.
 */
export function typeCodeMacroC(): string {
  const cases = COLUMN_TYPES.map((t) => `${C_TYPE[t]}: ${columnTypeCode(t)}`);
  const long = `long: (sizeof(long) == 8 ? ${columnTypeCode("i64")} : ${columnTypeCode("i32")})`;
  return `#define TPD_TYPE_CODE(T) _Generic((T)0, ${[...cases, long].join(", ")}, default: 0)`;
}
