#!/usr/bin/env node
// The raw read floor: read FILE (or stdin with '-') to the end through one
// reused 1 MiB buffer, touching nothing. Prints the byte count. Synchronous
// reads: the cheapest way Node can move the bytes through user space.
import { closeSync, openSync, readSync } from 'node:fs';

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: read-floor.mjs FILE|-\n');
  process.exit(2);
}
const fd = path === '-' ? 0 : openSync(path, 'r');
const buf = Buffer.allocUnsafe(1 << 20);
let total = 0;
for (;;) {
  let n;
  try {
    n = readSync(fd, buf, 0, buf.length, null);
  } catch (e) {
    if (e.code === 'EAGAIN') continue; // a non-blocking pipe with nothing in it yet
    throw e;
  }
  if (n === 0) break;
  total += n;
}
if (fd !== 0) closeSync(fd);
process.stdout.write(`${total}\n`);
