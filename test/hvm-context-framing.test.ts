/**
 * HVM_CONTEXT entry framing (src/codec/bodies/hvm-context-framing.ts): the writer
 * refuses what the reader refuses, with the same rule ids. Reader-side offsets
 * are tested per rule in test/rules.test.ts; the real Xen 4.17 HVM and PVH saves
 * (test/xen-fixtures.test.ts, read strictly) pass the same check.
 */
import { describe, expect, it } from 'vitest';
import { hvmContextProblems } from '../src/codec/bodies/hvm-context-framing.js';
import { HVM_SAVE_ENTRY_TYPES } from '../src/format/hvm-save.js';
import { HVM_SAVE_TYPECODES } from '../src/format/record-types.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { StreamWriter } from '../src/writer/stream-writer.js';
import { WriterGuardError } from '../src/writer/writer-errors.js';
import { synthHvmContext } from '../src/writer/synth-records.js';
import { hvmBlob, hvmContextBlob } from './support/build.js';

async function writerAtHvmContext(): Promise<{ w: StreamWriter; sink: MemorySink }> {
  const sink = new MemorySink();
  const w = new StreamWriter(sink, { mode: 'plain', guest: 'hvm' });
  await w.writeLibxlHeader();
  await w.beginLibxc();
  await w.writeStaticDataEnd();
  await w.writeTscInfo({ khz: 2_000_000 });
  return { w, sink };
}

async function refusal(blob: Uint8Array): Promise<WriterGuardError> {
  const { w, sink } = await writerAtHvmContext();
  const before = sink.bytesWritten;
  const error = await w.writeHvmContext(blob).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WriterGuardError);
  expect(sink.bytesWritten).toBe(before);
  return error as WriterGuardError;
}

describe('HVM_CONTEXT framing in the writer', () => {
  it("refuses the README example's old blob (HEADER, type4742[21560], END) with LIBXC-HVM-CONTEXT-HEADER", async () => {
    const old = new Uint8Array(40);
    new DataView(old.buffer).setUint32(0, 0x0018_0001, true);
    new DataView(old.buffer).setUint32(8, 0x54381286, true);
    const e = await refusal(old);
    expect(e.ruleId).toBe('LIBXC-HVM-CONTEXT-HEADER');
    expect(e.message).toMatch(/^HVM_CONTEXT refused in state .*: LIBXC-HVM-CONTEXT-HEADER: typecode 1, length 0/);
  });

  it('refuses a bad entry, a missing END and a strict-only instance problem, each with its rule id', async () => {
    expect((await refusal(hvmBlob([[10, 0, 48]]))).ruleId).toBe('LIBXC-HVM-CONTEXT-ENTRY');
    expect((await refusal(hvmBlob([[10, 0, 56]], { end: false }))).ruleId).toBe('LIBXC-HVM-CONTEXT-FRAMING');
    expect((await refusal(hvmBlob([[10, 1, 56]]))).ruleId).toBe('LIBXC-HVM-CONTEXT-INSTANCE');
    expect((await refusal(new Uint8Array(0))).ruleId).toBe('LIBXC-HVM-CONTEXT-EMPTY');
  });

  it("writes well-framed blobs: synth's, the §11 example's, and one with every fixed-size entry", async () => {
    const every = hvmBlob(HVM_SAVE_ENTRY_TYPES.filter((t) => t.typecode > 1).map((t) => [t.typecode, 0, t.typecode === 20 ? 8 : t.size]));
    for (const blob of [synthHvmContext(2_000_000), hvmContextBlob(), every]) {
      expect(hvmContextProblems(blob)).toEqual([]);
      const { w } = await writerAtHvmContext();
      await w.writeHvmContext(blob);
    }
  });

  it("one table gives the typecodes' names and sizes (save.h, Xen 4.17)", () => {
    expect(HVM_SAVE_TYPECODES[2]).toBe('CPU');
    expect(HVM_SAVE_TYPECODES[20]).toBe('CPU_MSR');
    // The sizes the real Xen 4.17.5 HVM save (fixtures/xen-4.17/hvm128-save) carries.
    const seen: Record<string, number> = {
      CPU: 1032,
      PIC: 8,
      IOAPIC: 400,
      LAPIC: 24,
      LAPIC_REGS: 1024,
      PCI_IRQ: 16,
      ISA_IRQ: 8,
      PCI_LINK: 8,
      PIT: 56,
      RTC: 24,
      HPET: 1048,
      PMTIMER: 8,
      MTRR: 240,
      VMCE_VCPU: 32,
      TSC_ADJUST: 8,
    };
    for (const [name, size] of Object.entries(seen)) expect(HVM_SAVE_ENTRY_TYPES.find((t) => t.name === name)?.size, name).toBe(size);
  });
});
