/**
 * Wrappers around a stream (issue #20 items 2 and 3): libvirt's libxl save
 * image and XenServer's suspend image, assembled around a real Xen 4.17 save
 * (and around small synthetic streams where a test walks many variants):
 * read, shown by dump, kept byte for byte by encode (and rewrite, for
 * libvirt), the embedded stream verified and extractable.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamFormatError } from '../src/codec/index.js';
import { readStream, readStreamSync, type ContainerPartItem, type StreamItem } from '../src/reader/index.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth } from '../src/writer/synth.js';
import { ensureCliBuilt, runCli, runShell } from './support/cli-run.js';
import { compress, missingTool, realSave, scratchDir } from './support/compressed-fixtures.js';
import { LIBVIRT_XML, libvirtImage, libxcPartsOf, libxlStreamOf, XENOPS_SEXP, xenServerImage } from './support/wrapper-images.js';

const scratch = scratchDir('containers-wrappers-');
afterAll(() => scratch.remove());

function thrown(f: () => unknown): StreamFormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StreamFormatError);
    return e as StreamFormatError;
  }
  throw new Error('no error');
}

async function small(xl = false): Promise<Uint8Array> {
  const sink = new MemorySink();
  await synth(sink, { kind: 'hvm', pages: 64, xl });
  return sink.bytes();
}

const parts = (items: StreamItem[]) => items.filter((i): i is ContainerPartItem => i.kind === 'container-part');
const recordShape = (items: StreamItem[], shift: number) =>
  items.filter((i) => i.kind === 'record').map((i) => `${i.offset - shift}:${i.kind === 'record' ? i.record.name : ''}`);

describe("libvirt's libxl save image around a real Xen 4.17 HVM save", () => {
  let bare: Uint8Array;
  let image: Uint8Array;
  let path: string;
  const head = 64 + Buffer.byteLength(LIBVIRT_XML) + 1;
  beforeAll(async () => {
    await ensureCliBuilt();
    bare = libxlStreamOf(realSave('hvm128-save'));
    image = libvirtImage(bare);
    path = scratch.file('hvm.libvirt', image);
  });

  it('reads as the libxl stream after a container-part holding the header and the domain XML, at shifted offsets', async () => {
    const items: StreamItem[] = [];
    const reader = readStream(path, { pageContents: 'skip' });
    const end = await reader.run((i) => items.push(i));
    const [p] = parts(items);
    expect(p).toMatchObject({ wrapper: 'libvirt', part: 'libvirt header', offset: 0, length: head, fields: { version: 2, xmlLen: head - 64 } });
    expect(p.text).toBe(LIBVIRT_XML);
    expect(reader.summary()).toMatchObject({ wrapper: 'libvirt', container: 'libxl' });
    expect(end).toMatchObject({ status: 'complete', streamEnd: image.length });
    const plain = readStreamSync(bare, { pageContents: 'skip' }).readAll().items;
    expect(recordShape(items, head)).toEqual(recordShape(plain, 0));
  });

  it('verify and dump: VALID, the XML shown under the header', async () => {
    const v = await runCli(['verify', path]);
    expect(v.out).toMatch(/VALID — libvirt save image, libxl container/);
    const d = await runShell(`$CLI dump ${path} | head -20`);
    expect(d.out).toMatch(new RegExp(`libvirt +libvirt header +${head} +version 2, xmlLen ${head - 64}`));
    expect(d.out).toContain('domain XML:');
    expect(d.out).toContain("      <type arch='x86_64' machine='xenfv'>hvm</type>");
  });

  it('rewrite keeps the header and XML byte for byte; extract --stream and --config give the stream and the XML', async () => {
    const out = scratch.file('rewritten.libvirt');
    const r = await runCli(['rewrite', path, '-o', out, '-q']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const written = readFileSync(out);
    expect(Buffer.compare(written.subarray(0, head), image.subarray(0, head))).toBe(0);
    expect((await runCli(['verify', out])).code).toBe(0);
    const x = await runCli(['extract', path, '--stream', scratch.file('inner.bin'), '--config', scratch.file('domain.xml')]);
    expect(x.code).toBe(0);
    expect(Buffer.compare(readFileSync(scratch.file('inner.bin')), bare)).toBe(0);
    expect(readFileSync(scratch.file('domain.xml'), 'utf8')).toBe(LIBVIRT_XML);
  });
});

describe('libvirt images: encode and the header rules', () => {
  it('dump --format json | encode gives the image back byte for byte', async () => {
    await ensureCliBuilt();
    const image = libvirtImage(libxlStreamOf(await small(true)));
    const path = scratch.file('small.libvirt', image);
    const r = await runShell(`$CLI dump ${path} -f json | $CLI encode - -o ${scratch.file('small-again.libvirt')}`);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(Buffer.compare(readFileSync(scratch.file('small-again.libvirt')), image)).toBe(0);
  });

  it('report: the wrapper parts are in the timeline and the headers (libvirt and XenServer)', async () => {
    await ensureCliBuilt();
    const bare = await small(true);
    const images = { 'small.libvirt': libvirtImage(libxlStreamOf(bare)), 'small.xs': xenServerImage(libxcPartsOf(bare).libxc) };
    for (const [name, bytes] of Object.entries(images)) {
      const html = scratch.file(`${name}.html`);
      const r = await runCli(['report', scratch.file(name, bytes), '-o', html]);
      expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('valid stream')]);
      expect(readFileSync(html, 'utf8')).toContain(name.endsWith('.xs') ? 'Xenops record' : 'libvirt header');
    }
  });

  it('LIBVIRT-HEADER: version 3 (offset 16) and xmlLen 0 (offset 20) are refused, as libvirt refuses them', async () => {
    const stream = libxlStreamOf(await small(true));
    const v3 = thrown(() => readStreamSync(libvirtImage(stream, LIBVIRT_XML, 3)).readAll());
    expect({ rule: v3.ruleId, offset: v3.offset }).toEqual({ rule: 'LIBVIRT-HEADER', offset: 16 });
    const noXml = libvirtImage(stream);
    Buffer.from(noXml.buffer).writeUInt32LE(0, 20);
    const e = thrown(() => readStreamSync(noXml).readAll());
    expect({ rule: e.ruleId, offset: e.offset }).toEqual({ rule: 'LIBVIRT-HEADER', offset: 20 });
  });

  it('a version 1 image around a legacy stream is refused at the inner stream, saying so; a cut image is STREAM-TRUNCATED', async () => {
    const legacy = new Uint8Array(Buffer.concat([Buffer.from('LinuxGuestRecord'), Buffer.alloc(64)]));
    const e = thrown(() => readStreamSync(libvirtImage(legacy, LIBVIRT_XML, 1)).readAll());
    expect(e.ruleId).toBe('STREAM-NOT-V2');
    expect(e.offset).toBe(64 + Buffer.byteLength(LIBVIRT_XML) + 1);
    expect(e.message).toMatch(/inside the libvirt image.*legacy/);
    const image = libvirtImage(libxlStreamOf(await small(true)));
    const cut = thrown(() => readStreamSync(image.subarray(0, 100)).readAll());
    expect(cut.ruleId).toBe('STREAM-TRUNCATED');
    expect(cut.message).toContain("libvirt's save image header");
  });
});

describe('XenServer suspend image around the libxc stream of a real Xen 4.17 HVM save', () => {
  let libxc: Uint8Array;
  let qemu: Uint8Array;
  let image: Uint8Array;
  let path: string;
  beforeAll(async () => {
    await ensureCliBuilt();
    const p = libxcPartsOf(realSave('hvm128-save'));
    libxc = p.libxc;
    qemu = p.qemu as Uint8Array;
    image = xenServerImage(libxc, qemu);
    path = scratch.file('hvm.xs', image);
  });

  it('reads the signature, the Xenops record, the libxc stream, QEMU state and End_of_image', async () => {
    const items: StreamItem[] = [];
    const reader = readStream(path, { pageContents: 'skip' });
    const end = await reader.run((i) => items.push(i));
    expect(parts(items).map((p) => p.part)).toEqual(['XenServer signature', 'Xenops record', 'Libxc stream', 'Qemu_trad record', 'End_of_image']);
    expect(parts(items)[1].text).toBe(XENOPS_SEXP);
    expect(parts(items)[3].length).toBe(16 + qemu.length);
    expect(reader.summary()).toMatchObject({ wrapper: 'xenserver', container: 'libxc', domainType: 'x86 HVM' });
    expect(end).toMatchObject({ status: 'complete', streamEnd: image.length });
  });

  it('verify VALID; dump shows the sections and the S-expression; extract --stream and --emulator-context give the embedded parts', async () => {
    expect((await runCli(['verify', path])).out).toMatch(/VALID — XenServer suspend image, libxc container/);
    const d = await runShell(`$CLI dump ${path} | head -12`);
    expect(d.out).toMatch(/xapi +Xenops record +\d+ +type 0xf \(Xenops record\)/);
    expect(d.out).toContain('(word_size 64)');
    const x = await runCli(['extract', path, '--stream', scratch.file('libxc.zst'), '--emulator-context', scratch.file('qemu.bin')]);
    expect([x.code, x.stderr]).toEqual([0, '']);
    expect(Buffer.compare(readFileSync(scratch.file('qemu.bin')), qemu)).toBe(0);
    if (!missingTool('zstd')) {
      const v = await runCli(['verify', scratch.file('libxc.zst')]);
      expect(v.out).toMatch(/VALID — libxc container/);
    }
  });

  it('rewrite refuses it and names extract --stream', async () => {
    const r = await runCli(['rewrite', path, '-o', scratch.file('no.bin')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('extract IMAGE --stream FILE');
  });
});

describe('XenServer images: variants and the section rule', () => {
  it('a Libxl section (a libxl stream inside), compressed with zstd, encodes back byte for byte', async (ctx) => {
    await ensureCliBuilt();
    const stream = libxlStreamOf(await small(true));
    const image = new Uint8Array(Buffer.from(xenServerImage(new Uint8Array(0))));
    // The same layout with section type 0xf1 and the libxl stream in place of the libxc one.
    const withLibxl = new Uint8Array(
      Buffer.concat([image.subarray(0, 15 + 16 + Buffer.byteLength(XENOPS_SEXP)), sectionHeader(0xf1), stream, sectionHeader(0xffff)]),
    );
    const items = readStreamSync(withLibxl).readAll();
    expect(items.summary).toMatchObject({ wrapper: 'xenserver', container: 'libxl' });
    const path = scratch.file('libxl.xs', withLibxl);
    const r = await runShell(`$CLI dump ${path} -f json | $CLI encode - -o ${scratch.file('libxl-again.xs')}`);
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(scratch.file('libxl-again.xs')), withLibxl)).toBe(0);
    const why = missingTool('zstd');
    if (why) return ctx.skip(why);
    const z = await runCli(['verify', scratch.file('libxl.xs.zst', compress('zstd', withLibxl))]);
    expect(z.out).toMatch(/VALID — XenServer suspend image, libxl container/);
  });

  it('XENSERVER-SECTION: an unknown section type, and a Libxc_legacy section (convert-legacy-stream named)', async () => {
    const sig = Buffer.from('XenSavedDomv2-\n', 'latin1');
    const unknown = thrown(() => readStreamSync(new Uint8Array(Buffer.concat([sig, sectionHeader(0x1234)]))).readAll());
    expect({ rule: unknown.ruleId, offset: unknown.offset }).toEqual({ rule: 'XENSERVER-SECTION', offset: 15 });
    const legacy = thrown(() => readStreamSync(new Uint8Array(Buffer.concat([sig, sectionHeader(0xf2)]))).readAll());
    expect(legacy.ruleId).toBe('XENSERVER-SECTION');
    expect(legacy.message).toContain('convert-legacy-stream');
  });

  it('an image that ends after the libxc stream (no End_of_image) is STREAM-TRUNCATED', async () => {
    const { libxc } = libxcPartsOf(await small(true));
    const full = xenServerImage(libxc);
    const e = thrown(() => readStreamSync(full.subarray(0, full.length - 16)).readAll());
    expect(e.ruleId).toBe('STREAM-TRUNCATED');
    expect(e.offset).toBe(full.length - 16);
    expect(e.message).toContain('End_of_image');
  });
});

function sectionHeader(type: number, length = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(type), 0);
  b.writeBigUInt64LE(BigInt(length), 8);
  return b;
}
