/**
 * The decoded machine state through the real executable: `dump` text shows vCPU registers (and with
 * --machine every HVM save entry's and PV vCPU record's fields), and an edit of one decoded field in
 * `dump -f json` changes exactly that field's bytes when `encode`d.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, ROOT, runCli } from './support/cli-run.js';
import { simplePv } from './support/cli-streams.js';

const FIX = join(ROOT, 'fixtures/xen-4.17');
let dir: string;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-machine-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dump text: the saved machine', () => {
  it('PVH HVM_CONTEXT: the CPU entry as a register block; --machine adds every entry, the LAPIC page as named registers', async () => {
    const plain = await runCli(['dump', join(FIX, 'pvh128-save.bin.gz'), '-r', 'HVM_CONTEXT']);
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('CPU[0] (hvm_hw_cpu, 1,032 bytes):');
    expect(plain.out).toMatch(/rip 0xffffffff81a38a43 {2}flags 0x2\n/);
    expect(plain.out).toMatch(/cr0 0x80050033 \[PE MP ET NE WP AM PG\]/);
    expect(plain.out).not.toContain('LAPIC_REGS[0] (');
    const full = await runCli(['dump', join(FIX, 'pvh128-save.bin.gz'), '-r', 'HVM_CONTEXT', '--machine']);
    expect(full.code).toBe(0);
    expect(full.out).toContain('LAPIC_REGS[0] (hvm_hw_lapic_regs):');
    expect(full.out).toMatch(/ version +0x50014\n/);
    expect(full.out).toMatch(/ svr +0xff\n/);
    expect(full.out).not.toMatch(/msr_mtrr_fixed/); // all zero: hidden
    expect(full.out).toMatch(/msr_efer +0xd01 \[SCE LME LMA NXE\]/);
    expect(full.out).toContain('types: PAT WB WT UC- UC WB WT UC- UC');
  });

  it('PV X86_PV_VCPU_BASIC: registers always; --machine shows the virtual IDT with repeated entries collapsed', async () => {
    const plain = await runCli(['dump', join(FIX, 'pv128-save.bin.gz'), '-r', 'X86_PV_VCPU_BASIC,X86_PV_VCPU_EXTENDED']);
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(/rip 0xffffffff81a39075 {2}flags 0x1206 \[PF IF\]/);
    expect(plain.out).toContain('cr3 0x5062000 (frame 0x5062)');
    const full = await runCli(['dump', join(FIX, 'pv128-save.bin.gz'), '-r', 'X86_PV_VCPU_BASIC,X86_PV_VCPU_EXTENDED', '--machine']);
    expect(full.out).toContain('vcpu_guest_context_x86_64:');
    expect(full.out).toMatch(/\[14\] +vector 14, flags 0x4, cs 0x13, address 0xffffffff8102/);
    expect(full.out).toMatch(/\[130–255\] +same as \[129\]/);
    expect(full.out).toContain('xen_domctl_ext_vcpucontext:');
    expect(full.out).toMatch(/syscall32_callback_eip +0xffffffff81027f10/);
  });
});

describe('dump -f json → edit a decoded field → encode', () => {
  it('changes exactly the edited field’s bytes; the unedited document encodes byte for byte', async () => {
    const input = join(dir, 'pv.bin');
    const original = simplePv().bytes;
    writeFileSync(input, original);
    const doc = join(dir, 'pv.json');
    expect((await runCli(['dump', input, '-f', 'json', '-o', doc])).code).toBe(0);
    const json = JSON.parse(readFileSync(doc, 'utf8'));
    const item = json.items.find((i: { name?: string }) => i.name === 'X86_PV_VCPU_BASIC');
    expect(item.body.layout).toBe('vcpu_guest_context_x86_64');
    expect(item.body.context.length).toBeGreaterThan(0); // the raw bytes stay next to the fields
    const same = join(dir, 'same.bin');
    expect((await runCli(['encode', doc, '-o', same])).code).toBe(0);
    expect(Buffer.from(readFileSync(same)).equals(Buffer.from(original))).toBe(true);

    item.body.fields.user_regs.rip = '0xffffffff81000000';
    writeFileSync(doc, JSON.stringify(json));
    const edited = join(dir, 'edited.bin');
    expect((await runCli(['encode', doc, '-o', edited])).code).toBe(0);
    const out = readFileSync(edited);
    expect(out.length).toBe(original.length);
    const changed = [...out.keys()].filter((i) => out[i] !== original[i]);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed[changed.length - 1] - changed[0]).toBeLessThan(8); // within rip's 8 bytes
    const text = await runCli(['dump', edited, '-r', 'X86_PV_VCPU_BASIC']);
    expect(text.out).toMatch(/rip 0xffffffff81000000/);
  });
});
