/**
 * TypeBox schemas of every JSON form: one per body layout (the same keys as
 * the body codecs in ./bodies), records, headers and whole-stream documents.
 * Kept apart from the codecs so that reading a stream never loads TypeBox;
 * only code that validates JSON does.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { BodyLayout } from '../format/record-types.js';
import type { Layout } from '../format/layout.js';
import { X86_TSC_INFO } from '../format/layouts/x86-tsc-info.js';
import { X86_PV_INFO, X86_PV_P2M_FRAMES_HEAD } from '../format/layouts/x86-pv-info.js';
import { HVM_PARAMS_ENTRY, HVM_PARAMS_HEAD } from '../format/layouts/x86-hvm-params.js';
import { CHECKPOINT_STATE, EMULATOR_HEADER } from '../format/layouts/libxl-records.js';
import { PAGE_DATA_HEAD } from '../format/layouts/page-data.js';
import { LIBXC_DOMAIN_HEADER, LIBXC_IMAGE_HEADER, LIBXL_HEADER, XL_HEADER } from '../format/layouts/stream-headers.js';
import { layoutProperties, layoutSchema, pickLayoutProperties as pick } from './layout-schema.js';

/** A fixed body's schema: its kind plus the layout table's fields. */
function fixedBodySchema(kind: BodyLayout, table: Layout) {
  return Type.Object({ kind: Type.Literal(kind), ...layoutProperties(table) }, { additionalProperties: false });
}

const U32 = Type.Integer({ minimum: 0, maximum: 0xffffffff });
const U16 = Type.Integer({ minimum: 0, maximum: 0xffff });
// At most 16 significant hex digits: 2^64 and above are refused at their JSON path, never wrapped.
const U64 = Type.String({ pattern: '^0x0*[0-9a-f]{1,16}$', description: 'u64, hex (< 2^64)' });

const EntriesJson = {
  ...layoutProperties(PAGE_DATA_HEAD),
  pfns: Type.Array(Type.Integer({ minimum: 0, maximum: 2 ** 52 - 1 })),
  types: Type.Array(Type.Integer({ minimum: 0, maximum: 15 })),
  pfnReservedBits: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 255 }))),
};

// simple.ts
export const EmptyJson = Type.Object(
  { kind: Type.Literal('empty'), extra: Type.Optional(Type.String({ description: 'unexpected body bytes, base64' })) },
  { additionalProperties: false },
);

// simple.ts
/** Decoded fields of a structure (src/codec/machine/machine-json.ts): the layout table's JSON form, checked when encoded. */
const MachineFields = Type.Record(Type.String(), Type.Unknown(), { description: 'decoded fields; encoded over the raw bytes' });

/** One HVM save entry of an HVM_CONTEXT body, decoded next to the blob. */
export const HvmEntryJson = Type.Object(
  {
    typecode: U16,
    instance: U16,
    name: Type.String(),
    offset: Type.Integer({ minimum: 0, maximum: 0xffffffff, description: 'blob offset of the descriptor' }),
    length: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    layout: Type.Optional(Type.String()),
    fields: Type.Optional(MachineFields),
  },
  { additionalProperties: false },
);

export const OpaqueJson = Type.Object(
  {
    kind: Type.Literal('opaque'),
    data: Type.String({ description: 'body bytes, base64' }),
    entries: Type.Optional(Type.Array(HvmEntryJson, { description: 'HVM_CONTEXT only: its save entries decoded' })),
  },
  { additionalProperties: false },
);

// page-data.ts
export const PageDataJson = Type.Object(
  { kind: Type.Literal('page-data'), ...EntriesJson, pages: Type.Array(Type.String({ description: 'one 4096-byte page, base64' })) },
  { additionalProperties: false },
);

// page-data.ts
export const PfnListJson = Type.Object({ kind: Type.Literal('pfn-list'), ...EntriesJson }, { additionalProperties: false });

// x86-pv.ts
export const PvInfoJson = Type.Object(
  { kind: Type.Literal('pv-info'), ...layoutProperties(X86_PV_INFO), extra: Type.Optional(Type.String({ description: 'base64' })) },
  { additionalProperties: false },
);

// x86-pv.ts
export const P2mFramesJson = Type.Object(
  {
    kind: Type.Literal('p2m-frames'),
    ...layoutProperties(X86_PV_P2M_FRAMES_HEAD),
    frames: Type.Array(U64),
  },
  { additionalProperties: false },
);

// x86-pv.ts
export const VcpuJson = Type.Object(
  {
    kind: Type.Literal('vcpu'),
    vcpuId: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    reserved: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    context: Type.String({ description: 'context blob, base64' }),
    layout: Type.Optional(Type.String({ description: 'the table the context decodes with' })),
    fields: Type.Optional(MachineFields),
  },
  { additionalProperties: false },
);

// x86-common.ts
export const TscInfoJson = fixedBodySchema('tsc-info', X86_TSC_INFO);

// x86-common.ts
export const HvmParamsJson = Type.Object(
  {
    kind: Type.Literal('hvm-params'),
    ...pick(HVM_PARAMS_HEAD, ['reserved']),
    params: Type.Array(layoutSchema(HVM_PARAMS_ENTRY)),
  },
  { additionalProperties: false },
);

