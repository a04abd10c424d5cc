/**
 * A save's CPUID and MSR policies in words: vendor, family/model/stepping,
 * max leaves and every feature bit by Xen's name (src/format/cpu-features.ts).
 * The policy is the guest's view of the CPU (what the toolstack let it see),
 * not a description of the host that saved it.
 */
import { CPU_FEATURE_WORDS, type CpuFeatureWord } from '../../format/cpu-features.js';
import { defineLayout, type FieldDef, type Layout, type ScalarField } from '../../format/layout.js';
import { XEN_CPUID_LEAF, XEN_CPUID_NO_SUBLEAF, XEN_MSR_ENTRY } from '../../format/layouts/x86-policy.js';
import { MSR_BITS } from '../../format/msr-names.js';
import type { CpuidLeaf, MsrEntry } from '../bodies/x86-common.js';

/** The CPUID register holding a feature word, or the MSR half. */
type Reg = 'a' | 'b' | 'c' | 'd';

export interface PresentFeature {
  readonly name: string;
  readonly doc: string;
  readonly word: number;
  /** Where the bit lives, e.g. `CPUID 0x7.0 ebx bit 16` or `MSR 0x10a bit 5`. */
  readonly where: string;
}

export interface CpuPolicySummary {
  vendor: string;
  /** Leaves 0x80000002–4, when the policy has them. */
  brand: string;
  family: number;
  model: number;
  stepping: number;
  maxBasicLeaf: number;
  maxExtendedLeaf: number;
  /** Present features, by name. */
  features: Map<string, PresentFeature>;
  /** Set bits no name is known for (`CPUID 0x7.0 ebx bit 30`). */
  unnamedBits: string[];
}

/** `0x7.0` or `0x80000001` (no subleaf): how leaves are named everywhere. */
export function leafKey(leaf: number, subleaf: number): string {
  return `0x${leaf.toString(16)}${subleaf === XEN_CPUID_NO_SUBLEAF ? '' : `.${subleaf.toString(16)}`}`;
}

function wordsOfLeaf(leaf: number, subleaf: number): CpuFeatureWord[] {
  return CPU_FEATURE_WORDS.filter((w) => w.leaf === leaf && w.subleaf === subleaf);
}

function bitNames(word: CpuFeatureWord, shift = 0): Record<number, string> {
  const bits: Record<number, string> = {};
  for (const f of word.features) bits[f.bit + shift] = f.name;
  return bits;
}

/**
 * AMD's 0x80000001 edx repeats most of leaf 1 edx; Xen's featureset leaves the
 * copies out of word 2, so renderings borrow word 0's names for them.
 */
function displayBitNames(word: CpuFeatureWord): Record<number, string> {
  const own = bitNames(word);
  if (word.word !== 2) return own;
  return { ...bitNames(CPU_FEATURE_WORDS[0]), ...own };
}

const leafLayouts = new Map<string, Layout>();

/**
 * One CPUID leaf as a layout of its own: xen_cpuid_leaf_t's bytes with the
 * registers named eax..edx and the feature names of this leaf on them, so
 * that renderings and diffs name bits with no code of their own. Values for
 * it come from cpuidLeafView.
 */
export function cpuidLeafLayout(leaf: number, subleaf: number): Layout {
  const key = leafKey(leaf, subleaf);
  let layout = leafLayouts.get(key);
  if (layout) return layout;
  const words = wordsOfLeaf(leaf, subleaf);
  const fields = XEN_CPUID_LEAF.fields.map((f): FieldDef => {
    if (f.name === 'leaf' || f.name === 'subleaf') return f;
    const w = words.find((x) => x.reg === f.name);
    return { ...(f as ScalarField), name: `e${f.name}x`, ...(w ? { bits: displayBitNames(w) } : {}) };
  });
  layout = defineLayout(`CPUID ${key}`, fields, { size: XEN_CPUID_LEAF.size, doc: XEN_CPUID_LEAF.doc ?? '' });
  leafLayouts.set(key, layout);
  return layout;
}

/** A decoded leaf as a value of cpuidLeafLayout. */
export function cpuidLeafView(l: CpuidLeaf): { leaf: number; subleaf: number; eax: number; ebx: number; ecx: number; edx: number } {
  return { leaf: l.leaf, subleaf: l.subleaf, eax: l.a, ebx: l.b, ecx: l.c, edx: l.d };
}

const msrLayouts = new Map<number, Layout>();

/** xen_msr_entry_t with the names of the MSR's feature bits on `val` (MSR_ARCH_CAPS: words 16 and 17). */
export function msrEntryLayout(idx: number): Layout {
  let layout = msrLayouts.get(idx);
  if (layout) return layout;
  const words = CPU_FEATURE_WORDS.filter((w) => w.msr === idx);
  if (!words.length && !MSR_BITS[idx]) layout = XEN_MSR_ENTRY;
  else {
    const bits: Record<number, string> = { ...MSR_BITS[idx] };
    for (const w of words) Object.assign(bits, bitNames(w, w.half === 'high' ? 32 : 0));
    const fields = XEN_MSR_ENTRY.fields.map((f): FieldDef => (f.name === 'val' ? { ...(f as ScalarField), bits } : f));
    layout = defineLayout(`MSR 0x${idx.toString(16)}`, fields, { size: XEN_MSR_ENTRY.size, doc: XEN_MSR_ENTRY.doc ?? '' });
  }
  msrLayouts.set(idx, layout);
  return layout;
}

