import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GO } from '../src/session/fixed-messages.js';
import { pushDecoderTrackerFactory } from '../src/session/push-decoder-tracker.js';
import { PageHeaderFault } from '../src/session/relay-fault.js';
import { XlMigrationRelay, type RelayFault, type RelayResult } from '../src/session/relay.js';
import { XlMigrationReceiver, type ReceiverResult } from '../src/session/xl-receiver.js';
import { XlMigrationSender, type SenderResult } from '../src/session/xl-sender.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth } from '../src/writer/synth.js';
import { TEST_TIMEOUTS } from './support/session-harness.js';
import { concat, createLink, type Link, type LinkFault } from './support/session-link.js';
import { exampleXlSave } from './support/session-streams.js';

/** A real sender ⇄ the relay ⇄ a real receiver (the project's reader as its validator), in process. */
let stream: Uint8Array = new Uint8Array(0);
let dir = '';
beforeAll(async () => {
  const sink = new MemorySink({ copy: true });
  await synth(sink, { kind: 'pv', pages: 96, batch: 8, xl: true, seed: 7 });
  stream = sink.bytes();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-relay-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Trio {
  sender: SenderResult;
  relay: RelayResult;
  receiver: ReceiverResult;
  /** What the relay passed to the destination. */
  toDestination: Uint8Array;
  received?: Uint8Array | undefined;
  captured?: Uint8Array | undefined;
  files: string[];
}

async function* chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function runTrio(
  options: { bytes?: Uint8Array; fault?: RelayFault; strict?: boolean; startFails?: boolean; chunk?: number; destinationLink?: LinkFault } = {},
): Promise<Trio> {
  const bytes = options.bytes ?? stream;
  const toSender: Link = createLink();
  const toReceiver: Link = createLink(options.destinationLink);
  const receiverPath = join(dir, 'received.bin');
  const capturePath = join(dir, 'capture.bin');
  const receiver = new XlMigrationReceiver({
    transport: toReceiver.receiver,
    outputPath: receiverPath,
    trackerFactory: pushDecoderTrackerFactory(),
    timeouts: TEST_TIMEOUTS,
    ...(options.startFails === true
      ? {
          onStart: () => {
            throw new Error('cannot unpause');
          },
        }
      : {}),
  }).run();
  const relay = new XlMigrationRelay({
    source: toSender.receiver,
    destination: toReceiver.sender,
    capturePath,
    timeouts: TEST_TIMEOUTS,
    strict: options.strict ?? false,
    ...(options.fault === undefined ? {} : { fault: options.fault }),
  }).run();
  const sender = new XlMigrationSender({ transport: toSender.sender, stream: chunked(bytes, options.chunk ?? 4096), timeouts: TEST_TIMEOUTS }).run();
  const [s, r, d] = await Promise.all([sender, relay, receiver]);
  const read = (path: string) =>
    readFile(path).then(
      (b) => new Uint8Array(b),
      () => undefined,
    );
  return {
    sender: s,
    relay: r,
    receiver: d,
    toDestination: concat(toReceiver.captured.s2r),
    received: await read(receiverPath),
    captured: await read(capturePath),
    files: await readdir(dir),
  };
}

/** Byte equality without vitest's element-by-element diff (slow on large arrays). */
function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function endsWith(bytes: Uint8Array, tail: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(bytes.length - tail.length)).equals(Buffer.from(tail));
}

describe('stream-migrate relay (in process)', () => {
  it('a valid stream goes through: both ends complete, go reaches the destination last, the capture equals the stream', async () => {
    const run = await runTrio();
    expect(run.sender.error).toBeUndefined();
    expect(run.relay.error).toBeUndefined();
    expect(run.sender.state).toBe('DONE_OK');
    expect(run.receiver.state).toBe('DONE');
    expect(run.relay).toMatchObject({ ok: true, state: 'DONE', goForwarded: true, reportStatus: 0, streamBytes: stream.length });
    expect(same(run.toDestination, concat([stream, GO.bytes]))).toBe(true);
    expect(same(run.received, stream)).toBe(true);
    expect(same(run.captured, stream)).toBe(true);
    expect(run.files.sort()).toEqual(['capture.bin', 'received.bin']);
  });

  it('works with one-byte chunks from the sender (go split from the END inside the relay)', async () => {
    const small = exampleXlSave();
    const run = await runTrio({ bytes: small, chunk: 1 });
    expect(run.relay.ok).toBe(true);
    expect(same(run.toDestination, concat([small, GO.bytes]))).toBe(true);
  });

  it('a damaged PAGE_DATA header is refused with its rule and offset; go never reaches the destination; the source resumes', async () => {
    const fault = new PageHeaderFault(4096);
    const run = await runTrio({ fault });
    expect(fault.hasFired).toBe(true);
    expect(run.relay.state).toBe('REFUSED');
    expect(run.relay.failedIn).toBe('STREAMING');
    expect(run.relay.refusal?.ruleId).toBe('RECORD-LENGTH-MAX');
    expect(run.relay.refusal?.offset).toBeGreaterThanOrEqual(4096);
    expect(run.relay.error?.message).toMatch(/refused the stream: RECORD-LENGTH-MAX at offset \d+ .*not told to go/);
    expect(run.relay.goForwarded).toBe(false);
    expect(run.sender.state).toBe('RESUMED');
    expect(run.receiver.state).toBe('DESTROYED');
    expect(run.receiver.failedIn).toBe('RECEIVING');
    // Not a byte of the damaged chunk went on, nor anything after it.
    expect(run.toDestination.length).toBeLessThan(run.relay.refusal?.offset ?? 0);
    expect(Buffer.from(stream.subarray(0, run.toDestination.length)).equals(Buffer.from(run.toDestination))).toBe(true);
    expect(run.files).toEqual([]);
  });

  it('an invalid byte in the last record is refused before go: the destination never starts', async () => {
    // Turn the final libxl END into an unknown mandatory record: found only when the stream's last bytes arrive.
    const bad = stream.slice();
    bad[bad.length - 8] = 0x7f;
    const run = await runTrio({ bytes: bad });
    expect(run.relay.state).toBe('REFUSED');
    expect(run.relay.goForwarded).toBe(false);
    expect(endsWith(run.toDestination, GO.bytes)).toBe(false);
    expect(run.receiver.history).not.toContain('STARTING');
    expect(run.sender.state).toBe('RESUMED');
    expect(run.files).toEqual([]);
  });

  it('the destination dies mid-stream: the relay fails, closes the sender (which resumes) and keeps no capture', async () => {
    const run = await runTrio({ destinationLink: { kind: 'reset', direction: 's2r', offset: 50_000 } });
    expect(run.relay.state).toBe('FAILED');
    expect(run.relay.failedIn).toBe('STREAMING');
    expect(run.relay.refusal).toBeUndefined();
    expect(run.relay.goForwarded).toBe(false);
    expect(run.sender.state).toBe('RESUMED');
    expect(run.receiver.state).toBe('DESTROYED');
    expect(run.files).toEqual([]);
  });

  it('a failed start at the destination passes through: report status and permission reach the sender, which resumes', async () => {
    const run = await runTrio({ startFails: true });
    expect(run.relay.goForwarded).toBe(true);
    expect(run.relay.ok).toBe(false);
    expect(run.relay.reportStatus).toBe(3);
    expect(run.relay.error?.kind).toBe('remote-failure');
    expect(run.sender.state).toBe('RESUMED');
    expect(run.receiver.state).toBe('PERMISSION_SENT');
    // The stream was valid: its capture is kept.
    expect(same(run.captured, stream)).toBe(true);
  });
});
