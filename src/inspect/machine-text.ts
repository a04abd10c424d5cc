/**
 * Decoded machine state in words, for `dump` text: a vCPU's registers as an
 * aligned block, and (with `machine`) every HVM save entry and PV vCPU
 * record field from its layout table, zero fields hidden, repeated array
 * elements collapsed, the LAPIC page as its named registers.
 */
import type { StreamRecord } from '../codec/records.js';
import { decodeHvmEntries, type HvmEntry } from '../codec/machine/hvm-entries.js';
import { pvVcpuLayout } from '../codec/machine/entry-layouts.js';
import { decodeStruct } from '../codec/machine/struct.js';
import { decodeHvmCpu, decodePvVcpuContext } from '../codec/machine/vcpu-context.js';
import { vcpuRegisters, type VcpuRegisters } from '../codec/machine/registers.js';
import { CR0_BITS, CR4_BITS, RFLAGS_BITS } from '../format/layouts/x86-bits.js';
import type { HVM_HW_MTRR } from '../format/layouts/hvm-devices.js';
import type { LayoutValue } from '../format/layout.js';
import { layoutText } from './layout-text.js';
import { grouped, hex } from './text-format.js';

function flags(v: bigint, bits: Readonly<Record<number, string>>): string {
  const names = Object.entries(bits)
    .filter(([bit]) => (v >> BigInt(bit)) & 1n)
    .map(([, name]) => name);
  return names.length ? ` [${names.join(' ')}]` : '';
}

/** Registers as rows of aligned `name value` cells (64-bit values at full width, so columns line up). */
export function registersText(r: VcpuRegisters): string[] {
  const w = r.width === 64 ? 16 : 8;
  const v = (name: string, x: bigint) => `${name.padStart(3)} ${hex(x, w)}`;
  const gpr: Array<[string, bigint]> =
    r.width === 64
      ? [
          ['rax', r.rax],
          ['rbx', r.rbx],
          ['rcx', r.rcx],
          ['rdx', r.rdx],
          ['rsi', r.rsi],
          ['rdi', r.rdi],
          ['rbp', r.rbp],
          ['rsp', r.rsp],
          ['r8', r.r8],
          ['r9', r.r9],
          ['r10', r.r10],
          ['r11', r.r11],
          ['r12', r.r12],
          ['r13', r.r13],
          ['r14', r.r14],
          ['r15', r.r15],
        ]
      : [
          ['eax', r.rax],
          ['ebx', r.rbx],
          ['ecx', r.rcx],
          ['edx', r.rdx],
          ['esi', r.rsi],
          ['edi', r.rdi],
          ['ebp', r.rbp],
          ['esp', r.rsp],
        ];
  const lines: string[] = [];
  for (let i = 0; i < gpr.length; i += 4)
    lines.push(
      gpr
        .slice(i, i + 4)
        .map(([n, x]) => v(n, x))
        .join('  '),
    );
  lines.push(`${v(r.width === 64 ? 'rip' : 'eip', r.rip)}  flags ${hex(r.rflags)}${flags(r.rflags, RFLAGS_BITS)}`);
  lines.push(`cs ${hex(r.cs, 4)}  ss ${hex(r.ss, 4)}  ds ${hex(r.ds, 4)}  es ${hex(r.es, 4)}  fs ${hex(r.fs, 4)}  gs ${hex(r.gs, 4)}`);
  if (r.width === 64) lines.push(`fs_base ${hex(r.fs_base)}  gs_base ${hex(r.gs_base)}  kernel_gs_base ${hex(r.kernel_gs_base)}`);
  lines.push(`cr0 ${hex(r.cr0)}${flags(r.cr0, CR0_BITS)}  cr2 ${hex(r.cr2)}`);
  lines.push(`cr3 ${hex(r.cr3)} (frame ${hex(r.cr3Frame)})  cr4 ${hex(r.cr4)}${flags(r.cr4, CR4_BITS)}`);
  return lines;
}

