/** The C library's file name for `bun:ffi`'s dlopen, on the systems tickpack runs on. */
export const LIBC_NAME = process.platform === "darwin" ? "libSystem.B.dylib" : "libc.so.6";
