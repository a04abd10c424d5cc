#!/usr/bin/env node
// The raw write floor: write BYTES bytes to a new file FILE from one reused
// 1 MiB buffer (filled once), no fsync, like synth's file sink by default.
import { closeSync, openSync, writeSync } from 'node:fs';

const [path, bytesText] = process.argv.slice(2);
const bytes = Number(bytesText);
if (!path || !Number.isSafeInteger(bytes) || bytes < 0) {
  process.stderr.write('usage: write-floor.mjs FILE BYTES\n');
  process.exit(2);
}
const fd = openSync(path, 'wx');
const buf = Buffer.alloc(1 << 20, 0x5a);
let left = bytes;
while (left > 0) {
  const n = writeSync(fd, buf, 0, Math.min(left, buf.length));
  left -= n;
}
closeSync(fd);
process.stdout.write(`${bytes}\n`);
