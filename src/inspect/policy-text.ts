/** X86_CPUID_POLICY and X86_MSR_POLICY in words for `dump`: the CPU, then the features each leaf names. */
import type { CpuidPolicyBody, MsrPolicyBody } from '../codec/bodies/x86-common.js';
import { cpuidLeafLayout, cpuPolicySummary, leafKey, msrEntryLayout } from '../codec/machine/cpu-policy.js';
import { layoutField, type ScalarField } from '../format/layout.js';
import { msrText } from '../format/msr-names.js';
import { scalarText } from './layout-text.js';
import { hex } from './text-format.js';

const REGS = ['a', 'b', 'c', 'd'] as const;

function cpuLine(body: CpuidPolicyBody): string {
  const s = cpuPolicySummary(body.leaves);
  return `${JSON.stringify(s.vendor)}${s.brand ? ` ${JSON.stringify(s.brand)}` : ''} family ${s.family} (${hex(s.family)}) model ${s.model} (${hex(s.model)}) stepping ${s.stepping}, max leaf ${hex(s.maxBasicLeaf)}, max extended leaf ${hex(s.maxExtendedLeaf)}, ${s.features.size} named features`;
}

/** The set bits of a feature word by name; bits Xen has no name for as `bit N`. */
function bitNamesText(v: number, bits: Readonly<Record<number, string>>): string {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) if ((v >>> bit) & 1) out.push(bits[bit] ?? `bit ${bit}`);
  return out.join(' ');
}

export function cpuidPolicyText(body: CpuidPolicyBody, keep: number): { summary: string; details: string[] } {
  const details: string[] = [];
  // One pass, keeping only what is shown: a policy may hold millions of leaves.
  const zero: string[] = [];
  let zeroCount = 0;
  let shownCount = 0;
  body.leaves.forEach((l) => {
    if (!(l.a || l.b || l.c || l.d)) {
      if (zeroCount++ < keep * 2) zero.push(leafKey(l.leaf, l.subleaf));
      return;
    }
    if (shownCount++ >= keep * 8) return;
    const layout = cpuidLeafLayout(l.leaf, l.subleaf);
    const regs = REGS.map((r) => `e${r}x=${hex(l[r], 8)}`).join(' ');
    details.push(`leaf ${leafKey(l.leaf, l.subleaf).padEnd(12)} ${regs}`);
    for (const r of REGS) {
      const f = layoutField(layout, `e${r}x`) as ScalarField;
      if (f.bits && l[r]) details.push(`  e${r}x: ${bitNamesText(l[r], f.bits)}`);
    }
  });
  if (shownCount > keep * 8) details.push(`… (+${shownCount - keep * 8} more leaves)`);
  if (zeroCount) details.push(`${zeroCount} all-zero leaves: ${zero.join(' ')}${zeroCount > zero.length ? ` … (+${zeroCount - zero.length} more)` : ''}`);
  return { summary: `${body.leaves.length} leaves: ${cpuLine(body)}`, details };
}

export function msrPolicyText(body: MsrPolicyBody, keep: number): { summary: string; details: string[] } {
  const details = body.entries.slice(0, keep * 8).map((e) => {
    const f = layoutField(msrEntryLayout(e.idx), 'val') as ScalarField;
    return `msr ${msrText(e.idx)} = ${scalarText(f, e.val)}${e.flags ? ` flags ${hex(e.flags)} (must be zero)` : ''}`;
  });
  if (body.entries.length > keep * 8) details.push(`… (+${body.entries.length - keep * 8} more)`);
  return { summary: `${body.entries.length} MSRs`, details };
}
