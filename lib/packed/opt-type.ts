/**
 * opt_type's stable codes: CE 0, PE 1, anything else 2. Dictionary codes differ per file and batch;
 * these do not, and they are also opt_type's rank in the packed sort order (CE before PE, anything else
 * after both). The driver (through a batch's code map), the column cache (`opt-code` encoding), the
 * filters, the trade log and the report use them; lib/read/key-scan.c defines TP_OPT_OTHER as OPT_OTHER.
 */
export const OPT_CE = 0;
export const OPT_PE = 1;
export const OPT_OTHER = 2;

/** opt_type by stable code. */
export const OPT_CODE_NAMES = ["CE", "PE", "other"] as const;

/** The stable code of an opt_type value (null and anything but CE and PE: OPT_OTHER). */
export function stableOptCode(s: string | null): number {
  return s === "CE" ? OPT_CE : s === "PE" ? OPT_PE : OPT_OTHER;
}
