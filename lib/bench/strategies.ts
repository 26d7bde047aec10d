/**
 * bench's built-in strategies (`--strategy NAME`): each is a kernel file written against one of the
 * two ABIs, with the bounds its parameters must keep and any rule across them.
 */
import { EMA_CROSS_SOURCE } from "../../kernel/strategy-kernel.ts";
import { SHORT_STRADDLE_SOURCE, type KernelAbi } from "../../kernel/kernel-abi.ts";
import { EMA_CROSS_BOUNDS, type ParamBounds } from "./grid.ts";

/** A built-in strategy. */
export interface BuiltinStrategy {
  name: string;
  source: string;
  abi: KernelAbi;
  /** What it does, in a line (bench --help). */
  summary: string;
  bounds: Readonly<Record<string, ParamBounds>>;
  /** What is wrong with a whole set of its parameters (its defaults filled in), or null. */
  setProblem?: (set: Readonly<Record<string, number>>) => string | null;
}

/** Times in minutes after 09:15 IST (a day has 1440), fractions of the entry premium ≥ 0. */
const SHORT_STRADDLE_BOUNDS: Readonly<Record<string, ParamBounds>> = {
  entry_min: { min: 0, max: 1440 },
  exit_min: { min: 0, max: 1440 },
  stop: { min: 0, max: 1e9 },
  target: { min: 0, max: 1e9 },
};

export const STRATEGIES: Readonly<Record<string, BuiltinStrategy>> = {
  ema_cross: {
    name: "ema_cross",
    source: EMA_CROSS_SOURCE,
    abi: "contract",
    summary: "per contract: long on a fast/slow EMA cross with a tight spread (SPEC §4)",
    bounds: EMA_CROSS_BOUNDS,
  },
  short_straddle: {
    name: "short_straddle",
    source: SHORT_STRADDLE_SOURCE,
    abi: "chain",
    summary: "chain: sell the nearest expiry's ATM straddle, exit on stop, target or time (SPEC §6.1)",
    bounds: SHORT_STRADDLE_BOUNDS,
    setProblem: (s) =>
      s.entry_min < s.exit_min ? null : `entry_min (${s.entry_min}) must be before exit_min (${s.exit_min})`,
  },
};

/** The built-in names, for messages. */
export const STRATEGY_NAMES: readonly string[] = Object.keys(STRATEGIES);
