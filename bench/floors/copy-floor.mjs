#!/usr/bin/env node
// The user-space copy floor: read FILE through one reused 1 MiB buffer and
// write each chunk to a new file OUT (no fsync). What any tool that reads a
// stream and writes an image of the same size pays at least; cp itself copies
// in the kernel (copy_file_range) and pays less.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

const [path, out] = process.argv.slice(2);
if (!path || !out) {
  process.stderr.write('usage: copy-floor.mjs FILE OUT\n');
  process.exit(2);
}
const fd = openSync(path, 'r');
const wfd = openSync(out, 'wx');
const buf = Buffer.allocUnsafe(1 << 20);
let total = 0;
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  let done = 0;
  while (done < n) done += writeSync(wfd, buf, done, n - done);
  total += n;
}
closeSync(fd);
closeSync(wfd);
process.stdout.write(`${total}\n`);
