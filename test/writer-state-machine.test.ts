/**
 * The writer's automaton: every legal path (mode × guest) gives a stream the
 * reader accepts with the same records; every op that is illegal in a state is
 * refused there with WriterStateError and writes nothing; the guards of
 * spec/STATE-MACHINES.md §6 refuse bad content with WriterGuardError.
 */
import { describe, expect, it } from 'vitest';
import { readStreamSync } from '../src/reader/index.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { StreamWriter } from '../src/writer/stream-writer.js';
import {
  GUEST_KINDS,
  WRITER_MODES,
  WRITER_OPS,
  WRITER_STATES,
  type GuestKind,
  type WriterMode,
  type WriterOp,
  type WriterState,
} from '../src/writer/writer-automaton.js';
import { WriterGuardError, WriterStateError } from '../src/writer/writer-errors.js';
import { synthHvmContext } from '../src/writer/synth-records.js';
import { PAGE_TYPE } from '../src/format/page-types.js';
import { REC_LENGTH_MAX } from '../src/format/constants.js';
import { legalPath, pagesFor, PROBES, type Step } from './support/writer-paths.js';
import { readBack } from './support/writer-readback.js';

const COMBOS: Array<[WriterMode, GuestKind]> = WRITER_MODES.flatMap((m) => GUEST_KINDS.map((g) => [m, g] as [WriterMode, GuestKind])).filter(
  ([m, g]) => !(m === 'postcopy-rfc' && g === 'pv'),
);

function readerRecords(bytes: Uint8Array, mode: WriterMode): string[] {
  const reader = readStreamSync(bytes, { dialect: mode === 'postcopy-rfc' ? 'postcopy-rfc' : 'upstream' });
  const { items, end, problems } = reader.readAll();
  expect(problems.filter((p) => p.severity !== 'note')).toEqual([]);
  expect(end.status).toBe(mode === 'remus' || mode === 'colo' ? 'failover' : 'complete');
  expect(end.discardedRecords ?? 0).toBe(0);
  return items.flatMap((i) => (i.kind === 'record' ? [`${i.layer}:${i.record.name}`] : []));
}

/** Try every op that is not allowed now: each must be refused, leaving state and output as they were. */
async function probeIllegal(w: StreamWriter, sink: MemorySink, tried: Map<WriterState, Set<WriterOp>>): Promise<void> {
  const state = w.state;
  const allowed = w.allowed();
  const seen = tried.get(state) ?? new Set<WriterOp>();
  tried.set(state, seen);
  for (const op of WRITER_OPS) {
    if (allowed.includes(op)) {
      seen.add(op);
      continue;
    }
    const before = sink.bytesWritten;
    const chunksBefore = sink.chunks.length;
    const error = await PROBES[op](w).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, `${op} in ${state}`).toBeInstanceOf(WriterStateError);
    const e = error as WriterStateError;
    expect(e.state).toBe(state);
    expect(e.attempted).toBe(op);
    expect(e.allowed).toEqual(allowed);
    expect(e.message).toContain(`state ${state}`);
    expect(w.state).toBe(state);
    expect(sink.bytesWritten).toBe(before);
    expect(sink.chunks.length).toBe(chunksBefore);
    seen.add(op);
  }
}

describe('writer automaton: legal paths', () => {
  for (const [mode, guest] of COMBOS) {
    for (const full of [false, true]) {
      it(`${mode} ${guest} (${full ? 'every optional record' : 'mandatory records only'}) reads back with the same records`, async () => {
        const sink = new MemorySink();
        const w = new StreamWriter(sink, { mode, guest });
        const path = legalPath(mode, guest, full);
        for (const s of path) await s.run(w);
        expect(w.state).toBe('DONE');
        expect(sink.closed).toBe(true);
        const expected = path.flatMap((s: Step) => (s.record ? [s.record] : []));
        const bytes = sink.bytes();
        expect(readerRecords(bytes, mode)).toEqual(expected);
        // And the codec-only walk agrees (nesting, zero padding, alignment).
        const rb = readBack(bytes, mode === 'postcopy-rfc' ? 'postcopy-rfc' : 'upstream');
        expect(rb.records.map((r) => `${r.layer}:${r.name}`)).toEqual(expected);
        expect(rb.imageHeader.version).toBe(mode === 'postcopy-rfc' ? 2 : 3);
        expect(rb.domainHeader.domainType).toBe(guest === 'pv' ? 1 : 2);
        expect(Boolean(rb.xlHeader)).toBe(full);
        const counts = w.recordCounts();
        const tally: Record<string, number> = {};
        for (const r of expected) tally[r] = (tally[r] ?? 0) + 1;
        expect(counts).toEqual(tally);
      });
    }
  }

  it('refuses postcopy-rfc for PV guests (the RFC is HVM-only)', () => {
    expect(() => new StreamWriter(new MemorySink(), { mode: 'postcopy-rfc', guest: 'pv' })).toThrow(RangeError);
  });
});

