// Walk a saved domain (any size, gzip or not) and print what is in it.
// Run: npx tsx examples/read-stream.ts fixtures/xen-4.17/pv128-save.bin.gz
import { readStream, StreamFormatError } from '../src/index.js';

const file = process.argv[2] ?? 'fixtures/xen-4.17/pv128-save.bin.gz';
const reader = readStream(file); // also: an fd, process.stdin, a Readable, a web ReadableStream, a Uint8Array
try {
  let pages = 0;
  for await (const item of reader) {
    if (item.kind !== 'record') continue;
    const { record } = item;
    if (record.body.kind === 'page-data') pages += record.body.pfns.length; // pages are views, never copies
  }
  const s = reader.summary();
  console.log(`${s.container} stream, ${s.domainType}, libxc v${s.imageVersion}, ${reader.end?.status}`);
  console.log(`${s.records} records, ${pages} pfn entries, ${s.distinctPfns} distinct pfns, ${s.passes.length} pass(es)`);
} catch (e) {
  if (!(e instanceof StreamFormatError)) throw e;
  console.error(`${e.ruleId} at offset ${e.offset}: ${e.message}`);
  process.exitCode = 1;
}
