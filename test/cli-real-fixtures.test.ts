/**
 * The real Xen 4.17 save files through the real executable: verify passes,
 * dump's record sequence equals the notes', stats agrees, the JSON round trip
 * (dump --format json | encode, ~190 MB of JSON each) is byte-exact, and
 * extract writes every populated page.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, ROOT, runCli, runShell } from './support/cli-run.js';

const FIXTURES = ['pv128-save', 'pvh128-save', 'hvm128-save'];

interface Notes {
  sha256: string;
  size: number;
  sequence: string[];
  pfnEntries: number;
}

function readNotes(name: string): Notes {
  const text = readFileSync(join(ROOT, 'fixtures/xen-4.17', `${name}.txt`), 'utf8');
  const field = (label: string) => {
    const m = new RegExp(`^${label}: (.*)$`, 'm').exec(text);
    if (!m) throw new Error(`${name}.txt has no "${label}" line`);
    return m[1].trim();
  };
  // "libxc:PAGE_DATA x32" stands for 32 records in a row.
  const sequence = field('record sequence')
    .split(', ')
    .flatMap((entry) => {
      const m = /^(\S+) x(\d+)$/.exec(entry);
      return m ? Array<string>(Number(m[2])).fill(m[1]) : [entry];
    });
  return {
    sha256: field('sha256 \\(uncompressed\\)'),
    size: Number(field('uncompressed size').split(' ')[0]),
    sequence,
    pfnEntries: Number(field('PAGE_DATA pfn entries in total')),
  };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

let dir: string;
beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-real-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(FIXTURES)('real Xen 4.17 fixture %s', (name) => {
  const input = join(ROOT, 'fixtures/xen-4.17', `${name}.bin.gz`);
  const notes = readNotes(name);
  let stats: { distinctPfns: number; pageEntries: number; pageTypes: Record<string, number>; pfnMax: number; bytes: number } | undefined;

  it('verify: valid, exit 0', async () => {
    const r = await runCli(['verify', input]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(
        `VALID — xl container, libxc v3, .*Xen 4\\.17, ${notes.sequence.length.toLocaleString('en-US')} records, ${notes.size.toLocaleString('en-US')} bytes\\n$`,
      ),
    );
  });

  it('dump --format ndjson: the record sequence of the notes', async () => {
    const r = await runCli(['dump', input, '--format', 'ndjson']);
    expect(r.code).toBe(0);
    const records = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; layer: string; name: string })
      .filter((l) => l.kind === 'record');
    expect(records.map((l) => `${l.layer}:${l.name}`)).toEqual(notes.sequence);
  });

  it('stats --json: pfn entries and page types add up to the notes', async () => {
    const r = await runCli(['stats', input, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as NonNullable<typeof stats>;
    stats = s;
    expect(s.pageEntries).toBe(notes.pfnEntries);
    expect(Object.values(s.pageTypes).reduce((a, b) => a + b, 0)).toBe(notes.pfnEntries);
    expect(s.bytes).toBe(notes.size);
  });

  it('dump --format json | encode reproduces the stream byte for byte', async () => {
    const out = join(dir, `${name}.bin`);
    const r = await runShell(`$CLI dump "${input}" --format json | $CLI encode - -o "${out}"`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(out).size).toBe(notes.size);
    expect(await sha256File(out)).toBe(notes.sha256);
    rmSync(out);
  });

  it('extract: every populated page, at pfn × 4096', async () => {
    stats ??= JSON.parse((await runCli(['stats', input, '--json'])).out) as NonNullable<typeof stats>;
    const noData = (stats.pageTypes.XTAB ?? 0) + (stats.pageTypes.BROKEN ?? 0) + (stats.pageTypes.XALLOC ?? 0);
    const out = join(dir, `${name}.raw`);
    const r = await runCli(['extract', input, '-o', out]);
    expect(r.code).toBe(0);
    // The fixtures send each pfn once, so populated pages = entries with data.
    expect(r.out).toContain(`${(stats.distinctPfns - noData).toLocaleString('en-US')} pages of data`);
    expect(statSync(out).size).toBeGreaterThanOrEqual((stats.pfnMax + 1) * 4096);
    rmSync(out);
  });
});
