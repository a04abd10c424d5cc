import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { StreamFormatError } from '../src/codec/index.js';
import { PAGE_TYPE } from '../src/format/page-types.js';
import { readStream, readStreamSync } from '../src/reader/index.js';
import { VerifyResendCheck } from '../src/reader/verify-resend.js';
import type { PageDataBody } from '../src/codec/bodies/page-data.js';
import type { ReaderOptions } from '../src/reader/decoder.js';
import type { Problem, StreamEnd } from '../src/reader/items.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { StreamWriter } from '../src/writer/stream-writer.js';
import { synthCpuidPolicy, synthHvmContext, synthHvmParams, synthMsrPolicy } from '../src/writer/synth-records.js';
import { ensureCliBuilt, runCli } from './support/cli-run.js';

/**
 * VERIFY (`xl migrate --debug`): the re-send after the VERIFY record is compared,
 * page by page, with the copy it verifies (Xen's restore in verify mode does the
 * same, "verify pfn … failed"). Streams written with the project's StreamWriter.
 */
const PAGES = 24;
const page = (pfn: number, pass: number): Uint8Array => new Uint8Array(4096).fill((pfn * 7 + pass * 13) & 0xff);

interface Plan {
  /** pfn → pass whose contents the re-send carries (default: the last pass that sent it). */
  resendPass?: Record<number, number>;
  /** Re-send pfns that were never sent before VERIFY (with these contents). */
  extra?: Array<{ pfn: number; contents: Uint8Array }>;
}

/** Pass 0 sends pfns 0…23, pass 1 re-sends the even ones (new contents); then VERIFY and a re-send of all. */
async function debugStream(plan: Plan = {}): Promise<{ bytes: Uint8Array; pageOffset: (pass: 'first' | 'resend', pfn: number) => number }> {
  const sink = new MemorySink({ copy: true });
  const w = new StreamWriter(sink, { mode: 'plain', guest: 'pvh' });
  const offsets = new Map<string, number>();
  const pagesRecord = async (label: 'first' | 'resend', pfns: number[], contents: (pfn: number) => Uint8Array) => {
    const start = w.bytesWritten + 8 + 8 + 8 * pfns.length;
    pfns.forEach((pfn, k) => {
      offsets.set(`${label}:${pfn}`, start + 4096 * k);
    });
    await w.writePages(
      pfns,
      pfns.map(() => PAGE_TYPE.NOTAB),
      pfns.map((pfn) => contents(pfn)),
    );
  };
  await w.writeLibxlHeader();
  await w.beginLibxc({ xenMajor: 4, xenMinor: 17 });
  await w.writeCpuidPolicy(synthCpuidPolicy());
  await w.writeMsrPolicy(synthMsrPolicy());
  await w.writeStaticDataEnd();
  const all = Array.from({ length: PAGES }, (_, pfn) => pfn);
  const even = all.filter((pfn) => pfn % 2 === 0);
  await pagesRecord('first', all.slice(0, 12), (pfn) => page(pfn, 0));
  await pagesRecord('first', all.slice(12), (pfn) => page(pfn, 0));
  for (const pfn of even) offsets.delete(`first:${pfn}`);
  await pagesRecord('first', even, (pfn) => page(pfn, 1));
  await w.writeVerify();
  const lastPass = (pfn: number) => plan.resendPass?.[pfn] ?? (pfn % 2 === 0 ? 1 : 0);
  await pagesRecord('resend', all, (pfn) => page(pfn, lastPass(pfn)));
  for (const { pfn, contents } of plan.extra ?? []) await pagesRecord('resend', [pfn], () => contents);
  await w.writeTscInfo({ khz: 2_000_000, nsec: 1_000_000_000n });
  await w.writeHvmContext(synthHvmContext(2_000_000));
  await w.writeHvmParams(synthHvmParams('pvh', false));
  await w.endLibxc();
  await w.end();
  return {
    bytes: sink.bytes(),
    pageOffset: (label, pfn) => {
      const at = offsets.get(`${label}:${pfn}`);
      if (at === undefined) throw new Error(`no ${label} copy of pfn ${pfn}`);
      return at;
    },
  };
}

