/** libxl bodies: EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT, CHECKPOINT_STATE. */
import type { Static } from '@sinclair/typebox';
import type { EmulatorXenstoreJson, EmulatorContextJson, CheckpointStateJson } from '../json-schemas.js';
import { dataView, fromBase64, toBase64 } from '../bytes.js';
import { formatError } from '../errors.js';
import type { BodyCodec } from './body-codec.js';
import { PackedList, packedBytes, type EntryList } from './entry-list.js';

function emulatorHeader(emulatorId: number, index: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = dataView(out);
  dv.setUint32(0, emulatorId, true);
  dv.setUint32(4, index, true);
  return out;
}

// EMULATOR_XENSTORE_DATA: emulator sub-header + NUL-terminated key/value strings.
export interface EmulatorXenstoreBody {
  kind: 'emulator-xenstore';
  emulatorId: number;
  index: number;
  /** [key, value] pairs; strings hold bytes 1:1 (latin1), so any byte survives a round trip. */
  pairs: EntryList<[string, string]>;
}

export const emulatorXenstoreCodec: BodyCodec<EmulatorXenstoreBody, Static<typeof EmulatorXenstoreJson>> = {
  layout: 'emulator-xenstore',
  decode(bytes, at) {
    if (bytes.length < 8) throw formatError('EMULATOR_SHORT', at, { expected: '≥ 8 bytes', actual: bytes.length });
    const dv = dataView(bytes);
    const text = (from: number, to: number) => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
    // Check every pair, counting them; then note where each key starts (4 bytes per pair at
    // most as many bytes as the pairs themselves) and read the strings only when asked.
    const walk = (visit: (keyStart: number, index: number) => void): number => {
      let n = 0;
      let pos = 8;
      while (pos < bytes.length) {
        const keyEnd = bytes.indexOf(0, pos);
        if (keyEnd < 0)
          throw formatError('XENSTORE_KEY_NUL', at, { relative: pos, expected: 'a NUL-terminated key', actual: `${bytes.length - pos} bytes without NUL` });
        if (keyEnd === pos) throw formatError('XENSTORE_KEY_EMPTY', at, { relative: pos });
        if (bytes[pos] === 0x2f)
          throw formatError('XENSTORE_KEY_ABSOLUTE', at, {
            relative: pos,
            expected: 'a relative key',
            actual: JSON.stringify(text(pos, Math.min(keyEnd, pos + 256))),
          });
        const valStart = keyEnd + 1;
        const valEnd = valStart < bytes.length ? bytes.indexOf(0, valStart) : -1;
        if (valEnd < 0)
          throw formatError('XENSTORE_VALUE_NUL', at, {
            relative: valStart,
            expected: `a NUL-terminated value for key ${JSON.stringify(text(pos, Math.min(keyEnd, pos + 256)))}`,
          });
        visit(pos, n++);
        pos = valEnd + 1;
      }
      return n;
    };
    const count = walk(() => undefined);
    const keyStarts = new Uint32Array(count);
    walk((keyStart, i) => (keyStarts[i] = keyStart));
    const pairs = new PackedList(bytes.subarray(8), count, (i): [string, string] => {
      const keyEnd = bytes.indexOf(0, keyStarts[i]);
      return [text(keyStarts[i], keyEnd), text(keyEnd + 1, bytes.indexOf(0, keyEnd + 1))];
    });
    return { kind: 'emulator-xenstore', emulatorId: dv.getUint32(0, true), index: dv.getUint32(4, true), pairs };
  },
  encodedLength: (b) => {
    const packed = packedBytes(b.pairs);
    if (packed) return 8 + packed.length;
    let n = 8;
    for (const [k, v] of b.pairs) n += k.length + v.length + 2;
    return n;
  },
  encode(b) {
    const packed = packedBytes(b.pairs);
    if (packed) return [emulatorHeader(b.emulatorId, b.index), packed];
    const data = Buffer.from(b.pairs.map(([k, v]) => `${k}\0${v}\0`).join(''), 'latin1');
    return [emulatorHeader(b.emulatorId, b.index), new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  },
  toJson: (b) => ({ kind: 'emulator-xenstore', emulatorId: b.emulatorId, index: b.index, pairs: b.pairs.map(([k, v]) => [k, v]) }),
  fromJson: (j) => ({ kind: 'emulator-xenstore', emulatorId: j.emulatorId, index: j.index, pairs: j.pairs.map(([k, v]) => [k, v]) }),
};

// EMULATOR_CONTEXT: emulator sub-header + the device model's blob.
export interface EmulatorContextBody {
  kind: 'emulator-context';
  emulatorId: number;
  index: number;
  blob: Uint8Array;
}

export const emulatorContextCodec: BodyCodec<EmulatorContextBody, Static<typeof EmulatorContextJson>> = {
  layout: 'emulator-context',
  decode(bytes, at) {
    if (bytes.length < 8) throw formatError('EMULATOR_SHORT', at, { expected: '≥ 8 bytes', actual: bytes.length });
    const dv = dataView(bytes);
    return { kind: 'emulator-context', emulatorId: dv.getUint32(0, true), index: dv.getUint32(4, true), blob: bytes.subarray(8) };
  },
  encodedLength: (b) => 8 + b.blob.length,
  encode: (b) => [emulatorHeader(b.emulatorId, b.index), b.blob],
  toJson: (b) => ({ kind: 'emulator-context', emulatorId: b.emulatorId, index: b.index, blob: toBase64(b.blob) }),
  fromJson: (j) => ({ kind: 'emulator-context', emulatorId: j.emulatorId, index: j.index, blob: fromBase64(j.blob) }),
};

// CHECKPOINT_STATE: u32 control_id (body_length 4).
export interface CheckpointStateBody {
  kind: 'checkpoint-state';
  controlId: number;
  /** Bytes beyond the u32 (only a lenient reader lets them through). */
  extra?: Uint8Array;
}

export const checkpointStateCodec: BodyCodec<CheckpointStateBody, Static<typeof CheckpointStateJson>> = {
  layout: 'checkpoint-state',
  decode(bytes, at) {
    if (bytes.length < 4) throw formatError('CHECKPOINT_STATE_LENGTH', at, { expected: 4, actual: bytes.length });
    const b: CheckpointStateBody = { kind: 'checkpoint-state', controlId: dataView(bytes).getUint32(0, true) };
    if (bytes.length > 4) b.extra = bytes.subarray(4);
    return b;
  },
  encodedLength: (b) => 4 + (b.extra?.length ?? 0),
  encode(b) {
    const out = new Uint8Array(4);
    dataView(out).setUint32(0, b.controlId, true);
    return b.extra ? [out, b.extra] : [out];
  },
  toJson: (b) => ({ kind: 'checkpoint-state', controlId: b.controlId, ...(b.extra ? { extra: toBase64(b.extra) } : {}) }),
  fromJson: (j) => ({ kind: 'checkpoint-state', controlId: j.controlId, ...(j.extra !== undefined ? { extra: fromBase64(j.extra) } : {}) }),
};