describe('writer automaton: every illegal op in every state', () => {
  it('refuses each op where the automaton does not allow it, writing nothing; every state and op is covered', async () => {
    const tried = new Map<WriterState, Set<WriterOp>>();
    const legalSomewhere = new Set<WriterOp>();
    for (const [mode, guest] of COMBOS) {
      for (const full of [false, true]) {
        const sink = new MemorySink();
        const w = new StreamWriter(sink, { mode, guest });
        for (const s of legalPath(mode, guest, full)) {
          await probeIllegal(w, sink, tried);
          expect(w.allowed()).toContain(s.op);
          legalSomewhere.add(s.op);
          await s.run(w);
        }
        await probeIllegal(w, sink, tried); // DONE: nothing is legal
      }
    }
    // ABORTED: reached by abort() from any state.
    const sink = new MemorySink();
    const w = new StreamWriter(sink, { mode: 'plain', guest: 'pv' });
    await w.writeLibxlHeader();
    await w.abort();
    expect(w.state).toBe('ABORTED');
    expect(sink.aborted).toBe(true);
    await probeIllegal(w, sink, tried);

    // A new state or op that no path reaches fails here.
    expect([...tried.keys()].sort()).toEqual([...WRITER_STATES].sort());
    for (const state of WRITER_STATES) expect([...(tried.get(state) ?? [])].sort(), state).toEqual([...WRITER_OPS].sort());
    expect([...legalSomewhere].sort()).toEqual([...WRITER_OPS].sort());
    expect(Object.keys(PROBES).sort()).toEqual([...WRITER_OPS].sort());
  });

  it('names the state and the allowed writes in the message', async () => {
    const w = new StreamWriter(new MemorySink(), { mode: 'remus', guest: 'pv' });
    await expect(w.writePvInfo()).rejects.toThrow('cannot write X86_PV_INFO in state START; allowed here: XL_HEADER, LIBXL_HEADER');
    for (const s of legalPath('remus', 'pv', false).slice(0, 7)) await s.run(w);
    expect(w.state).toBe('MEMORY');
    await expect(w.writeVerify()).rejects.toThrow(/VERIFY in state MEMORY \(VERIFY is only written in plain streams\)/);
  });

  it('refuses a second write while one is in flight', async () => {
    const sink = new MemorySink();
    const w = new StreamWriter(sink, { mode: 'plain', guest: 'hvm' });
    const first = w.writeLibxlHeader();
    await expect(w.writeLibxcContext()).rejects.toThrow(/previous write has not finished/);
    await first;
    await w.writeLibxcContext();
    expect(w.state).toBe('LIBXC_HDRS');
  });
});

/** A writer of (mode, guest) advanced along its mandatory path until `state`. */
async function writerAt(state: WriterState, mode: WriterMode, guest: GuestKind): Promise<{ w: StreamWriter; sink: MemorySink }> {
  const sink = new MemorySink();
  const w = new StreamWriter(sink, { mode, guest });
  for (const s of legalPath(mode, guest, false)) {
    if (w.state === state) return { w, sink };
    await s.run(w);
  }
  if (w.state === state) return { w, sink };
  throw new Error(`path of ${mode} ${guest} never reaches ${state}`);
}

async function expectRefused(
  w: StreamWriter,
  sink: MemorySink,
  call: () => Promise<void>,
  kind: typeof WriterGuardError | typeof WriterStateError,
  text: RegExp,
): Promise<void> {
  const before = sink.bytesWritten;
  const state = w.state;
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(kind);
  expect((error as Error).message).toMatch(text);
  expect(sink.bytesWritten).toBe(before);
  expect(w.state).toBe(state);
}

