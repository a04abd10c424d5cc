/**
 * Reads a legacy (pre-Xen-4.6) image piece by piece, in the order Xen 4.5's
 * xc_domain_save wrote it, yielding each piece with its offset: the container
 * header, p2m size, (PV) extended info and p2m frame list, the body's chunks
 * (page batches and metadata) up to the end chunk, then the tail (PV: unmapped
 * pfns, vCPU contexts, shared info; HVM: magic pfns, HVM context, QEMU record).
 *
 * Memory: one chunk at a time (a batch is at most 1024 pages); page contents
 * are views of the input window, never copied.
 */
import { decodeXlHeader } from '../codec/headers.js';
import { formatError } from '../codec/errors.js';
import { layoutCodec } from '../codec/layout-codec.js';
import { PAGE_SIZE, XL_HEADER_SIZE, XL_OPTIONAL_DATA_MAX } from '../format/constants.js';
import { LEGACY_EXT_BLOCK, LEGACY_MAGIC_PFNS, LEGACY_PARAM_CHUNK, LEGACY_TSC_CHUNK } from '../format/layouts/legacy.js';
import { openWindow, type ByteWindow, type StreamSource } from '../reader/sources.js';
import {
  CHUNK_END,
  CHUNK_TOOLSTACK,
  CHUNK_TSC_INFO,
  CHUNK_VCPU_INFO,
  EXT_BLOCK_EXTV,
  EXT_BLOCK_VCPU,
  EXT_BLOCK_XCNT,
  EXTENDED_CONTEXT_SIZE,
  EXTENDED_INFO_MAX,
  HVM_CONTEXT_MAX,
  LEGACY_CHUNKS,
  LEGACY_FIRST_DATALESS_TYPE,
  LEGACY_MAX_BATCH,
  LEGACY_MAX_VCPU_ID,
  LEGACY_TYPE_SHIFT,
  QEMU_SIGNATURE_EOF,
  QEMU_SIGNATURE_REMUS,
  QEMU_SIGNATURE_SIZE,
  QEMU_SIGNATURE_V2,
  TOOLSTACK_MAX,
  VCPU_CONTEXT_SIZE_32,
  VCPU_CONTEXT_SIZE_64,
} from './legacy-format.js';
import type { ExtendedInfoBlock, ExtendedInfoItem, LegacyContainerItem, LegacyItem, MetaChunkItem } from './legacy-items.js';
import { legacyShape, type LegacyGuest, type ToolstackWidth } from './legacy-layout.js';

export interface LegacyReadOptions {
  /** The saving toolstack's bitness, when the stream does not tell (it does for every image Xen 4.x wrote). */
  width?: ToolstackWidth;
  /** The guest type, when the stream does not tell. */
  guest?: LegacyGuest;
}

/** Largest QEMU record read (the rest-of-file form included). */
const QEMU_MAX = 256 * 1024 * 1024;

const legacyError = (offset: number, detail: string, extra: { expected?: string; actual?: string } = {}) =>
  formatError('LEGACY', { offset, layer: 'libxc', recordName: 'legacy stream' }, { detail, ...extra });

/** Sequential reads over a byte window, tracking the absolute offset. */
class Cursor {
  offset = 0;
  constructor(
    private readonly window: ByteWindow,
    readonly width: ToolstackWidth,
  ) {}

