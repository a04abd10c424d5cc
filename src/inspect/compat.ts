/**
 * `compat A B`: do two saves' Xen versions and CPUID/MSR policies say that
 * the guest saved in A can be restored on the host where B was saved?
 *
 * What it can tell: a v3 save carries the guest's CPUID and MSR policy, which
 * Xen checks on restore against what the new host can offer (a feature the
 * guest was shown must still be there: it may be using it). B's policy is
 * what B's guest was offered on B's host, so every feature in it is one B's
 * host has. What it cannot tell: B's host may have more than B's guest was
 * shown (another guest type, another config, a toolstack mask, features Xen
 * offers only on request), so "A has it, B does not" means "not shown to
 * B's guest", a likely but not a certain failure; nor does a save say
 * anything about the host's memory, devices or Xen command line. Streams
 * without policies (v2, before Xen 4.14) tell nothing about the CPU.
 */
import type { CpuidLeaf, MsrEntry } from '../codec/bodies/x86-common.js';
import { cpuPolicySummary, type CpuPolicySummary, type PresentFeature } from '../codec/machine/cpu-policy.js';
import { CPU_FEATURE_WORDS } from '../format/cpu-features.js';
import { DOMAIN_TYPE_NAMES } from '../format/constants.js';
import { readStream } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import { hex } from './text-format.js';
import type { WalkOptions } from './walk-options.js';

/** What one save says about its guest and its host. */
export interface SaveFacts {
  streamVersion?: number;
  domainType?: string;
  xen?: { major: number; minor: number };
  cpu?: CpuPolicySummary;
  hasMsrPolicy: boolean;
  /** MSR_INTEL_PLATFORM_INFO's value in the MSR policy (bit 31: CPUID faulting offered). */
  platformInfo?: bigint;
}

export interface CompatFinding {
  severity: 'blocker' | 'likely' | 'note';
  text: string;
}

export interface CompatResult {
  /** yes: nothing the saves tell stands against it; no: something does; unknown: the saves do not carry enough. */
  verdict: 'yes' | 'no' | 'unknown';
  a: SaveFacts;
  b: SaveFacts;
  findings: CompatFinding[];
  /** Features A's guest was shown that B's guest was not. */
  missingFeatures: Array<Pick<PresentFeature, 'name' | 'doc' | 'where'>>;
}

const MAX_ENTRIES = 65536;
const MSR_INTEL_PLATFORM_INFO = 0xce;
const CPUID_FAULTING = 1n << 31n;

/** The headers and policies at the start of a save (they come before the first page). */
export async function saveFacts(source: StreamSource, options: WalkOptions = {}): Promise<SaveFacts> {
  const facts: SaveFacts = { hasMsrPolicy: false };
  let leaves: CpuidLeaf[] | undefined;
  let msrs: MsrEntry[] = [];
  for await (const item of readStream(source, options.reader)) {
    if (item.kind === 'libxc-image-header') facts.streamVersion = item.header.version;
    if (item.kind === 'libxc-domain-header') {
      facts.domainType = DOMAIN_TYPE_NAMES[item.header.domainType] ?? `type ${item.header.domainType}`;
      if (item.header.xenMajor) facts.xen = { major: item.header.xenMajor, minor: item.header.xenMinor };
    }
    if (item.kind !== 'record') continue;
    const body = item.record.body;
    // Copies (the reader reuses its buffer); Xen serialises a few hundred entries at most.
    if (body.kind === 'cpuid-policy') leaves = body.leaves.slice(0, MAX_ENTRIES);
    if (body.kind === 'msr-policy') {
      msrs = body.entries.slice(0, MAX_ENTRIES);
      facts.hasMsrPolicy = true;
      const pi = msrs.find((e) => e.idx === MSR_INTEL_PLATFORM_INFO);
      if (pi) facts.platformInfo = pi.val;
    }
    if (item.record.name === 'STATIC_DATA_END' || body.kind === 'page-data') break;
  }
  if (leaves) facts.cpu = cpuPolicySummary(leaves, msrs);
  return facts;
}

const SPECIAL = new Set(CPU_FEATURE_WORDS.flatMap((w) => w.features.filter((f) => f.attrs.includes('!')).map((f) => f.name)));

function xenText(x: SaveFacts['xen']): string {
  return x ? `Xen ${x.major}.${x.minor}` : 'an unknown Xen';
}

function xenFindings(a: SaveFacts, b: SaveFacts, out: CompatFinding[]): void {
  if (!a.xen || !b.xen) {
    out.push({ severity: 'note', text: 'one save does not say which Xen wrote it (a converted legacy stream): versions not compared' });
    return;
  }
  const order = (x: { major: number; minor: number }) => x.major * 1000 + x.minor;
  if (order(a.xen) > order(b.xen))
    out.push({
      severity: 'blocker',
      text: `A was written by ${xenText(a.xen)}, B's host runs ${xenText(b.xen)}: Xen restores streams from the same or an older version only`,
    });
  else if (order(a.xen) < order(b.xen))
    out.push({
      severity: 'note',
      text: `A comes from an older Xen (${xenText(a.xen)} → ${xenText(b.xen)}): supported, one version step at a time is what Xen tests`,
    });
  if ((a.streamVersion ?? 2) >= 3 && order(b.xen) < 4014)
    out.push({ severity: 'blocker', text: `A is a libxc v3 stream; ${xenText(b.xen)} reads v2 only (v3 came with Xen 4.14)` });
}

