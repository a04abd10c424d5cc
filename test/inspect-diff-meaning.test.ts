/** `diff` by meaning: records paired by identity, field-level differences, page runs. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CpuidLeaf } from '../src/codec/bodies/x86-common.js';
import { diffStreams } from '../src/inspect/diff.js';
import { diffJson, renderDiffText } from '../src/inspect/diff-text.js';
import * as B from './support/build.js';

const leaf = (l: number, s: number, b = 0): CpuidLeaf => ({ leaf: l, subleaf: s, a: l === 0 ? 7 : 0, b, c: 0, d: 0 });
const cpuid = (ebx7: number) => B.rec('libxc', 'X86_CPUID_POLICY', { kind: 'cpuid-policy', leaves: [leaf(0, 0xffffffff), leaf(7, 0, ebx7)] });
const msr = () => B.rec('libxc', 'X86_MSR_POLICY', { kind: 'msr-policy', entries: [{ idx: 0x10a, flags: 0, val: 0n }] });

function hvm(opts: { ebx7?: number; msr?: boolean; pageVersions?: number[]; tscKhz?: number } = {}): Uint8Array {
  const pages = [...Array(10).keys()];
  const v = opts.pageVersions ?? pages.map(() => 0);
  return B.concat([
    B.xlHeader(),
    B.libxlHeader(),
    B.rec('libxl', 'LIBXC_CONTEXT'),
    B.imageHeader(),
    B.domainHeader(2),
    cpuid(opts.ebx7 ?? 1 << 16),
    ...(opts.msr === false ? [] : [msr()]),
    B.rec('libxc', 'STATIC_DATA_END'),
    ...pages.map((p) => B.pageData([p], v[p])),
    B.rec('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: opts.tscKhz ?? 2_000_000, nsec: 0n, incarnation: 0, reserved: 0 }),
    B.hvmContext(),
    B.hvmParams(),
    B.rec('libxc', 'END'),
    B.emulatorContext(),
    B.rec('libxl', 'END'),
  ]);
}

describe('diff by meaning', () => {
  it('a record missing from B is reported once; everything after it still pairs up', async () => {
    const r = await diffStreams(hvm(), hvm({ msr: false }));
    expect(r.same).toBe(false);
    expect(r.onlyInA.map((x) => x.identity)).toEqual(['libxc X86_MSR_POLICY']);
    expect(r.onlyInB).toEqual([]);
    expect(r.recordDifferenceCount).toBe(0);
    expect(r.pageDifferenceCount).toBe(0);
    const text = renderDiffText('a', 'b', r);
    expect(text).toContain('summary: 1 only in A; pages: the same');
    expect(text.match(/only in A: /g)).toHaveLength(1);
    // The other way round: inserted in B.
    const back = await diffStreams(hvm({ msr: false }), hvm());
    expect(back.onlyInB.map((x) => x.identity)).toEqual(['libxc X86_MSR_POLICY']);
    expect(back.recordDifferenceCount).toBe(0);
  });

  it('field-level differences: a CPUID feature by name, a layout field old → new', async () => {
    const r = await diffStreams(hvm({ tscKhz: 3_000_000 }), hvm({ ebx7: 1 << 5 }));
    expect(r.recordDifferenceCount).toBe(2);
    const byIdentity = Object.fromEntries(r.recordDifferences.map((d) => [d.identity, d.fields.map((f) => `${f.path}: ${f.text}`)]));
    expect(byIdentity['libxc X86_CPUID_POLICY']).toEqual(['CPUID 0x7.0 ebx: avx2 absent in A, present in B; avx512f present in A, absent in B']);
    expect(byIdentity['libxc X86_TSC_INFO']).toEqual(['X86_TSC_INFO khz: 3000000 kHz → 2000000 kHz']);
    const text = renderDiffText('a', 'b', r);
    expect(text).toMatch(/^summary: 2 records differ \(2 fields\); pages: the same$/m);
    expect(text).toContain('    CPUID 0x7.0 ebx: avx2 absent in A, present in B; avx512f present in A, absent in B');
  });

  it('pages that differ are runs of pfns with counts, in text and JSON', async () => {
    const versions = [0, 0, 0, 1, 1, 1, 1, 0, 0, 1];
    const r = await diffStreams(hvm(), hvm({ pageVersions: versions }));
    expect(r.pageDifferences.map((p) => [p.pfn, p.last, p.count, p.what])).toEqual([
      [3, 6, 4, 'content differs'],
      [9, 9, 1, 'content differs'],
    ]);
    expect(r.pagesDiffering).toBe(5);
    expect(r.recordDifferenceCount).toBe(0);
    const text = renderDiffText('a', 'b', r);
    expect(text).toContain('  pfns 0x3–0x6 (4): content differs (NOTAB / NOTAB)');
    expect(text).toContain('  pfn 0x9: content differs (NOTAB / NOTAB)');
    const j = JSON.parse(JSON.stringify(diffJson(r))) as { pageRunCount: number; onlyInA: unknown[]; recordDifferences: unknown[] };
    expect(j.pageRunCount).toBe(2);
    expect(j.onlyInA).toEqual([]);
  });

  it('past the detail budget a differing record is compared by hash only, and said so', async () => {
    const r = await diffStreams(hvm(), hvm({ ebx7: 0 }), { detailBudget: 0 });
    expect(r.recordDifferences).toHaveLength(1);
    expect(r.recordDifferences[0].notKept).toBe(true);
    expect(renderDiffText('a', 'b', r)).toContain('differ (past the detail budget: compared by hash only)');
  });
});

describe('diff by meaning on two real Xen 4.17.5 saves (HVM and PVH, gzip read as it comes)', () => {
  it('the PVH save lacks EMULATOR_CONTEXT: reported once; the policies pair up the same; pages as runs', async () => {
    const dir = join(import.meta.dirname, '../fixtures/xen-4.17');
    const r = await diffStreams(join(dir, 'hvm128-save.bin.gz'), join(dir, 'pvh128-save.bin.gz'), { maxListed: 5 });
    expect(r.onlyInA.map((x) => x.identity)).toEqual(['libxl EMULATOR_CONTEXT']);
    expect(r.onlyInB).toEqual([]);
    const differing = r.recordDifferences.map((d) => d.identity);
    expect(differing).toEqual(['xl header', 'libxc X86_TSC_INFO', 'libxc HVM_CONTEXT', 'libxc HVM_PARAMS']);
    expect(differing).not.toContain('libxc X86_CPUID_POLICY'); // the same CPU, the same guest type
    const tsc = r.recordDifferences.find((d) => d.identity === 'libxc X86_TSC_INFO');
    expect(tsc?.fields.map((f) => f.path)).toContain('X86_TSC_INFO nsec');
    expect(r.pageRunCount).toBeLessThan(r.pageDifferenceCount);
    expect(r.pageDifferences).toHaveLength(5);
  }, 120_000);
});
