import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BANNER, GO, READY, REPORT } from '../src/session/fixed-messages.js';
import { CaptureFile } from '../src/session/capture-file.js';
import { InputChannel } from '../src/session/input-channel.js';
import { readFileRecycled } from '../src/session/send-input.js';
import { captureStream } from '../src/session/stream-capture.js';
import type { StreamTracker } from '../src/session/stream-tracker.js';
import { XlMigrationSender } from '../src/session/xl-sender.js';
import { exampleXlSave } from './support/session-streams.js';

/** How the session moves stream bytes: no copies, few large writes, recycled read buffers. */
let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-data-path-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const context = { state: 'RECEIVING', timeoutMs: 5000, expected: 'data' };

/** Accepts everything; the stream ends at EOF. */
const acceptAll = (): StreamTracker => ({
  push: () => undefined,
  done: false,
  trailing: () => new Uint8Array(0),
  end: () => ({ complete: true, failover: false }),
});

function patterned(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

describe('receiver data path', () => {
  it('readSome hands out views of the transport chunks, not copies', async () => {
    const source = new PassThrough();
    const input = new InputChannel(source);
    const sent = patterned(65536, 1);
    source.write(sent);
    const got = await input.readSome(context);
    expect(got?.buffer).toBe(sent.buffer);
    expect(got?.byteOffset).toBe(sent.byteOffset);
    input.detach();
  });

  it('64 KiB chunks reach the capture file in a few vectored writes of several MiB, byte-identical', async () => {
    const source = new PassThrough({ highWaterMark: 65536 });
    const input = new InputChannel(source);
    const file = await CaptureFile.create(join(dir, 'out.bin'));
    const writes = vi.spyOn(file, 'write');
    const chunks = Array.from({ length: 256 }, (_, i) => patterned(65536, i)); // 16 MiB
    const captured = captureStream({ input, tracker: acceptAll(), file, state: 'RECEIVING', idleMs: 5000, until: 'eof' });
    for (const chunk of chunks) if (!source.write(chunk)) await new Promise((resolve) => source.once('drain', resolve));
    source.end();
    const result = await captured;
    await file.commit();
    expect(result.bytes).toBe(16 * 1024 * 1024);
    // One write per incoming chunk was 256 here.
    expect(writes.mock.calls.length).toBeLessThanOrEqual(5);
    expect(Buffer.compare(await readFile(join(dir, 'out.bin')), Buffer.concat(chunks))).toBe(0);
  });
});

describe('sender data path', () => {
  it('readFileRecycled reads the file through two buffers, in large reads', async () => {
    const path = join(dir, 'in.bin');
    const bytes = patterned(10 * 1024 * 1024 + 123, 7);
    await writeFile(path, bytes);
    const handle = await open(path);
    const seen = new Set<ArrayBufferLike>();
    let reads = 0;
    for await (const chunk of readFileRecycled(handle, 4 * 1024 * 1024)) {
      seen.add(chunk.buffer);
      reads++;
    }
    await handle.close();
    expect(reads).toBe(3);
    expect(seen.size).toBe(2);
  });

  it('the sender never lets the producer overwrite a chunk still being written (recycled buffers arrive intact)', async () => {
    const path = join(dir, 'in.bin');
    // A bare libxl stream start is enough for the sender: it only frames the xl header.
    const bytes = patterned(3 * 1024 * 1024 + 17, 3);
    bytes.write('LibxlFmt', 0, 'latin1');
    await writeFile(path, bytes);
    const handle = await open(path);
    const fromReceiver = new PassThrough();
    const received: Buffer[] = [];
    let total = 0;
    let answered = false;
    // Like a socket: a written chunk is referenced, not copied, until the transport takes it (a little later).
    const toReceiver = new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => {
          received.push(Buffer.from(chunk));
          total += chunk.length;
          if (total >= bytes.length && !answered) {
            answered = true;
            fromReceiver.write(READY.bytes);
          }
          if (total >= bytes.length + GO.bytes.length) fromReceiver.write(Buffer.concat([REPORT.bytes, Buffer.from([0])]));
          callback();
        }, 20);
      },
    });
    fromReceiver.write(BANNER.bytes);
    const sender = new XlMigrationSender({
      transport: { input: fromReceiver, output: toReceiver },
      stream: readFileRecycled(handle, 64 * 1024),
      timeouts: { messageMs: 5000, writeMs: 5000, idleMs: 5000 },
    });
    const result = await sender.run();
    await handle.close();
    expect(result.state).toBe('DONE_OK');
    expect(result.bytesSent).toBe(bytes.length);
    expect(Buffer.compare(Buffer.concat(received).subarray(0, bytes.length), bytes)).toBe(0);
  });
});

describe('the sender finds the xl header end with the codec', () => {
  it('a stream whose xl header claims a huge optional_data_len fails in STREAMING with XL-OPTIONAL-DATA-MAX, without reading on', async () => {
    const header = Buffer.from(exampleXlSave().subarray(0, 48));
    header.writeUInt32LE(0x7fffffff, 44);
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield header;
      // Before the fix the sender kept re-joining these, waiting for 2 GiB of header.
      for (;;) {
        pulled += 1;
        yield new Uint8Array(64 * 1024);
      }
    }
    const fromReceiver = new PassThrough();
    const toReceiver = new PassThrough();
    toReceiver.resume();
    fromReceiver.write(BANNER.bytes);
    const sender = new XlMigrationSender({
      transport: { input: fromReceiver, output: toReceiver },
      stream: endless(),
      timeouts: { messageMs: 2000, writeMs: 2000, idleMs: 2000 },
    });
    const result = await sender.run();
    expect(result.failedIn).toBe('STREAMING');
    expect(result.error?.kind).toBe('bad-stream');
    expect(result.error?.actual).toBe('XL-OPTIONAL-DATA-MAX');
    expect(result.error?.message).toMatch(/XL-OPTIONAL-DATA-MAX/);
    expect(result.bytesSent).toBe(0);
    expect(pulled).toBe(0);
  });
});
