import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pushDecoderTrackerFactory } from '../src/session/push-decoder-tracker.js';
import { XlMigrationReceiver } from '../src/session/xl-receiver.js';
import { XlMigrationSender } from '../src/session/xl-sender.js';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPair, TEST_TIMEOUTS } from './support/session-harness.js';
import { createLink } from './support/session-link.js';
import { EXAMPLE_LIBXL_OFFSET, exampleXlSave, postcopyStream, remusStream } from './support/session-streams.js';

/** Loopback runs validated by the project's real streaming reader (src/reader/push-decoder.ts). */
const trackerFactory = pushDecoderTrackerFactory();
/** Tracked in the repository (fixtures/xen-4.17), so this runs in every clone. */
const HVM_FIXTURE = fileURLToPath(new URL('../fixtures/xen-4.17/hvm128-save.bin.gz', import.meta.url));

describe('send → receive with the real PushDecoder', () => {
  it('plain: spec/FORMAT.md §11 example arrives byte-identical (SHA-256 as documented)', async () => {
    const bytes = exampleXlSave();
    const run = await runPair({ variant: 'plain', bytes, trackerFactory, chunkSize: 7 });
    expect(run.sender.state).toBe('DONE_OK');
    expect(run.receiver.state).toBe('DONE');
    expect(run.finalBytes).toEqual(bytes);
    expect(
      createHash('sha256')
        .update(run.finalBytes ?? new Uint8Array())
        .digest('hex'),
    ).toBe('5d5ab05ba33ade4baee3ebe609d3d7f789a3776e5841351d99a2845dbc52be8b');
  });

  it('remus: ends by failover after the last complete checkpoint', async () => {
    const { bytes } = remusStream(3);
    const run = await runPair({ variant: 'remus', bytes, trackerFactory, senderSeesReceiverVerdict: true });
    expect(run.receiver.state).toBe('DONE');
    expect(run.receiver.streamEnd).toMatchObject({ complete: false, failover: true });
    expect(run.sender.state).toBe('DONE_OK');
    expect(run.finalBytes).toEqual(bytes);
  });

  it('colo: ends by failover after the last CHECKPOINT_STATE', async () => {
    const { bytes } = remusStream(2, true);
    const run = await runPair({ variant: 'colo', bytes, trackerFactory, senderSeesReceiverVerdict: true });
    expect(run.receiver.state).toBe('DONE');
    expect(run.finalBytes).toEqual(bytes);
  });

  it('postcopy (RFC dialect): byte-identical, sync received', async () => {
    const bytes = postcopyStream();
    const run = await runPair({ variant: 'postcopy', bytes, trackerFactory });
    expect(run.sender.state).toBe('DONE_OK');
    expect(run.receiver.state).toBe('DONE');
    expect(run.finalBytes).toEqual(bytes);
  });

  it('a corrupted stream byte is caught by the reader: no file, both sides in their failure state', async () => {
    const run = await runPair({
      variant: 'plain',
      bytes: exampleXlSave(),
      trackerFactory,
      fault: { kind: 'corrupt', direction: 's2r', offset: EXAMPLE_LIBXL_OFFSET + 1 },
    });
    expect(run.receiver.state).toBe('DESTROYED');
    expect(run.receiver.error?.kind).toBe('bad-stream');
    expect(run.receiver.error?.actual).toMatch(/\S/); // the reader's rule id
    expect(run.sender.state).toBe('RESUMED');
    expect(run.finalBytes).toBeUndefined();
    expect(run.leftovers).toEqual([]);
  });

  it('a remus stream cut before its first complete checkpoint is rejected by the reader', async () => {
    const { bytes, checkpointEnds } = remusStream(2);
    const run = await runPair({
      variant: 'remus',
      bytes,
      trackerFactory,
      senderSeesReceiverVerdict: true,
      fault: { kind: 'end', direction: 's2r', offset: checkpointEnds[0] - 16 },
    });
    expect(run.receiver.state).toBe('DESTROYED');
    expect(run.sender.state).toBe('RESUMED');
    expect(run.finalBytes).toBeUndefined();
  });

  it('a real Xen 4.17 HVM save (136 MiB) migrates byte-identical', async () => {
    const fixture = HVM_FIXTURE;
    const dir = await mkdtemp(join(tmpdir(), 'session-real-'));
    const finalPath = join(dir, 'hvm.bin');
    const link = createLink();
    const receiver = new XlMigrationReceiver({
      transport: link.receiver,
      outputPath: finalPath,
      trackerFactory,
      timeouts: { ...TEST_TIMEOUTS, idleMs: 10_000 },
    });
    const sender = new XlMigrationSender({
      transport: link.sender,
      stream: Readable.from(createReadStream(fixture).pipe(createGunzip())),
      timeouts: { ...TEST_TIMEOUTS, messageMs: 10_000 },
    });
    const [s, r] = await Promise.all([sender.run(), receiver.run()]);
    expect(s.error?.message).toBeUndefined();
    expect(r.error?.message).toBeUndefined();
    expect(r.bytesReceived).toBe(142586567);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(finalPath)) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe('49af437ac8935213faca6e3795380de2078a90a6f5b42f54eacdc1ae4676662f');
    expect(await readdir(dir)).toEqual(['hvm.bin']);
    await rm(dir, { recursive: true, force: true });
  }, 300_000); // 136 MiB through both ends, the reader and a file: minutes on a loaded 2-core machine
});