/**
 * The three ways the check meets a stream: bytes in memory and a regular file
 * can be read again by position (a re-sent page is compared with its earlier
 * copy read back); chunks from a pipe cannot (every page is fingerprinted as
 * it passes). The verdicts must be the same.
 */
const READS = ['memory', 'file', 'chunks'] as const;
type Read = (typeof READS)[number];

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'verify-resend-read-'));
  return () => rmSync(scratch, { recursive: true, force: true });
});

async function readAll(bytes: Uint8Array, options: ReaderOptions, how: Read): Promise<{ end: StreamEnd; problems: readonly Problem[] }> {
  if (how === 'memory') return readStreamSync(bytes, options).readAll();
  let source: string | AsyncIterable<Uint8Array>;
  if (how === 'file') {
    source = join(scratch, `stream-${Math.random().toString(36).slice(2)}.bin`);
    writeFileSync(source, bytes);
  } else {
    source = (async function* chunks() {
      for (let at = 0; at < bytes.length; at += 5000) yield bytes.slice(at, at + 5000);
    })();
  }
  const reader = readStream(source, options);
  const end = await reader.run();
  return { end, problems: reader.problems };
}

async function strictError(bytes: Uint8Array, how: Read): Promise<StreamFormatError> {
  try {
    await readAll(bytes, { strict: true }, how);
  } catch (error) {
    if (error instanceof StreamFormatError) return error;
    throw error;
  }
  throw new Error('the stream was accepted');
}

describe.each(READS)('VERIFY re-send comparison, input read from %s', (how) => {
  it('a re-send equal to the last copy of every pfn is valid (strict), with no problem reported', async () => {
    const { bytes } = await debugStream();
    const result = await readAll(bytes, { strict: true }, how);
    expect(result.end.status).toBe('complete');
    expect(result.problems.filter((p) => p.rule.id === 'LIBXC-VERIFY-MISMATCH')).toEqual([]);
  });

  it('a re-sent page that differs from its last copy: LIBXC-VERIFY-MISMATCH names the pfn and both offsets', async () => {
    // pfn 6 was re-sent in pass 1: its pass-0 contents are stale, so a re-send of them differs.
    const { bytes, pageOffset } = await debugStream({ resendPass: { 6: 0 } });
    const error = await strictError(bytes, how);
    expect(error.ruleId).toBe('LIBXC-VERIFY-MISMATCH');
    expect(error.offset).toBe(pageOffset('resend', 6));
    expect(error.message).toContain('pfn 0x6');
    expect(error.message).toContain(`differs from its copy at offset ${pageOffset('first', 6)}`);
    expect(error.message).toContain(`at offset ${pageOffset('resend', 6)}`);
  });

  it('lenient (as Xen, which logs the failure and restores): every differing page is a warning and the stream is complete', async () => {
    const { bytes, pageOffset } = await debugStream({ resendPass: { 6: 0, 17: 2 } });
    const result = await readAll(bytes, { strict: false }, how);
    expect(result.end.status).toBe('complete');
    const mismatches = result.problems.filter((p) => p.rule.id === 'LIBXC-VERIFY-MISMATCH');
    expect(mismatches.map((p) => ({ severity: p.severity, offset: p.offset }))).toEqual([
      { severity: 'warning', offset: pageOffset('resend', 6) },
      { severity: 'warning', offset: pageOffset('resend', 17) },
    ]);
  });

  it('a pfn never sent before VERIFY is compared with a zero page', async () => {
    const zero = await debugStream({ extra: [{ pfn: 40, contents: new Uint8Array(4096) }] });
    expect((await readAll(zero.bytes, { strict: true }, how)).end.status).toBe('complete');
    const data = await debugStream({ extra: [{ pfn: 40, contents: new Uint8Array(4096).fill(1) }] });
    const error = await strictError(data.bytes, how);
    expect(error.ruleId).toBe('LIBXC-VERIFY-MISMATCH');
    expect(error.offset).toBe(data.pageOffset('resend', 40));
    expect(error.message).toContain('not sent before VERIFY');
  });

  it('a re-send differing in one byte of one page is found', async () => {
    const { bytes, pageOffset } = await debugStream();
    const at = pageOffset('resend', 9) + 4095;
    const changed = bytes.slice();
    changed[at] ^= 1;
    const error = await strictError(changed, how);
    expect(error.ruleId).toBe('LIBXC-VERIFY-MISMATCH');
    expect(error.offset).toBe(pageOffset('resend', 9));
  });
});

