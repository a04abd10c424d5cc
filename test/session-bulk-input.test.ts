import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PushDecoder } from '../src/reader/push-decoder.js';
import { bulkReadingSocket } from '../src/session/bulk-read-socket.js';
import { ByteRing } from '../src/session/byte-ring.js';
import { CaptureFile } from '../src/session/capture-file.js';
import { InputChannel } from '../src/session/input-channel.js';
import { pushDecoderTrackerFactory } from '../src/session/push-decoder-tracker.js';
import { captureStream } from '../src/session/stream-capture.js';
import { concat, hvmLibxc, libxlHeader, plainPv, rec, xenstoreData, xlHeader } from './support/build.js';

/** The receiver's input in bulk: one recycled ring, reads straight into it, nothing kept past its use (issue #15). */
let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-bulk-input-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytesOf = (view: Uint8Array): number[] => [...view];

describe('ByteRing', () => {
  /** Read `bytes` into the ring as a socket read would: into its free space, then commit. */
  function readInto(ring: ByteRing, bytes: number[], minimum = 1): Uint8Array {
    const space = ring.space(minimum);
    if (space === undefined) throw new Error('no space');
    space.set(bytes);
    return ring.commit(space, bytes.length);
  }

  it('reads in order, wraps around the end, and reuses only what was released', () => {
    const ring = new ByteRing(16);
    const a = readInto(ring, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ring.free).toBe(6);
    const b = readInto(ring, [11, 12, 13, 14, 15, 16]);
    expect(b.byteOffset - a.byteOffset).toBe(10);
    // Full: no room for a reader until something is released.
    expect(ring.free).toBe(0);
    expect(ring.space(1)).toBeUndefined();
    ring.release(a.subarray(0, 4));
    expect(ring.free).toBe(4);
    // The next read wraps to the start, and the bytes 5..16 are still intact.
    const c = readInto(ring, [17, 18, 19, 20]);
    expect(c.byteOffset).toBe(a.byteOffset);
    expect(bytesOf(a.subarray(4))).toEqual([5, 6, 7, 8, 9, 10]);
    expect(bytesOf(b)).toEqual([11, 12, 13, 14, 15, 16]);
    // Releasing a later view frees everything before it too; a view of other memory is ignored.
    ring.release(c);
    expect(ring.free).toBe(16);
    ring.release(new Uint8Array(4));
    expect(ring.free).toBe(16);
  });

  it('gives a reader the free space in one piece, skipping a sliver at the end', () => {
    const ring = new ByteRing(16);
    const a = readInto(ring, new Array<number>(13).fill(0));
    ring.release(a);
    // 3 bytes left at the end are too few: the space starts at 0.
    const space = ring.space(8);
    expect(space?.byteOffset).toBe(ring.space(8)?.byteOffset);
    expect(space?.length).toBe(13);
    if (space === undefined) throw new Error('no space');
    space.set([7, 7, 7]);
    const view = ring.commit(space, 3);
    expect(bytesOf(view)).toEqual([7, 7, 7]);
    expect(ring.free).toBe(10);
    expect(ring.space(11)).toBeUndefined();
    ring.release(view);
    expect(ring.free).toBe(16);
  });
});

describe('PushDecoder keeps nothing of a pushed chunk', () => {
  it('decodes a stream whose every chunk is overwritten right after its push', () => {
    const stream = plainPv([Array.from({ length: 300 }, (_, i) => i), [5, 6, 7]]);
    const reference = new PushDecoder({ stopAtEnd: true, pageContents: 'skip' });
    const expected = reference.push(stream).map((item) => `${item.kind}@${item.offset}+${item.length}`);
    for (const size of [7, 8, 100, 4095, 4096, 4104, 65536]) {
      const decoder = new PushDecoder({ stopAtEnd: true, pageContents: 'skip' });
      const seen: string[] = [];
      for (let at = 0; at < stream.length; at += size) {
        // A Buffer, as the receiver's ring hands out (whose slice() is a view, not a copy).
        const chunk = Buffer.from(stream.subarray(at, at + size));
        for (const item of decoder.push(chunk)) seen.push(`${item.kind}@${item.offset}+${item.length}`);
        // The caller reuses the memory (a recycled ring): a kept view would now read garbage.
        chunk.fill(0xa5);
      }
      expect(decoder.done).toBe(true);
      expect(decoder.end().complete).toBe(true);
      expect(seen).toEqual(expected);
    }
  });
});

