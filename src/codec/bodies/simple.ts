/** Bodies with no structure of their own: empty records and opaque blobs. */
import type { Static } from '@sinclair/typebox';
import type { EmptyJson, OpaqueJson } from '../json-schemas.js';
import { fromBase64, toBase64 } from '../bytes.js';
import type { BodyCodec } from './body-codec.js';

/** Empty records (END, LIBXC_CONTEXT, CHECKPOINT, …). `extra` keeps content a lenient reader let through. */
export interface EmptyBody {
  kind: 'empty';
  extra?: Uint8Array;
}

export const emptyCodec: BodyCodec<EmptyBody, Static<typeof EmptyJson>> = {
  layout: 'empty',
  decode: (bytes) => (bytes.length === 0 ? { kind: 'empty' } : { kind: 'empty', extra: bytes }),
  encodedLength: (b) => b.extra?.length ?? 0,
  encode: (b) => (b.extra ? [b.extra] : []),
  toJson: (b) => (b.extra ? { kind: 'empty', extra: toBase64(b.extra) } : { kind: 'empty' }),
  fromJson: (j) => (j.extra !== undefined ? { kind: 'empty', extra: fromBase64(j.extra) } : { kind: 'empty' }),
};

/** Opaque bodies: TOOLSTACK, SHARED_INFO, HVM_CONTEXT, unknown types. */
export interface OpaqueBody {
  kind: 'opaque';
  data: Uint8Array;
}

export const opaqueCodec: BodyCodec<OpaqueBody, Static<typeof OpaqueJson>> = {
  layout: 'opaque',
  decode: (bytes) => ({ kind: 'opaque', data: bytes }),
  encodedLength: (b) => b.data.length,
  encode: (b) => [b.data],
  toJson: (b) => ({ kind: 'opaque', data: toBase64(b.data) }),
  fromJson: (j) => ({ kind: 'opaque', data: fromBase64(j.data) }),
};