  async take(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.window.ensure(n))) {
      const have = this.window.current().length;
      throw formatError(
        'TRUNCATED',
        { offset: this.offset + have, layer: 'libxc', recordName: 'legacy stream' },
        { expected: `${n} bytes of ${what}`, actual: have },
      );
    }
    const view = this.window.current().subarray(0, n);
    this.window.consume(n);
    this.offset += n;
    return view;
  }

  async u32(what: string): Promise<number> {
    return dv(await this.take(4, what)).getUint32(0, true);
  }

  async i32(what: string): Promise<number> {
    return dv(await this.take(4, what)).getInt32(0, true);
  }

  async u64(what: string): Promise<bigint> {
    return dv(await this.take(8, what)).getBigUint64(0, true);
  }

  /** `n` unsigned longs of the saving toolstack's width. */
  async ulongs(n: number, what: string): Promise<bigint[]> {
    const size = this.width / 8;
    const view = dv(await this.take(n * size, what));
    const out: bigint[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = size === 8 ? view.getBigUint64(i * 8, true) : BigInt(view.getUint32(i * 4, true));
    return out;
  }

  /** Bytes known to follow (a regular file's size tells; otherwise those read ahead). */
  known(): number {
    return this.window.known();
  }

  /** How many bytes are left, when at most `limit` (undefined: more than that). */
  async remaining(limit: number): Promise<number | undefined> {
    const more = await this.window.ensure(limit + 1);
    return more ? undefined : this.window.current().length;
  }
}

const extBlock = layoutCodec(LEGACY_EXT_BLOCK);
const paramChunk = layoutCodec(LEGACY_PARAM_CHUNK);
const tscChunk = layoutCodec(LEGACY_TSC_CHUNK);
const magicPfns = layoutCodec(LEGACY_MAGIC_PFNS);

const dv = (u8: Uint8Array) => new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
const latin1 = (u8: Uint8Array) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('latin1');

/** Walk a legacy image from any source the v2 reader takes (gzip included). */
export async function* readLegacy(source: StreamSource, options: LegacyReadOptions = {}): AsyncGenerator<LegacyItem, void, undefined> {
  const window = await openWindow(source);
  try {
    const head = await containerItem(window, options);
    yield head;
    const cur = new Cursor(window, head.width);
    window.consume(head.length);
    cur.offset = head.length;
    yield* legacyBody(cur, head.guest);
  } finally {
    await window.close();
  }
}

/** The container header and what the body's first bytes say. */
async function containerItem(window: ByteWindow, options: LegacyReadOptions): Promise<LegacyContainerItem> {
  await window.ensure(64);
  let shape = legacyShape(window.current());
  // The header's claimed config length is checked before that many bytes are buffered.
  if (shape && shape.bodyOffset > XL_HEADER_SIZE + XL_OPTIONAL_DATA_MAX) {
    throw legacyError(shape.container === 'xl' ? 44 : 16, `${shape.container} config too long`, {
      expected: `≤ ${XL_OPTIONAL_DATA_MAX}`,
      actual: String(shape.bodyOffset),
    });
  }
  if (shape && window.current().length < shape.needed) {
    await window.ensure(shape.needed);
    shape = legacyShape(window.current());
  }
  const head = window.current();
  if (!shape) {
    if (options.width === undefined || options.guest === undefined) {
      throw legacyError(
        0,
        'not a recognisable legacy image (xl without STREAMv2, xend, or a libxc body); give --width and --guest to read it as a bare libxc image anyway',
      );
    }
    shape = { container: 'libxc', bodyOffset: 0, width: undefined, guest: undefined, needed: 0 };
  }
  const width = shape.width ?? options.width;
  const guest = shape.guest ?? options.guest;
  if (width === undefined || guest === undefined) {
    throw legacyError(
      shape.bodyOffset,
      `the stream does not tell the ${width === undefined ? 'toolstack width (--width 32|64)' : 'guest type (--guest pv|hvm)'}; give it`,
    );
  }
  if (options.width !== undefined && shape.width !== undefined && options.width !== shape.width) {
    throw legacyError(shape.bodyOffset, `the stream was written by a ${shape.width}-bit toolstack, not ${options.width}-bit`);
  }
  if (options.guest !== undefined && shape.guest !== undefined && options.guest !== shape.guest) {
    throw legacyError(shape.bodyOffset, `the stream holds a ${shape.guest.toUpperCase()} guest, not ${options.guest.toUpperCase()}`);
  }
  const item: LegacyContainerItem = {
    kind: 'container',
    container: shape.container,
    offset: 0,
    length: shape.bodyOffset,
    width,
    guest,
    inferred: { width: shape.width !== undefined, guest: shape.guest !== undefined },
  };
  if (shape.container === 'xl') item.xlHeader = decodeXlHeader(head, { offset: 0 }, { legacy: true }).header;
  if (shape.container === 'xend') item.xendConfig = latin1(head.subarray(20, shape.bodyOffset));
  return item;
}

