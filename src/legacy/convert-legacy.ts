/**
 * Converts a legacy (pre-Xen-4.6) image to a v2 stream through the writer's
 * state machine, so the output is in the order Xen 4.6+ writes (and this
 * project's strict reader wants), marked as converted the way Xen's
 * convert-legacy-stream marks it: libxc v3 image, domain header Xen 0.1
 * ("converted, converter version 1"), libxl LEGACY option, emulator id 0.
 *
 * Records the legacy order puts elsewhere are held until their place: the TSC
 * info (sent before the pages by a non-live save), the HVM params (one chunk
 * each, plus the tail's magic pfns: merged into one HVM_PARAMS record), and the
 * PV vCPU contexts (before the shared info in legacy, after it in v2; views of
 * the input, not copies). Page batches go straight through.
 */
import { formatError } from '../codec/errors.js';
import {
  CHUNK_ENABLE_VERIFY_MODE,
  HVM_PARAM_BUFIOREQ_PFN,
  HVM_PARAM_IOREQ_PFN,
  HVM_PARAM_STORE_PFN,
  LEGACY_PFN_MASK,
  LEGACY_TYPE_SHIFT,
  LEGACY_XTAB_FILLER,
} from './legacy-format.js';
import type { StreamSource } from '../reader/sources.js';
import { PAGE_SIZE, XL_MANDATORY_FLAG_STREAMV2 } from '../format/constants.js';
import type { StreamSink } from '../writer/sink.js';
import { StreamWriter, type HvmParam } from '../writer/stream-writer.js';
import type { LegacyContainerItem, LegacyItem, MetaChunkItem, PageBatchItem, VcpuItem } from './legacy-items.js';
import { readLegacy, type LegacyReadOptions } from './legacy-reader.js';
import type { LegacyGuest, ToolstackWidth } from './legacy-layout.js';
import { physmapPairs } from './physmap.js';

/** The converter version written as xen_minor (xen_major 0), as Xen's convert-legacy-stream writes its own. */
export const LEGACY_CONVERTER_VERSION = 1;

/**
 * The output is always a libxl stream (inside an xl header when the input had
 * one), as libxl's own conversion gives (convert-legacy-stream -f libxl): the
 * QEMU record becomes EMULATOR_CONTEXT, libxl's physmap chunk EMULATOR_XENSTORE_DATA.
 */
export type ConvertLegacyOptions = LegacyReadOptions;

export interface ConvertLegacyResult {
  container: LegacyContainerItem['container'];
  guest: LegacyGuest;
  width: ToolstackWidth;
  /** Which of guest and width the stream told (the others came from the options). */
  inferred: { width: boolean; guest: boolean };
  pages: number;
  records: Record<string, number>;
  bytes: number;
  /** Things the v2 stream does not carry (e.g. "unmapped pfns" PV tails list), for the user. */
  notes: string[];
}

const legacyError = (offset: number, detail: string) => formatError('LEGACY', { offset, layer: 'libxc', recordName: 'legacy stream' }, { detail });

/** State held between the legacy pieces and their v2 places. */
interface Held {
  p2mSize: number;
  tsc?: NonNullable<MetaChunkItem['tsc']>;
  params: HvmParam[];
  vcpus: VcpuItem[];
  xenstore: Array<[string, string]>;
  qemu?: Uint8Array;
  pages: number;
  notes: string[];
}

/** Convert `source` into `sink` (closed on success, aborted on failure). */
export async function convertLegacy(source: StreamSource, sink: StreamSink, options: ConvertLegacyOptions = {}): Promise<ConvertLegacyResult> {
  const items = readLegacy(source, options);
  const held: Held = { p2mSize: 0, params: [], vcpus: [], xenstore: [], pages: 0, notes: [] };
  let writer: StreamWriter | undefined;
  let head: LegacyContainerItem | undefined;
  try {
    for await (const item of items) {
      if (item.kind === 'container') {
        head = item;
        writer = new StreamWriter(sink, { mode: 'plain', guest: head.guest, legacyConverted: true });
        await writeStart(writer, head);
      } else if (writer && head) {
        await convertItem(writer, head, held, item);
      }
    }
    if (!writer || !head) throw legacyError(0, 'no legacy image');
    await writeEnd(writer, head, held);
  } catch (error) {
    if (writer) await writer.abort(error instanceof Error ? error : undefined);
    else await sink.abort?.(error instanceof Error ? error : undefined);
    throw error;
  }
  return {
    container: head.container,
    guest: head.guest,
    width: head.width,
    inferred: head.inferred,
    pages: held.pages,
    records: writer.recordCounts(),
    bytes: writer.bytesWritten,
    notes: held.notes,
  };
}

async function writeStart(writer: StreamWriter, head: LegacyContainerItem): Promise<void> {
  // The xl header is kept (config bytes unchanged) with the STREAMv2 flag added, as Xen's converter does.
  if (head.xlHeader) await writer.writeXlHeader({ header: { ...head.xlHeader, mandatoryFlags: head.xlHeader.mandatoryFlags | XL_MANDATORY_FLAG_STREAMV2 } });
  await writer.writeLibxlHeader();
  await writer.writeLibxcContext();
  await writer.writeLibxcHeaders({ xenMajor: 0, xenMinor: LEGACY_CONVERTER_VERSION });
  if (head.guest === 'hvm') await writer.writeStaticDataEnd();
}

