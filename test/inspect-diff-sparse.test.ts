import { describe, expect, it } from 'vitest';
import { diffStreams } from '../src/inspect/diff.js';
import * as B from './support/build.js';

// pfns are 52-bit: a stream naming a huge one must not make diff allocate or walk up to it.
describe('diff with huge pfns', () => {
  const huge = 2 ** 40 + 5;
  const stream = (version: number) =>
    B.concat([
      B.xlHeader(),
      B.libxlHeader(),
      B.rec('libxl', 'LIBXC_CONTEXT'),
      B.imageHeader(),
      B.domainHeader(2),
      B.rec('libxc', 'STATIC_DATA_END'),
      B.pageData([1, huge], version),
      B.tscInfo(),
      B.hvmContext(),
      B.hvmParams(),
      B.rec('libxc', 'END'),
      B.emulatorContext(),
      B.rec('libxl', 'END'),
    ]);

  it('finds the page that differs, by pfn, with bounded memory', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const same = await diffStreams(stream(0), stream(0));
    expect(same.same).toBe(true);
    const r = await diffStreams(stream(0), stream(1));
    expect(r.pageDifferences.map((d) => d.pfn)).toEqual([1, huge]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 2 ** 20);
  });
});
