/**
 * The receiver's capture (src/session/capture-file.ts over src/io/atomic-output.ts),
 * through the built stream-migrate: issue #17 item 1 (a committed capture is kept
 * when the report cannot be written), item 2 (a second receiver with the same -o
 * is refused and never removes the first one's file) and item 5 (a signal while
 * receiving leaves no .incoming file).
 */
import { mkdtemp, readdir, readFile, rm, rename, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AtomicOutput } from '../src/io/atomic-output.js';
import { BANNER, GO, READY } from '../src/session/fixed-messages.js';
import { ensureBuilt, finished, spawnCli } from './support/session-cli.js';
import { exampleXlSave } from './support/session-streams.js';

let dir = '';
beforeAll(() => ensureBuilt(), 120_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-outputs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HANDSHAKE = BANNER.bytes.length + READY.bytes.length;

/** Resolve once `child`'s stdout has produced `n` bytes. */
function stdoutBytes(child: ReturnType<typeof spawnCli>, n: number): Promise<void> {
  let got = 0;
  return new Promise((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= n) resolve();
    });
  });
}

async function waitFor(predicate: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await predicate()); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('stream-migrate receive: the capture', () => {
  it('item 1: after go, a report that cannot be written keeps the committed capture, exit non-zero', async () => {
    const out = join(dir, 'guest.bin');
    const receiver = spawnCli(['receive', '-o', out, '--timeout', '10']);
    const done = finished(receiver);
    const ready = stdoutBytes(receiver, HANDSHAKE);
    receiver.stdin.write(exampleXlSave());
    await ready;
    // The sender goes away: it closes the receiver's stdout, then sends go and closes stdin.
    receiver.stdout.destroy();
    receiver.stdin.end(GO.bytes);
    const run = await done;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`kept in ${out}`);
    expect(new Uint8Array(await readFile(out))).toEqual(exampleXlSave());
    expect((await readdir(dir)).sort()).toEqual(['guest.bin']);
  });

  it("item 2: a second receiver with the same -o is refused and leaves the first one's capture alone", async () => {
    const out = join(dir, 'guest.bin');
    const stream = exampleXlSave();
    const first = spawnCli(['receive', '-o', out, '--timeout', '10']);
    const firstDone = finished(first);
    first.stdin.write(stream.subarray(0, 100)); // holds the target while receiving
    await waitFor(async () => (await readdir(dir)).some((f) => f.endsWith('.incoming')));

    const second = spawnCli(['receive', '-o', out, '--timeout', '10']);
    second.stdout.resume();
    second.stdin.end(stream);
    const secondRun = await finished(second);
    expect(secondRun.code).toBe(1);
    expect(secondRun.stderr).toMatch(/being written by another process/);
    expect((await readdir(dir)).some((f) => f.endsWith('.incoming'))).toBe(true);

    const firstReady = stdoutBytes(first, HANDSHAKE);
    first.stdin.write(stream.subarray(100));
    await firstReady;
    first.stdin.end(GO.bytes);
    const firstRun = await firstDone;
    expect(firstRun.code).toBe(0);
    expect(new Uint8Array(await readFile(out))).toEqual(stream);
    expect((await readdir(dir)).sort()).toEqual(['guest.bin']);
  });

  it('item 5: SIGTERM while receiving removes the .incoming file and the lock, exit 143', async () => {
    const out = join(dir, 'guest.bin');
    const receiver = spawnCli(['receive', '-o', out, '--timeout', '10']);
    receiver.stdout.resume();
    const done = finished(receiver);
    receiver.stdin.write(exampleXlSave().subarray(0, 100));
    await waitFor(async () => (await readdir(dir)).some((f) => f.endsWith('.incoming')));
    receiver.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(128 + constants.signals.SIGTERM);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('AtomicOutput never removes a path whose inode is not its own', () => {
  it('discard leaves a file someone else put at the temporary name', async () => {
    const out = join(dir, 'x.bin');
    const output = await AtomicOutput.open(out);
    const temp = output.tempPath as string;
    await writeFile(join(dir, 'theirs'), 'not ours');
    await rename(join(dir, 'theirs'), temp);
    await output.discard();
    expect(await readFile(temp, 'utf8')).toBe('not ours');
  });

  it('a committed output survives a later discard', async () => {
    const out = join(dir, 'y.bin');
    const output = await AtomicOutput.open(out);
    await output.write([new Uint8Array([7])]);
    await output.commit();
    await output.discard();
    expect([...(await readFile(out))]).toEqual([7]);
  });
});