async function convertItem(writer: StreamWriter, head: LegacyContainerItem, held: Held, item: LegacyItem): Promise<void> {
  switch (item.kind) {
    case 'p2m-size':
      held.p2mSize = item.p2mSize;
      return;
    case 'extended-info':
      await writer.writePvInfo(item.guestWidth, item.ptLevels);
      await writer.writeStaticDataEnd();
      return;
    case 'p2m-frames':
      await writer.writeP2mFrames({ startPfn: 0, endPfn: held.p2mSize - 1, frames: item.frames });
      return;
    case 'page-batch':
      await writeBatch(writer, item, held);
      return;
    case 'chunk':
      await metaChunk(writer, head, held, item);
      return;
    case 'body-end':
      if (!held.tsc) throw legacyError(item.offset, 'the body has no tsc_info chunk (an image from before Xen 4.0?): a v2 stream needs X86_TSC_INFO');
      await writer.writeTscInfo({ mode: held.tsc.mode, khz: held.tsc.khz, nsec: held.tsc.nsec, incarnation: held.tsc.incarnation });
      return;
    case 'unmapped-pfns':
      if (item.pfns.length > 0)
        held.notes.push(`${item.pfns.length} "unmapped pfns" of the PV tail dropped (not needed to restore; Xen's converter drops them too)`);
      return;
    case 'vcpu':
      held.vcpus.push(item);
      return;
    case 'shared-info':
      await writer.writeSharedInfo(item.page);
      for (const v of held.vcpus) await writeVcpu(writer, v);
      return;
    case 'magic-pfns':
      held.params.push(
        { index: HVM_PARAM_IOREQ_PFN, value: item.ioreq },
        { index: HVM_PARAM_BUFIOREQ_PFN, value: item.bufioreq },
        { index: HVM_PARAM_STORE_PFN, value: item.store },
      );
      return;
    case 'hvm-context':
      await writer.writeHvmContext(item.blob);
      await writer.writeHvmParams(held.params);
      return;
    case 'qemu':
      held.qemu = item.data;
      return;
    case 'trailing':
      throw legacyError(item.offset, `${item.length} bytes follow the image (a Remus/checkpointed legacy stream?): not converted`);
    case 'container':
      return;
  }
}

/** Metadata chunks: kept for their v2 place, or written now (VERIFY). */
async function metaChunk(writer: StreamWriter, head: LegacyContainerItem, held: Held, chunk: MetaChunkItem): Promise<void> {
  if (chunk.param) held.params.push(chunk.param);
  else if (chunk.tsc) held.tsc = chunk.tsc;
  else if (chunk.id === CHUNK_ENABLE_VERIFY_MODE) await writer.writeVerify();
  else if (chunk.data && head.guest === 'hvm' && chunk.data.length > 0) held.xenstore.push(...physmapPairs(chunk.data, head.width, chunk.offset + 8));
}

/** A page batch as one PAGE_DATA record: type nibble from bits 31–28, pfn from bits 27–0; xc_domain_save's XTAB fillers dropped. */
async function writeBatch(writer: StreamWriter, batch: PageBatchItem, held: Held): Promise<void> {
  const pfns: number[] = [];
  const types: number[] = [];
  for (const entry of batch.entries) {
    if (entry === LEGACY_XTAB_FILLER) continue;
    pfns.push(entry & LEGACY_PFN_MASK);
    types.push(entry >>> LEGACY_TYPE_SHIFT);
  }
  if (pfns.length === 0) return;
  await writer.writePages(pfns, types, batch.pages);
  held.pages += batch.pages.length / PAGE_SIZE;
}

/**
 * The extended context is sent as 128 bytes in legacy images; its own size field
 * (bytes 4–7 of xen_domctl_ext_vcpucontext) says how many of them it uses, which
 * is what Xen 4.6+ sends. (Xen's converter keeps all 128.)
 */
function extendedContext(ext: Uint8Array): Uint8Array {
  const size = new DataView(ext.buffer, ext.byteOffset, ext.byteLength).getUint32(4, true);
  return size >= 8 && size <= ext.length ? ext.subarray(0, size) : ext;
}

async function writeVcpu(writer: StreamWriter, v: VcpuItem): Promise<void> {
  await writer.writeVcpuBasic(v.vcpuId, v.basic);
  if (v.extended) await writer.writeVcpuExtended(v.vcpuId, extendedContext(v.extended));
  if (v.xsave) await writer.writeVcpuXsave(v.vcpuId, v.xsave.data);
}

/** libxc END, the emulator records (HVM) and libxl END, which closes the sink. */
async function writeEnd(writer: StreamWriter, head: LegacyContainerItem, held: Held): Promise<void> {
  await writer.endLibxc();
  if (head.guest === 'hvm') {
    if (held.xenstore.length > 0) await writer.writeEmulatorXenstoreData(held.xenstore, { emulatorId: 0 });
    if (!held.qemu) throw legacyError(0, 'the HVM image has no QEMU record (a libxc-only save?): a libxl stream needs the device model state');
    await writer.writeEmulatorContext(held.qemu, { emulatorId: 0 });
  }
  await writer.end();
}
