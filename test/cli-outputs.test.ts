/**
 * The output guarantees of every stream-inspect command (src/io/atomic-output.ts),
 * through the built executable: issue #17 items 3 (output = input), 4 (devices,
 * FIFOs, /dev/stdout), 5 (signals), 6 (rewrite's gzip spool), 7 (modes),
 * 18 (-o -) and the -o parts of 20 (messages, refusing before reading).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSink } from '../src/writer/file-sink.js';
import { CLI, ensureCliBuilt, ROOT, runCli, runShell } from './support/cli-run.js';

let dir: string;
let small: string; // a small valid PV stream
let hvm: string; // a small HVM stream with an EMULATOR_CONTEXT record
let big: string; // big enough that a command is still running when it gets a signal
let remus: string; // checkpoints that rewrite pages: extract spills an undo log

const sh = (command: string) => {
  const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command}: ${r.stderr}`);
};
const synthTo = (path: string, args: string) => sh(`"${process.execPath}" "${CLI}" synth ${args} -q -o "${path}"`);
const mode = (path: string) => statSync(path).mode & 0o777;
/** Files in `d` other than `keep`. */
const leftovers = (d: string, keep: readonly string[] = []) => readdirSync(d).filter((f) => !keep.includes(f));

function freshDir(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

beforeAll(async () => {
  await ensureCliBuilt();
  dir = join(tmpdir(), `cli-outputs-${process.pid}`);
  mkdirSync(dir);
  small = join(dir, 'small.bin');
  hvm = join(dir, 'hvm.bin');
  big = join(dir, 'big.bin');
  remus = join(dir, 'remus.bin');
  synthTo(small, '--pages 64');
  synthTo(hvm, '--kind hvm --pages 64');
  synthTo(big, '--size 256M');
  synthTo(remus, '--kind hvm --size 128M --checkpoints 3 --passes 2');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('item 3: the output is the input', () => {
  const cases: Array<[string, (f: string) => string[]]> = [
    ['extract', (f) => ['extract', f, '-o', f]],
    ['extract --config', (f) => ['extract', f, '--config', f]],
    ['rewrite', (f) => ['rewrite', f, '-o', f]],
    ['dump -f json', (f) => ['dump', f, '-f', 'json', '-o', f]],
    ['dump -f ndjson', (f) => ['dump', f, '-f', 'ndjson', '-o', f]],
    ['report', (f) => ['report', f, '-o', f]],
  ];
  for (const [name, args] of cases) {
    it(`${name} refuses, and the input is unchanged`, async () => {
      const d = freshDir(`same-${name.replace(/\W+/g, '-')}`);
      const f = join(d, 'in.bin');
      writeFileSync(f, readFileSync(small));
      const r = await runCli(args(f));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/same file as the input/);
      expect(readFileSync(f).equals(readFileSync(small))).toBe(true);
      expect(leftovers(d, ['in.bin'])).toEqual([]);
    });
  }

  it('encode J -o J refuses', async () => {
    const d = freshDir('same-encode');
    const j = join(d, 'doc.json');
    expect((await runCli(['dump', small, '-f', 'json', '-o', j])).code).toBe(0);
    const before = readFileSync(j);
    const r = await runCli(['encode', j, '-o', j]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/same file as the input/);
    expect(readFileSync(j).equals(before)).toBe(true);
  });

  it('through a symlink, and through stdin (rewrite - -o X < X)', async () => {
    const d = freshDir('same-link');
    const f = join(d, 'in.bin');
    writeFileSync(f, readFileSync(small));
    symlinkSync(f, join(d, 'link.bin'));
    const viaLink = await runCli(['rewrite', f, '-o', join(d, 'link.bin')]);
    expect(viaLink.code).toBe(2);
    expect(viaLink.stderr).toMatch(/same file as the input/);
    const viaStdin = await runShell(`$CLI rewrite - -o "${f}" < "${f}"`);
    expect(viaStdin.code).toBe(2);
    expect(viaStdin.stderr).toMatch(/same file as the input/);
    expect(readFileSync(f).equals(readFileSync(small))).toBe(true);
  });
});

describe('item 4: a target that is not a regular file is written directly, never replaced', () => {
  it('/dev/null stays a character device (we run as root in CI too)', async () => {
    const r = await runCli(['dump', small, '-f', 'json', '-o', '/dev/null']);
    expect(r.code).toBe(0);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    const s = await runCli(['rewrite', small, '-o', '/dev/null', '-q']);
    expect(s.code).toBe(0);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('a FIFO gets the bytes and stays a FIFO', async () => {
    const d = freshDir('fifo');
    const fifo = join(d, 'pipe');
    sh(`mkfifo "${fifo}"`);
    const reader = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      createReadStream(fifo)
        .on('data', (c) => chunks.push(c as Buffer))
        .on('end', () => resolve(Buffer.concat(chunks)))
        .on('error', reject);
    });
    const r = await runCli(['dump', small, '-f', 'ndjson', '-o', fifo]);
    expect(r.code).toBe(0);
    const text = (await reader).toString('utf8');
    expect(text.split('\n').filter(Boolean).length).toBeGreaterThan(10);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(leftovers(d, ['pipe'])).toEqual([]);
  });

  it('-o /dev/stdout writes to standard output', async () => {
    const viaDev = await runCli(['dump', small, '-f', 'ndjson', '-o', '/dev/stdout']);
    const plain = await runCli(['dump', small, '-f', 'ndjson']);
    expect(viaDev.code).toBe(0);
    expect(viaDev.out).toBe(plain.out);
  });

  it('extract refuses a device for the image (written at page offsets)', async () => {
    const r = await runCli(['extract', small, '-o', '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/dev\/null is not a regular file/);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it.skipIf(!existsSync('/dev/shm'))('a regular file under /dev (the /dev/shm tmpfs) is an ordinary output, written atomically', async () => {
    const d = mkdtempSync('/dev/shm/xms-out-');
    try {
      const r = await runCli(['extract', small, '-o', join(d, 'mem.raw')]);
      expect(r.code).toBe(0);
      expect(lstatSync(join(d, 'mem.raw')).isFile()).toBe(true);
      expect(lstatSync(join(d, 'mem.raw')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('a symlink to a regular file: the file is replaced, the link stays', async () => {
    const d = freshDir('symlink');
    writeFileSync(join(d, 'real.json'), 'old');
    symlinkSync('real.json', join(d, 'link.json'));
    expect((await runCli(['dump', small, '-f', 'json', '-o', join(d, 'link.json')])).code).toBe(0);
    expect(lstatSync(join(d, 'link.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'real.json'), 'utf8')).toMatch(/^\{/);
  });
});

describe('item 7: outputs that can hold guest memory or device state are 0600', () => {
  it('extract (image, --emulator-context, --config), rewrite, dump, encode, report, synth', async () => {
    const d = freshDir('modes');
    const p = (n: string) => join(d, n);
    expect((await runCli(['extract', hvm, '-o', p('mem.raw'), '--emulator-context', p('qemu.state')])).code).toBe(0);
    synthTo(p('xl.bin'), '--pages 16 --xl');
    expect((await runCli(['extract', p('xl.bin'), '--config', p('guest.json')])).code).toBe(0);
    expect((await runCli(['rewrite', small, '-o', p('re.bin'), '-q'])).code).toBe(0);
    expect((await runCli(['dump', small, '-f', 'json', '-o', p('doc.json')])).code).toBe(0);
    expect((await runCli(['encode', p('doc.json'), '-o', p('enc.bin')])).code).toBe(0);
    expect((await runCli(['report', small, '-o', p('r.html'), '-q'])).code).toBe(0);
    for (const f of ['mem.raw', 'qemu.state', 'guest.json', 're.bin', 'doc.json', 'enc.bin', 'r.html', 'xl.bin'])
      expect([f, mode(p(f)).toString(8)]).toEqual([f, '600']);
  });

  it('an existing 0600 file is never replaced by a looser one, and a looser one is tightened', async () => {
    const d = freshDir('modes-existing');
    const tight = join(d, 'tight.bin');
    writeFileSync(tight, 'old');
    chmodSync(tight, 0o600);
    const sink = await FileSink.create(tight, { mode: 0o666 });
    await sink.write([new Uint8Array([1, 2, 3])]);
    await sink.close();
    expect(mode(tight)).toBe(0o600);
    const loose = join(d, 'loose.bin');
    writeFileSync(loose, 'old');
    chmodSync(loose, 0o644);
    expect((await runCli(['rewrite', small, '-o', loose, '-q'])).code).toBe(0);
    expect(mode(loose)).toBe(0o600);
  });
});

describe('item 18: -o - is standard output where the output is a stream', () => {
  it('dump, rewrite, report, encode write to stdout; extract refuses', async () => {
    const dump = await runCli(['dump', small, '-f', 'ndjson', '-o', '-']);
    expect(dump.code).toBe(0);
    expect(dump.out).toBe((await runCli(['dump', small, '-f', 'ndjson'])).out);
    expect(existsSync(join(ROOT, '-'))).toBe(false);

    const d = freshDir('dash');
    const rewritten = await runCli(['rewrite', small, '-o', '-', '--batch', '16', '-q']);
    expect(rewritten.code).toBe(0);
    expect((await runCli(['rewrite', small, '-o', join(d, 'file.bin'), '--batch', '16', '-q'])).code).toBe(0);
    expect(rewritten.stdout.equals(readFileSync(join(d, 'file.bin')))).toBe(true);

    const report = await runCli(['report', small, '-o', '-', '-q']);
    expect(report.code).toBe(0);
    expect(report.out).toMatch(/^<!DOCTYPE html>/i);

    const extract = await runCli(['extract', small, '-o', '-']);
    expect(extract.code).toBe(2);
    expect(extract.stderr).toMatch(/-o - \(standard output\) cannot be used/);
    expect(existsSync(join(ROOT, '-'))).toBe(false);
  });
});

describe("item 20: -o errors name the user's path and come before any input is read", () => {
  const commands: Array<[string, (input: string, out: string) => string[]]> = [
    ['extract', (i, o) => ['extract', i, '-o', o]],
    ['rewrite', (i, o) => ['rewrite', i, '-o', o]],
    ['dump', (i, o) => ['dump', i, '-o', o]],
    ['report', (i, o) => ['report', i, '-o', o]],
    ['encode', (i, o) => ['encode', i, '-o', o]],
  ];
  for (const [name, args] of commands) {
    it(`${name}: -o <directory> and -o '' fail before the (missing) input is opened`, async () => {
      const missing = join(dir, 'does-not-exist.bin');
      const toDir = await runCli(args(missing, dir));
      expect(toDir.code).toBe(2);
      expect(toDir.stderr).toContain(`${dir} is a directory`);
      const toEmpty = await runCli(args(missing, ''));
      expect(toEmpty.code).toBe(2);
      expect(toEmpty.stderr).toMatch(/-o: empty value/);
    });
  }

  it('a write error (EFBIG under ulimit -f) names -o, not the temporary file, and leaves nothing', async () => {
    const d = freshDir('efbig');
    const out = join(d, 'out.ndjson');
    // An ignored SIGXFSZ is inherited: the write then fails with EFBIG instead of killing the process.
    const r = await runShell(`trap '' XFSZ; ulimit -f 64; $CLI dump "${big}" -f ndjson --pages -o "${out}"`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(out);
    expect(r.stderr).not.toMatch(/partial/);
    expect(leftovers(d)).toEqual([]);
  });
});

/** Start the CLI, wait until a file matching `pattern` exists in `watch`, send `signal`; resolve with the exit status. */
async function interrupt(
  args: readonly string[],
  watch: string,
  pattern: RegExp,
  signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP',
  stdin?: string,
): Promise<{ code: number | null; stderr: string; seen: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
  if (stdin !== undefined && child.stdin)
    createReadStream(stdin)
      .pipe(child.stdin)
      .on('error', () => undefined);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let seen = '';
  let exited = false;
  void closed.then(() => (exited = true));
  while (!exited && !seen) {
    seen = readdirSync(watch).find((f) => pattern.test(f)) ?? '';
    if (!seen) await new Promise((r) => setTimeout(r, 5));
  }
  if (!seen) throw new Error(`${args.join(' ')} ended before ${pattern} appeared: ${stderr}`);
  child.kill(signal);
  return { code: await closed, stderr, seen };
}

describe('item 5: SIGINT/SIGTERM/SIGHUP remove the temporary files, exit 128+signal', () => {
  const status = (s: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => 128 + constants.signals[s];

  it('synth -o (SIGINT)', async () => {
    const d = freshDir('sig-synth');
    const r = await interrupt(['synth', '--size', '1G', '-o', join(d, 'out.bin')], d, /\.partial$/, 'SIGINT');
    expect(r.code).toBe(status('SIGINT'));
    expect(leftovers(d)).toEqual([]);
  });

  it('extract -o (SIGTERM)', async () => {
    const d = freshDir('sig-extract');
    const r = await interrupt(['extract', big, '-o', join(d, 'mem.raw')], d, /\.partial$/, 'SIGTERM');
    expect(r.code).toBe(status('SIGTERM'));
    expect(leftovers(d)).toEqual([]);
  });

  it('a checkpointed extract, once its undo log exists (SIGHUP)', async () => {
    const d = freshDir('sig-undo');
    const r = await interrupt(['extract', remus, '-o', join(d, 'mem.raw')], d, /stream-inspect-undo/, 'SIGHUP');
    expect(r.code).toBe(status('SIGHUP'));
    expect(leftovers(d)).toEqual([]);
  });

  it('rewrite -o (SIGINT), once its output exists', async () => {
    const d = freshDir('sig-rewrite');
    const r = await interrupt(['rewrite', big, '-o', join(d, 'out.bin'), '--batch', '512'], d, /\.partial$/, 'SIGINT');
    expect(r.code).toBe(status('SIGINT'));
    expect(leftovers(d)).toEqual([]);
  });

  it('rewrite of a pipe with --temp (SIGTERM), once the spool exists', async () => {
    const d = freshDir('sig-rewrite-temp');
    const r = await interrupt(['rewrite', '-', '--temp', join(d, 'spool.bin'), '-o', join(d, 'out.bin')], d, /^spool\.bin$/, 'SIGTERM', big);
    expect(r.code).toBe(status('SIGTERM'));
    expect(leftovers(d)).toEqual([]);
  });

  it('dump -o (SIGHUP)', async () => {
    const d = freshDir('sig-dump');
    const r = await interrupt(['dump', big, '-f', 'ndjson', '--pages', '-o', join(d, 'out.ndjson')], d, /\.partial$/, 'SIGHUP');
    expect(r.code).toBe(status('SIGHUP'));
    expect(leftovers(d)).toEqual([]);
  });
});

describe('item 6: rewrite --flatten of a .gz', () => {
  it('validates while spooling: a bad stream stops at its first error, not after decompressing all of it', async () => {
    const d = freshDir('spool-bad');
    const broken = new Uint8Array(readFileSync(small));
    broken.fill(0xee, 0, 16); // not a stream from the first byte
    const gz = join(d, 'bad.bin.gz');
    // 64 MiB behind the error; the file size limit (1 MiB) makes a spool of all of it fail with EFBIG instead.
    writeFileSync(gz, gzipSync(Buffer.concat([Buffer.from(broken), Buffer.alloc(64 << 20)])));
    const r = await runShell(`trap '' XFSZ; ulimit -f 1024; $CLI rewrite "${gz}" --flatten -o "${join(d, 'out.bin')}"`);
    expect(r.stderr).not.toMatch(/EFBIG|too large/);
    expect(r.code).toBe(1);
    expect(leftovers(d, ['bad.bin.gz'])).toEqual([]);
  });

  it('a valid .gz: the note names a spool in the output directory, removed afterwards', async () => {
    const d = freshDir('spool-ok');
    const gz = join(d, 'in.bin.gz');
    writeFileSync(gz, gzipSync(readFileSync(small)));
    const r = await runCli(['rewrite', gz, '--flatten', '-o', join(d, 'out.bin')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`to ${d}/.xen-rewrite-spool.`);
    expect(leftovers(d, ['in.bin.gz', 'out.bin'])).toEqual([]);
  });
});
