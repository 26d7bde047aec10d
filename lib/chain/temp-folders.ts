/**
 * Name prefix of a process's private column folders in TMPDIR. A run that stops (a bad order, a
 * crash) terminates workers mid-partition, which never remove theirs: whoever ends the process does
 * (without loading the chain's modules).
 */
export function chainTempPrefix(pid: number): string {
  return `tickpack-chain-${pid}-`;
}
