/**
 * The three streams written by real Xen 4.17.5 (fixtures/xen-4.17, see their .txt notes) in the suite:
 * strict reading, verify, record sequence and counts equal the notes', the JSON round trip is byte-exact
 * item by item, extract gives every populated page, and the page-type counts agree with an independent
 * minimal walker written here (the notes give only the totals).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDocumentChunks, itemToJson, type EncodableItem } from '../src/codec/json.js';
import { parseStreamDocument } from '../src/codec/json-validate.js';
import { PAGE_SIZE } from '../src/format/constants.js';
import { PAGE_TYPES } from '../src/format/page-types.js';
import { forEachPage } from '../src/codec/bodies/page-data.js';
import { readStreamSync, type StreamItem } from '../src/reader/index.js';
import { verifyStream } from '../src/inspect/verify.js';
import { extractStream } from '../src/inspect/extract.js';

const DIR = join(import.meta.dirname, '../fixtures/xen-4.17');
const FIXTURES = ['pv128-save', 'pvh128-save', 'hvm128-save'] as const;

interface Note {
  size: number;
  sequence: string[];
  counts: Record<string, number>;
  pfnEntries: number;
}

/** The facts a fixture's .txt note states (lines "record sequence:", "record counts:", …). */
function parseNote(text: string): Note {
  const line = (prefix: string) => {
    const l = text.split('\n').find((x) => x.startsWith(prefix));
    if (!l) throw new Error(`note has no "${prefix}" line`);
    return l.slice(prefix.length).trim();
  };
  const sequence = line('record sequence:')
    .split(', ')
    .flatMap((entry) => {
      const m = /^(\S+) x(\d+)$/.exec(entry);
      return m ? Array<string>(Number(m[2])).fill(m[1]) : [entry];
    });
  const counts = Object.fromEntries(
    line('record counts:')
      .split(', ')
      .map((kv) => {
        const [k, v] = kv.split('=');
        return [k, Number(v)];
      }),
  );
  return {
    size: Number(line('uncompressed size:').split(' ')[0]),
    sequence,
    counts,
    pfnEntries: Number(line('PAGE_DATA pfn entries in total:')),
  };
}

/**
 * A deliberately independent walk (not our reader): xl header, libxl header, libxl records, the libxc
 * image inside LIBXC_CONTEXT; counts the type nibble of every PAGE_DATA pfn entry.
 */
function rawPageTypeCounts(b: Buffer): { types: number[]; entries: number } {
  const types = new Array<number>(16).fill(0);
  let entries = 0;
  let p = 48 + b.readUInt32LE(44) + 16; // xl header + optional data, libxl header
  for (;;) {
    const type = b.readUInt32LE(p);
    const len = b.readUInt32LE(p + 4);
    p += 8 + ((len + 7) & ~7);
    if (type === 0) break; // libxl END
    if (type !== 1) continue; // LIBXC_CONTEXT: the libxc image follows
    p += 24 + 16;
    for (;;) {
      const t = b.readUInt32LE(p);
      const l = b.readUInt32LE(p + 4);
      if (t === 1) {
        const count = b.readUInt32LE(p + 8);
        for (let i = 0; i < count; i++) types[b.readUInt32LE(p + 16 + 8 * i + 4) >>> 28]++;
        entries += count;
      }
      p += 8 + ((l + 7) & ~7);
      if (t === 0) break;
    }
  }
  return { types, entries };
}