// x86-common.ts
export const CpuidPolicyJson = Type.Object(
  {
    kind: Type.Literal('cpuid-policy'),
    leaves: Type.Array(Type.Object({ leaf: U32, subleaf: U32, a: U32, b: U32, c: U32, d: U32 }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

// x86-common.ts
export const MsrPolicyJson = Type.Object(
  {
    kind: Type.Literal('msr-policy'),
    entries: Type.Array(Type.Object({ idx: U32, flags: U32, val: U64 }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

// x86-common.ts
export const DirtyPfnListJson = Type.Object({ kind: Type.Literal('dirty-pfn-list'), pfns: Type.Array(U64) }, { additionalProperties: false });

// libxl.ts
export const EmulatorXenstoreJson = Type.Object(
  {
    kind: Type.Literal('emulator-xenstore'),
    ...layoutProperties(EMULATOR_HEADER),
    pairs: Type.Array(Type.Tuple([Type.String(), Type.String()])),
  },
  { additionalProperties: false },
);

// libxl.ts
export const EmulatorContextJson = Type.Object(
  { kind: Type.Literal('emulator-context'), ...layoutProperties(EMULATOR_HEADER), blob: Type.String({ description: 'base64' }) },
  { additionalProperties: false },
);

// libxl.ts
export const CheckpointStateJson = Type.Object(
  { kind: Type.Literal('checkpoint-state'), ...layoutProperties(CHECKPOINT_STATE), extra: Type.Optional(Type.String({ description: 'base64' })) },
  { additionalProperties: false },
);

/** Body schemas by layout: the same keys as the codec registry (records.ts BODY_CODECS). */
export const BODY_SCHEMAS: Readonly<Record<BodyLayout, TSchema>> = {
  empty: EmptyJson,
  opaque: OpaqueJson,
  'page-data': PageDataJson,
  'pfn-list': PfnListJson,
  'pv-info': PvInfoJson,
  'p2m-frames': P2mFramesJson,
  vcpu: VcpuJson,
  'shared-info': OpaqueJson,
  'tsc-info': TscInfoJson,
  'hvm-context': OpaqueJson,
  'hvm-params': HvmParamsJson,
  'cpuid-policy': CpuidPolicyJson,
  'msr-policy': MsrPolicyJson,
  'dirty-pfn-list': DirtyPfnListJson,
  'emulator-xenstore': EmulatorXenstoreJson,
  'emulator-context': EmulatorContextJson,
  'checkpoint-state': CheckpointStateJson,
};

/** Schema of every body's JSON form (a union discriminated by `kind`). */
const bodySchemas: TSchema[] = [...new Set(Object.values(BODY_SCHEMAS))];
export const RecordBodyJson = Type.Union(bodySchemas);

/** The JSON schema of one body kind (for precise validation errors). */
export function bodySchemaForKind(kind: unknown): TSchema | undefined {
  return bodySchemas.find((s) => (s.properties as Record<string, { const?: unknown }> | undefined)?.kind?.const === kind);
}

export const RecordJson = Type.Object(
  {
    layer: Type.Union([Type.Literal('libxl'), Type.Literal('libxc')]),
    type: U32,
    name: Type.String(),
    body: RecordBodyJson,
    padding: Type.Optional(Type.String({ pattern: '^([0-9a-f]{2}){1,7}$', description: 'non-zero padding, hex' })),
  },
  { additionalProperties: false },
);

export const XlHeaderJson = Type.Object(
  {
    kind: Type.Literal('xl-header'),
    byteOrder: Type.Union([Type.Literal('little'), Type.Literal('big')]),
    ...pick(XL_HEADER, ['mandatoryFlags', 'optionalFlags']),
    /** The config text (including xl's terminating NUL) when it is UTF-8; else configBase64. */
    config: Type.Optional(Type.String()),
    configBase64: Type.Optional(Type.String()),
    optionalTail: Type.Optional(Type.String({ description: 'ignored optional data after the config, base64' })),
  },
  { additionalProperties: false },
);
export const LibxlHeaderJson = Type.Object(
  { kind: Type.Literal('libxl-header'), ...pick(LIBXL_HEADER, ['version', 'options']) },
  { additionalProperties: false },
);
export const LibxcImageHeaderJson = Type.Object(
  { kind: Type.Literal('libxc-image-header'), ...pick(LIBXC_IMAGE_HEADER, ['version', 'options', 'reserved16', 'reserved32']) },
  { additionalProperties: false },
);
export const LibxcDomainHeaderJson = Type.Object(
  { kind: Type.Literal('libxc-domain-header'), ...layoutProperties(LIBXC_DOMAIN_HEADER) },
  { additionalProperties: false },
);
export const RecordItemJson = Type.Object({ kind: Type.Literal('record'), ...RecordJson.properties }, { additionalProperties: false });
export const TrailingJson = Type.Object(
  { kind: Type.Literal('trailing'), data: Type.String({ description: 'bytes after the final END, base64' }) },
  { additionalProperties: false },
);

export const ContainerPartJson = Type.Object(
  {
    kind: Type.Literal('container-part'),
    wrapper: Type.Union([Type.Literal('libvirt'), Type.Literal('xenserver')]),
    part: Type.String({ description: 'what the part is (libvirt header, Xenops record, End_of_image…)' }),
    data: Type.String({ description: "the part's bytes (header and body), base64: what encode writes" }),
    text: Type.Optional(Type.String({ description: "the part's text (domain XML, xenops S-expression), for reading: encode ignores it" })),
  },
  { additionalProperties: false },
);

export const StreamItemJson = Type.Union([
  XlHeaderJson,
  LibxlHeaderJson,
  LibxcImageHeaderJson,
  LibxcDomainHeaderJson,
  RecordItemJson,
  TrailingJson,
  ContainerPartJson,
]);

export const StreamDocumentJson = Type.Object(
  {
    format: Type.Literal('xen-migration-stream/1'),
    dialect: Type.Union([Type.Literal('upstream'), Type.Literal('postcopy-rfc')]),
    items: Type.Array(StreamItemJson),
  },
  {
    additionalProperties: true,
    description: 'A whole stream: headers and records in wire order. Other top-level keys (e.g. a summary) are ignored by encode.',
  },
);
