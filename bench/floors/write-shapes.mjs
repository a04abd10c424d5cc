#!/usr/bin/env node
// How the shape of a write changes the raw write floor (BENCHMARKS.md, "4 Dec
// 2026, third session", synth). Writes 256 records of 4 MiB + 8 KiB to a new
// file FILE, each record as one writev:
//   contiguous  one 4 MiB buffer, as the raw write floor writes;
//   segmented   a header and then, per page, a 16-byte stamp and a 4080-byte
//               tail from a 64-page pool: the 2,049 views synth hands over;
// either through the thread pool (FileHandle.writev, awaited, as FileSink
// does) or with writevSync on the main thread. Prints the milliseconds, from
// the first write to the close.
//
//   node bench/floors/write-shapes.mjs segmented|contiguous async|sync FILE
import { closeSync, openSync, unlinkSync, writevSync } from 'node:fs';
import { open } from 'node:fs/promises';

const [shape, how, out] = process.argv.slice(2);
if (!['segmented', 'contiguous'].includes(shape) || !['async', 'sync'].includes(how) || !out) {
  process.stderr.write('usage: write-shapes.mjs segmented|contiguous async|sync FILE\n');
  process.exit(2);
}
const PAGE = 4096;
const STAMP = 16;
const PAGES = 1024;
const RECORDS = 256;
const pool = new Uint8Array(64 * PAGE);
for (let i = 0; i < pool.length; i++) pool[i] = (i * 7) & 0xff;
const tails = Array.from({ length: 64 }, (_, i) => pool.subarray(i * PAGE + STAMP, (i + 1) * PAGE));
const header = new Uint8Array(8 + 8 * PAGES + 16);
const contiguous = new Uint8Array(header.length + PAGES * PAGE).fill(1);

/** One record's views: the header, then a fresh stamp and a pool tail per page (synth's chunks()). */
function record(r) {
  if (shape === 'contiguous') return [contiguous];
  const stamps = new Uint8Array(PAGES * STAMP);
  const views = [header];
  for (let i = 0; i < PAGES; i++) views.push(stamps.subarray(i * STAMP, (i + 1) * STAMP), tails[(i * 31 + r) & 63]);
  return views;
}

const started = performance.now();
let position = 0;
if (how === 'async') {
  const file = await open(out, 'wx');
  for (let r = 0; r < RECORDS; r++) position += (await file.writev(record(r), position)).bytesWritten;
  await file.close();
} else {
  const fd = openSync(out, 'wx');
  for (let r = 0; r < RECORDS; r++) position += writevSync(fd, record(r), position);
  closeSync(fd);
}
const ms = performance.now() - started;
unlinkSync(out);
process.stdout.write(`${shape} ${how}: ${position} bytes in ${ms.toFixed(1)} ms\n`);