async function* legacyBody(cur: Cursor, guest: LegacyGuest): AsyncGenerator<LegacyItem, void, undefined> {
  let at = cur.offset;
  const p2mSize = Number((await cur.ulongs(1, 'p2m size'))[0]);
  yield { kind: 'p2m-size', offset: at, length: cur.offset - at, p2mSize };
  let ext: ExtendedInfoItem | undefined;
  if (guest === 'pv') {
    ext = await extendedInfo(cur);
    yield ext;
    at = cur.offset;
    const perFrame = PAGE_SIZE / ext.guestWidth;
    const frames = await cur.ulongs(Math.ceil(p2mSize / perFrame), 'p2m frame list');
    yield { kind: 'p2m-frames', offset: at, length: cur.offset - at, frames };
  }
  let online = [0];
  for (;;) {
    at = cur.offset;
    const id = await cur.i32('chunk id');
    if (id === CHUNK_END) {
      yield { kind: 'body-end', offset: at, length: 4 };
      break;
    }
    if (id > 0) {
      yield await pageBatch(cur, at, id);
      continue;
    }
    const chunk = await metaChunk(cur, at, id, guest);
    if (chunk.vcpuInfo) online = chunk.vcpuInfo.online;
    yield chunk;
  }
  if (guest === 'pv') yield* pvTail(cur, ext as ExtendedInfoItem, online);
  else yield* hvmTail(cur);
  if ((await cur.remaining(0)) === undefined) yield { kind: 'trailing', offset: cur.offset, length: cur.known() };
}

async function extendedInfo(cur: Cursor): Promise<ExtendedInfoItem> {
  const at = cur.offset;
  const [signature] = await cur.ulongs(1, 'extended-info signature');
  if (signature !== (cur.width === 64 ? 0xffffffffffffffffn : 0xffffffffn)) {
    throw legacyError(at, 'a PV image without extended info (before Xen 3.3?) is not supported', { expected: '~0', actual: `0x${signature.toString(16)}` });
  }
  const total = await cur.u32('extended-info length');
  if (total > EXTENDED_INFO_MAX) throw legacyError(cur.offset - 4, 'extended info too long', { expected: `≤ ${EXTENDED_INFO_MAX}`, actual: String(total) });
  const blocks: ExtendedInfoBlock[] = [];
  let vcpuContextSize = 0;
  let extendedContext = false;
  let xsaveSize = 0;
  const end = cur.offset + total;
  while (cur.offset < end) {
    const blockAt = cur.offset;
    const hdr = extBlock.decode(await cur.take(extBlock.size, 'extended-info block header'));
    const id = latin1(hdr.id);
    const size = hdr.size;
    if (cur.offset + size > end) throw legacyError(blockAt, `extended-info block "${id}" overruns the extended info`);
    const data = await cur.take(size, `extended-info block "${id}"`);
    blocks.push({ id, offset: blockAt, size });
    if (id === EXT_BLOCK_VCPU) vcpuContextSize = size;
    else if (id === EXT_BLOCK_EXTV) extendedContext = true;
    else if (id === EXT_BLOCK_XCNT && size >= 4) xsaveSize = dv(data).getUint32(0, true);
    else throw legacyError(blockAt, `unknown extended-info block "${id}"`);
  }
  let guestWidth: 4 | 8;
  if (vcpuContextSize === VCPU_CONTEXT_SIZE_64) guestWidth = 8;
  else if (vcpuContextSize === VCPU_CONTEXT_SIZE_32) guestWidth = 4;
  else
    throw legacyError(at, 'the "vcpu" block size does not tell the guest width', {
      expected: '0x1430 (64-bit) or 0xaf0 (32-bit)',
      actual: `0x${vcpuContextSize.toString(16)}`,
    });
  if (xsaveSize !== 0 && xsaveSize < 16) throw legacyError(at, 'xsave size in the "xcnt" block is below its 16-byte header');
  return {
    kind: 'extended-info',
    offset: at,
    length: cur.offset - at,
    blocks,
    guestWidth,
    ptLevels: guestWidth === 8 ? 4 : 3,
    vcpuContextSize,
    extendedContext,
    xsaveSize,
  };
}

