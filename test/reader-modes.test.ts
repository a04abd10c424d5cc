import { describe, expect, it } from 'vitest';
import { readBackChannelSync, readStreamSync, type RecordItem, type StreamItem } from '../src/reader/index.js';
import { StreamFormatError } from '../src/codec/index.js';
import * as B from './support/build.js';

const records = (items: StreamItem[]) => items.filter((i): i is RecordItem => i.kind === 'record');
const names = (items: StreamItem[]) => records(items).map((r) => `${r.layer}:${r.record.name}`);

function expectRule(fn: () => unknown, rule: string): StreamFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StreamFormatError);
    expect((e as StreamFormatError).ruleId).toBe(rule);
    return e as StreamFormatError;
  }
  throw new Error(`expected ${rule}`);
}

describe('plain streams', () => {
  it('xl container + HVM: layers, offsets, indexes and summary', () => {
    const bytes = B.plainHvm([[0, 1, 2, 3], [1, 2], [2]]);
    const { items, end, summary } = readStreamSync(bytes).readAll();
    expect(items.slice(0, 5).map((i) => i.kind)).toEqual(['xl-header', 'libxl-header', 'record', 'libxc-image-header', 'libxc-domain-header']);
    expect(names(items)).toEqual([
      'libxl:LIBXC_CONTEXT',
      'libxc:STATIC_DATA_END',
      'libxc:PAGE_DATA',
      'libxc:PAGE_DATA',
      'libxc:PAGE_DATA',
      'libxc:X86_TSC_INFO',
      'libxc:HVM_CONTEXT',
      'libxc:HVM_PARAMS',
      'libxc:END',
      'libxl:EMULATOR_XENSTORE_DATA',
      'libxl:EMULATOR_CONTEXT',
      'libxl:END',
    ]);
    records(items).forEach((r, i) => {
      expect(r.index).toBe(i);
    });
    // Offsets are contiguous and absolute.
    let pos = 0;
    for (const it of items) {
      expect(it.offset).toBe(pos);
      pos += it.length;
    }
    expect(pos).toBe(bytes.length);
    expect(end).toEqual({ status: 'complete', bytesRead: bytes.length, streamEnd: bytes.length });
    expect(summary).toMatchObject({
      container: 'xl',
      mode: 'plain',
      domainType: 'x86 HVM',
      imageVersion: 3,
      distinctPfns: 4,
      resentPfns: 2,
      pageEntries: 7,
      pfnMin: 0,
      pfnMax: 3,
      checkpoints: 0,
    });
    expect(summary.passes.map((p) => p.pfns)).toEqual([4, 2, 1]);
  });

  it('bare libxl PV stream', () => {
    const { items, summary } = readStreamSync(B.plainPv()).readAll();
    expect(items[0].kind).toBe('libxl-header');
    expect(summary).toMatchObject({ container: 'libxl', domainType: 'x86 PV', guestWidth: 8 });
    expect(names(items)).toContain('libxc:X86_PV_VCPU_BASIC');
  });

  it('bare libxc stream ends at libxc END', () => {
    const bytes = B.concat(B.hvmLibxc());
    const { items, end, summary } = readStreamSync(bytes).readAll();
    expect(items[0].kind).toBe('libxc-image-header');
    expect(summary.container).toBe('libxc');
    expect(end.status).toBe('complete');
  });

  it('bytes after END are reported (strict: error; lenient: trailing item), the go message is named as such', () => {
    const extra = B.concat([B.plainHvm(), new Uint8Array([1, 2, 3])]);
    expectRule(() => readStreamSync(extra).readAll(), 'STREAM-TRAILING-BYTES');
    const lenient = readStreamSync(extra, { strict: false }).readAll();
    expect(lenient.items.at(-1)).toMatchObject({ kind: 'trailing', length: 3, isGoMessage: false });
    expect(lenient.end.trailingBytes).toBe(3);
    const wire = B.concat([B.plainHvm(), new Uint8Array(Buffer.from('domain is yours, you are cleared to unpause\0'))]);
    const r = readStreamSync(wire).readAll();
    expect(r.items.at(-1)).toMatchObject({ kind: 'trailing', isGoMessage: true, length: 44 });
    expect(r.problems.map((p) => p.rule.id)).toEqual(['STREAM-TRAILING-GO-MESSAGE']);
  });

  it('not a v2 stream: says what it looks like', () => {
    const e = expectRule(() => readStreamSync(new Uint8Array(Buffer.from(`LinuxGuestRecord${'\0'.repeat(32)}`))).readAll(), 'STREAM-NOT-V2');
    expect(e.message).toMatch(/legacy/);
    expect(expectRule(() => readStreamSync(new Uint8Array(64)).readAll(), 'STREAM-NOT-V2').message).toMatch(/zero/);
  });
});

