/** A part plan's row groups that may hold unselected rows, narrowed to the window of their selected segments. */
import { selectedRanges, type RowGroupKeyStats, type SegmentSelector } from "./filters.ts";
import { strikeWindow, type StrikeWindow } from "./key-scan.ts";
import { stableOptCode } from "../packed/opt-type.ts";
import { KEY_COLUMNS, keyBatch, typedValues } from "./driver-batch.ts";
import type { PartSource } from "./part-source.ts";
import type { GroupStep, PartPlan } from "./read-plan.ts";

/** A group's expiry and stable opt_type code when its statistics give one of each and no null key; else null. */
function pureKey(stats: RowGroupKeyStats): { expiry: number; opt: number } | null {
  return stats.keyNullFree &&
    stats.expiry &&
    stats.expiry[0] === stats.expiry[1] &&
    stats.opt &&
    stats.opt[0] === stats.opt[1]
    ? { expiry: stats.expiry[0], opt: stableOptCode(stats.opt[0]) }
    : null;
}

/**
 * `part`'s steps with each group read whole but not wholly selected turned into a window (see
 * GroupStep) or a skip (nothing in it is selected), from one read of their key columns (~1/6 of a
 * 7-column decode) — only `strike` when every such group has one expiry and one opt_type. One read
 * for the part: each read call costs ~0.5 ms on its own, several times that on two busy cores
 * (measured). Reading only the windows then saves the decode outside them. A window's keys are
 * decoded again with its values rather than copied out of this read: natively ~0.5 ns a row for
 * the three (their runs are long), where the copies (and a pure group's constants filled in) took
 * ~40 ms of a 210 ms sliced pass in one thread (bun --cpu-prof-md).
 */
export async function keyWindowSteps(source: PartSource, part: PartPlan, sel: SegmentSelector): Promise<GroupStep[]> {
  const steps = [...part.steps];
  const gs = steps.flatMap((s, g) => (s.kind === "whole" && !s.allSelected ? [g] : []));
  if (gs.length === 0) return steps;
  const pure = gs.map((g) => pureKey(part.groups[g]));
  const read = pure.every((p) => p !== null) ? ["strike"] : [...KEY_COLUMNS];
  return source.read(read, { rowGroups: gs }, (batches) => {
    // One batch per row group is what reads ask for; were it not so, the groups are run whole.
    if (batches.length !== gs.length || batches.some((b, k) => b.length !== source.rowGroupRows[gs[k]])) return steps;
    const strikeAt = read.indexOf("strike");
    // Each group's window of selected rows, or null where it holds none.
    const found = batches.map((b, k): StrikeWindow | null => {
      const p = pure[k];
      if (p) {
        const strike = typedValues(b.columns[strikeAt], Float32Array, source.path, "strike");
        // One expiry and one opt_type: a row's selection is its strike's, inside the band the filters give them.
        const band = sel.strikeBand(p.expiry, p.opt);
        const w =
          band === "all" ? { start: 0, end: strike.length, runs: 1 } : band && strikeWindow(strike, band[0], band[1]);
        return w;
      }
      const keys = keyBatch(b, KEY_COLUMNS, source.path);
      const ranges = selectedRanges(keys, sel);
      if (ranges.length === 0) return null;
      const [start, end] = [ranges[0][0], ranges[ranges.length - 1][1]];
      return { start, end, runs: ranges.length };
    });
    found.forEach((w, k) => {
      steps[gs[k]] = w ? { kind: "window", start: w.start, end: w.end, allSelected: w.runs === 1 } : { kind: "skip" };
    });
    return steps;
  });
}
