import { describe, expect, it } from 'vitest';
import { BANNER, READY, REPORT, GO, POSTCOPY_SYNC } from '../src/session/fixed-messages.js';
import { encodePostcopyComplete } from '../src/session/xl-receiver.js';
import { ExpectedBytesTracker } from './support/session-fake-tracker.js';
import { runPair } from './support/session-harness.js';
import { concat } from './support/session-link.js';
import { exampleXlSave, postcopyStream, remusStream } from './support/session-streams.js';

describe('xl migrate over an in-process link (fake validator)', () => {
  it('plain: the file arrives byte-identical and the wire carries exactly the fixed messages', async () => {
    const bytes = exampleXlSave();
    const run = await runPair({ variant: 'plain', bytes, trackerFactory: () => new ExpectedBytesTracker(bytes) });
    expect(run.sender.error).toBeUndefined();
    expect(run.receiver.error).toBeUndefined();
    expect(run.sender.state).toBe('DONE_OK');
    expect(run.sender.history).toEqual(['PREAMBLE', 'STREAMING', 'AWAIT_READY', 'RENAMED', 'GO_SENT', 'AWAIT_REPORT', 'DONE_OK']);
    expect(run.receiver.history).toEqual(['BANNER_SENT', 'RECEIVING', 'READY_SENT', 'AWAIT_GO', 'STARTING', 'REPORT_SENT', 'DONE']);
    expect(run.finalBytes).toEqual(bytes);
    expect(run.leftovers).toEqual([]);
    expect(concat(run.link.captured.r2s)).toEqual(concat([BANNER.bytes, READY.bytes, REPORT.bytes, new Uint8Array([0])]));
    expect(concat(run.link.captured.s2r)).toEqual(concat([bytes, GO.bytes]));
  });

  it('plain: works with one-byte chunks (GO split from the stream end inside the receiver)', async () => {
    const bytes = exampleXlSave();
    const run = await runPair({ variant: 'plain', bytes, chunkSize: 1, trackerFactory: () => new ExpectedBytesTracker(bytes) });
    expect(run.sender.ok && run.receiver.ok).toBe(true);
    expect(run.finalBytes).toEqual(bytes);
  });

  it('plain: calls the source-domain actions in protocol order', async () => {
    const bytes = exampleXlSave();
    const calls: string[] = [];
    const run = await runPair({
      variant: 'plain',
      bytes,
      trackerFactory: () => new ExpectedBytesTracker(bytes),
      sender: {
        domain: {
          name: 'guest',
          suspend: () => void calls.push('suspend'),
          rename: (name) => void calls.push(`rename ${name}`),
          resume: () => void calls.push('resume'),
          destroy: () => void calls.push('destroy'),
        },
      },
    });
    expect(run.sender.ok).toBe(true);
    expect(calls).toEqual(['suspend', 'rename guest--migratedaway', 'destroy']);
  });

  it('remus: the stream ends at EOF and the receiver fails over to the last checkpoint', async () => {
    const { bytes, checkpointEnds } = remusStream(3);
    const run = await runPair({
      variant: 'remus',
      bytes,
      trackerFactory: () => new ExpectedBytesTracker(bytes, checkpointEnds),
      senderSeesReceiverVerdict: true,
    });
    expect(run.sender.history).toEqual(['PREAMBLE', 'STREAMING', 'AWAIT_FAILOVER', 'DONE_OK']);
    expect(run.receiver.history).toEqual(['BANNER_SENT', 'RECEIVING', 'DONE']);
    expect(run.receiver.streamEnd).toEqual({ complete: false, failover: true });
    expect(run.finalBytes).toEqual(bytes);
    expect(concat(run.link.captured.r2s)).toEqual(BANNER.bytes);
  });

  it('postcopy (RFC): back channel COMPLETE then the 42-byte sync; no ready/go/report', async () => {
    const bytes = postcopyStream();
    const run = await runPair({ variant: 'postcopy', bytes, trackerFactory: () => new ExpectedBytesTracker(bytes) });
    expect(run.sender.history).toEqual(['PREAMBLE', 'STREAMING', 'POSTCOPY_TRANSITIONED', 'AWAIT_SYNC', 'DONE_OK']);
    expect(run.receiver.history).toEqual(['BANNER_SENT', 'RECEIVING', 'SYNC_SENT', 'DONE']);
    expect(run.sender.backChannel).toEqual({ faults: 0, complete: true, bytes: 8 });
    expect(run.finalBytes).toEqual(bytes);
    expect(concat(run.link.captured.r2s)).toEqual(concat([BANNER.bytes, encodePostcopyComplete(), POSTCOPY_SYNC.bytes]));
  });
});
