/**
 * Pass 2 of `rewrite --flatten`: a plain single-pass save built from what the
 * scan learned. Headers as in the input (the xl header byte for byte), the
 * static records, then every pfn once in ascending order with the type and
 * contents of its last copy (XTAB/BROKEN/XALLOC entries included, without
 * data), fetched from the input by offset, `batch` pfns per record; then the
 * state records of the last complete checkpoint, libxc END, the emulator
 * records, libxl END.
 *
 * Memory: the scan's index (≈ 9 bytes per pfn) and one batch of pages
 * (≤ 4 MiB); pages that lie next to each other in the input are read with one
 * positional read.
 */
import { MAX_BATCH_SIZE, PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import { StreamWriter } from '../writer/stream-writer.js';
import type { StreamSink } from '../writer/sink.js';
import type { PageReader } from './input.js';
import { writeRecord } from './record-writer.js';
import type { ScanResult } from './scan.js';

export interface FlattenResult {
  writer: StreamWriter;
  pageEntriesOut: number;
  pageRecordsOut: number;
}

// Long (~80 lines): the flattened stream in wire order (static data, last page copies,
// last state records), read top to bottom.
export async function writeFlattened(
  scan: ScanResult,
  pages: PageReader,
  sink: StreamSink,
  options: { batch?: number | undefined; onProgress?: ((pfnsDone: number) => void) | undefined },
): Promise<FlattenResult> {
  const index = scan.index;
  if (!index) throw new Error('internal: flatten without an index');
  const batch = options.batch ?? MAX_BATCH_SIZE;
  const writer = new StreamWriter(sink, { mode: 'plain', guest: scan.guest });
  let entriesOut = 0;
  let recordsOut = 0;
  try {
    if (scan.wrapperParts.length > 0) await sink.write(scan.wrapperParts);
    if (scan.xlHeader) await writer.writeXlHeader({ header: scan.xlHeader });
    await writer.writeLibxlHeader();
    await writer.beginLibxc({ xenMajor: scan.domainHeader.xenMajor, xenMinor: scan.domainHeader.xenMinor });
    let staticDataEnd = false;
    for (const r of scan.staticRecords) {
      // A v2 image has no STATIC_DATA_END; the output is a v3 image, which needs one before the P2M frames.
      if (r.name === 'X86_PV_P2M_FRAMES' && !staticDataEnd) {
        await writer.writeStaticDataEnd();
        staticDataEnd = true;
      }
      if (r.name === 'STATIC_DATA_END') staticDataEnd = true;
      await writeRecord(writer, r);
    }
    if (!staticDataEnd) await writer.writeStaticDataEnd();

    let pfns: number[] = [];
    let types: number[] = [];
    let offsets: number[] = [];
    const flush = async (): Promise<void> => {
      if (pfns.length === 0) return;
      let dataPages = 0;
      for (const t of types) dataPages += PAGE_TYPE_HAS_DATA[t];
      const buffer = new Uint8Array(dataPages * PAGE_SIZE);
      // One positional read per run of pages that are contiguous in the input.
      let k = 0;
      for (let i = 0; i < pfns.length; ) {
        if (!PAGE_TYPE_HAS_DATA[types[i]]) {
          i++;
          continue;
        }
        const start = offsets[i];
        const first = k;
        let j = i;
        for (;;) {
          k++;
          j++;
          while (j < pfns.length && !PAGE_TYPE_HAS_DATA[types[j]]) j++;
          if (j >= pfns.length || offsets[j] !== start + (k - first) * PAGE_SIZE) break;
        }
        await pages.read(buffer.subarray(first * PAGE_SIZE, k * PAGE_SIZE), start);
        i = j;
      }
      await writer.writePages(pfns, types, buffer);
      entriesOut += pfns.length;
      recordsOut++;
      options.onProgress?.(entriesOut);
      pfns = [];
      types = [];
      offsets = [];
    };
    await index.forEachAscending(async (pfn, type, offset) => {
      pfns.push(pfn);
      types.push(type);
      offsets.push(offset);
      if (pfns.length === batch) await flush();
    });
    await flush();

    const emulator = scan.stateRecords.filter((r) => r.layer === 'libxl');
    for (const r of scan.stateRecords) if (r.layer === 'libxc') await writeRecord(writer, r);
    await writer.endLibxc();
    for (const r of emulator) await writeRecord(writer, r);
    await writer.end();
  } catch (e) {
    await writer.abort(e instanceof Error ? e : undefined).catch(() => undefined);
    throw e;
  }
  return { writer, pageEntriesOut: entriesOut, pageRecordsOut: recordsOut };
}
