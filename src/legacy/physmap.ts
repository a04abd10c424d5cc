/**
 * libxl's legacy "toolstack" chunk (version 1): QEMU's physmap entries, which
 * a v2 stream carries as EMULATOR_XENSTORE_DATA keys instead. The C struct
 * (u64 phys_offset, u64 start_addr, u64 size, u32 namelen, char name[]) had 4
 * bytes of tail padding in 64-bit builds that ended up after each name, so the
 * layout depends on the saving toolstack's width (Xen's legacy.py explains).
 */
import { formatError } from '../codec/errors.js';
import { layoutCodec } from '../codec/layout-codec.js';
import { LEGACY_PHYSMAP_ENTRY } from '../format/layouts/legacy.js';
import type { ToolstackWidth } from './legacy-layout.js';

const entry = layoutCodec(LEGACY_PHYSMAP_ENTRY);

/** The chunk's entries as xenstore pairs (physmap/<phys_offset>/{start_addr,size,name}), values in hex like libxl. */
export function physmapPairs(data: Uint8Array, width: ToolstackWidth, offset: number): Array<[string, string]> {
  const bad = (detail: string, at: number) => formatError('LEGACY', { offset: offset + at, layer: 'libxc', recordName: 'toolstack chunk' }, { detail });
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 8) throw bad('toolstack data shorter than its version and count', 0);
  const version = dv.getUint32(0, true);
  if (version !== 1) throw bad(`toolstack data version ${version} (only 1 is known)`, 0);
  const count = dv.getUint32(4, true);
  const pairs: Array<[string, string]> = [];
  let at = 8;
  for (let i = 0; i < count; i++) {
    if (at + entry.size > data.length) throw bad('physmap entry header overruns the toolstack data', at);
    const { phys_offset: phys, start_addr: start, size, namelen: nameLength } = entry.decode(data, at);
    if (nameLength === 0) throw bad('physmap entry without a name', at + 24);
    const stored = nameLength + (width === 64 ? 4 : 0);
    at += entry.size;
    if (at + stored > data.length) throw bad('physmap name overruns the toolstack data', at);
    const name = data.subarray(at, at + nameLength);
    if (name[nameLength - 1] !== 0) throw bad('physmap name not NUL-terminated', at);
    at += stored;
    const root = `physmap/${phys.toString(16)}`;
    pairs.push(
      [`${root}/start_addr`, start.toString(16)],
      [`${root}/size`, size.toString(16)],
      [`${root}/name`, Buffer.from(name.subarray(0, -1)).toString('latin1')],
    );
  }
  return pairs;
}