describe('PushDecoder keeps nothing of a pushed chunk, also when the stream is cut', () => {
  it('a stream cut inside a page record whose pages were passing gets the same verdict from recycled Buffer chunks', () => {
    const stream = plainPv([Array.from({ length: 300 }, (_, i) => i), [5, 6, 7]]);
    const cut = stream.subarray(0, Math.floor(stream.length / 2));
    const verdict = (chunkBytes: number, recycle: boolean): string => {
      const decoder = new PushDecoder({ stopAtEnd: true, pageContents: 'skip' });
      // One Buffer reused for every chunk, as the receiver's ring reuses its memory (Buffer.slice() would be a view of it).
      const memory = Buffer.alloc(chunkBytes);
      for (let at = 0; at < cut.length; at += chunkBytes) {
        const part = cut.subarray(at, at + chunkBytes);
        const chunk = recycle ? memory.subarray(0, part.length) : Buffer.from(part);
        chunk.set(part);
        decoder.push(chunk);
        if (recycle) memory.fill(0xa5);
      }
      try {
        decoder.end();
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    };
    const expected = verdict(cut.length, false);
    expect(expected).toMatch(/STREAM-TRUNCATED|ends inside/);
    for (const size of [7, 4096, 65536]) expect(verdict(size, true), `chunks of ${size}`).toBe(expected);
  });
});

/** An HVM stream whose EMULATOR_CONTEXT blob is 1 MiB + 3 bytes: larger than the ring, and padded. */
function bigEmulatorStream(): Uint8Array {
  const blob = new Uint8Array((1 << 20) + 3);
  for (let i = 0; i < blob.length; i += 509) blob[i] = i & 0xff;
  const emulator = rec('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId: 2, index: 0, blob });
  return concat([xlHeader(), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), ...hvmLibxc(), xenstoreData(), emulator, rec('libxl', 'END')]);
}

describe('a capture through a bulk-reading socket', () => {
  const streams: Array<[string, () => Uint8Array]> = [
    // About 2.4 MiB of pages through a 256 KiB ring: it wraps, fills and falls back to spare reads.
    ['pages', () => plainPv(Array.from({ length: 4 }, () => Array.from({ length: 150 }, (_, i) => i * 3)))],
    // The blob passes through the ring unassembled, as pages do.
    ['an emulator blob four times the ring', bigEmulatorStream],
  ];
  it.each(streams)('is byte-identical when the stream (%s) passes through a small ring many times over', async (_, make) => {
    const stream = make();
    const path = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = createConnection(path);
    const raw = await accepted;
    raw.pause();
    const socket = bulkReadingSocket(raw, 256 * 1024);
    expect(socket).not.toBe(raw);
    const input = new InputChannel(socket);
    const file = await CaptureFile.create(join(dir, 'out.bin'));
    const tracker = pushDecoderTrackerFactory()('plain');
    const captured = captureStream({ input, tracker, file, state: 'RECEIVING', idleMs: 5000, until: 'end' });
    // Odd-sized writes, so records straddle reads and the ring's end.
    for (let at = 0; at < stream.length; at += 12_345) {
      if (!client.write(stream.slice(at, at + 12_345))) await new Promise((resolve) => client.once('drain', resolve));
    }
    const result = await captured;
    await file.commit();
    expect(result.bytes).toBe(stream.length);
    expect(result.end.complete).toBe(true);
    expect(Buffer.compare(await readFile(join(dir, 'out.bin')), Buffer.from(stream))).toBe(0);
    // What follows the stream (xl's GO) is read as before, after the capture.
    client.write(Buffer.from('go!'));
    expect(Buffer.from((await input.readExact(3, { state: 'AWAIT_GO', timeoutMs: 5000, expected: 'go' })) as Uint8Array).toString()).toBe('go!');
    input.detach();
    client.destroy();
    socket.destroy();
    server.close();
  });
});
