/** `stats`: the reader's summary of a whole walk, as text or JSON. */
import { readStream } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import type { Problem } from '../reader/items.js';
import type { StreamSummary } from '../reader/summary.js';
import { PAGE_SIZE } from '../format/constants.js';
import { grouped, hex, offsetHex, sizeText, table } from './text-format.js';
import type { WalkOptions } from './walk-options.js';

export interface StatsResult {
  summary: StreamSummary;
  problems: readonly Problem[];
}

export async function streamStats(source: StreamSource, options: WalkOptions = {}): Promise<StatsResult> {
  // Nothing here keeps an item's views past the next item: let the reader reuse its buffers.
  // The summary counts pages by their pfn entries: their contents are stepped over.
  const reader = readStream(source, { pageContents: 'skip', ...options.reader, recycleBuffers: true });
  for await (const item of reader) options.onProgress?.(item.offset + item.length);
  return { summary: reader.summary(), problems: reader.problems };
}

export function renderStatsText(s: StreamSummary): string {
  const out: string[] = [];
  const kv = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== '') out.push(`${(`${k}:`).padEnd(20)}${v}`);
  };
  kv('wrapper', s.wrapper);
  kv('container', s.container);
  kv('dialect', s.dialect);
  kv('mode', s.mode);
  kv('domain type', s.domainType);
  kv('libxc version', s.imageVersion);
  kv('saved by', s.xenVersion ? (s.xenVersion.startsWith('legacy') ? s.xenVersion : `Xen ${s.xenVersion}`) : undefined);
  kv('guest width', s.guestWidth ? `${s.guestWidth * 8}-bit` : undefined);
  kv('bytes', sizeText(s.bytes));
  kv('records', grouped(s.records));
  if (s.end) {
    kv(
      'end',
      s.end.status === 'complete'
        ? `complete at offset ${offsetHex(s.end.streamEnd)}${s.end.trailingBytes ? `, ${grouped(s.end.trailingBytes)} trailing bytes` : ''}`
        : `failover after checkpoint ${s.end.completeCheckpoints} (${s.end.discardedRecords ?? 0} records discarded)`,
    );
  }
  if (s.mode === 'remus' || s.mode === 'colo') kv('checkpoints', s.checkpoints);

  out.push('', 'records by type:');
  out.push(
    ...table(
      ['LAYER', 'TYPE', 'RECORDS', 'BYTES'],
      s.byType.map((t) => [t.layer, `${t.name} (${hex(t.type)})`, grouped(t.records), grouped(t.bytes)]),
      new Set([2, 3]),
    ),
  );

  if (s.pageEntries > 0) {
    out.push('', 'memory:');
    kv('  pfn entries', grouped(s.pageEntries));
    kv('  pages with data', `${grouped(s.pagesWithData)} (${sizeText(s.pagesWithData * PAGE_SIZE)})`);
    kv('  distinct pfns', grouped(s.distinctPfns));
    kv('  resent pfns', grouped(s.resentPfns));
    if (s.pfnMin !== undefined) kv('  pfn range', `${hex(s.pfnMin)}–${hex(s.pfnMax ?? s.pfnMin)}`);
    if (s.postcopyPages) kv('  postcopy pages', grouped(s.postcopyPages));
    out.push('', 'page types:');
    out.push(
      ...table(
        ['TYPE', 'PAGES'],
        Object.entries(s.pageTypes).map(([name, n]) => [name, grouped(n)]),
        new Set([1]),
      ).slice(1),
    );
    out.push('', 'passes:');
    const passRows = s.passes.map((p) => [String(p.pass), p.checkpoint ? String(p.checkpoint) : '-', grouped(p.records), grouped(p.pfns), grouped(p.pages)]);
    out.push(...table(['PASS', 'CHECKPOINT', 'RECORDS', 'PFNS', 'PAGES'], passRows, new Set([2, 3, 4])));
  }
  return `${out.join('\n')}\n`;
}
