/** Bodies with no structure of their own: empty records and opaque blobs. */
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64, toBase64 } from '../bytes.js';
import type { BodyCodec } from './body-codec.js';

/** Empty records (END, LIBXC_CONTEXT, CHECKPOINT, …). `extra` keeps content a lenient reader let through. */
export interface EmptyBody {
  kind: 'empty';
  extra?: Uint8Array;
}

export const EmptyJson = Type.Object(
  { kind: Type.Literal('empty'), extra: Type.Optional(Type.String({ description: 'unexpected body bytes, base64' })) },
  { additionalProperties: false },
);

export const emptyCodec: BodyCodec<EmptyBody, Static<typeof EmptyJson>> = {
  layout: 'empty',
  decode: (bytes) => (bytes.length === 0 ? { kind: 'empty' } : { kind: 'empty', extra: bytes }),
  encodedLength: (b) => b.extra?.length ?? 0,
  encode: (b) => (b.extra ? [b.extra] : []),
  schema: EmptyJson,
  toJson: (b) => (b.extra ? { kind: 'empty', extra: toBase64(b.extra) } : { kind: 'empty' }),
  fromJson: (j) => (j.extra !== undefined ? { kind: 'empty', extra: fromBase64(j.extra) } : { kind: 'empty' }),
};

/** Opaque bodies: TOOLSTACK, SHARED_INFO, HVM_CONTEXT, unknown types. */
export interface OpaqueBody {
  kind: 'opaque';
  data: Uint8Array;
}

export const OpaqueJson = Type.Object(
  { kind: Type.Literal('opaque'), data: Type.String({ description: 'body bytes, base64' }) },
  { additionalProperties: false },
);

export const opaqueCodec: BodyCodec<OpaqueBody, Static<typeof OpaqueJson>> = {
  layout: 'opaque',
  decode: (bytes) => ({ kind: 'opaque', data: bytes }),
  encodedLength: (b) => b.data.length,
  encode: (b) => [b.data],
  schema: OpaqueJson,
  toJson: (b) => ({ kind: 'opaque', data: toBase64(b.data) }),
  fromJson: (j) => ({ kind: 'opaque', data: fromBase64(j.data) }),
};
