/**
 * Honest refusals (issue #20 item 5): an input that is no stream this toolkit
 * reads is refused with what it looks like and what to try, in the library
 * and on the command line (one line, exit 1).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamFormatError } from '../src/codec/index.js';
import { readStreamSync } from '../src/reader/index.js';
import { ColoBackChannelWriter } from '../src/writer/colo-back-channel-writer.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { PostcopyBackChannelWriter } from '../src/writer/postcopy-back-channel-writer.js';
import { minimalXl } from './support/build.js';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import { compress, missingTool, scratchDir } from './support/compressed-fixtures.js';

function refusal(bytes: Uint8Array): StreamFormatError {
  try {
    readStreamSync(bytes).readAll();
  } catch (e) {
    expect(e).toBeInstanceOf(StreamFormatError);
    return e as StreamFormatError;
  }
  throw new Error('read without error');
}

const text = (s: string, pad = 64) => new Uint8Array(Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(pad)]));

async function coloBackChannel(): Promise<Uint8Array> {
  const sink = new MemorySink();
  const w = new ColoBackChannelWriter(sink);
  await w.writeSvmReady();
  await w.writeSvmResumed();
  return sink.bytes();
}

async function postcopyBackChannel(): Promise<Uint8Array> {
  const sink = new MemorySink();
  const w = new PostcopyBackChannelWriter(sink);
  await w.writeFault([1, 2, 3]);
  await w.writeComplete();
  return sink.bytes();
}

describe('what a refused input looks like, and what to try', () => {
  it.each([
    ['a QEMU migration file', () => text('QEVM\0\0\0\x03'), /QEMU migration\/savevm stream.*not a Xen stream/],
    ['an ELF core', () => text('\x7fELF\x02\x01\x01'), /ELF file.*dump-core.*crash or gdb/],
    ['a QEMU-traditional device-model record', () => text('QemuDeviceModelRecord\n'), /QEMU-traditional device-model record/],
    ['a legacy xend image', () => text('LinuxGuestRecord'), /legacy.*convert-legacy/],
    ['a legacy XenServer image', () => text('XenSavedDomain\n'), /XenServer suspend image of the legacy kind/],
    ['a JSON dump', () => text('{"format":"xen-migration-stream/1","items":[', 0), /JSON dump.*stream-inspect encode/],
    ['a libvirt domain XML', () => text("<domain type='xen'>\n  <name>g</name>\n", 0), /libvirt domain XML document/],
    ['a damaged libvirt magic', () => text('libvirt-xml\n \0 X'), /libvirt save image with a damaged magic/],
    ['compressed twice', () => new Uint8Array(gzipSync(gzipSync(minimalXl()))), /gzip-compressed data inside.*compressed twice/],
  ])('%s', (_name, bytes, looksLike) => {
    const e = refusal(bytes());
    expect(e.ruleId).toBe('STREAM-NOT-V2');
    expect(e.message).toMatch(looksLike);
  });

  it('a COLO back-channel capture: names dump --channel colo', async () => {
    const e = refusal(await coloBackChannel());
    expect(e.ruleId).toBe('STREAM-NOT-V2');
    expect(e.message).toMatch(/COLO back-channel capture.*dump --channel colo/);
  });

  it('a postcopy back-channel capture: names dump --channel postcopy', async () => {
    const e = refusal(await postcopyBackChannel());
    expect(e.ruleId).toBe('STREAM-NOT-V2');
    expect(e.message).toMatch(/postcopy back-channel capture.*dump --channel postcopy/);
  });

  it('an xl header with unknown mandatory flags: written by a newer xl', () => {
    const b = minimalXl();
    Buffer.from(b.buffer, b.byteOffset).writeUInt32LE(0x7, 36);
    const e = refusal(b);
    expect({ rule: e.ruleId, offset: e.offset }).toEqual({ rule: 'XL-MANDATORY-FLAGS', offset: 36 });
    expect(e.message).toMatch(/mandatory flags 0x4 .*newer xl/);
  });
});

describe('on the command line', () => {
  const scratch = scratchDir('containers-refusals-');
  beforeAll(ensureCliBuilt);
  afterAll(() => scratch.remove());

  it('verify of a QEMU migration file: one line naming it, exit 1', async () => {
    const r = await runCli(['verify', scratch.file('qemu.mig', text('QEVM\0\0\0\x03'))]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/STREAM-NOT-V2 at offset 0 .*QEMU migration\/savevm stream/);
  });

  it('dump of an xz-compressed COLO back-channel capture says so after decompressing', async (ctx) => {
    const why = missingTool('xz');
    if (why) return ctx.skip(why);
    const r = await runCli(['dump', scratch.file('colo.xz', compress('xz', await coloBackChannel()))]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/COLO back-channel capture/);
  });
});
