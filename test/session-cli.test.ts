import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BANNER } from '../src/session/fixed-messages.js';
import { CLI, ensureBuilt, finished, runCli, spawnCli } from './support/session-cli.js';
import { EXAMPLE_LIBXL_OFFSET, exampleXlSave, remusStream } from './support/session-streams.js';

/** The built executable, end to end. Loopback only: pipes and 127.0.0.1. */
let dir = '';
/** Alive and not a zombie (a killed child not yet reaped still has a /proc entry). */
const isRunning = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const quote = (path: string): string => `'${path.replace(/'/g, `'\\''`)}'`;
const receiveCommand = (out: string, extra = ''): string => `${quote(process.execPath)} ${quote(CLI)} receive -o ${quote(out)} ${extra}`;

beforeAll(() => ensureBuilt(), 120_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stream-migrate CLI', () => {
  it('the built file is an executable script', async () => {
    expect((await readFile(CLI, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('send --exec "stream-migrate receive" gives a byte-identical file, both exit 0', async () => {
    const input = join(dir, 'in.bin');
    const out = join(dir, 'out.bin');
    await writeFile(input, exampleXlSave());
    const run = await runCli(['send', input, '--exec', receiveCommand(out)]);
    expect(run.stderr).toContain('final state DONE_OK');
    expect(run.stderr).toContain('final state DONE');
    expect(run.code).toBe(0);
    expect(new Uint8Array(await readFile(out))).toEqual(exampleXlSave());
  });

  it('--listen / --connect over 127.0.0.1 (remus: failover at EOF)', async () => {
    const input = join(dir, 'in.bin');
    const out = join(dir, 'out.bin');
    const { bytes } = remusStream(2);
    await writeFile(input, bytes);
    const receiver = spawnCli(['receive', '-o', out, '--listen', '127.0.0.1:0', '--remus', '--timeout', '10']);
    receiver.stdin.end();
    const port = await new Promise<string>((resolve) => {
      let text = '';
      receiver.stderr.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
        if (match !== null) resolve(match[1]);
      });
    });
    const received = finished(receiver);
    const sent = await runCli(['send', input, '--connect', `127.0.0.1:${port}`, '--remus']);
    const receivedRun = await received;
    expect(sent.code).toBe(0);
    expect(receivedRun.code).toBe(0);
    expect(new Uint8Array(await readFile(out))).toEqual(bytes);
  });

  it('a corrupted stream byte: both exit 1 naming the state, no file under the final name', async () => {
    const input = join(dir, 'in.bin');
    const out = join(dir, 'out.bin');
    const corrupt = exampleXlSave();
    corrupt[EXAMPLE_LIBXL_OFFSET + 3] ^= 0xff;
    await writeFile(input, corrupt);
    const run = await runCli(['send', input, '--exec', receiveCommand(out)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/receive failed in RECEIVING \(final state DESTROYED\): invalid migration stream/);
    expect(run.stderr).toMatch(/send failed in \w+ \(final state RESUMED\)/);
    expect(await readdir(dir)).toEqual(['in.bin']);
  });

  it('the receiver side closes after the banner: sender exits 1 in a defined state', async () => {
    const input = join(dir, 'in.bin');
    await writeFile(input, exampleXlSave());
    const run = await runCli(['send', input, '--exec', `printf 'xl migration receiver ready, send binary domain data.\\n'`, '--timeout', '5']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/send failed in (STREAMING|AWAIT_READY) \(final state RESUMED\)/);
  });

  it('the sender is killed mid-stream: receiver exits 1, no file', async () => {
    const out = join(dir, 'out.bin');
    const receiver = spawnCli(['receive', '-o', out]);
    const done = finished(receiver);
    receiver.stdout.once('data', () => {
      receiver.stdin.write(exampleXlSave().subarray(0, 100));
      receiver.stdin.destroy();
    });
    const run = await done;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/receive failed in RECEIVING \(final state DESTROYED\): stream ended before a valid end/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('the sender stalls: the receiver gives up after its idle timeout, exits 1, no file', async () => {
    const out = join(dir, 'out.bin');
    const receiver = spawnCli(['receive', '-o', out, '--idle-timeout', '0.3']);
    const done = finished(receiver);
    let banner = Buffer.alloc(0);
    receiver.stdout.on('data', (chunk: Buffer) => {
      banner = Buffer.concat([banner, chunk]);
      if (banner.length === BANNER.bytes.length) receiver.stdin.write(exampleXlSave().subarray(0, 100));
    });
    const run = await done;
    receiver.stdin.destroy();
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/receive failed in RECEIVING \(final state DESTROYED\): timed out/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('--exec CMD --timeout: a command that never answers is ended with everything it started, and the sender exits', async () => {
    const input = join(dir, 'in.bin');
    const pidFile = join(dir, 'sleep.pid');
    await writeFile(input, exampleXlSave());
    // sh forks sleep and waits: killing only sh would leave sleep holding the pipes (the sender waited 80 s).
    const run = await runCli(['send', input, '--exec', `sleep 80 & echo $! > ${quote(pidFile)}; wait`, '--timeout', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/send failed in PREAMBLE \(final state RESUMED\): timed out/);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(isRunning(pid)).toBe(false);
  }, 30_000);

  it('send of a gzip file sends the decompressed stream', async () => {
    const input = join(dir, 'in.bin.gz');
    const out = join(dir, 'out.bin');
    await writeFile(input, gzipSync(exampleXlSave()));
    const run = await runCli(['send', input, '--exec', receiveCommand(out)]);
    expect(run.code).toBe(0);
    expect(new Uint8Array(await readFile(out))).toEqual(exampleXlSave());
  });

  it('send of a file that is not a stream (a PNG) is refused before the receiver command runs', async () => {
    const input = join(dir, 'picture.png');
    const ran = join(dir, 'ran');
    await writeFile(input, Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex'));
    const run = await runCli(['send', input, '--exec', `touch ${quote(ran)}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^stream-migrate: send failed before the protocol started: STREAM-NOT-V2 .*not a v2 migration stream/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['picture.png']);
  });

  it('send of an xl file whose header claims a huge optional_data_len is refused with XL-OPTIONAL-DATA-MAX before the receiver command runs', async () => {
    const input = join(dir, 'huge.bin');
    const ran = join(dir, 'ran');
    const bytes = Buffer.from(exampleXlSave());
    bytes.writeUInt32LE(0x7fffffff, 44); // optional_data_len: 2 GiB, over the reader's 16 MiB cap
    await writeFile(input, bytes);
    const run = await runCli(['send', input, '--exec', `touch ${quote(ran)}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^stream-migrate: send failed before the protocol started: XL-OPTIONAL-DATA-MAX /);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['huge.bin']);
  });

  it('send of a missing file exits 2 (an I/O error, like stream-inspect), naming it', async () => {
    const run = await runCli(['send', join(dir, 'missing.bin'), '--exec', 'cat']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot read .*missing\.bin: no such file/);
  });

  it('usage errors exit 2 without a stack trace', async () => {
    const run = await runCli(['send', 'x.bin', '--exec', 'true', '--connect', '127.0.0.1:1']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect((await runCli(['receive'])).code).toBe(2);
    expect((await runCli(['bogus'])).code).toBe(2);
  });
});
