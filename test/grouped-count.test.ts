import { expect, test } from "bun:test";
import { groupedCount } from "../lib/grouped-count.ts";

test("groupedCount writes what toLocaleString('en-US') writes", () => {
  const xs = [0, -0, 1, -1, 999, 1000, -1000, 12_758, 999_999, 1_000_000, 3_097_586, 2 ** 53 - 1, -(2 ** 53 - 1)];
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    xs.push(Math.floor(seed / 10 ** (i % 9)) * (i % 2 ? 1 : -1), 2 ** (i % 60), 0.5 + i, i / 7);
  }
  xs.push(Number.NaN, Number.POSITIVE_INFINITY, 1e300);
  for (const x of xs) expect(`${x} ${groupedCount(x)}`).toBe(`${x} ${x.toLocaleString("en-US")}`);
});
