// Writes a large, valid plain HVM libxl stream to stdout: `node big-stream.mjs MiB`.
// Plain JS with no imports from the project, so a test can pipe it into the
// reader without the writer under test producing its own input.
const mib = Number(process.argv[2] ?? 1024);
const BATCH = 1024;
const records = Math.max(1, Math.floor((mib * 1024 * 1024) / (BATCH * 4096)));

function record(type, body) {
  const pad = (8 - (body.length % 8)) % 8;
  const out = Buffer.alloc(8 + body.length + pad);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(body.length, 4);
  body.copy(out, 8);
  return out;
}
const head = Buffer.concat([
  Buffer.from('4c6962786c466d740000000200000000', 'hex'), // libxl header
  record(1, Buffer.alloc(0)), // LIBXC_CONTEXT
  Buffer.from('ffffffffffffffff58454e46000000030000000000000000', 'hex'), // image header v3
  Buffer.from('020000000c0000000400000011000000', 'hex'), // HVM, page_shift 12, Xen 4.17
  record(0x10, Buffer.alloc(0)), // STATIC_DATA_END
]);
const tail = Buffer.concat([
  record(8, Buffer.from('0000000080841e00000000000000000000000000' + '00000000', 'hex')),
  record(9, Buffer.from('0100000018000000861238540100000000000000000000000000000080841e000000000000000000', 'hex')),
  record(0, Buffer.alloc(0)),
  record(0, Buffer.alloc(0)),
]);
// One PAGE_DATA body, re-used with fresh pfns each time (the pages are the same bytes).
const body = Buffer.alloc(8 + 8 * BATCH + 4096 * BATCH, 0xa5);
body.writeUInt32LE(BATCH, 0);
body.writeUInt32LE(0, 4);
const hdr = Buffer.alloc(8);
hdr.writeUInt32LE(1, 0);
hdr.writeUInt32LE(body.length, 4);

const write = (buf) => (process.stdout.write(buf) ? Promise.resolve() : new Promise((r) => process.stdout.once('drain', r)));
await write(head);
for (let r = 0; r < records; r++) {
  const pfns = Buffer.alloc(8 * BATCH);
  for (let i = 0; i < BATCH; i++) pfns.writeUInt32LE(r * BATCH + i, 8 * i);
  await write(hdr);
  await write(body.subarray(0, 8));
  await write(pfns);
  await write(body.subarray(8 + 8 * BATCH));
}
await write(tail);