describe('VERIFY re-send comparison needs page contents', () => {
  it("pageContents 'skip' never compares, even when whole records are in view (verdicts do not depend on how the input was read)", async () => {
    const { bytes } = await debugStream({ resendPass: { 6: 0 } });
    expect(readStreamSync(bytes, { strict: true, pageContents: 'skip' }).readAll().end.status).toBe('complete');
  });
});

describe('VERIFY re-send comparison from the CLI', () => {
  beforeAll(() => ensureCliBuilt(), 180_000);

  it('verify --deep and extract refuse a differing re-send (LIBXC-VERIFY-MISMATCH); plain verify does not read pages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-resend-'));
    try {
      const file = join(dir, 'debug.bin');
      writeFileSync(file, (await debugStream({ resendPass: { 6: 0 } })).bytes);
      const deep = await runCli(['verify', '--deep', file]);
      expect(deep.code).toBe(1);
      expect(deep.out + deep.stderr).toContain('LIBXC-VERIFY-MISMATCH');
      const extract = await runCli(['extract', file, '-o', join(dir, 'memory.bin')]);
      expect(extract.code).toBe(1);
      expect(extract.stderr).toContain('LIBXC-VERIFY-MISMATCH');
      expect(existsSync(join(dir, 'memory.bin'))).toBe(false);
      expect((await runCli(['verify', file])).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('VERIFY re-send comparison by position', () => {
  const body = (pfns: number[], fill: number): PageDataBody => ({
    kind: 'page-data',
    count: pfns.length,
    reserved: 0,
    pfns,
    types: pfns.map(() => PAGE_TYPE.NOTAB),
    pageData: new Uint8Array(4096 * pfns.length).fill(fill),
  });

  it('reads nothing back before VERIFY, then reads each re-sent page’s last copy by its offset', () => {
    const asked: number[] = [];
    const check = new VerifyResendCheck();
    check.readBackFrom((offset, length) => {
      asked.push(offset);
      return new Uint8Array(length).fill(offset === 1000 + 16 + 8 ? 5 : 7);
    });
    // Two pfns at body offset 1000: their pages start at 1000 + 8 + 8 × 2 and 4096 after.
    expect(check.pages(body([3, 4], 5), 1000)).toEqual([]);
    expect(asked).toEqual([]);
    check.begin();
    // Re-sent: pfn 3 equals its copy (read back as 5s), pfn 4 does not (7s), pfn 9 was never sent (zeros).
    const mismatches = check.pages(body([3, 4, 9], 5), 50_000);
    expect(asked).toEqual([1000 + 24, 1000 + 24 + 4096]);
    expect(mismatches.map((m) => [m.pfn, m.firstOffset])).toEqual([
      [4, 1000 + 24 + 4096],
      [9, undefined],
    ]);
  });
});

describe('VERIFY re-send comparison: which inputs are read back', () => {
  it('bytes in memory and a regular file are read back by position; chunks (a pipe) are fingerprinted', async () => {
    const { bytes } = await debugStream();
    const readBack = vi.spyOn(VerifyResendCheck.prototype, 'readBackFrom');
    try {
      for (const how of READS) {
        readBack.mockClear();
        expect((await readAll(bytes, { strict: true }, how)).end.status).toBe('complete');
        expect([how, readBack.mock.calls.length]).toEqual([how, how === 'chunks' ? 0 : 1]);
      }
    } finally {
      readBack.mockRestore();
    }
  });
});