describe('writer guards (spec/STATE-MACHINES.md §6)', () => {
  it('PAGE_DATA: count ≥ 1, batch ≤ 1024, valid types, pages sized from the types', async () => {
    const { w, sink } = await writerAt('MEMORY', 'plain', 'pv');
    await expectRefused(w, sink, () => w.writePages([], [], new Uint8Array(0)), WriterGuardError, /count must be ≥ 1/);
    const many = Array.from({ length: 1025 }, (_, i) => i);
    await expectRefused(
      w,
      sink,
      () =>
        w.writePages(
          many,
          many.map(() => PAGE_TYPE.XTAB),
          new Uint8Array(0),
        ),
      WriterGuardError,
      /batch limit of 1024/,
    );
    await expectRefused(w, sink, () => w.writePages([1], [5], pagesFor(1)), WriterGuardError, /not a valid page type/);
    await expectRefused(
      w,
      sink,
      () => w.writePages([1, 2], [PAGE_TYPE.NOTAB, PAGE_TYPE.XTAB], pagesFor(2)),
      WriterGuardError,
      /need 4096 bytes of pages, got 8192/,
    );
    await expectRefused(w, sink, () => w.writePages([1, 2], [PAGE_TYPE.NOTAB], pagesFor(1)), WriterGuardError, /2 pfns but 1 types/);
    await expectRefused(w, sink, () => w.writePages([2 ** 52], [PAGE_TYPE.NOTAB], pagesFor(1)), WriterGuardError, /not a 52-bit pfn/);
    await w.writePages([1, 2], [PAGE_TYPE.XTAB, PAGE_TYPE.BROKEN], new Uint8Array(0)); // no data pages is fine
  });

  it('no EMULATOR_* records for pv and pvh; emulator_id ≠ 0 for hvm', async () => {
    for (const guest of ['pv', 'pvh'] as const) {
      const { w, sink } = await writerAt('LIBXL_TAIL', 'plain', guest);
      await expectRefused(w, sink, () => w.writeEmulatorContext(new Uint8Array(8)), WriterStateError, new RegExp(`${guest} guests have no device model`));
      await expectRefused(w, sink, () => w.writeEmulatorXenstoreData([['a', 'b']]), WriterStateError, /no device model/);
    }
    const { w, sink } = await writerAt('LIBXL_TAIL', 'plain', 'hvm');
    await expectRefused(w, sink, () => w.writeEmulatorContext(new Uint8Array(8), { emulatorId: 0 }), WriterGuardError, /emulator_id 0/);
    await expectRefused(
      w,
      sink,
      () => w.writeEmulatorXenstoreData([['/abs', 'x']]),
      WriterGuardError,
      /LIBXL-XENSTORE-KEY-ABSOLUTE: "\/abs"; expected a relative key/,
    );
    await expectRefused(w, sink, () => w.end(), WriterStateError, /allowed here: EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT/);
  });

  it('CHECKPOINT only in remus/colo; no END in remus/colo', async () => {
    const plain = await writerAt('EOC', 'plain', 'hvm');
    await plain.w.writeHvmContext(synthHvmContext(2_000_000));
    await expectRefused(plain.w, plain.sink, () => plain.w.checkpoint(), WriterStateError, /only written in remus\/colo streams/);
    for (const mode of ['remus', 'colo'] as const) {
      const r = await writerAt('EOC', mode, 'pvh');
      await r.w.writeHvmContext(synthHvmContext(2_000_000));
      await expectRefused(r.w, r.sink, () => r.w.endLibxc(), WriterStateError, /streams have no END/);
      await r.w.checkpoint();
      await r.w.endCheckpoint();
      await expectRefused(r.w, r.sink, () => r.w.end(), WriterStateError, /streams have no END/);
    }
  });

  it('CHECKPOINT_STATE on the forward stream is 0 (NEW) with body_length 4', async () => {
    const { w, sink } = await writerAt('CKPT_STATE', 'colo', 'pv');
    await expectRefused(w, sink, () => w.writeCheckpointState(2), WriterGuardError, /LIBXL-CHECKPOINT-STATE-ID: 2; expected 0 \(CHECKPOINT_NEW\)/);
    const before = sink.chunks.length;
    await w.writeCheckpointState(0);
    const record = sink.bytes().subarray(sink.bytesWritten - 16);
    expect(Buffer.from(record).toString('hex')).toBe('05000000040000000000000000000000');
    expect(sink.chunks.length).toBe(before + 3); // header, body, padding: separate chunks
  });

  it('at most one STATIC_DATA_END; X86_PV_INFO first for pv; only valid width/levels', async () => {
    const { w, sink } = await writerAt('STATIC', 'plain', 'pv');
    await expectRefused(w, sink, () => w.writeStaticDataEnd(), WriterStateError, /allowed here: X86_PV_INFO/);
    await expectRefused(w, sink, () => w.writePvInfo(8, 3), WriterGuardError, /LIBXC-PV-INFO-WIDTH: \(8,3\); expected \(4,3\) or \(8,4\)/);
    await w.writePvInfo(8, 4);
    await w.writeStaticDataEnd();
    await expectRefused(w, sink, () => w.writeStaticDataEnd(), WriterStateError, /already written/);
  });

  it('HVM_CONTEXT non-empty; vCPU records in order with the right sizes', async () => {
    const hvm = await writerAt('EOC', 'plain', 'hvm');
    await expectRefused(hvm.w, hvm.sink, () => hvm.w.writeHvmContext(new Uint8Array(0)), WriterGuardError, /must not be empty/);
    const pv = await writerAt('EOC', 'plain', 'pv');
    await pv.w.writeSharedInfo(new Uint8Array(4096));
    await expectRefused(pv.w, pv.sink, () => pv.w.writeVcpuBasic(1, new Uint8Array(0x1430)), WriterStateError, /first vCPU record must be vCPU 0/);
    await expectRefused(pv.w, pv.sink, () => pv.w.writeVcpuBasic(0, new Uint8Array(0xaf0)), WriterGuardError, /5168 bytes/);
    await pv.w.writeVcpuBasic(0, new Uint8Array(0x1430));
    await expectRefused(pv.w, pv.sink, () => pv.w.writeVcpuExtended(1, new Uint8Array(8)), WriterStateError, /current vCPU is 0/);
    await expectRefused(
      pv.w,
      pv.sink,
      () => pv.w.writeVcpuExtended(0, new Uint8Array(129)),
      WriterGuardError,
      /LIBXC-VCPU-SIZE: 129 bytes of context; expected ≤ 128 bytes/,
    );
    await pv.w.writeVcpuMsrs(0, new Uint8Array(16));
    await expectRefused(pv.w, pv.sink, () => pv.w.writeVcpuXsave(0, new Uint8Array(16)), WriterStateError, /allowed here: X86_PV_VCPU_BASIC, LIBXC_END/);
  });

  it('P2M frames sized for the guest width; SHARED_INFO is one page', async () => {
    const { w, sink } = await writerAt('STREAM_START', 'plain', 'pv');
    await expectRefused(
      w,
      sink,
      () => w.writeP2mFrames({ endPfn: 1023, frames: [1n] }),
      WriterGuardError,
      /LIBXC-P2M-FRAMES-LENGTH: 1 frames; expected 2 frames/,
    );
    await w.writeP2mFrames({ endPfn: 1023, frames: [1n, 2n] });
    await w.writeTscInfo({ khz: 1 });
    await expectRefused(w, sink, () => w.writeSharedInfo(new Uint8Array(100)), WriterGuardError, /4096 bytes/);
  });

  it("guards carry the reader's rule id for the same check (src/codec/body-checks.ts)", async () => {
    const ruleOf = (call: () => Promise<void>) =>
      call().then(
        () => undefined,
        (e: unknown) => (e as WriterGuardError).ruleId,
      );
    const pv = await writerAt('STATIC', 'plain', 'pv');
    expect(await ruleOf(() => pv.w.writePvInfo(4, 4))).toBe('LIBXC-PV-INFO-WIDTH');
    const tsc = await writerAt('STREAM_START', 'plain', 'pv');
    await tsc.w.writeP2mFrames({ endPfn: 1023, frames: [1n, 2n] });
    // A reserved field of the table (X86_TSC_INFO.reserved): the reader's strict rule, refused by the writer.
    expect(await ruleOf(() => tsc.w.writeTscInfo({ khz: 1, reserved: 5 }))).toBe('LIBXC-TSC-INFO-RESERVED');
    await tsc.w.writeTscInfo({ khz: 1, incarnation: 2 });
    const colo = await writerAt('CKPT_STATE', 'colo', 'pv');
    expect(await ruleOf(() => colo.w.writeCheckpointState(1))).toBe('LIBXL-CHECKPOINT-STATE-ID');
    const eoc = await writerAt('EOC', 'plain', 'pv');
    expect(await ruleOf(() => eoc.w.writeSharedInfo(new Uint8Array(8)))).toBe('LIBXC-SHARED-INFO-LENGTH');
    await eoc.w.writeSharedInfo(new Uint8Array(4096));
    expect(await ruleOf(() => eoc.w.writeVcpuBasic(0, new Uint8Array(8)))).toBe('LIBXC-VCPU-SIZE');
    const hvm = await writerAt('EOC', 'plain', 'hvm');
    expect(await ruleOf(() => hvm.w.writeHvmContext(new Uint8Array(REC_LENGTH_MAX + 1)))).toBe('RECORD-LENGTH-MAX');
    await hvm.w.writeHvmContext(synthHvmContext(2_000_000));
    await hvm.w.endLibxc();
    expect(await ruleOf(() => hvm.w.writeEmulatorContext(new Uint8Array(4), { emulatorId: 3 }))).toBe('LIBXL-EMULATOR-ID');
    expect(await ruleOf(() => hvm.w.writeEmulatorXenstoreData([['/abs', 'v']]))).toBe('LIBXL-XENSTORE-KEY-ABSOLUTE');
    expect(await ruleOf(() => hvm.w.writeEmulatorXenstoreData([['', 'v']]))).toBe('LIBXL-XENSTORE-KEY-EMPTY');
    expect(await ruleOf(() => hvm.w.writeEmulatorXenstoreData([['k', 'v\0']]))).toBe('LIBXL-XENSTORE-VALUE-NUL');
  });

  it('record length ≤ REC_LENGTH_MAX (128 MiB)', async () => {
    const { w, sink } = await writerAt('EOC', 'plain', 'hvm');
    await expectRefused(w, sink, () => w.writeHvmContext(new Uint8Array(REC_LENGTH_MAX + 1)), WriterGuardError, /exceeds REC_LENGTH_MAX/);
  });

  it('postcopy: no duplicate pfns, pages only for listed pfns, once each, END only when all are sent', async () => {
    const { w, sink } = await writerAt('PC_PFNS', 'postcopy-rfc', 'hvm');
    await w.writePostcopyPfns([1, 2], [PAGE_TYPE.NOTAB, PAGE_TYPE.NOTAB]);
    await expectRefused(w, sink, () => w.writePostcopyPfns([2], [PAGE_TYPE.NOTAB]), WriterStateError, /duplicate postcopy pfn 0x2/);
    await w.postcopyTransition();
    await w.writeEmulatorContext(new Uint8Array(4));
    await w.endPostcopyTransition();
    await expectRefused(w, sink, () => w.writePostcopyPages([3], [PAGE_TYPE.NOTAB], pagesFor(1)), WriterStateError, /not in the postcopy set/);
    await expectRefused(w, sink, () => w.writePostcopyPages([1], [PAGE_TYPE.XTAB], new Uint8Array(0)), WriterGuardError, /carries no data/);
    await expectRefused(w, sink, () => w.endLibxc(), WriterStateError, /2 postcopy pages not sent yet/);
    await w.writePostcopyPages([1], [PAGE_TYPE.NOTAB], pagesFor(1));
    await expectRefused(w, sink, () => w.writePostcopyPages([1], [PAGE_TYPE.NOTAB], pagesFor(1)), WriterStateError, /already sent/);
    await w.writePostcopyPages([2], [PAGE_TYPE.NOTAB], pagesFor(1));
    expect(w.postcopyPagesOutstanding).toBe(0);
    await w.endLibxc();
    await w.end();
    expect(w.state).toBe('DONE');
  });
});
