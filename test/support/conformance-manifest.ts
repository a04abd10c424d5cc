/**
 * fixtures/MANIFEST.json: its shape, and the checks the conformance runner
 * (and scripts/make-fixtures.ts) share: how a stream reads in each mode, its
 * record counts, its re-encoding, and the digest of the guest memory it implies.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { StreamFormatError, type EncodableItem } from '../../src/codec/index.js';
import { PAGE_TYPE_HAS_DATA } from '../../src/format/index.js';
import { readStreamSync, type ReaderOptions, type StreamEnd, type StreamItem } from '../../src/reader/index.js';

export const FIXTURES_DIR = new URL('../../fixtures/', import.meta.url);
export const MANIFEST_URL = new URL('MANIFEST.json', FIXTURES_DIR);

/** How a fixture reads in one mode. */
export type Outcome =
  | { verdict: 'valid'; end: 'complete' | 'failover'; completeCheckpoints?: number; problems: Array<{ rule: string; severity: string; offset: number }> }
  | { verdict: 'invalid'; rule: string; offset: number };

export interface MemoryDigest {
  /** pfns holding data in the final memory (data-bearing entries only; XTAB/BROKEN/XALLOC write nothing). */
  pages: number;
  /** Highest such pfn (-1 when none). */
  maxPfn: number;
  /** sha256 over, for each such pfn in ascending order: u64 LE pfn ‖ its 4096-byte page. */
  pagesSha256: string;
  /** sha256 of the raw image (page of pfn p at byte p × 4096, zeros elsewhere, (maxPfn + 1) × 4096 bytes); small images only. */
  imageSha256?: string;
}

export interface ManifestEntry {
  /** Path relative to fixtures/. */
  file: string;
  /** How it was made (real Xen, hand-made by scripts/make-fixtures.ts, synth). */
  made: string;
  origin: 'xen' | 'hand-made' | 'synth';
  description: string;
  gzip?: boolean;
  container: 'xl' | 'libxl' | 'libxc';
  guest: 'pv' | 'hvm' | 'pvh' | 'none';
  mode: 'plain' | 'remus' | 'colo' | 'postcopy-rfc';
  dialect: 'upstream' | 'postcopy-rfc';
  /** Reader options a consumer must use (mode / dialect): the stream does not say them. */
  options: { dialect?: 'upstream' | 'postcopy-rfc'; mode?: 'plain' | 'remus' | 'colo' };
  /** Decompressed size and sha256. */
  bytes: number;
  sha256: string;
  /** sha256 of the stored .gz file (gzip fixtures only). */
  gzSha256?: string;
  strict: Outcome;
  lenient: Outcome;
  /** Records per `layer:NAME` in the whole stream (valid fixtures; failover: every decoded record, discarded ones included). */
  records?: Record<string, number>;
  /** The memory a restore would produce (valid fixtures with pages; checkpointed: at the last complete checkpoint). */
  memory?: MemoryDigest;
}

export interface Manifest {
  format: 'xen-migration-stream-fixtures/1';
  description: string;
  fixtures: ManifestEntry[];
}

export function loadManifest(): Manifest {
  return JSON.parse(readFileSync(MANIFEST_URL, 'utf8')) as Manifest;
}

/** The fixture's decompressed bytes. */
export function fixtureBytes(e: Pick<ManifestEntry, 'file' | 'gzip'>): Uint8Array {
  const raw = readFileSync(new URL(e.file, FIXTURES_DIR));
  return new Uint8Array(e.gzip ? gunzipSync(raw) : raw);
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Read `bytes` and describe the outcome the way the manifest does. Untyped errors propagate. */
export function outcomeOf(bytes: Uint8Array, opts: ReaderOptions): Outcome {
  try {
    const r = readStreamSync(bytes, opts).readAll();
    const o: Outcome = { verdict: 'valid', end: r.end.status, problems: r.problems.map((p) => ({ rule: p.rule.id, severity: p.severity, offset: p.offset })) };
    if (r.end.completeCheckpoints !== undefined) o.completeCheckpoints = r.end.completeCheckpoints;
    return o;
  } catch (e) {
    if (e instanceof StreamFormatError) return { verdict: 'invalid', rule: e.ruleId, offset: e.offset };
    throw e;
  }
}

/** Record counts keyed `layer:NAME`. */
export function recordCounts(items: readonly StreamItem[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) if (i.kind === 'record') out[`${i.layer}:${i.record.name}`] = (out[`${i.layer}:${i.record.name}`] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A reader item as a codec value (trailing bytes taken from the input: the item only keeps their head). */
export function toEncodable(item: StreamItem, bytes: Uint8Array): EncodableItem {
  switch (item.kind) {
    case 'record':
      return { kind: 'record', record: item.record };
    case 'trailing':
      return { kind: 'trailing', data: bytes.subarray(item.offset, item.offset + item.length) };
    case 'container-part':
      return { kind: 'container-part', wrapper: item.wrapper, part: item.part, data: item.bytes };
    default:
      return { kind: item.kind, header: item.header } as EncodableItem;
  }
}

/**
 * The guest memory the stream implies: pfn → page view, last copy wins; for a
 * checkpointed stream that failed over, only records of complete checkpoints.
 */
export function memoryOf(items: readonly StreamItem[], end: StreamEnd): Map<number, Uint8Array> {
  const mem = new Map<number, Uint8Array>();
  const upTo = end.status === 'failover' ? (end.completeCheckpoints ?? 0) : Infinity;
  for (const i of items) {
    if (i.kind !== 'record' || i.record.body.kind !== 'page-data') continue;
    if ((i.checkpoint ?? 1) > upTo) continue;
    const { pfns, types, pageData } = i.record.body;
    let k = 0;
    for (let n = 0; n < pfns.length; n++) {
      if (!PAGE_TYPE_HAS_DATA[types[n]]) continue;
      mem.set(pfns[n], pageData.subarray(4096 * k, 4096 * (k + 1)));
      k++;
    }
  }
  return mem;
}

const IMAGE_DIGEST_LIMIT = 64 * 1024 * 1024;

export function memoryDigest(mem: ReadonlyMap<number, Uint8Array>): MemoryDigest {
  const pfns = [...mem.keys()].sort((a, b) => a - b);
  const h = createHash('sha256');
  const head = Buffer.alloc(8);
  for (const p of pfns) {
    head.writeBigUInt64LE(BigInt(p));
    h.update(head);
    h.update(mem.get(p) as Uint8Array);
  }
  const maxPfn = pfns.length ? pfns[pfns.length - 1] : -1;
  const d: MemoryDigest = { pages: pfns.length, maxPfn, pagesSha256: h.digest('hex') };
  if ((maxPfn + 1) * 4096 <= IMAGE_DIGEST_LIMIT) {
    const img = createHash('sha256');
    const zero = new Uint8Array(4096);
    for (let p = 0; p <= maxPfn; p++) img.update(mem.get(p) ?? zero);
    d.imageSha256 = img.digest('hex');
  }
  return d;
}