describe('Remus', () => {
  it('3 checkpoints ending by failover: valid, no END in either layer', () => {
    const { items, end, summary } = readStreamSync(B.checkpointed(3)).readAll();
    expect(end).toMatchObject({ status: 'failover', completeCheckpoints: 3, discardedRecords: 0, discardedBytes: 0 });
    expect(summary.mode).toBe('remus');
    expect(summary.checkpoints).toBe(3);
    expect(names(items).filter((n) => n.endsWith(':END'))).toEqual([]);
    expect(names(items).filter((n) => n === 'libxl:CHECKPOINT_END')).toHaveLength(3);
  });

  it('last checkpoint cut short: the earlier checkpoint is reported, the partial one discarded', () => {
    const full = B.checkpointed(3);
    const two = B.checkpointed(2);
    const cut = full.subarray(0, two.length + 100); // inside the third checkpoint's PAGE_DATA
    const r = readStreamSync(cut).readAll();
    expect(r.end).toMatchObject({ status: 'failover', completeCheckpoints: 2, streamEnd: two.length, discardedBytes: 100 });
    expect(r.problems.map((p) => p.rule.id)).toContain('STREAM-PARTIAL-CHECKPOINT-DISCARDED');
  });

  it('EOF inside the first checkpoint is an error: nothing to fail over to', () => {
    const full = B.checkpointed(1);
    expectRule(() => readStreamSync(full.subarray(0, full.length - 8)).readAll(), 'STREAM-NO-COMPLETE-CHECKPOINT');
  });

  it('a checkpointed stream read as plain is refused at the CHECKPOINT', () => {
    expectRule(() => readStreamSync(B.checkpointed(1), { mode: 'plain' }).readAll(), 'LIBXC-CHECKPOINT-IN-PLAIN');
  });

  it('records carry their checkpoint number in explicit remus mode', () => {
    const { items } = readStreamSync(B.checkpointed(2), { mode: 'remus' }).readAll();
    expect(new Set(records(items).map((r) => r.checkpoint))).toEqual(new Set([1, 2]));
  });
});

describe('COLO', () => {
  it('CHECKPOINT_STATE after CHECKPOINT_END is told from libxc type 5 by its length (auto) and by mode', () => {
    for (const mode of ['auto', 'colo'] as const) {
      const { items, end, summary } = readStreamSync(B.checkpointed(3, true), { mode }).readAll();
      expect(summary.mode).toBe('colo');
      expect(end).toMatchObject({ status: 'failover', completeCheckpoints: 3 });
      const states = records(items).filter((r) => r.record.name === 'CHECKPOINT_STATE');
      expect(states.map((s) => s.layer)).toEqual(['libxl', 'libxl', 'libxl']);
    }
  });

  it('a CHECKPOINT_STATE other than NEW on the forward stream is refused', () => {
    const bytes = B.concat([B.checkpointed(1), B.rec('libxl', 'CHECKPOINT_STATE', { kind: 'checkpoint-state', controlId: 2 })]);
    expectRule(() => readStreamSync(bytes, { mode: 'colo' }).readAll(), 'LIBXL-CHECKPOINT-STATE-ID');
  });
});

describe('postcopy RFC dialect', () => {
  it('reads the whole layout with an explicit dialect', () => {
    const { items, end, summary } = readStreamSync(B.postcopy(), { dialect: 'postcopy-rfc' }).readAll();
    expect(end.status).toBe('complete');
    expect(summary.mode).toBe('postcopy-rfc');
    expect(summary.postcopyPages).toBe(2);
    expect(names(items)).toEqual([
      'libxl:LIBXC_CONTEXT',
      'libxc:PAGE_DATA',
      'libxc:POSTCOPY_BEGIN',
      'libxc:X86_TSC_INFO',
      'libxc:HVM_CONTEXT',
      'libxc:HVM_PARAMS',
      'libxc:POSTCOPY_PFNS_BEGIN',
      'libxc:POSTCOPY_PFNS',
      'libxc:POSTCOPY_TRANSITION',
      'libxl:EMULATOR_CONTEXT',
      'libxl:POSTCOPY_TRANSITION_END',
      'libxc:POSTCOPY_PAGE_DATA',
      'libxc:POSTCOPY_PAGE_DATA',
      'libxc:END',
      'libxl:END',
    ]);
  });

  it('is never guessed: the upstream reader refuses it and names the dialect to try', () => {
    const e = expectRule(() => readStreamSync(B.postcopy()).readAll(), 'STREAM-DIALECT');
    expect(e.message).toMatch(/--dialect postcopy-rfc/);
  });
});

