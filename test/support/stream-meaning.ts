/**
 * What a v2 stream says, apart from its page contents and record order: each
 * non-page record reduced to a comparable string, HVM params merged into one
 * map (Xen's converter writes two HVM_PARAMS records, Xen 4.6+ one), the PV
 * extended context cut to its own size field (legacy images send 128 bytes),
 * emulator ids left out. Memory is compared separately (inspect/diff's page maps).
 */
import { createHash } from 'node:crypto';
import { readStream } from '../../src/reader/index.js';

export interface StreamMeaning {
  guest?: string;
  records: string[];
  params: Map<string, string>;
}

const sha = (u8: Uint8Array) => createHash('sha256').update(u8).digest('hex').slice(0, 16);

function ownSize(ext: Uint8Array): Uint8Array {
  const size = new DataView(ext.buffer, ext.byteOffset, ext.byteLength).getUint32(4, true);
  return size >= 8 && size <= ext.length ? ext.subarray(0, size) : ext;
}

export async function streamMeaning(file: string): Promise<StreamMeaning> {
  const m: StreamMeaning = { records: [], params: new Map() };
  for await (const item of readStream(file, { pageContents: 'skip' })) {
    if (item.kind === 'libxc-domain-header') m.guest = item.header.domainType === 1 ? 'pv' : 'hvm';
    if (item.kind !== 'record') continue;
    const { name, body: b } = item.record;
    const key = `${item.layer}:${name}`;
    if (b.kind === 'page-data') continue;
    if (b.kind === 'hvm-params') for (const p of b.params) m.params.set(String(p.index), String(p.value));
    else if (b.kind === 'vcpu') m.records.push(`${key} ${b.vcpuId} ${sha(name === 'X86_PV_VCPU_EXTENDED' ? ownSize(b.context) : b.context)}`);
    else if (b.kind === 'opaque') m.records.push(`${key} ${sha(b.data)}`);
    else if (b.kind === 'emulator-context') m.records.push(`${key} ${sha(b.blob)}`);
    else if (b.kind === 'emulator-xenstore') m.records.push(`${key} ${JSON.stringify(b.pairs)}`);
    else if (b.kind === 'tsc-info') m.records.push(`${key} ${b.mode} ${b.khz} ${b.nsec} ${b.incarnation}`);
    else if (b.kind === 'pv-info') m.records.push(`${key} ${b.guestWidth} ${b.ptLevels}`);
    else if (b.kind === 'p2m-frames') m.records.push(`${key} ${b.startPfn} ${b.endPfn} ${[...b.frames].join(',')}`);
    else m.records.push(key);
  }
  m.records.sort();
  return m;
}