async function pageBatch(cur: Cursor, at: number, count: number): Promise<LegacyItem> {
  if (count > LEGACY_MAX_BATCH) throw legacyError(at, 'page batch too big', { expected: `≤ ${LEGACY_MAX_BATCH}`, actual: String(count) });
  const raw = await cur.ulongs(count, 'page batch pfns');
  const entries: number[] = new Array(count);
  let dataPages = 0;
  for (let i = 0; i < count; i++) {
    if (raw[i] > 0xffffffffn) throw legacyError(at + 4 + i * (cur.width / 8), 'pfn entry above 32 bits');
    entries[i] = Number(raw[i]);
    if (entries[i] >>> LEGACY_TYPE_SHIFT < LEGACY_FIRST_DATALESS_TYPE) dataPages++;
  }
  const pages = await cur.take(dataPages * PAGE_SIZE, 'page batch contents');
  return { kind: 'page-batch', offset: at, length: cur.offset - at, entries, dataPages, pages };
}

async function metaChunk(cur: Cursor, at: number, id: number, guest: LegacyGuest): Promise<MetaChunkItem> {
  const info = LEGACY_CHUNKS[id];
  if (!info) throw legacyError(at, `unknown chunk id ${id}`);
  const chunk: MetaChunkItem = { kind: 'chunk', offset: at, length: 0, id, name: info.name };
  if (info.hvmParam !== undefined) {
    if (guest !== 'hvm') throw legacyError(at, `HVM-only chunk ${info.name} in a PV stream`);
    chunk.param = { index: info.hvmParam, value: paramChunk.decode(await cur.take(paramChunk.size, info.name)).value };
  } else if (id === CHUNK_VCPU_INFO) {
    const maxVcpuId = await cur.i32('vcpu_info max id');
    if (maxVcpuId < 0 || maxVcpuId > LEGACY_MAX_VCPU_ID)
      throw legacyError(at + 4, 'vcpu_info max id out of range', { expected: `0–${LEGACY_MAX_VCPU_ID}`, actual: String(maxVcpuId) });
    const map = dv(await cur.take(8 * (Math.floor(maxVcpuId / 64) + 1), 'vcpu_info map'));
    const online: number[] = [];
    for (let v = 0; v <= maxVcpuId; v++) if ((map.getUint8(v >> 3) >> (v & 7)) & 1) online.push(v);
    chunk.vcpuInfo = { maxVcpuId, online };
  } else if (id === CHUNK_TSC_INFO) {
    chunk.tsc = tscChunk.decode(await cur.take(tscChunk.size, 'tsc_info'));
  } else if (id === CHUNK_TOOLSTACK) {
    const size = await cur.u32('toolstack size');
    if (size > TOOLSTACK_MAX) throw legacyError(at + 4, 'toolstack chunk too long', { expected: `≤ ${TOOLSTACK_MAX}`, actual: String(size) });
    chunk.data = await cur.take(size, 'toolstack data');
  } else if (info.bodySize === undefined) {
    // tmem, Remus compression: Xen's own converter leaves these as "todo" too.
    throw legacyError(at, `chunk ${info.name} (${id}) cannot be converted (tmem and Remus-compressed pages are not supported)`);
  } else {
    await cur.take(info.bodySize, info.name);
  }
  chunk.length = cur.offset - at;
  return chunk;
}

