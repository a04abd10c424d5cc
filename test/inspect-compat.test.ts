/** `compat A B`: Xen versions and CPUID/MSR policies of two saves compared, and what that cannot tell. */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLibxcDomainHeader } from '../src/codec/index.js';
import type { CpuidLeaf } from '../src/codec/bodies/x86-common.js';
import { compatibility, saveFacts } from '../src/inspect/compat.js';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import * as B from './support/build.js';

const leaf = (l: number, s: number, b = 0, d = 0): CpuidLeaf => ({ leaf: l, subleaf: s, a: l === 0 ? 7 : 0, b, c: 0, d });
const INTEL = [0x756e6547, 0x49656e69]; // "Genu" "ineI" (b, d); c = "ntel"

function save(opts: { ebx7?: number; xenMinor?: number; policy?: boolean; domainType?: 1 | 2; vendorB?: number; platformInfo?: bigint } = {}): Uint8Array {
  const leaves = [{ ...leaf(0, 0xffffffff, opts.vendorB ?? INTEL[0], INTEL[1]), c: 0x6c65746e }, leaf(7, 0, opts.ebx7 ?? 0)];
  const domain = encodeLibxcDomainHeader({ domainType: opts.domainType ?? 2, pageShift: 12, reserved: 0, xenMajor: 4, xenMinor: opts.xenMinor ?? 17 });
  return B.concat([
    B.libxlHeader(),
    B.rec('libxl', 'LIBXC_CONTEXT'),
    B.imageHeader(opts.policy === false ? 2 : 3),
    domain,
    ...(opts.policy === false ? [] : [B.rec('libxc', 'X86_CPUID_POLICY', { kind: 'cpuid-policy', leaves })]),
    ...(opts.platformInfo === undefined
      ? []
      : [B.rec('libxc', 'X86_MSR_POLICY', { kind: 'msr-policy', entries: [{ idx: 0xce, flags: 0, val: opts.platformInfo }] })]),
    ...(opts.policy === false ? [] : [B.rec('libxc', 'STATIC_DATA_END')]),
    B.pageData([0, 1]),
    B.tscInfo(),
    B.hvmContext(),
    B.hvmParams(),
    B.rec('libxc', 'END'),
    B.rec('libxl', 'END'),
  ]);
}

const compat = async (a: Uint8Array, b: Uint8Array) => compatibility(await saveFacts(a), await saveFacts(b));

describe('compat', () => {
  it('the same policy and Xen: yes', async () => {
    const r = await compat(save({ ebx7: 1 << 16 }), save({ ebx7: (1 << 16) | (1 << 5) }));
    expect(r.verdict).toBe('yes');
    expect(r.a.cpu?.vendor).toBe('GenuineIntel');
    expect(r.findings.map((f) => f.severity)).toEqual(['note']); // B offers avx2 on top: harmless
  });

  it("a feature A's guest was shown that B's was not: probably not, named in words", async () => {
    const r = await compat(save({ ebx7: 1 << 16 }), save());
    expect(r.verdict).toBe('no');
    expect(r.missingFeatures).toEqual([{ name: 'avx512f', doc: 'AVX-512 Foundation Instructions', where: 'CPUID 0x7.0 ebx bit 16' }]);
    expect(r.findings[0]).toEqual({
      severity: 'likely',
      text: "A's guest may be using 1 feature(s) B's guest was not offered: avx512f (AVX-512 Foundation Instructions)",
    });
  });

  it('a newer Xen cannot be restored on an older one; a v2 save tells nothing about the CPU', async () => {
    const newer = await compat(save({ xenMinor: 18 }), save());
    expect(newer.verdict).toBe('no');
    expect(newer.findings.some((f) => f.severity === 'blocker' && f.text.includes('Xen 4.18'))).toBe(true);
    const v2 = await compat(save({ policy: false }), save());
    expect(v2.verdict).toBe('unknown');
    expect(v2.a.cpu).toBeUndefined();
    const faulting = await compat(save({ platformInfo: 1n << 31n }), save({ platformInfo: 0n }));
    expect(faulting.verdict).toBe('no');
    expect(faulting.findings[0].text).toContain('CPUID faulting (MSR_INTEL_PLATFORM_INFO bit 31)');
    expect(faulting.a.hasMsrPolicy).toBe(true);
    const vendors = await compat(save(), save({ vendorB: 0x68747541 }));
    expect(vendors.findings.some((f) => f.text.startsWith('CPU vendor differs'))).toBe(true);
  });
});

describe('compat on the real Xen 4.17.5 saves (their first 64 KiB: the policies come before the pages)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compat-'));
  const files: Record<string, string> = {};
  beforeAll(async () => {
    await ensureCliBuilt();
    for (const name of ['hvm128', 'pv128', 'pvh128']) {
      const chunks: Buffer[] = [];
      let got = 0;
      const gunzip = createReadStream(join(import.meta.dirname, `../fixtures/xen-4.17/${name}-save.bin.gz`)).pipe(createGunzip());
      for await (const c of gunzip) {
        chunks.push(c as Buffer);
        got += (c as Buffer).length;
        if (got >= 65536) break;
      }
      gunzip.destroy();
      files[name] = join(dir, `${name}.bin`);
      writeFileSync(files[name], Buffer.concat(chunks).subarray(0, 65536));
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("HVM onto the PVH save's host: yes (exit 0); onto the PV one: cannot tell (exit 1)", async () => {
    const yes = await runCli(['compat', files.hvm128, files.pvh128]);
    expect(yes.code).toBe(0);
    expect(yes.out).toContain("can A's guest be restored where B was saved? yes, as far as the saves tell");
    const pv = await runCli(['compat', files.hvm128, files.pv128, '--json']);
    expect(pv.code).toBe(1);
    const j = JSON.parse(pv.out) as { verdict: string; a: { platformInfo: string; cpu: { vendor: string; features: string[] } } };
    expect(j.a.platformInfo).toBe('0x80000000');
    expect(j.verdict).toBe('unknown');
    expect(j.a.cpu.vendor).toBe('AuthenticAMD');
    expect(j.a.cpu.features).toContain('sse2');
  });
});
