/** A part decoded by parquet-wasm (lib/parquet/source.ts), as a PartSource. */
import { closeParquetFile, openParquetFile, withColumnViews, type ParquetFileSource } from "../parquet/source.ts";
import type { PartSource } from "./part-source.ts";

/** The part at `path`, read through the open descriptor `fd` (left open: the caller's); throws ParquetOpenError. */
export async function openWasmSource(path: string, fd: number): Promise<PartSource> {
  const file: ParquetFileSource = await openParquetFile(path, fd);
  return {
    kind: "wasm",
    path,
    rowGroupRows: file.rowGroupRows,
    columns: file.columns,
    read: (columns, selection, use) => withColumnViews(file, columns, selection, use),
    close: () => closeParquetFile(file),
  };
}