describe('back channels', () => {
  const colo = (ids: number[]) =>
    B.concat([
      ...ids.map((controlId) => B.rec('libxl', 'CHECKPOINT_STATE', { kind: 'checkpoint-state', controlId })),
      B.rec('libxc', 'CHECKPOINT_DIRTY_PFN_LIST', { kind: 'dirty-pfn-list', pfns: [0x10n, 0x11n] }),
    ]);

  it('COLO: (SVM_READY, SVM_RESUMED, SVM_SUSPENDED, dirty pfn list)*', () => {
    const bytes = B.concat([colo([2, 3, 1]), colo([2, 3, 1])]);
    const { items, end } = readBackChannelSync(bytes, { channel: 'colo' }).readAll();
    expect(items).toHaveLength(8);
    expect(end.status).toBe('complete');
    expect(items[3]).toMatchObject({ layer: 'libxc', record: { name: 'CHECKPOINT_DIRTY_PFN_LIST' } });
  });

  it('COLO: out of order is refused', () => {
    expectRule(() => readBackChannelSync(colo([3, 2, 1]), { channel: 'colo' }).readAll(), 'BACK-CHANNEL-ORDER');
  });

  it("postcopy: FAULT* then COMPLETE, then xl's sync message", () => {
    const d = 'postcopy-rfc' as const;
    const bytes = B.concat([
      B.rec('libxc', 'POSTCOPY_FAULT', { kind: 'pfn-list', count: 2, reserved: 0, pfns: [0x1234, 0x1235], types: [0, 0] }, d),
      B.rec('libxc', 'POSTCOPY_COMPLETE', undefined, d),
      new Uint8Array(Buffer.from('postcopy migration completed successfully\0')),
    ]);
    const { items, end } = readBackChannelSync(bytes, { channel: 'postcopy' }).readAll();
    expect(items.map((i) => (i.kind === 'record' ? i.record.name : i.kind))).toEqual(['POSTCOPY_FAULT', 'POSTCOPY_COMPLETE', 'trailing']);
    expect(end.trailingBytes).toBe(42);
    expectRule(() => readBackChannelSync(bytes.subarray(0, 32), { channel: 'postcopy' }).readAll(), 'STREAM-TRUNCATED');
  });
});

describe('strict and lenient', () => {
  it('non-zero padding: error when strict, warning when lenient', () => {
    const bytes = B.plainHvm();
    // The EMULATOR_CONTEXT record (12-byte body) has 4 padding bytes: find and dirty them.
    const { items } = readStreamSync(bytes).readAll();
    const emu = records(items).find((r) => r.record.name === 'EMULATOR_CONTEXT') as RecordItem;
    const bad = bytes.slice();
    bad[emu.offset + 8 + 12] = 0x55;
    const e = expectRule(() => readStreamSync(bad).readAll(), 'RECORD-PADDING-NONZERO');
    expect(e.offset).toBe(emu.offset + 20);
    const lenient = readStreamSync(bad, { strict: false }).readAll();
    expect(lenient.end.status).toBe('complete');
    expect(lenient.problems.map((p) => [p.rule.id, p.severity, p.offset])).toEqual([['RECORD-PADDING-NONZERO', 'warning', emu.offset + 20]]);
  });

  it('an unknown optional libxc record is skipped with a note', () => {
    const parts = B.hvmLibxc();
    parts.splice(3, 0, B.rawRecord(0x80000123, new Uint8Array([1, 2, 3])));
    const bytes = B.concat([B.libxlHeader(), B.rec('libxl', 'LIBXC_CONTEXT'), ...parts, B.rec('libxl', 'END')]);
    const r = readStreamSync(bytes).readAll();
    expect(r.end.status).toBe('complete');
    expect(r.problems.map((p) => p.rule.id)).toEqual(['LIBXC-UNKNOWN-OPTIONAL']);
  });

  it('a record longer than the limit is refused from its header, before its body is read', () => {
    const bytes = B.concat([B.libxlHeader(), B.rec('libxl', 'LIBXC_CONTEXT'), B.imageHeader(), B.domainHeader(2), B.rawRecord(1, new Uint8Array(0))]);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, 0x7fffffff, true);
    const e = expectRule(() => readStreamSync(bytes).readAll(), 'RECORD-LENGTH-MAX');
    expect(e.offset).toBe(bytes.length - 4);
    expectRule(() => readStreamSync(B.plainHvm(), { maxRecordLength: 1000 }).readAll(), 'RECORD-LENGTH-MAX');
  });
});
