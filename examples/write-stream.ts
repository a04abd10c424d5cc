// Write a small plain HVM save file with the writer, then read it back.
// Run: npx tsx examples/write-stream.ts /tmp/demo.save
import { FileSink, StreamWriter, PAGE_TYPE, readStream } from '../src/index.js';

const path = process.argv[2] ?? 'demo.save';
const sink = await FileSink.create(path); // written to a temp name, renamed by end()
const w = new StreamWriter(sink, { mode: 'plain', guest: 'hvm' });
try {
  await w.writeXlHeader({ config: { c_info: { type: 'hvm', name: 'demo' } } });
  await w.writeLibxlHeader();
  await w.beginLibxc({ xenMajor: 4, xenMinor: 17 }); // LIBXC_CONTEXT + image (v3) + domain header
  await w.writeStaticDataEnd();
  const pages = new Uint8Array(2 * 4096); // one page per data-bearing entry
  await w.writePages([0, 1, 2], [PAGE_TYPE.NOTAB, PAGE_TYPE.XTAB, PAGE_TYPE.NOTAB], pages);
  await w.writeTscInfo({ khz: 2_000_000 });
  // Xen's HVM save blob (public/arch-x86/hvm/save.h): entries of {u16 typecode, u16 instance, u32 length}
  // + data; here the 24-byte HEADER entry, then the END entry (8 zero bytes).
  const hvmContext = new Uint8Array(8 + 24 + 8);
  const hvm = new DataView(hvmContext.buffer);
  hvm.setUint16(0, 1, true); // typecode 1: HEADER, instance 0
  hvm.setUint32(4, 24, true); // its length
  hvm.setUint32(8, 0x54381286, true); // HVM_FILE_MAGIC
  hvm.setUint32(12, 1, true); // HVM_FILE_VERSION
  hvm.setUint32(28, 2_000_000, true); // gtsc_khz
  await w.writeHvmContext(hvmContext);
  await w.writeHvmParams([{ index: 1, value: 0xfeffc }]); // STORE_PFN
  await w.endLibxc();
  await w.writeEmulatorContext(new TextEncoder().encode('QEVM')); // emulator id 2 (QEMU upstream)
  await w.end(); // libxl END, then rename into place
} catch (error) {
  await w.abort(); // deletes the temporary file
  throw error;
}

const reader = readStream(path);
for await (const item of reader) if (item.kind === 'record') console.log(item.offset, item.layer, item.record.name);
console.log(reader.end?.status);
