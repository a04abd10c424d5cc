/** libxl bodies: EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT, CHECKPOINT_STATE. */
import type { LayoutJson } from '../../format/layout.js';
import { CHECKPOINT_STATE, EMULATOR_HEADER } from '../../format/layouts/libxl-records.js';
import { fromBase64, toBase64 } from '../bytes.js';
import { formatError, type DecodeContext } from '../errors.js';
import { layoutCodec } from '../layout-codec.js';
import type { BodyCodec } from './body-codec.js';
import { fixedBodyWithExtraCodec, type FixedBodyWithExtra } from './fixed-body.js';
import { PackedList, packedBytes, type EntryList } from './entry-list.js';

// Both emulator records start with the sub-header of src/format/layouts/libxl-records.ts.
const emulatorHead = layoutCodec(EMULATOR_HEADER);
export const EMULATOR_HEAD_SIZE = EMULATOR_HEADER.size;

function emulatorHeader(b: { emulatorId: number; index: number }): Uint8Array {
  return emulatorHead.encode({ emulatorId: b.emulatorId, index: b.index });
}

function decodeEmulatorHeader(bytes: Uint8Array, at: DecodeContext): { emulatorId: number; index: number } {
  if (bytes.length < EMULATOR_HEAD_SIZE) throw formatError('EMULATOR_SHORT', at, { expected: `≥ ${EMULATOR_HEAD_SIZE} bytes`, actual: bytes.length });
  return emulatorHead.decode(bytes);
}

// EMULATOR_XENSTORE_DATA: emulator sub-header + NUL-terminated key/value strings.
export interface EmulatorXenstoreBody {
  kind: 'emulator-xenstore';
  emulatorId: number;
  index: number;
  /** [key, value] pairs; strings hold bytes 1:1 (latin1), so any byte survives a round trip. */
  pairs: EntryList<[string, string]>;
}

/** JSON forms (their schemas in json-schemas.ts are derived from the same tables). */
type EmulatorHeaderJson = LayoutJson<typeof EMULATOR_HEADER>;
export type EmulatorXenstoreJsonForm = { kind: 'emulator-xenstore'; pairs: [string, string][] } & EmulatorHeaderJson;
export type EmulatorContextJsonForm = { kind: 'emulator-context'; blob: string } & EmulatorHeaderJson;

export const emulatorXenstoreCodec: BodyCodec<EmulatorXenstoreBody, EmulatorXenstoreJsonForm> = {
  layout: 'emulator-xenstore',
  table: EMULATOR_HEADER,
  decode(bytes, at) {
    const head = decodeEmulatorHeader(bytes, at);
    const text = (from: number, to: number) => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
    // Check every pair, counting them; then note where each key starts (4 bytes per pair at
    // most as many bytes as the pairs themselves) and read the strings only when asked.
    const walk = (visit: (keyStart: number, index: number) => void): number => {
      let n = 0;
      let pos = EMULATOR_HEAD_SIZE;
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
    const pairs = new PackedList(bytes.subarray(EMULATOR_HEAD_SIZE), count, (i): [string, string] => {
      const keyEnd = bytes.indexOf(0, keyStarts[i]);
      return [text(keyStarts[i], keyEnd), text(keyEnd + 1, bytes.indexOf(0, keyEnd + 1))];
    });
    return { kind: 'emulator-xenstore', ...head, pairs };
  },
  encodedLength: (b) => {
    const packed = packedBytes(b.pairs);
    if (packed) return EMULATOR_HEAD_SIZE + packed.length;
    let n = EMULATOR_HEAD_SIZE;
    for (const [k, v] of b.pairs) n += k.length + v.length + 2;
    return n;
  },
  encode(b) {
    const packed = packedBytes(b.pairs);
    if (packed) return [emulatorHeader(b), packed];
    const data = Buffer.from(b.pairs.map(([k, v]) => `${k}\0${v}\0`).join(''), 'latin1');
    return [emulatorHeader(b), new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  },
  toJson: (b) => ({ kind: 'emulator-xenstore', emulatorId: b.emulatorId, index: b.index, pairs: b.pairs.map(([k, v]) => [k, v]) }),
  fromJson: (j) => ({ kind: 'emulator-xenstore', emulatorId: j.emulatorId, index: j.index, pairs: j.pairs.map(([k, v]) => [k, v]) }),
};

// EMULATOR_CONTEXT: emulator sub-header + the device model's blob.
export interface EmulatorContextBody {
  kind: 'emulator-context';
  emulatorId: number;
  index: number;
  /** The device model's state, opaque to the stream. Empty when the reader skipped it (`blobSkipped`). */
  blob: Uint8Array;
  /**
   * Set when a push decoder with `pageContents: 'skip'` decoded the record from
   * its sub-header and let the blob pass unread (no rule reads it): the record
   * was checked, padding included, but `blob` is empty; its length is the
   * record's bodyLength minus the 8-byte sub-header.
   */
  blobSkipped?: true;
}

function blobRead(b: EmulatorContextBody): void {
  if (b.blobSkipped) throw new Error("this EMULATOR_CONTEXT record's blob was skipped (reader option pageContents: 'skip')");
}

/**
 * EMULATOR_CONTEXT decoded from its sub-header alone (`head`, the first
 * EMULATOR_HEAD_SIZE body bytes), for a reader that lets the blob pass:
 * the same checks as a full decode, none of which reads the blob.
 */
export function decodeEmulatorContextWithoutBlob(head: Uint8Array, at: DecodeContext): EmulatorContextBody {
  return { kind: 'emulator-context', ...decodeEmulatorHeader(head, at), blob: new Uint8Array(0), blobSkipped: true };
}

export const emulatorContextCodec: BodyCodec<EmulatorContextBody, EmulatorContextJsonForm> = {
  layout: 'emulator-context',
  table: EMULATOR_HEADER,
  decode(bytes, at) {
    return { kind: 'emulator-context', ...decodeEmulatorHeader(bytes, at), blob: bytes.subarray(EMULATOR_HEAD_SIZE) };
  },
  encodedLength: (b) => EMULATOR_HEAD_SIZE + b.blob.length,
  encode(b) {
    blobRead(b);
    return [emulatorHeader(b), b.blob];
  },
  toJson(b) {
    blobRead(b);
    return { kind: 'emulator-context', emulatorId: b.emulatorId, index: b.index, blob: toBase64(b.blob) };
  },
  fromJson: (j) => ({ kind: 'emulator-context', emulatorId: j.emulatorId, index: j.index, blob: fromBase64(j.blob) }),
};

// CHECKPOINT_STATE: the u32 of src/format/layouts/libxl-records.ts (body_length 4); bytes beyond it
// are kept as `extra` (only a lenient reader lets them through).
export type CheckpointStateBody = FixedBodyWithExtra<'checkpoint-state', typeof CHECKPOINT_STATE>;

export const checkpointStateCodec = fixedBodyWithExtraCodec('checkpoint-state', CHECKPOINT_STATE, 'CHECKPOINT_STATE_LENGTH');
