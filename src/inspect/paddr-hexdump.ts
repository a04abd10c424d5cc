/**
 * `hexdump --paddr ADDR`: guest-physical bytes in hex, read in place through
 * the physical-address view, each page marked with where its last copy lies
 * in the stream (or that the stream holds no data for it).
 */
import { PAGE_SIZE } from '../format/constants.js';
import { pageTypeName } from '../format/page-types.js';
import type { StreamSource } from '../reader/sources.js';
import { hexLines } from './hexdump.js';
import { PhysicalMemoryView, type PhysicalViewOptions } from './paddr-view.js';
import { grouped, hex, offsetHex } from './text-format.js';

/** What a physical hexdump shows by default: 256 bytes. */
export const DEFAULT_PADDR_LENGTH = 256;

export async function hexdumpPhysical(source: StreamSource, paddr: number, length: number, options: PhysicalViewOptions = {}): Promise<string> {
  const view = await PhysicalMemoryView.open(source, options);
  try {
    return await renderPhysical(view, paddr, length);
  } finally {
    await view.close();
  }
}

/** `length` bytes from `paddr`, one marked segment per page. */
export async function renderPhysical(view: PhysicalMemoryView, paddr: number, length: number): Promise<string> {
  const bytes = await view.read(paddr, length);
  const cp = view.scan.stateCheckpoint;
  let out = `guest physical ${offsetHex(paddr)}, ${grouped(length)} bytes: the last copy of each page${cp !== undefined ? ` (state of checkpoint ${cp})` : ''}\n`;
  for (let at = 0; at < length; ) {
    const pfn = Math.floor((paddr + at) / PAGE_SIZE);
    const end = Math.min(length, (pfn + 1) * PAGE_SIZE - paddr);
    const offset = view.pageOffset(pfn);
    const type = view.pageType(pfn);
    const where =
      offset !== undefined
        ? `${pageTypeName(type as number)}, page data at stream offset ${offsetHex(offset)}`
        : type === undefined
          ? 'never sent: no data (zeros shown)'
          : `last sent as ${pageTypeName(type)}: no data (zeros shown)`;
    out += `\n-- pfn ${hex(pfn)}: ${where}\n`;
    out += hexLines(bytes.subarray(at, end), paddr + at);
    at = end;
  }
  return out;
}
