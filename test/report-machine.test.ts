/** The report's "machine" section: vCPU registers and decoded device state of the real Xen 4.17 saves. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../src/report/index.js';
import { concat, libxlHeader, rec, xlHeader } from './support/build.js';

const FIX = join(import.meta.dirname, '../fixtures/xen-4.17');

describe('report: machine section', () => {
  it('PVH save: the vCPU from the HVM CPU entry, its LAPIC page and MTRRs among the devices', async () => {
    const { data, html } = await buildReport(join(FIX, 'pvh128-save.bin.gz'));
    expect(data.machine.vcpus.map((v) => v.title)).toEqual(['HVM_CONTEXT CPU[0]']);
    expect(data.machine.vcpus[0].lines.join('\n')).toContain('rip 0xffffffff81a38a43');
    const devices = data.machine.devices.map((d) => d.title);
    expect(devices).toContain('HVM_CONTEXT LAPIC_REGS[0]');
    expect(devices).toContain('HVM_CONTEXT MTRR[0]');
    expect(data.machine.devices.find((d) => d.title === 'HVM_CONTEXT LAPIC_REGS[0]')?.lines.join('\n')).toMatch(/version +0x50014/);
    expect(html).toContain('<section id="machine"><h2>Machine</h2>');
    expect(html).toContain('<a href="#machine">machine</a>');
    expect(html).toContain('<summary>HVM_CONTEXT LAPIC_REGS[0]</summary>');
  });

  it('PV save: the vCPU from X86_PV_VCPU_BASIC, EXTENDED among the per-vCPU state', async () => {
    const { data } = await buildReport(join(FIX, 'pv128-save.bin.gz'));
    expect(data.machine.vcpus.map((v) => v.title)).toEqual(['X86_PV_VCPU_BASIC[0]']);
    expect(data.machine.vcpus[0].lines.join('\n')).toContain('cr3 0x5062000 (frame 0x5062)');
    expect(data.machine.devices.map((d) => d.title)).toEqual(['X86_PV_VCPU_EXTENDED[0]']);
  });

  it('HVM save: the CPU the guest was shown, from its CPUID and MSR policies, features by name', async () => {
    const { data, html } = await buildReport(join(FIX, 'hvm128-save.bin.gz'));
    const titles = data.machine.cpu.map((p) => p.title);
    expect(titles).toHaveLength(2);
    expect(titles[0]).toMatch(/^X86_CPUID_POLICY: 51 leaves: "AuthenticAMD" "QEMU Virtual CPU version 2\.5\+" family 15 .*model 107 .*stepping 1/);
    expect(titles[1]).toMatch(/^X86_MSR_POLICY/);
    expect(data.machine.cpu[0].lines.join('\n')).toMatch(/\bsse2\b/);
    expect(html).toContain('<h3>CPU policy</h3>');
  });

  it('a stream without machine state says so', async () => {
    const bytes = concat([xlHeader(), libxlHeader(), rec('libxl', 'END')]);
    const { data, html } = await buildReport(bytes);
    expect(data.machine).toEqual({ vcpus: [], cpu: [], devices: [], omitted: 0 });
    expect(html).toContain('No vCPU, CPU policy or HVM device state in this stream');
  });
});