function vendorOf(leaf0: CpuidLeaf | undefined): string {
  if (!leaf0) return '';
  const b = Buffer.alloc(12);
  b.writeUInt32LE(leaf0.b, 0);
  b.writeUInt32LE(leaf0.d, 4);
  b.writeUInt32LE(leaf0.c, 8);
  return b.toString('latin1').replace(/\0+$/, '');
}

function brandOf(find: (leaf: number) => CpuidLeaf | undefined): string {
  const b = Buffer.alloc(48);
  for (let i = 0; i < 3; i++) {
    const l = find(0x80000002 + i);
    if (!l) return '';
    ['a', 'b', 'c', 'd'].forEach((r, k) => {
      b.writeUInt32LE(l[r as Reg], 16 * i + 4 * k);
    });
  }
  return b.toString('latin1').replace(/\0.*$/s, '').trim();
}

/** Family, model and stepping of CPUID leaf 1 eax, with the extended fields as the vendors' manuals combine them. */
export function familyModelStepping(eax: number): { family: number; model: number; stepping: number } {
  const base = (eax >>> 8) & 0xf;
  const family = base === 0xf ? base + ((eax >>> 20) & 0xff) : base;
  const model = ((eax >>> 4) & 0xf) | (base === 0x6 || base === 0xf ? ((eax >>> 16) & 0xf) << 4 : 0);
  return { family, model, stepping: eax & 0xf };
}

/** The leaves and MSRs the summary reads, picked from the policies in one pass (a policy may be huge). */
interface Picked {
  leaves: Map<string, CpuidLeaf>;
  msrs: Map<number, bigint>;
}

const NEEDED_LEAVES = new Set([
  leafKey(0, XEN_CPUID_NO_SUBLEAF),
  leafKey(1, XEN_CPUID_NO_SUBLEAF),
  ...[0x80000000, 0x80000002, 0x80000003, 0x80000004].map((l) => leafKey(l, XEN_CPUID_NO_SUBLEAF)),
  ...CPU_FEATURE_WORDS.filter((w) => w.leaf !== undefined).map((w) => leafKey(w.leaf ?? 0, w.subleaf ?? 0)),
]);
const NEEDED_MSRS = new Set(CPU_FEATURE_WORDS.filter((w) => w.msr !== undefined).map((w) => w.msr));

function pick(leaves: Iterable<CpuidLeaf>, msrs: Iterable<MsrEntry>): Picked {
  const out: Picked = { leaves: new Map(), msrs: new Map() };
  for (const l of leaves) {
    // Leaf 0/1 may come with subleaf 0 from other writers: accept either for the fixed ones.
    const key = leafKey(l.leaf, l.subleaf);
    const plain = leafKey(l.leaf, XEN_CPUID_NO_SUBLEAF);
    if (NEEDED_LEAVES.has(key) && !out.leaves.has(key)) out.leaves.set(key, l);
    else if (l.subleaf === 0 && NEEDED_LEAVES.has(plain) && !out.leaves.has(plain)) out.leaves.set(plain, l);
  }
  for (const m of msrs) if (NEEDED_MSRS.has(m.idx) && !out.msrs.has(m.idx)) out.msrs.set(m.idx, m.val);
  return out;
}

function wordValue(word: CpuFeatureWord, p: Picked): number | undefined {
  if (word.msr !== undefined) {
    const v = p.msrs.get(word.msr);
    return v === undefined ? undefined : Number((word.half === 'high' ? v >> 32n : v) & 0xffffffffn);
  }
  const l = p.leaves.get(leafKey(word.leaf ?? 0, word.subleaf ?? 0));
  return l === undefined ? undefined : l[word.reg as Reg];
}

function whereText(word: CpuFeatureWord, bit: number): string {
  if (word.msr !== undefined) return `MSR 0x${word.msr.toString(16)} bit ${word.half === 'high' ? bit + 32 : bit}`;
  return `CPUID ${leafKey(word.leaf ?? 0, word.subleaf ?? 0)} e${word.reg}x bit ${bit}`;
}

/** What the policies say, in words. `msrs` may be empty (a v2 stream or a save without X86_MSR_POLICY). */
export function cpuPolicySummary(leaves: Iterable<CpuidLeaf>, msrs: Iterable<MsrEntry> = []): CpuPolicySummary {
  const picked = pick(leaves, msrs);
  const find = (leaf: number) => picked.leaves.get(leafKey(leaf, XEN_CPUID_NO_SUBLEAF));
  const leaf1 = find(1);
  const features = new Map<string, PresentFeature>();
  const unnamedBits: string[] = [];
  for (const word of CPU_FEATURE_WORDS) {
    const v = wordValue(word, picked);
    if (v === undefined) continue;
    for (let bit = 0; bit < 32; bit++) {
      if (!((v >>> bit) & 1)) continue;
      const f = word.features.find((x) => x.bit === bit);
      if (f) features.set(f.name, { name: f.name, doc: f.doc, word: word.word, where: whereText(word, bit) });
      else if (!(word.word === 2 && CPU_FEATURE_WORDS[0].features.some((x) => x.bit === bit))) unnamedBits.push(whereText(word, bit));
    }
  }
  return {
    vendor: vendorOf(find(0)),
    brand: brandOf(find),
    ...familyModelStepping(leaf1?.a ?? 0),
    maxBasicLeaf: find(0)?.a ?? 0,
    maxExtendedLeaf: find(0x80000000)?.a ?? 0,
    features,
    unnamedBits,
  };
}