/** `sameKind`: both guests are of one type, so B's policy is a fair sample of what B's host offers A's. */
function cpuFindings(a: CpuPolicySummary, b: CpuPolicySummary, sameKind: boolean, out: CompatFinding[]): CompatResult['missingFeatures'] {
  if (a.vendor !== b.vendor)
    out.push({
      severity: 'likely',
      text: `CPU vendor differs (${a.vendor || '?'} → ${b.vendor || '?'}): the guest chose vendor-specific code at boot; cross-vendor migration is not supported in practice`,
    });
  if (a.maxBasicLeaf > b.maxBasicLeaf)
    out.push({ severity: 'likely', text: `A's guest saw CPUID leaves up to ${hex(a.maxBasicLeaf)}, B's only up to ${hex(b.maxBasicLeaf)}` });
  if (a.maxExtendedLeaf > b.maxExtendedLeaf)
    out.push({ severity: 'likely', text: `A's guest saw extended leaves up to ${hex(a.maxExtendedLeaf)}, B's only up to ${hex(b.maxExtendedLeaf)}` });
  const missing: CompatResult['missingFeatures'] = [];
  for (const f of a.features.values()) {
    if (b.features.has(f.name)) continue;
    if (SPECIAL.has(f.name)) {
      out.push({ severity: 'note', text: `${f.name} (${f.doc}) is in A's policy only; Xen sets it itself (a special bit), not a host capability` });
      continue;
    }
    missing.push({ name: f.name, doc: f.doc, where: f.where });
  }
  if (missing.length)
    out.push({
      severity: sameKind ? 'likely' : 'note',
      text: `A's guest may be using ${missing.length} feature(s) B's guest was not offered: ${missing.map((f) => `${f.name} (${f.doc})`).join(', ')}${sameKind ? '' : ' (a guest of the other type: not comparable)'}`,
    });
  const extra = [...b.features.keys()].filter((n) => !a.features.has(n));
  if (extra.length)
    out.push({ severity: 'note', text: `B's guest was offered ${extra.length} feature(s) A's was not (harmless for A's guest): ${extra.join(' ')}` });
  return missing;
}

export function compatibility(a: SaveFacts, b: SaveFacts): CompatResult {
  const findings: CompatFinding[] = [];
  xenFindings(a, b, findings);
  const sameKind = !a.domainType || !b.domainType || a.domainType === b.domainType;
  if (!sameKind)
    findings.push({
      severity: 'note',
      text: `A is an ${a.domainType} guest, B an ${b.domainType} one: Xen offers different features to each, so B's policy understates what B's host offers A`,
    });
  let missingFeatures: CompatResult['missingFeatures'] = [];
  if (a.cpu && b.cpu) missingFeatures = cpuFindings(a.cpu, b.cpu, sameKind, findings);
  else findings.push({ severity: 'note', text: `${a.cpu ? 'B' : 'A'} carries no CPUID policy (a v2 stream): the CPUs cannot be compared` });
  // Xen's own compatibility check looks at this MSR bit besides the feature words.
  const faulting = (f: SaveFacts) => ((f.platformInfo ?? 0n) & CPUID_FAULTING) !== 0n;
  if (faulting(a) && !faulting(b))
    findings.push({
      severity: sameKind ? 'likely' : 'note',
      text: "A's guest was offered CPUID faulting (MSR_INTEL_PLATFORM_INFO bit 31), B's was not",
    });
  const verdict = findings.some((f) => f.severity !== 'note') ? 'no' : a.cpu && b.cpu && sameKind ? 'yes' : 'unknown';
  return { verdict, a, b, findings, missingFeatures };
}

function factsLine(name: string, f: SaveFacts): string {
  const cpu = f.cpu
    ? `${f.cpu.vendor} family ${f.cpu.family} model ${f.cpu.model} stepping ${f.cpu.stepping}, ${f.cpu.features.size} features`
    : 'no CPUID policy';
  return `${name}: ${f.domainType ?? '?'} guest, ${xenText(f.xen)}, stream v${f.streamVersion ?? '?'}, ${cpu}${f.hasMsrPolicy ? ', MSR policy' : ''}`;
}

const VERDICTS = {
  yes: 'yes, as far as the saves tell: A needs nothing B was not offered',
  no: 'probably not',
  unknown: 'cannot tell',
} as const;

export function renderCompatText(nameA: string, nameB: string, r: CompatResult): string {
  const out = [
    `A: ${nameA}`,
    `B: ${nameB}`,
    factsLine('A', r.a),
    factsLine('B', r.b),
    '',
    `can A's guest be restored where B was saved? ${VERDICTS[r.verdict]}`,
  ];
  for (const f of r.findings) out.push(`  ${f.severity}: ${f.text}`);
  out.push('', "(B's policy is what B's guest was offered, not all B's host has: a feature missing from it is likely, not certainly, missing from the host.)");
  return `${out.join('\n')}\n`;
}

export function compatJson(r: CompatResult): object {
  const facts = (f: SaveFacts) => ({
    ...f,
    cpu: f.cpu ? { ...f.cpu, features: [...f.cpu.features.keys()] } : undefined,
    platformInfo: f.platformInfo === undefined ? undefined : `0x${f.platformInfo.toString(16)}`,
  });
  return { ...r, a: facts(r.a), b: facts(r.b) };
}