async function* pvTail(cur: Cursor, ext: ExtendedInfoItem, online: number[]): AsyncGenerator<LegacyItem, void, undefined> {
  let at = cur.offset;
  const count = await cur.u32('unmapped pfn count');
  const pfns = (await cur.ulongs(count, 'unmapped pfns')).map(Number);
  yield { kind: 'unmapped-pfns', offset: at, length: cur.offset - at, pfns };
  for (const vcpuId of online) {
    at = cur.offset;
    const basic = await cur.take(ext.vcpuContextSize, `vCPU ${vcpuId} context`);
    const extended = ext.extendedContext ? await cur.take(EXTENDED_CONTEXT_SIZE, `vCPU ${vcpuId} extended context`) : undefined;
    let xsave: { mask: bigint; data: Uint8Array } | undefined;
    if (ext.xsaveSize > 0) {
      const mask = await cur.u64('xsave mask');
      const size = await cur.u64('xsave size');
      if (size !== BigInt(ext.xsaveSize - 16))
        throw legacyError(cur.offset - 8, 'xsave size differs from the "xcnt" block', { expected: String(ext.xsaveSize - 16), actual: String(size) });
      xsave = { mask, data: await cur.take(Number(size), `vCPU ${vcpuId} xsave`) };
    }
    yield { kind: 'vcpu', offset: at, length: cur.offset - at, vcpuId, basic, ...(extended ? { extended } : {}), ...(xsave ? { xsave } : {}) };
  }
  at = cur.offset;
  yield { kind: 'shared-info', offset: at, length: PAGE_SIZE, page: await cur.take(PAGE_SIZE, 'shared info page') };
}

async function* hvmTail(cur: Cursor): AsyncGenerator<LegacyItem, void, undefined> {
  let at = cur.offset;
  const magic = magicPfns.decode(await cur.take(magicPfns.size, 'magic pfns'));
  yield { kind: 'magic-pfns', offset: at, length: magicPfns.size, ioreq: magic.ioreq, bufioreq: magic.bufioreq, store: magic.store };
  at = cur.offset;
  const size = await cur.u32('HVM context size');
  if (size > HVM_CONTEXT_MAX) throw legacyError(at, 'HVM context too long', { expected: `≤ ${HVM_CONTEXT_MAX}`, actual: String(size) });
  yield { kind: 'hvm-context', offset: at, length: 4 + size, blob: await cur.take(size, 'HVM context') };
  if ((await cur.remaining(0)) === 0) return;
  at = cur.offset;
  const signature = latin1(await cur.take(QEMU_SIGNATURE_SIZE, 'QEMU record signature'));
  let data: Uint8Array;
  if (signature === QEMU_SIGNATURE_V2 || signature === QEMU_SIGNATURE_REMUS) {
    const qsize = await cur.u32('QEMU record size');
    if (qsize > QEMU_MAX) throw legacyError(at + QEMU_SIGNATURE_SIZE, 'QEMU record too long', { expected: `≤ ${QEMU_MAX}`, actual: String(qsize) });
    data = await cur.take(qsize, 'QEMU record');
  } else if (signature === QEMU_SIGNATURE_EOF) {
    const rest = await cur.remaining(QEMU_MAX);
    if (rest === undefined) throw legacyError(at, 'QEMU record (to the end of the file) too long', { expected: `≤ ${QEMU_MAX}` });
    data = await cur.take(rest, 'QEMU record');
  } else {
    throw legacyError(at, 'unknown QEMU record signature', {
      expected: `${QEMU_SIGNATURE_V2}, ${QEMU_SIGNATURE_EOF} or ${QEMU_SIGNATURE_REMUS}`,
      actual: JSON.stringify(signature),
    });
  }
  yield { kind: 'qemu', offset: at, length: cur.offset - at, signature, data };
}
