/**
 * The report's "machine" section: each saved vCPU's registers, the CPU the
 * guest was shown (CPUID and MSR policies, features by name), and the
 * decoded device state (HVM save entries other than CPU, PV vCPU records
 * other than BASIC), as text lines gathered while the stream is read, within
 * fixed limits so a stream with many vCPUs stays a bounded report.
 */
import type { StreamRecord } from '../codec/records.js';
import { decodeHvmEntries } from '../codec/machine/hvm-entries.js';
import { pvVcpuLayout } from '../codec/machine/entry-layouts.js';
import { decodeStruct } from '../codec/machine/struct.js';
import { decodeHvmCpu, decodePvVcpuContext } from '../codec/machine/vcpu-context.js';
import { vcpuRegisters } from '../codec/machine/registers.js';
import { hvmEntryFieldLines, registersText } from '../inspect/machine-text.js';
import { layoutText } from '../inspect/layout-text.js';
import { cpuidPolicyText, msrPolicyText } from '../inspect/policy-text.js';

export interface MachinePart {
  /** e.g. 'HVM_CONTEXT CPU[0]', 'X86_PV_VCPU_BASIC[0]', 'HVM_CONTEXT LAPIC_REGS[1]'. */
  title: string;
  lines: string[];
}

export interface MachineSection {
  vcpus: MachinePart[];
  /** X86_CPUID_POLICY and X86_MSR_POLICY: vendor, family/model/stepping, feature bits and MSRs by name. */
  cpu: MachinePart[];
  devices: MachinePart[];
  /** Parts left out past the limits. */
  omitted: number;
}

const MAX_PARTS = 256;
const MAX_LINES = 400;

export class MachineCollector {
  private readonly vcpus: MachinePart[] = [];
  private readonly cpu: MachinePart[] = [];
  private readonly devices: MachinePart[] = [];
  private omitted = 0;

  private add(list: MachinePart[], title: string, lines: string[]): void {
    if (this.vcpus.length + this.cpu.length + this.devices.length >= MAX_PARTS) {
      this.omitted++;
      return;
    }
    list.push({ title, lines: lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `… (+${lines.length - MAX_LINES} more lines)`] : lines });
  }

  onRecord(rec: StreamRecord): void {
    const body = rec.body;
    if (body.kind === 'opaque' && rec.name === 'HVM_CONTEXT') {
      for (const e of decodeHvmEntries(body.data).entries) {
        if (e.typecode === 0) continue;
        const title = `HVM_CONTEXT ${e.name}[${e.instance}]`;
        const cpu = e.typecode === 2 ? decodeHvmCpu(e.data) : undefined;
        if (cpu) this.add(this.vcpus, title, registersText(vcpuRegisters(cpu)));
        else this.add(this.devices, title, hvmEntryFieldLines(e));
      }
      return;
    }
    if (body.kind === 'cpuid-policy' || body.kind === 'msr-policy') {
      // Every leaf and MSR shown (the part's line limit still bounds a huge policy).
      const text = body.kind === 'cpuid-policy' ? cpuidPolicyText(body, MAX_LINES) : msrPolicyText(body, MAX_LINES);
      this.add(this.cpu, `${rec.name}: ${text.summary}`, text.details);
      return;
    }
    if (body.kind !== 'vcpu') return;
    const title = `${rec.name}[${body.vcpuId}]`;
    const ctx = rec.name === 'X86_PV_VCPU_BASIC' ? decodePvVcpuContext(body.context) : undefined;
    if (ctx) {
      this.add(this.vcpus, title, registersText(vcpuRegisters(ctx)));
      return;
    }
    const layout = pvVcpuLayout(rec.name, body.context.length);
    if (layout) this.add(this.devices, title, layoutText(layout, decodeStruct(layout, body.context).value, { hideZero: true, compactArrays: true }));
  }

  build(): MachineSection {
    return { vcpus: this.vcpus, cpu: this.cpu, devices: this.devices, omitted: this.omitted };
  }
}
