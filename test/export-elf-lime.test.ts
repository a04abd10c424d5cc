/**
 * extract --format elf|lime, checked with outside tools: readelf parses the
 * core and its PT_LOAD segments are the runs of pfns holding data, with the raw
 * image's bytes; gdb reads the real PV guest's kernel banner at its physical
 * address and vCPU 0's registers; LiME ranges and bytes equal the raw image's.
 * Each tool's tests skip with the reason when it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hvmContextEntries } from '../src/codec/bodies/x86-common.js';
import { type VcpuRegisters, vcpuRegisters } from '../src/codec/machine/registers.js';
import { decodeHvmCpu, decodePvVcpuContext, type VcpuContext } from '../src/codec/machine/vcpu-context.js';
import { pageTypeName } from '../src/format/page-types.js';
import { AtomicOutput } from '../src/io/atomic-output.js';
import { readStream } from '../src/reader/stream-reader.js';
import { writeElfCore } from '../src/inspect/export/elf-core.js';
import type { X86UserRegs } from '../src/inspect/export/elf-notes.js';
import { X86_64_USER_REGS } from '../src/format/layouts/elf-core.js';
import { exportMemory } from '../src/inspect/export/export-memory.js';
import { extractStream } from '../src/inspect/extract.js';
import { PhysicalMemoryView, type PhysicalRun } from '../src/inspect/paddr-view.js';
import { ROOT } from './support/cli-run.js';
import { hvmWithEmulator, multiPassPv, PAGE, remusWithPartialCheckpoint, type BuiltStream } from './support/cli-streams.js';
import { runsOf } from './support/memory-runs.js';

const has = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const READELF = has('readelf');
const GDB = has('gdb');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'export-elf-lime-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Load {
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
}

/** PT_LOAD segments and note owners/types as `readelf -lnW` prints them. */
function readelf(core: string): { loads: Load[]; notes: { owner: string; type: string; data?: string }[]; text: string } {
  const text = execFileSync('readelf', ['-lnW', core], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const loads: Load[] = [];
  for (const m of text.matchAll(/^\s+LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)/gm)) {
    loads.push({ offset: Number(m[1]), vaddr: BigInt(m[2]), paddr: BigInt(m[3]), filesz: Number(m[4]), memsz: Number(m[5]) });
  }
  const notes: { owner: string; type: string; data?: string }[] = [];
  for (const m of text.matchAll(/^\s+(\S+)\s+0x[0-9a-f]+\s+([^\n]*?)(?:\s+description data: ([0-9a-f ]+))?$/gm)) {
    if (m[1] === 'Owner' || m[1] === 'LOAD' || m[1] === 'NOTE') continue;
    notes.push({ owner: m[1], type: m[2].trim(), ...(m[3] ? { data: m[3] } : {}) });
  }
  return { loads, notes, text };
}

/** LiME ranges: (start, end inclusive, file offset of the bytes), checking each header's magic and version. */
function limeRanges(file: Uint8Array): { start: bigint; end: bigint; at: number }[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: { start: bigint; end: bigint; at: number }[] = [];
  for (let at = 0; at < file.length; ) {
    expect(dv.getUint32(at, true)).toBe(0x4c694d45);
    expect(dv.getUint32(at + 4, true)).toBe(1);
    const start = dv.getBigUint64(at + 8, true);
    const end = dv.getBigUint64(at + 16, true);
    expect(dv.getBigUint64(at + 24, true)).toBe(0n);
    out.push({ start, end, at: at + 32 });
    at += 32 + Number(end - start + 1n);
  }
  return out;
}

/** `bytes` are the raw image's pages from `firstPfn` on. */
function expectPages(bytes: Uint8Array, firstPfn: number, memory: Map<number, Uint8Array>): void {
  for (let i = 0; i * PAGE < bytes.length; i++) {
    const page = memory.get(firstPfn + i) ?? new Uint8Array(PAGE);
    expect(Buffer.compare(bytes.subarray(i * PAGE, (i + 1) * PAGE), page), `pfn ${firstPfn + i}`).toBe(0);
  }
}

const streams: [string, () => BuiltStream & { state?: Map<number, Uint8Array> }][] = [
  ['multi-pass PV', multiPassPv],
  ['sparse HVM', hvmWithEmulator],
  ['Remus ending in a partial checkpoint', () => ({ ...remusWithPartialCheckpoint(), state: remusWithPartialCheckpoint().memoryAtCheckpoint2 })],
];

if (!READELF) it.skip('skipped: no readelf (apt-get install binutils): the ELF core was not checked with an outside tool', () => {});