function asEncodable(item: StreamItem, bytes: Uint8Array): EncodableItem {
  if (item.kind === 'trailing') return { kind: 'trailing', data: bytes.subarray(item.offset, item.offset + item.length) };
  if (item.kind === 'record') return { kind: 'record', record: item.record };
  return item as EncodableItem;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'xen-fixtures-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(FIXTURES)('real Xen 4.17 stream %s', (name) => {
  const gz = join(DIR, `${name}.bin.gz`);
  const note = parseNote(readFileSync(join(DIR, `${name}.txt`), 'utf8'));
  let bytes: Buffer;
  let items: StreamItem[];
  beforeAll(() => {
    bytes = gunzipSync(readFileSync(gz));
    items = [...readStreamSync(bytes)];
  });

  it('reads (strict) to libxl END, with the size, sequence and counts of its note', () => {
    expect(bytes.length).toBe(note.size);
    const r = readStreamSync(bytes);
    const all = r.readAll();
    expect(all.end).toMatchObject({ status: 'complete', bytesRead: note.size, streamEnd: note.size });
    expect(all.end.trailingBytes).toBeUndefined();
    const sequence = all.items.flatMap((i) => (i.kind === 'record' ? [`${i.layer}:${i.record.name}`] : []));
    expect(sequence).toEqual(note.sequence);
    const counts = Object.fromEntries(all.summary.byType.map((t) => [`${t.layer}:${t.name}`, t.records]));
    expect(counts).toEqual(note.counts);
    expect(all.summary.pageEntries).toBe(note.pfnEntries);
    expect(all.summary.passes).toHaveLength(1);
    expect(all.summary.resentPfns).toBe(0);
  });

  it('verify (from the .gz file, decompressed by the reader) says valid, with no warnings', async () => {
    const v = await verifyStream(gz);
    expect(v.status).toBe('valid');
    expect(v.problems.filter((p) => p.severity !== 'note')).toEqual([]);
    expect(v.end?.bytesRead).toBe(note.size);
  });

  it('page-type counts of the summary equal an independent walk of the bytes, and total the note', () => {
    const raw = rawPageTypeCounts(bytes);
    expect(raw.entries).toBe(note.pfnEntries);
    const expected: Record<string, number> = {};
    raw.types.forEach((n, t) => {
      if (n) expected[PAGE_TYPES[t].name] = n;
    });
    const summary = readStreamSync(bytes).readAll().summary;
    expect(summary.pageTypes).toEqual(expected);
    expect(Object.values(summary.pageTypes).reduce((a, b) => a + b, 0)).toBe(note.pfnEntries);
    if (name === 'pv128-save') {
      // a real PV guest: its page tables are typed, some pinned (L4 is the top level of a 64-bit guest)
      for (const t of ['L1TAB', 'L2TAB', 'L3TAB', 'L4TAB_PINNED']) expect(summary.pageTypes[t] ?? 0).toBeGreaterThan(0);
    } else {
      expect(summary.pageTypes.XTAB).toBeGreaterThan(1_000_000); // HVM holes below 4 GiB, sent without data
    }
  });

  it('JSON round trip (itemToJson → JSON text → parseStreamDocument → encodeDocumentChunks) is byte-exact', () => {
    let covered = 0;
    for (const item of items) {
      const json = JSON.parse(JSON.stringify(itemToJson(asEncodable(item, bytes))));
      const doc = parseStreamDocument({ format: 'xen-migration-stream/1', dialect: 'upstream', items: [json] });
      const out = Buffer.concat(encodeDocumentChunks(doc));
      const want = bytes.subarray(item.offset, item.offset + item.length);
      if (Buffer.compare(out, want) !== 0) throw new Error(`${item.kind} at offset ${item.offset} does not round-trip`);
      covered += item.length;
    }
    expect(covered).toBe(bytes.length);
  });

  it('extract gives every populated page, byte for byte', async () => {
    const image = join(work, `${name}.raw`);
    const r = await extractStream(gz, { memory: image });
    // every data page of the stream, in stream order (each pfn once in these single-pass saves)
    const want: Array<[number, Uint8Array]> = [];
    for (const item of items) {
      if (item.kind !== 'record' || item.record.body.kind !== 'page-data') continue;
      forEachPage(item.record.body, (pfn, _t, page) => {
        if (page) want.push([pfn, page]);
      });
    }
    const fh = await open(image, 'r');
    try {
      // read runs of consecutive pfns with one read each
      const RUN = 256;
      const buf = Buffer.alloc(RUN * PAGE_SIZE);
      for (let i = 0; i < want.length; ) {
        let j = i + 1;
        while (j < want.length && j - i < RUN && want[j][0] === want[j - 1][0] + 1) j++;
        await fh.read(buf, 0, (j - i) * PAGE_SIZE, want[i][0] * PAGE_SIZE);
        for (let k = i; k < j; k++) {
          const got = buf.subarray((k - i) * PAGE_SIZE, (k - i + 1) * PAGE_SIZE);
          if (Buffer.compare(got, want[k][1]) !== 0) throw new Error(`pfn 0x${want[k][0].toString(16)} differs in the extracted image`);
        }
        i = j;
      }
    } finally {
      await fh.close();
      rmSync(image, { force: true });
    }
    const pages = want.length;
    expect(pages).toBe(r.pages);
    expect(pages).toBe(readStreamSync(bytes).readAll().summary.pagesWithData);
  });
});
