/**
 * Compressed output (issue #20 item 1): `-o FILE.zst|.xz|.gz|.bz2|.lz4` and
 * `--compress FORMAT` on the commands that write a stream, through
 * src/io/atomic-output.ts; the receiver's capture by its name's ending. The
 * bytes decompressed by the format's own command-line tool are the stream the
 * command writes uncompressed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicOutput } from '../src/io/atomic-output.js';
import { COMPRESSION_NAMES, compressionOf, type CompressionName } from '../src/io/compression/index.js';
import { CaptureFile } from '../src/session/capture-file.js';
import { CLI, ROOT, ensureCliBuilt, runCli, runShell, type CliResult } from './support/cli-run.js';
import { EXTENSION, compress, decompressWithTool, missingTool, scratchDir } from './support/compressed-fixtures.js';

const scratch = scratchDir('containers-output-');
const SYNTH = ['synth', '--kind', 'hvm', '--pages', '300', '--seed', '7', '-q'];
let plainSynth: Buffer;

beforeAll(async () => {
  await ensureCliBuilt();
  const r = await runCli([...SYNTH, '-o', scratch.file('plain.bin')]);
  expect(r.code).toBe(0);
  plainSynth = readFileSync(scratch.file('plain.bin'));
});
afterAll(() => scratch.remove());

/** The CLI with a PATH that has no compression tools (only the node binary is used, by absolute path). */
function runWithoutTools(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolve({ code, stdout, out: stdout.toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

describe.each(COMPRESSION_NAMES)('%s output', (format: CompressionName) => {
  it('synth -o FILE with the ending: the file is in that format and holds the stream synth writes', async (ctx) => {
    const why = missingTool(format);
    if (why) return ctx.skip(why);
    const out = scratch.file(`synth${EXTENSION[format]}`);
    const r = await runCli([...SYNTH, '-o', out]);
    expect(r.stderr).toBe('');
    const packed = readFileSync(out);
    expect(compressionOf(packed)?.name).toBe(format);
    expect(Buffer.from(decompressWithTool(format, packed)).equals(plainSynth)).toBe(true);
  });

  it('synth --compress to stdout', async (ctx) => {
    const why = missingTool(format);
    if (why) return ctx.skip(why);
    const r = await runCli([...SYNTH, '--compress', format]);
    expect(r.code).toBe(0);
    expect(Buffer.from(decompressWithTool(format, r.stdout)).equals(plainSynth)).toBe(true);
  });
});

describe('rewrite and encode', () => {
  it('rewrite of an lz4 input to -o FILE.zst equals the rewrite to a plain file, and reads back', async (ctx) => {
    const why = missingTool('zstd') ?? missingTool('lz4');
    if (why) return ctx.skip(why);
    const input = scratch.file('in.lz4', compress('lz4', plainSynth));
    const a = await runCli(['rewrite', input, '-o', scratch.file('re.bin'), '--batch', '512', '-q']);
    const b = await runCli(['rewrite', input, '-o', scratch.file('re.zst'), '--batch', '512', '-q']);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const plain = readFileSync(scratch.file('re.bin'));
    expect(Buffer.from(decompressWithTool('zstd', readFileSync(scratch.file('re.zst')))).equals(plain)).toBe(true);
    const v = await runCli(['verify', scratch.file('re.zst')]);
    expect(v.code).toBe(0);
  });

  it('rewrite -o - --compress xz, and --compress none keeps a .gz name uncompressed', async (ctx) => {
    const why = missingTool('xz');
    if (why) return ctx.skip(why);
    const r = await runCli(['rewrite', scratch.file('plain.bin'), '-o', '-', '--compress', 'xz', '-q']);
    expect(r.code).toBe(0);
    expect(Buffer.from(decompressWithTool('xz', r.stdout)).equals(plainSynth)).toBe(true);
    const n = await runCli(['rewrite', scratch.file('plain.bin'), '-o', scratch.file('not-really.gz'), '--compress', 'none', '-q']);
    expect(n.code).toBe(0);
    expect(readFileSync(scratch.file('not-really.gz')).equals(plainSynth)).toBe(true);
  });

  it('encode -o FILE.gz and -o - --compress bzip2 give the original bytes back', async (ctx) => {
    const why = missingTool('bzip2');
    if (why) return ctx.skip(why);
    const json = await runCli(['dump', scratch.file('plain.bin'), '-f', 'json']);
    const doc = scratch.file('doc.json', json.stdout);
    const g = await runCli(['encode', doc, '-o', scratch.file('enc.gz')]);
    expect(g.code).toBe(0);
    expect(Buffer.from(decompressWithTool('gzip', readFileSync(scratch.file('enc.gz')))).equals(plainSynth)).toBe(true);
    const b = await runCli(['encode', doc, '-o', '-', '--compress', 'bzip2']);
    expect(b.code).toBe(0);
    expect(Buffer.from(decompressWithTool('bzip2', b.stdout)).equals(plainSynth)).toBe(true);
  });
});

describe('without the tools', () => {
  it('a zstd input is still read (fzstd, pure JavaScript)', async (ctx) => {
    const why = missingTool('zstd');
    if (why) return ctx.skip(why);
    const input = scratch.file('fallback.zst', compress('zstd', plainSynth));
    const r = await runWithoutTools(['verify', input]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('VALID');
  });

  it('an xz input or output names the missing command; no output file is left', async (ctx) => {
    const why = missingTool('xz');
    if (why) return ctx.skip(why);
    const input = scratch.file('notool.xz', compress('xz', plainSynth));
    const r = await runWithoutTools(['verify', input]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/xz command is not installed/);
    const before = readdirSync(scratch.dir).length;
    const w = await runWithoutTools([...SYNTH, '-o', scratch.file('notool-out.xz')]);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/xz command is not installed/);
    expect(existsSync(scratch.file('notool-out.xz'))).toBe(false);
    expect(readdirSync(scratch.dir).length).toBe(before);
  });
});

describe('stream-migrate receive', () => {
  it('-o CAPTURE.zst: the capture of a migration is zstd-compressed and holds the stream sent', async (ctx) => {
    const why = missingTool('zstd');
    if (why) return ctx.skip(why);
    const xl = scratch.file('sent.bin');
    expect((await runCli(['synth', '--kind', 'hvm', '--pages', '200', '--xl', '-q', '-o', xl])).code).toBe(0);
    const migrate = `"${process.execPath}" "${join(ROOT, 'dist/cli/stream-migrate.js')}"`;
    const cap = scratch.file('cap.zst');
    const r = await runShell(`${migrate} send ${xl} --exec '${migrate} receive -o ${cap}'`);
    expect(r.code).toBe(0);
    expect(Buffer.from(decompressWithTool('zstd', readFileSync(cap))).equals(readFileSync(xl))).toBe(true);
  });
});

describe('the library', () => {
  it("the receiver's capture named .lz4 is lz4-compressed; bytesWritten counts the stream's bytes", async (ctx) => {
    const why = missingTool('lz4');
    if (why) return ctx.skip(why);
    const file = await CaptureFile.create(scratch.file('capture.bin.lz4'));
    await file.write([plainSynth.subarray(0, 1000), plainSynth.subarray(1000)]);
    await file.commit();
    await file.release();
    expect(file.bytesWritten).toBe(plainSynth.length);
    expect(Buffer.from(decompressWithTool('lz4', readFileSync(scratch.file('capture.bin.lz4')))).equals(plainSynth)).toBe(true);
  });

  it('an output written at positions cannot be compressed; a discarded compressed output leaves nothing', async () => {
    await expect(AtomicOutput.open(scratch.file('img.gz'), { compress: 'gzip', positional: true })).rejects.toThrow(/cannot be compressed/);
    const before = readdirSync(scratch.dir).length;
    const o = await AtomicOutput.open(scratch.file('gone.gz'), { compress: 'gzip' });
    await o.write([plainSynth]);
    await o.discard();
    expect(readdirSync(scratch.dir).length).toBe(before);
  });
});
