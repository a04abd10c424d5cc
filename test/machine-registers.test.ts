/**
 * vCPU contexts decoded from their tables (hvm_hw_cpu, vcpu_guest_context 64/32) and the
 * general registers read from them, checked against the real Xen 4.17 saves in fixtures/xen-4.17
 * and against hand-made 32-bit and compat contexts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStreamSync, type RecordItem } from '../src/reader/index.js';
import { hvmContextEntries } from '../src/codec/bodies/x86-common.js';
import type { VcpuBody } from '../src/codec/bodies/x86-pv.js';
import type { OpaqueBody } from '../src/codec/bodies/simple.js';
import { layoutCodec } from '../src/codec/layout-codec.js';
import { decodeHvmCpu, decodePvVcpuContext } from '../src/codec/machine/vcpu-context.js';
import { vcpuRegisters } from '../src/codec/machine/registers.js';
import { HVM_HW_CPU, HVM_HW_CPU_COMPAT } from '../src/format/layouts/hvm-cpu.js';
import { VCPU_GUEST_CONTEXT_X86_32, VCPU_GUEST_CONTEXT_X86_64 } from '../src/format/layouts/pv-vcpu.js';

const DIR = join(import.meta.dirname, '../fixtures/xen-4.17');

function records(name: string): RecordItem[] {
  const bytes = gunzipSync(readFileSync(join(DIR, `${name}.bin.gz`)));
  return [...readStreamSync(bytes)].filter((i): i is RecordItem => i.kind === 'record');
}

function hvmBlob(items: RecordItem[]): Uint8Array {
  const rec = items.find((r) => r.record.name === 'HVM_CONTEXT');
  if (!rec) throw new Error('no HVM_CONTEXT');
  return (rec.record.body as OpaqueBody).data;
}

const KERNEL_TEXT = 0xffffffff80000000n;
const GUEST_PFNS = 128n * 256n; // 128 MiB guests

describe('vCPU registers of the real Xen 4.17 saves', () => {
  let pv: RecordItem[];
  let pvh: RecordItem[];
  beforeAll(() => {
    pv = records('pv128-save');
    pvh = records('pvh128-save');
  });

  it('PV 64-bit X86_PV_VCPU_BASIC: vcpu_guest_context_x86_64, rip in the kernel, cr3 a guest pfn, in kernel mode', () => {
    const rec = pv.find((r) => r.record.name === 'X86_PV_VCPU_BASIC');
    if (!rec) throw new Error('no X86_PV_VCPU_BASIC');
    const body = rec.record.body as VcpuBody;
    expect(body.context.length).toBe(VCPU_GUEST_CONTEXT_X86_64.size);
    const ctx = decodePvVcpuContext(body.context, 8);
    expect(ctx?.kind).toBe('pv-64');
    if (ctx?.kind !== 'pv-64') return;
    const regs = vcpuRegisters(ctx);
    expect(regs.width).toBe(64);
    expect(regs.rip >= KERNEL_TEXT).toBe(true);
    expect(regs.rsp >= 0xffff800000000000n).toBe(true);
    expect(regs.cs & 3).toBe(3); // a 64-bit PV kernel runs in ring 3
    expect(regs.cr3 & 0xfffn).toBe(0n);
    expect(regs.cr3Frame > 0n && regs.cr3Frame < GUEST_PFNS).toBe(true);
    expect(regs.cr0 & 0x80000001n).toBe(0x80000001n); // PG and PE
    expect(ctx.value.flags & 0x24n).toBe(0x24n); // VGCF_in_kernel | VGCF_online
    expect(regs.gs_base).toBe(ctx.value.gs_base_kernel);
    // The virtual IDT: vector i at slot i, handlers in the kernel.
    expect(ctx.value.trap_ctxt[14].vector).toBe(14);
    expect(ctx.value.trap_ctxt[14].address >= KERNEL_TEXT).toBe(true);
    // decode → encode gives the same bytes
    expect(Buffer.from(layoutCodec(VCPU_GUEST_CONTEXT_X86_64).encode(ctx.value)).equals(Buffer.from(body.context))).toBe(true);
  });

  it('PVH HVM_CONTEXT CPU entry: hvm_hw_cpu in long mode, rip in the kernel, cr3 inside guest memory', () => {
    const blob = hvmBlob(pvh);
    const cpu = hvmContextEntries(blob).entries.find((e) => e.typecode === 2);
    if (!cpu) throw new Error('no CPU entry');
    expect(cpu.data.length).toBe(HVM_HW_CPU.size);
    const ctx = decodeHvmCpu(cpu.data);
    expect(ctx?.kind).toBe('hvm-cpu');
    if (ctx?.kind !== 'hvm-cpu') return;
    const regs = vcpuRegisters(ctx);
    expect(regs.rip >= KERNEL_TEXT).toBe(true);
    expect(regs.cs).toBe(0x10);
    expect(ctx.value.msr_efer & 0x500n).toBe(0x500n); // LME | LMA
    expect(regs.cr3Frame > 0n && regs.cr3Frame < GUEST_PFNS).toBe(true);
    expect(regs.gs_base >= 0xffff800000000000n).toBe(true);
    expect(ctx.value.flags).toBe(1); // fpu_initialised
    expect(Buffer.from(layoutCodec(HVM_HW_CPU).encode(ctx.value)).equals(Buffer.from(cpu.data))).toBe(true);
  });

  it('HVM (SeaBIOS) CPU entry: real mode at the BIOS segment', () => {
    const hvm = records('hvm128-save');
    const blob = hvmBlob(hvm);
    const cpu = hvmContextEntries(blob).entries.find((e) => e.typecode === 2);
    const ctx = decodeHvmCpu(cpu?.data ?? new Uint8Array());
    if (!ctx) throw new Error('no CPU entry');
    const regs = vcpuRegisters(ctx);
    expect(regs.cr0 & 1n).toBe(0n);
    expect(regs.cs).toBe(0xf000);
  });
});

describe('vCPU registers of hand-made contexts', () => {
  it('a 32-bit PV guest: registers zero-extended, cr3 pfn un-rotated (xen_cr3_to_pfn)', () => {
    const c32 = layoutCodec(VCPU_GUEST_CONTEXT_X86_32);
    const v = c32.decode(new Uint8Array(VCPU_GUEST_CONTEXT_X86_32.size));
    v.user_regs.eip = 0xc0100000;
    v.user_regs.eax = 0xdeadbeef;
    v.user_regs.cs = 0xe019;
    const pfn = 0x1234567; // above 20 bits: the top bits go to cr3's low 12
    v.ctrlreg[3] = ((pfn << 12) | (pfn >>> 20)) >>> 0;
    const bytes = c32.encode(v);
    expect(bytes.length).toBe(2800);
    const ctx = decodePvVcpuContext(bytes);
    expect(ctx?.kind).toBe('pv-32');
    if (!ctx) return;
    const regs = vcpuRegisters(ctx);
    expect(regs).toMatchObject({ width: 32, rip: 0xc0100000n, rax: 0xdeadbeefn, cs: 0xe019, r8: 0n, cr3Frame: BigInt(pfn) });
    expect(decodePvVcpuContext(bytes, 8)).toBeUndefined(); // a 64-bit guest's context is 5168 bytes
  });

  it('a pre-3.4 compat CPU entry (1016 bytes) and a zero-extended 1024-byte one', () => {
    const compat = layoutCodec(HVM_HW_CPU_COMPAT);
    const v = compat.decode(new Uint8Array(HVM_HW_CPU_COMPAT.size));
    v.rip = 0xffffffff81000000n;
    v.tsc = 12345n;
    const ctx = decodeHvmCpu(compat.encode(v));
    expect(ctx?.kind).toBe('hvm-cpu-compat');
    if (!ctx) return;
    expect(vcpuRegisters(ctx).rip).toBe(0xffffffff81000000n);
    const full = layoutCodec(HVM_HW_CPU).encode({ ...layoutCodec(HVM_HW_CPU).decode(new Uint8Array(1032)), rip: 0x1000n, flags: 1 });
    const short = decodeHvmCpu(full.subarray(0, 1024));
    expect(short?.kind).toBe('hvm-cpu');
    if (short?.kind === 'hvm-cpu') {
      expect(vcpuRegisters(short).rip).toBe(0x1000n);
      expect(short.value.flags).toBe(0); // zero-extended, as Xen reads it
    }
  });
});
