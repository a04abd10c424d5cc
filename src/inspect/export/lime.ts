/**
 * `extract --format lime`: the guest's physical memory in LiME's format, which
 * Volatility and other memory-forensics tools read: for each run of pfns that
 * hold data, a 32-byte range header (magic, version 1, first and last
 * physical address, inclusive) followed by the range's bytes. Pfns without
 * data are in no range.
 */
import { layoutCodec } from '../../codec/layout-codec.js';
import { PAGE_SIZE } from '../../format/constants.js';
import { LIME_MAGIC, LIME_RANGE_HEADER, LIME_VERSION } from '../../format/layouts/lime-header.js';
import type { AtomicOutput } from '../../io/atomic-output.js';
import type { PhysicalMemoryView } from '../paddr-view.js';
import { countRuns, type ExportSizes, PhysicalPageCopier, pfnAddress } from './physical-pages.js';

const header = layoutCodec(LIME_RANGE_HEADER);

/** LiME ranges and their sizes, from one pass over the view's runs. */
export async function writeLime(view: PhysicalMemoryView, output: AtomicOutput): Promise<ExportSizes> {
  const { ranges, pages } = await countRuns(view);
  const fileBytes = ranges * header.size + pages * PAGE_SIZE;
  // Sized first: all-zero pages are not written and stay holes.
  await output.handle.truncate(fileBytes);
  const copier = new PhysicalPageCopier(view, output);
  let position = 0;
  await view.forEachRun(async (run) => {
    const bytes = header.encode({
      magic: LIME_MAGIC,
      version: LIME_VERSION,
      s_addr: pfnAddress(run.firstPfn),
      e_addr: pfnAddress(run.firstPfn + run.pages) - 1n,
      reserved: new Uint8Array(8),
    });
    const at = position;
    await output.writeAt(bytes, at);
    await copier.copyRun(run, at + header.size);
    position = at + header.size + run.pages * PAGE_SIZE;
  });
  await copier.drain();
  return { ranges, pages, fileBytes };
}
