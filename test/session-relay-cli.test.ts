import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth } from '../src/writer/synth.js';
import { CLI, ensureBuilt, finished, runCli, spawnCli, type CliRun } from './support/session-cli.js';

/** The built `stream-migrate relay` between `stream-migrate send` and `stream-migrate receive` (stand-ins for the two xl's). */
let dir = '';
let input = '';
let stream: Uint8Array = new Uint8Array(0);
const node = JSON.stringify(process.execPath);
const cli = JSON.stringify(CLI);

beforeAll(async () => {
  ensureBuilt();
  const sink = new MemorySink({ copy: true });
  await synth(sink, { kind: 'pv', pages: 512, batch: 32, xl: true, seed: 3 });
  stream = sink.bytes();
}, 120_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-relay-cli-'));
  input = join(dir, 'in.bin');
  await writeFile(input, stream);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const receiveCommand = (out: string): string => `${node} ${cli} receive -o ${JSON.stringify(out)} --timeout 20`;

/** Start a listening command; resolve with its port once it says where it listens. */
async function startListening(args: string[]): Promise<{ port: string; done: Promise<CliRun> }> {
  const child = spawnCli(args);
  child.stdin.end();
  const done = finished(child);
  const port = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on \S+:(\d+)/.exec(text);
      if (match !== null) resolve(match[1]);
    });
    void done.then((run) => reject(new Error(`exited before listening: ${run.stderr}`)));
  });
  return { port, done };
}

describe('stream-migrate relay (CLI)', () => {
  it('send → relay --exec receive: the stream arrives unchanged, the capture equals it, everyone exits 0', async () => {
    const out = join(dir, 'out.bin');
    const capture = join(dir, 'capture.bin');
    const relay = `${node} ${cli} relay --timeout 20 --capture ${JSON.stringify(capture)} --exec ${JSON.stringify(receiveCommand(out))}`;
    const run = await runCli(['send', input, '--exec', relay, '--timeout', '20']);
    expect(run.stderr).toMatch(/relayed \d+ stream bytes \(valid\), go forwarded, the destination reports its copy runs; capture in/);
    expect(run.code).toBe(0);
    expect((await readFile(out)).equals(stream)).toBe(true);
    expect((await readFile(capture)).equals(stream)).toBe(true);
  });

  it('the test-only fault: the relay refuses with rule and offset, the sender resumes, nothing is kept anywhere', async () => {
    const out = join(dir, 'out.bin');
    const capture = join(dir, 'capture.bin');
    const relay = `${node} ${cli} relay --timeout 20 --fault-corrupt-page-header 50000 --capture ${JSON.stringify(capture)} --exec ${JSON.stringify(receiveCommand(out))}`;
    const run = await runCli(['send', input, '--exec', relay, '--timeout', '20']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/relay failed in STREAMING \(final state REFUSED\): refused the stream: RECORD-LENGTH-MAX at offset \d+/);
    expect(run.stderr).toMatch(/the destination was not told to go/);
    expect(run.stderr).toMatch(/send failed in (STREAMING|AWAIT_READY) \(final state RESUMED\)/);
    expect(await readdir(dir)).toEqual(['in.bin']);
  });

  it('over TCP with a token: send --connect → relay --listen --connect → receive --listen', async () => {
    const token = join(dir, 'token');
    await writeFile(token, 'shared secret\n');
    await chmod(token, 0o600);
    const out = join(dir, 'out.bin');
    const receiver = await startListening(['receive', '-o', out, '--listen', '0', '--token-file', token, '--timeout', '20']);
    const relay = await startListening(['relay', '--listen', '0', '--connect', `127.0.0.1:${receiver.port}`, '--token-file', token, '--timeout', '20']);
    const sent = await runCli(['send', input, '--connect', `127.0.0.1:${relay.port}`, '--token-file', token, '--timeout', '20']);
    const [relayed, received] = await Promise.all([relay.done, receiver.done]);
    expect(sent.code).toBe(0);
    expect(relayed.stderr).toMatch(/go forwarded/);
    expect(relayed.code).toBe(0);
    expect(received.code).toBe(0);
    expect((await readFile(out)).equals(stream)).toBe(true);
  });

  it('--listen with the destination on stdin/stdout (a receiver piped to the relay through a fifo)', async () => {
    const out = join(dir, 'out.bin');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const pipeline = `${receiveCommand(out)} < ${JSON.stringify(fifo)} | ${node} ${cli} relay --listen 0 --timeout 20 > ${JSON.stringify(fifo)}`;
    const relay = spawn('sh', ['-c', pipeline], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    const port = await new Promise<string>((resolve, reject) => {
      relay.stderr.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /listening on \S+:(\d+)/.exec(text);
        if (match !== null) resolve(match[1]);
      });
      relay.once('close', () => reject(new Error(`relay exited before listening: ${text}`)));
    });
    const sent = await runCli(['send', input, '--connect', `127.0.0.1:${port}`, '--timeout', '20']);
    const code = await new Promise<number | null>((resolve) => (relay.exitCode !== null ? resolve(relay.exitCode) : relay.once('close', resolve)));
    expect(sent.code).toBe(0);
    expect(text).toMatch(/go forwarded/);
    expect(code).toBe(0);
    expect((await readFile(out)).equals(stream)).toBe(true);
  });

  it('--listen beyond loopback without a token warns that anyone can send through the relay', async () => {
    const run = await runCli(['relay', '--listen', '0.0.0.0:0', '--exec', 'true', '--timeout', '1']);
    expect(run.stderr).toMatch(/warning: listening on 0\.0\.0\.0, reachable from other hosts: anyone who connects can send a stream through this relay/);
    expect(run.stderr).toMatch(/relay failed before forwarding anything: no sender completed the handshake/);
    expect(run.code).toBe(1);
  });

  it('usage: a destination is required, only one, and --token-file needs a TCP end', async () => {
    const none = await runCli(['relay']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/relay needs a destination/);
    const two = await runCli(['relay', '--exec', 'true', '--connect', '127.0.0.1:1']);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/one destination/);
    const token = await runCli(['relay', '--exec', 'true', '--token-file', 'x']);
    expect(token.code).toBe(2);
    expect(token.stderr).toMatch(/--token-file is for the TCP ends/);
  });
});