/** Every decoded field of one HVM save entry (zero fields hidden, repeated array elements collapsed). */
export function hvmEntryFieldLines(e: HvmEntry): string[] {
  if (!e.decoded) return [`${grouped(e.data.length)} bytes, no table decodes them`];
  const body = layoutText(e.decoded.layout, e.decoded.value, { hideZero: true, compactArrays: true });
  const extra = e.typecode === 14 ? mtrrLines(e.decoded.value as LayoutValue<typeof HVM_HW_MTRR>).map((l) => l.trimStart()) : [];
  return [...(body.length ? body : ['(all zero)']), ...extra];
}

function entryLines(e: HvmEntry, all: boolean): string[] {
  const head = `${e.name}[${e.instance}]`;
  if (e.typecode === 2) {
    const ctx = decodeHvmCpu(e.data);
    const regs = ctx ? registersText(vcpuRegisters(ctx)).map((l) => `  ${l}`) : [];
    if (!all || !e.decoded) return [`${head} (${e.decoded?.layout.name ?? 'undecoded'}, ${grouped(e.data.length)} bytes):`, ...regs];
  }
  if (!all || e.typecode === 0) return [];
  if (!e.decoded) return [`${head}: ${grouped(e.data.length)} bytes, no table decodes them`];
  const short = e.data.length < e.decoded.layout.size ? `, ${e.data.length} of ${e.decoded.layout.size} bytes (rest read as zeros)` : '';
  const body = layoutText(e.decoded.layout, e.decoded.value, { indent: '  ', hideZero: true, compactArrays: true });
  const extra = e.typecode === 14 ? mtrrLines(e.decoded.value as LayoutValue<typeof HVM_HW_MTRR>) : [];
  return [`${head} (${e.decoded.layout.name}${short}):`, ...(body.length ? body : ['  (all zero)']), ...extra];
}

/** Memory type names (Intel SDM vol. 3 §11.11, §11.12; 7 is PAT's UC-). */
const MEMORY_TYPES: Readonly<Record<number, string>> = { 0: 'UC', 1: 'WC', 4: 'WT', 5: 'WP', 6: 'WB', 7: 'UC-' };
const memType = (n: bigint | number) => MEMORY_TYPES[Number(n)] ?? `type ${Number(n)}`;

/** The MTRR entry's types in words: PAT entries, default type, valid variable ranges. */
function mtrrLines(m: LayoutValue<typeof HVM_HW_MTRR>): string[] {
  const pat = Array.from({ length: 8 }, (_, i) => memType((m.msr_pat_cr >> BigInt(8 * i)) & 7n));
  const lines = [`  types: PAT ${pat.join(' ')}; default ${memType(m.msr_mtrr_def_type & 0xffn)}`];
  m.msr_mtrr_var.forEach((r, i) => {
    if (!((r.mask >> 11n) & 1n)) return;
    lines.push(`  var[${i}]: base ${hex(r.base & ~0xfffn)} mask ${hex(r.mask & ~0xfffn)} ${memType(r.base & 0xffn)}`);
  });
  return lines;
}

/**
 * Detail lines for a record holding machine state: vCPU registers always;
 * every decoded field with `all`. Empty for other records.
 */
export function machineLines(rec: StreamRecord, all: boolean): string[] {
  const body = rec.body;
  if (body.kind === 'opaque' && rec.name === 'HVM_CONTEXT') return decodeHvmEntries(body.data).entries.flatMap((e) => entryLines(e, all));
  if (body.kind !== 'vcpu') return [];
  const lines: string[] = [];
  const ctx = rec.name === 'X86_PV_VCPU_BASIC' ? decodePvVcpuContext(body.context) : undefined;
  if (ctx) lines.push(...registersText(vcpuRegisters(ctx)));
  const layout = pvVcpuLayout(rec.name, body.context.length);
  if (all && layout) {
    lines.push(`${layout.name}:`, ...layoutText(layout, decodeStruct(layout, body.context).value, { indent: '  ', hideZero: true, compactArrays: true }));
  }
  return lines;
}
