/**
 * The legacy commands of the built CLI on small legacy images (made by the test-side legacy writer
 * from synth streams): `dump` lists the legacy pieces, `convert-legacy` writes a valid v2 stream
 * atomically, refuses a contradicting --guest in one line with its rule, and `verify` of a legacy
 * image says what it is and what to run.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synth } from '../src/writer/synth.js';
import { FileSink } from '../src/writer/file-sink.js';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import { writeLegacyImage } from './support/legacy-writer.js';

let dir: string;
const path = (name: string) => join(dir, name);

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'legacy-cli-'));
  for (const kind of ['pv', 'hvm'] as const) {
    await synth(await FileSink.create(path(`${kind}.v2`)), { kind, pages: 300, batch: 128, xl: true, vcpus: 2 });
    await writeLegacyImage(path(`${kind}.v2`), path(`${kind}-xl.legacy`), { container: 'xl', width: 64 });
  }
  await writeLegacyImage(path('pv.v2'), path('pv-bare32.legacy'), { container: 'libxc', width: 32 });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stream-inspect dump of a legacy image', () => {
  it('lists the PV pieces with offsets: p2m size, extended info, p2m frames, chunks, batches with pfn types, tail', async () => {
    const r = await runCli(['dump', path('pv-bare32.legacy')]);
    expect(r.code, r.stderr).toBe(0);
    const types = r.out
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.slice(19, 57).trim());
    expect(types).toEqual([
      'libxc legacy image',
      'p2m size',
      'extended info',
      'p2m frame list',
      'chunk -7 tsc_info',
      'page batch',
      'page batch',
      'page batch',
      'chunk -2 vcpu_info',
      'chunk 0 end',
      'unmapped pfns',
      'vCPU 0 context',
      'vCPU 1 context',
      'shared info',
    ]);
    expect(r.out).toMatch(/guest PV, toolstack 32-bit/);
    expect(r.out).toMatch(/^0x00000004 {2}legacy extended info .*guest width 8 \(64-bit\), pt levels 4/m);
    expect(r.out).toMatch(/max vCPU id 1, online 0,1/);
  });

  it('HVM: the param chunks, the magic pfns, the HVM context and the QEMU record; ndjson one object per piece', async () => {
    const r = await runCli(['dump', path('hvm-xl.legacy'), '-f', 'ndjson']);
    expect(r.code, r.stderr).toBe(0);
    const items = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; offset: number; length: number; type: string });
    expect(items[0]).toMatchObject({ kind: 'container', offset: 0, type: 'xl header (legacy)' });
    expect(items.map((i) => i.kind).slice(-4)).toEqual(['body-end', 'magic-pfns', 'hvm-context', 'qemu']);
    const last = items[items.length - 1];
    expect(last.offset + last.length).toBe(statSync(path('hvm-xl.legacy')).size);
  });
});

describe('stream-inspect dump of a legacy image, refused options', () => {
  it('--records (a v2 record filter) is a usage error, exit 2, one line', async () => {
    const r = await runCli(['dump', path('pv-xl.legacy'), '--records', 'PAGE_DATA']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/legacy/);
  });
});

describe('stream-inspect convert-legacy', () => {
  it.each(['pv-xl', 'hvm-xl', 'pv-bare32'])('%s: converts to a v2 stream that verify accepts, mode 0600, no temporary left', async (name) => {
    const out = path(`${name}.converted`);
    const r = await runCli(['convert-legacy', path(`${name}.legacy`), '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/from the image/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const v = await runCli(['verify', out]);
    expect(v.code, v.out + v.stderr).toBe(0);
    expect(v.out).toMatch(/Xen legacy converter v1/);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp') || f.startsWith('.'))).toEqual([]);
  });

  it('a --guest that contradicts the image: one line with LEGACY-STREAM, exit 1, no output file', async () => {
    const out = path('wrong.v2');
    const r = await runCli(['convert-legacy', path('pv-xl.legacy'), '-o', out, '--guest', 'hvm']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/LEGACY-STREAM.*PV guest, not HVM/);
    expect(existsSync(out)).toBe(false);
  });

  it('verify of a legacy image names it and the commands that read it', async () => {
    const bare = await runCli(['verify', path('pv-bare32.legacy')]);
    expect(bare.code).toBe(1);
    expect(bare.stderr + bare.out).toMatch(/legacy \(pre-Xen-4\.6\) libxc image \(PV, 32-bit toolstack\).*convert-legacy/);
    const xl = await runCli(['verify', path('pv-xl.legacy')]);
    expect(xl.stderr + xl.out).toMatch(/XL-LEGACY-STREAM.*convert-legacy/);
  });
});
