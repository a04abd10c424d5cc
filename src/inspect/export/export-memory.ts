/**
 * `extract --format elf|lime`: the guest's memory in a format forensic and
 * debugging tools read, built from the physical-address view (an index pass
 * over the stream, then the pages read in place, run by run). The output is
 * opened (and so checked: not the input, a regular file) before the input is
 * read, is 0600, and appears only when all of it was written.
 */
import { dirname } from 'node:path';
import { AtomicOutput } from '../../io/atomic-output.js';
import type { Problem, StreamEnd } from '../../reader/items.js';
import type { StreamSource } from '../../reader/sources.js';
import { PhysicalMemoryView } from '../paddr-view.js';
import type { WalkOptions } from '../walk-options.js';
import { writeElfCore } from './elf-core.js';
import { guestFacts, type GuestFacts } from './guest-facts.js';
import { writeLime } from './lime.js';
import type { ExportSizes } from './physical-pages.js';

export type MemoryExportFormat = 'elf' | 'lime';

export interface MemoryExportOptions extends WalkOptions {
  format: MemoryExportFormat;
  /** Where a gzip or piped input is decompressed for positional reads (default: the output's directory). */
  spillDir?: string | undefined;
}

export interface MemoryExportResult extends ExportSizes {
  end: StreamEnd;
  problems: readonly Problem[];
  facts: GuestFacts;
  /** pfn updates of an incomplete last checkpoint, rolled back. */
  rolledBackPfns: number;
}

export async function exportMemory(source: StreamSource, outputPath: string, options: MemoryExportOptions): Promise<MemoryExportResult> {
  const inputs = typeof source === 'string' || typeof source === 'number' ? [source] : [];
  const output = await AtomicOutput.open(outputPath, { inputs, positional: true });
  let view: PhysicalMemoryView | undefined;
  try {
    view = await PhysicalMemoryView.open(source, { reader: options.reader, spoolDir: options.spillDir ?? dirname(outputPath), onProgress: options.onProgress });
    const facts = guestFacts(view.scan);
    const sizes = options.format === 'elf' ? await writeElfCore(view, facts, output) : await writeLime(view, output);
    await output.commit();
    return { ...sizes, end: view.scan.end, problems: view.scan.problems, facts, rolledBackPfns: view.scan.rolledBack };
  } catch (e) {
    await output.discard();
    throw e;
  } finally {
    await view?.close();
  }
}