describe.runIf(READELF)('extract --format elf, read by readelf', () => {
  for (const [name, make] of streams) {
    it(`${name}: PT_LOADs are the runs of pfns with data, p_vaddr = p_paddr, bytes of the raw image`, async () => {
      const s = make();
      const memory = s.state ?? s.memory;
      const input = join(dir, `${name}.bin`);
      writeFileSync(input, s.bytes);
      const core = join(dir, `${name}.core`);
      const r = await exportMemory(input, core, { format: 'elf' });
      const { loads, notes } = readelf(core);
      const runs = runsOf(memory);
      expect(r.ranges).toBe(runs.length);
      expect(loads.map((l) => ({ firstPfn: Number(l.paddr) / PAGE, pages: l.filesz / PAGE }))).toEqual(runs);
      const file = readFileSync(core);
      for (const l of loads) {
        expect(l.vaddr).toBe(l.paddr);
        expect(l.memsz).toBe(l.filesz);
        expect(l.offset % PAGE).toBe(0);
        expectPages(file.subarray(l.offset, l.offset + l.filesz), Number(l.paddr) / PAGE, memory);
      }
      const xen = notes.find((n) => n.owner === 'XENMIG');
      expect(xen).toBeDefined();
      const facts = JSON.parse(Buffer.from((xen?.data ?? '').replace(/ /g, ''), 'hex').toString('utf8'));
      expect(facts.xenVersion).toBe('4.17');
      expect(statSync(core).mode & 0o777).toBe(0o600);
    });
  }

  it('more than 65534 segments: e_phnum is PN_XNUM and section 0 holds the count', async () => {
    const RUNS = 0x10000;
    // A view of RUNS one-page runs, every page zero (so none is written: the file stays a hole).
    const fake = {
      forEachRun: async (visit: (r: PhysicalRun) => void | Promise<void>) => {
        for (let i = 0; i < RUNS; i++) await visit({ firstPfn: 2 * i, pages: 1 });
      },
      readPages: async (_pfn: number, target: Uint8Array) => target.fill(0),
    } as unknown as PhysicalMemoryView;
    const path = join(dir, 'xnum.core');
    const out = await AtomicOutput.open(path, { positional: true });
    await writeElfCore(fake, { xenVersion: '4.17', guestType: 'hvm', vcpus: [] }, out);
    await out.commit();
    const text = execFileSync('readelf', ['-hlW', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(text).toMatch(/Number of program headers:\s+65535 \(65537\)/);
    expect((text.match(/^\s+LOAD\s/gm) ?? []).length).toBe(RUNS);
    expect(text).toContain('0x000000001fffe000 0x000000001fffe000');
  });
});

describe('extract --format lime', () => {
  for (const [name, make] of streams) {
    it(`${name}: one range per run of pfns with data, the raw image's bytes`, async () => {
      const s = make();
      const memory = s.state ?? s.memory;
      const input = join(dir, `${name}.lime-in.bin`);
      writeFileSync(input, s.bytes);
      const out = join(dir, `${name}.lime`);
      await exportMemory(input, out, { format: 'lime' });
      const file = readFileSync(out);
      const ranges = limeRanges(file);
      expect(ranges.map((r) => ({ firstPfn: Number(r.start) / PAGE, pages: Number(r.end - r.start + 1n) / PAGE }))).toEqual(runsOf(memory));
      for (const r of ranges) expectPages(file.subarray(r.at, r.at + Number(r.end - r.start + 1n)), Number(r.start) / PAGE, memory);
    });
  }
});

/** Register values that name their register (vCPU k, register i: 0x1000 k + i), with real-looking selectors and flags. */
function registers(k: number): X86UserRegs {
  const names = X86_64_USER_REGS.fields.map((f) => f.name);
  const regs = Object.fromEntries(names.map((n, i) => [n, BigInt(0x1000 * k + i)])) as X86UserRegs;
  return { ...regs, cs: 0xe033n, ss: 0xe02bn, eflags: 0x246n, ds: 0n, es: 0n, fs: 0n, gs: 0n };
}

if (!GDB) it.skip('skipped: no gdb (apt-get install gdb): NT_PRSTATUS notes were not read by a debugger', () => {});

describe.runIf(GDB)('NT_PRSTATUS per vCPU, read by gdb', () => {
  it('gdb shows one thread per vCPU with the registers given, in user_regs_struct order', async () => {
    const fake = {
      forEachRun: async (visit: (r: PhysicalRun) => void | Promise<void>) => visit({ firstPfn: 0, pages: 1 }),
      readPages: async (_pfn: number, target: Uint8Array) => target.fill(0x41),
    } as unknown as PhysicalMemoryView;
    const path = join(dir, 'regs.core');
    const out = await AtomicOutput.open(path, { positional: true });
    await writeElfCore(
      fake,
      {
        xenVersion: '4.17',
        guestType: 'pv',
        vcpus: [
          { id: 0, registers: registers(1), cr3: 0x1234000n },
          { id: 1, registers: registers(2) },
        ],
      },
      out,
    );
    await out.commit();
    const text = execFileSync(
      'gdb',
      ['-nx', '-batch', '-c', path, '-ex', 'info threads', '-ex', 'info registers', '-ex', 'thread 2', '-ex', 'info registers rip rsp'],
      {
        encoding: 'utf8',
      },
    );
    expect(text).toMatch(/\*\s+1\s+LWP 1\s/);
    expect(text).toMatch(/\s2\s+LWP 2\s/);
    const shown = (name: string) => text.match(new RegExp(`^${name}\\s+(0x[0-9a-f]+)`, 'm'))?.[1];
    const r0 = registers(1);
    for (const name of [
      'rax',
      'rbx',
      'rcx',
      'rdx',
      'rsi',
      'rdi',
      'rbp',
      'rsp',
      'r8',
      'r9',
      'r10',
      'r11',
      'r12',
      'r13',
      'r14',
      'r15',
      'rip',
      'eflags',
      'cs',
      'ss',
    ] as const)
      expect(shown(name), name).toBe(`0x${r0[name].toString(16)}`);
    // After `thread 2`: vCPU 1's.
    expect(text).toMatch(new RegExp(`\\nrip\\s+0x${registers(2).rip.toString(16)}\\s[^]*\\nrsp\\s+0x${registers(2).rsp.toString(16)}\\s`));
    const notes = execFileSync('readelf', ['-nW', path], { encoding: 'utf8' });
    expect((notes.match(/CORE\s+0x00000150\s+NT_PRSTATUS/g) ?? []).length).toBe(2);
  });
});

describe.runIf(GDB)('the real HVM save (Xen 4.17): registers from the HVM_CONTEXT CPU entry', () => {
  it("gdb -c: vCPU 0's registers are the decoded hvm_hw_cpu's", async () => {
    const input = join(ROOT, 'fixtures/xen-4.17/hvm128-save.bin.gz');
    const core = join(dir, 'hvm128.core');
    const r = await exportMemory(input, core, { format: 'elf' });
    expect(r.facts.vcpus.map((v) => v.id)).toEqual([0]);
    const text = execFileSync('gdb', ['-nx', '-batch', '-c', core, '-ex', 'info registers'], { encoding: 'utf8' });
    expectGdbRegisters(text, await decodedVcpu0(input));
  }, 60_000);
});

describe('a stream that fails to read', () => {
  it('leaves no export and no scratch copy behind', async () => {
    const sub = mkdtempSync(join(dir, 'bad-'));
    const plain = join(ROOT, 'fixtures/conformance/invalid-truncated.bin');
    // gzip: decompressed to a scratch file next to the output first.
    const gz = join(dir, 'invalid-truncated.bin.gz');
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    for (const format of ['elf', 'lime'] as const) {
      for (const bad of [plain, gz]) await expect(exportMemory(bad, join(sub, `bad.${format}`), { format })).rejects.toThrow(/truncat|ends|short/i);
    }
    expect(readdirSync(sub)).toEqual([]);
  });
});

/** vCPU 0's registers as the stream's own vCPU record decodes (X86_PV_VCPU_BASIC, or HVM_CONTEXT's CPU entry). */
async function decodedVcpu0(input: string): Promise<VcpuRegisters> {
  for await (const item of readStream(input)) {
    if (item.kind !== 'record') continue;
    const body = item.record.body;
    if (item.record.name === 'X86_PV_VCPU_BASIC' && body.kind === 'vcpu' && body.vcpuId === 0)
      return vcpuRegisters(decodePvVcpuContext(body.context.slice(), 8) as VcpuContext);
    if (item.record.name === 'HVM_CONTEXT' && body.kind === 'opaque') {
      const cpu = hvmContextEntries(body.data).entries.find((e) => e.typecode === 2 && e.instance === 0);
      if (cpu) return vcpuRegisters(decodeHvmCpu(cpu.data.slice()) as VcpuContext);
    }
  }
  throw new Error(`${input}: no context for vCPU 0`);
}

/** gdb's `info registers` shows `r`'s general registers. */
function expectGdbRegisters(text: string, r: VcpuRegisters): void {
  const shown = (name: string) => text.match(new RegExp(`^${name}\\s+(0x[0-9a-f]+)`, 'm'))?.[1];
  const names = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'] as const;
  for (const name of names) expect(shown(name), name).toBe(`0x${r[name].toString(16)}`);
  expect(shown('eflags')).toBe(`0x${r.rflags.toString(16)}`);
  for (const name of ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const) expect(shown(name), name).toBe(`0x${r[name].toString(16)}`);
}

describe('the real PV save (Xen 4.17, 128 MiB, Linux 6.1)', () => {
  let input = '';
  let image: Buffer;
  let core = '';
  let banner = -1;

  beforeAll(async () => {
    input = join(dir, 'pv128-save.bin');
    writeFileSync(input, gunzipSync(readFileSync(join(ROOT, 'fixtures/xen-4.17/pv128-save.bin.gz'))));
    const raw = join(dir, 'pv128.raw');
    await extractStream(input, { memory: raw });
    image = readFileSync(raw);
    banner = image.indexOf('Linux version 6.1.0-');
    core = join(dir, 'pv128.core');
    await exportMemory(input, core, { format: 'elf' });
  }, 120_000);

  it('the raw image holds the kernel banner', () => {
    expect(banner).toBeGreaterThan(0);
  });

  it.runIf(GDB)("gdb -c: vCPU 0's registers are the decoded X86_PV_VCPU_BASIC's", async () => {
    const decoded = await decodedVcpu0(input);
    const text = execFileSync('gdb', ['-nx', '-batch', '-c', core, '-ex', 'info registers'], { encoding: 'utf8' });
    expectGdbRegisters(text, decoded);
    expect(decoded.rip >> 32n).toBe(0xffffffffn); // a kernel address: the guest was running its kernel
  });

  it.runIf(READELF)('readelf: one NT_PRSTATUS, and the XENMIG note names the page-table root (an L4 page of the guest)', async () => {
    const { notes } = readelf(core);
    expect(notes.filter((n) => n.type.startsWith('NT_PRSTATUS')).length).toBe(1);
    const facts = JSON.parse(Buffer.from((notes.find((n) => n.owner === 'XENMIG')?.data ?? '').replace(/ /g, ''), 'hex').toString('utf8'));
    expect(facts).toMatchObject({ xenVersion: '4.17', guestType: 'pv', guestWidth: 8, p2m: { startPfn: 0, endPfn: 32767, size: 32768 } });
    const decoded = await decodedVcpu0(input);
    expect(facts.vcpus).toEqual([
      { id: 0, cr3: `0x${decoded.cr3.toString(16)}`, pageTableRoot: `0x${(decoded.cr3Frame * 4096n).toString(16)}`, registers: true },
    ]);
    const view = await PhysicalMemoryView.open(input);
    try {
      expect(pageTypeName(view.pageType(Number(decoded.cr3Frame)) as number)).toMatch(/^L4TAB/);
    } finally {
      await view.close();
    }
  });

  it.runIf(READELF)('readelf: PT_LOADs cover the image, their bytes are the raw image', () => {
    const { loads } = readelf(core);
    expect(loads.reduce((n, l) => n + l.filesz, 0)).toBe(image.length);
    const file = readFileSync(core);
    for (const l of loads) {
      const p = Number(l.paddr);
      expect(Buffer.compare(file.subarray(l.offset, l.offset + l.filesz), image.subarray(p, p + l.filesz))).toBe(0);
    }
  });

  it.runIf(GDB)('gdb -c: x/s at the banner physical address prints the kernel banner', () => {
    const out = execFileSync('gdb', ['-nx', '-batch', '-c', core, '-ex', `x/s 0x${banner.toString(16)}`], { encoding: 'utf8' });
    expect(out).toMatch(new RegExp(`0x${banner.toString(16)}:\\s+"Linux version 6\\.1\\.0-50-amd64 \\(debian-kernel@`));
  });
  if (!GDB) it.skip('skipped: no gdb (apt-get install gdb): the core was not read by a debugger', () => {});

  it('lime: the ranges and bytes equal the raw image', async () => {
    const lime = join(dir, 'pv128.lime');
    await exportMemory(input, lime, { format: 'lime' });
    const file = readFileSync(lime);
    const ranges = limeRanges(file);
    expect(ranges.reduce((n, r) => n + Number(r.end - r.start + 1n), 0)).toBe(image.length);
    for (const r of ranges) {
      const p = Number(r.start);
      const n = Number(r.end - r.start + 1n);
      expect(Buffer.compare(file.subarray(r.at, r.at + n), image.subarray(p, p + n))).toBe(0);
    }
  });
});
