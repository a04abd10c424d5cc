/** The tests' own oracle for the physical-address view and its exporters. */
import type { PhysicalRun } from '../../src/inspect/paddr-view.js';

/** Runs of consecutive pfns holding data in a stream's final memory (what the raw image has data for). */
export function runsOf(memory: Map<number, Uint8Array>): PhysicalRun[] {
  const runs: PhysicalRun[] = [];
  for (const pfn of [...memory.keys()].sort((a, b) => a - b)) {
    const last = runs[runs.length - 1];
    if (last && last.firstPfn + last.pages === pfn) last.pages++;
    else runs.push({ firstPfn: pfn, pages: 1 });
  }
  return runs;
}
