import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isLoopback } from '../src/session/tcp-listener.js';
import { ensureBuilt, finished, runCli, spawnCli, type CliRun } from './support/session-cli.js';
import { exampleXlSave } from './support/session-streams.js';

/** stream-migrate over TCP: loopback by default, the handshake, the token, idle connections. 127.0.0.1 only. */
let dir = '';
beforeAll(() => ensureBuilt(), 120_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-tcp-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Start a receiver; resolve with the port it listens on and its completion. */
async function startReceiver(args: string[]): Promise<{ port: string; address: string; done: Promise<CliRun> }> {
  const receiver = spawnCli(['receive', ...args]);
  receiver.stdin.end();
  const done = finished(receiver);
  const [address, port] = await new Promise<[string, string]>((resolve, reject) => {
    let text = '';
    receiver.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (\S+):(\d+)/.exec(text);
      if (match !== null) resolve([match[1], match[2]]);
    });
    void done.then((run) => reject(new Error(`receiver exited before listening: ${run.stderr}`)));
  });
  return { port, address, done };
}

async function writeToken(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, 0o600);
  return path;
}

function idleConnection(port: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('stream-migrate over TCP', () => {
  it('--listen PORT binds loopback (an address must be given to bind anything else)', async () => {
    const input = join(dir, 'in.bin');
    const out = join(dir, 'out.bin');
    await writeFile(input, exampleXlSave());
    const { port, address, done } = await startReceiver(['-o', out, '--listen', '0', '--timeout', '20']);
    expect(address).toBe('127.0.0.1');
    const sent = await runCli(['send', input, '--connect', `127.0.0.1:${port}`]);
    const received = await done;
    expect(sent.code).toBe(0);
    expect(received.code).toBe(0);
    expect(received.stderr).not.toMatch(/warning/);
    expect(new Uint8Array(await readFile(out))).toEqual(exampleXlSave());
  });

  it('loopback is told apart from addresses other hosts reach (those get a warning)', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', 'localhost']) expect(isLoopback(address)).toBe(true);
    for (const address of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1']) expect(isLoopback(address)).toBe(false);
  });

  it('an idle connection is dropped after the handshake timeout and the real sender (with the token) is accepted', async () => {
    const input = join(dir, 'in.bin');
    const out = join(dir, 'out.bin');
    await writeFile(input, exampleXlSave());
    const token = await writeToken('token', 'correct horse battery staple\n');
    const { port, done } = await startReceiver(['-o', out, '--listen', '127.0.0.1:0', '--token-file', token, '--handshake-timeout', '0.5', '--timeout', '20']);
    const idle = await idleConnection(port);
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    // Takes the slot first; before, the receiver served it and refused everyone else.
    await idleClosed;
    const sent = await runCli(['send', input, '--connect', `127.0.0.1:${port}`, '--token-file', token]);
    const received = await done;
    expect(sent.code).toBe(0);
    expect(received.code).toBe(0);
    expect(received.stderr).toMatch(/closed the connection from 127\.0\.0\.1:\d+: timed out .* handshake hello/);
    expect(new Uint8Array(await readFile(out))).toEqual(exampleXlSave());
  });

  it('a sender with a wrong token or none is refused (and the receiver keeps waiting for the right one)', async () => {
    const input = join(dir, 'in.bin');
    const out = join(dir, 'out.bin');
    await writeFile(input, exampleXlSave());
    const token = await writeToken('token', 'the right one');
    const wrong = await writeToken('wrong', 'the wrong one');
    const { port, done } = await startReceiver(['-o', out, '--listen', '127.0.0.1:0', '--token-file', token, '--timeout', '20']);

    const withWrong = await runCli(['send', input, '--connect', `127.0.0.1:${port}`, '--token-file', wrong]);
    expect(withWrong.code).toBe(1);
    expect(withWrong.stderr).toMatch(/send failed in PREAMBLE .*handshake failed/);
    const withNone = await runCli(['send', input, '--connect', `127.0.0.1:${port}`]);
    expect(withNone.code).toBe(1);
    expect(withNone.stderr).toMatch(/the receiver requires a shared token: pass --token-file/);
    expect((await readdir(dir)).sort()).toEqual(['in.bin', 'token', 'wrong']);

    const right = await runCli(['send', input, '--connect', `127.0.0.1:${port}`, '--token-file', token]);
    const received = await done;
    expect(right.code).toBe(0);
    expect(received.code).toBe(0);
    expect(received.stderr).toMatch(/does not have the same token/);
    expect(received.stderr).toMatch(/has no shared token/);
  });

  it('a sender with a token does not send to a receiver without one', async () => {
    const input = join(dir, 'in.bin');
    const out = join(dir, 'out.bin');
    await writeFile(input, exampleXlSave());
    const token = await writeToken('token', 'secret');
    const { port, done } = await startReceiver(['-o', out, '--listen', '0', '--timeout', '3']);
    const sent = await runCli(['send', input, '--connect', `127.0.0.1:${port}`, '--token-file', token]);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toMatch(/the receiver has no shared token/);
    expect((await done).code).toBe(1);
    expect(await readdir(dir)).not.toContain('out.bin');
  });

  it('--token-file needs TCP; a missing token file is an I/O error (exit 2)', async () => {
    expect((await runCli(['receive', '-o', join(dir, 'o'), '--token-file', join(dir, 'nope')])).code).toBe(2);
    const missing = await runCli(['send', join(dir, 'x'), '--connect', '127.0.0.1:1', '--token-file', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read token file .*nope: no such file/);
  });
});
