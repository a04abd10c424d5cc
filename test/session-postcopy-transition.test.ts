import { beforeAll, describe, expect, it } from 'vitest';
import { PostcopyTransitionWatch } from '../src/session/postcopy-transition.js';
import { pushDecoderTrackerFactory } from '../src/session/push-decoder-tracker.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth } from '../src/writer/synth.js';
import { runPair } from './support/session-harness.js';
import { postcopyStream } from './support/session-streams.js';

/**
 * Postcopy (seed 004): the sender notes when POSTCOPY_TRANSITION_END went out.
 * A receiver cut before it lets the source resume; cut after it, the guest may
 * be running at the destination, so the source ends renamed and not resumed.
 */
function transitionEndOf(bytes: Uint8Array): number {
  const watch = new PostcopyTransitionWatch();
  for (let offset = 0; offset < bytes.length && watch.transitionEnd === undefined; offset += 4096) watch.completes(bytes.subarray(offset, offset + 4096));
  if (watch.transitionEnd === undefined) throw new Error('no POSTCOPY_TRANSITION_END in the test stream');
  return watch.transitionEnd;
}

let synthesized: Uint8Array = new Uint8Array(0);
beforeAll(async () => {
  const sink = new MemorySink({ copy: true });
  await synth(sink, { kind: 'hvm', pages: 256, batch: 32, postcopy: true, xl: true, seed: 5 });
  synthesized = sink.bytes();
});

describe('postcopy transition tracking', () => {
  it('finds the end of POSTCOPY_TRANSITION_END in the bytes handed out (the hand-made RFC stream)', () => {
    const bytes = postcopyStream();
    // ⟨EMULATOR_CONTEXT, POSTCOPY_TRANSITION_END⟩ then one POSTCOPY_PAGE_DATA (4120 bytes) and two ENDs.
    expect(transitionEndOf(bytes)).toBe(bytes.length - 4120 - 16);
  });

  const streams = [
    { name: 'hand-made RFC stream', bytes: () => postcopyStream() },
    { name: 'synthesized HVM postcopy stream', bytes: () => synthesized },
  ];
  describe.each(streams)('$name', ({ bytes }) => {
    // Margins of a few hundred bytes: the sender hands out 64-byte chunks, one write in flight.
    const cuts = [
      { where: 'in the xl header', at: () => 20, sender: 'RESUMED', failedIn: 'STREAMING' },
      { where: 'in the precopy pages', at: () => 4000, sender: 'RESUMED', failedIn: 'STREAMING' },
      { where: 'just before the transition', at: (b: Uint8Array) => transitionEndOf(b) - 400, sender: 'RESUMED', failedIn: 'STREAMING' },
      {
        where: 'just after the transition',
        at: (b: Uint8Array) => transitionEndOf(b) + 200,
        sender: 'POSTCOPY_INCONSISTENT',
        failedIn: 'POSTCOPY_TRANSITIONED',
      },
      {
        where: 'near the end of the postcopy pages',
        at: (b: Uint8Array) => b.length - 100,
        sender: 'POSTCOPY_INCONSISTENT',
        failedIn: 'POSTCOPY_TRANSITIONED',
      },
    ] as const;
    it.each(cuts)('receiver cut $where → sender $sender', async ({ at, sender, failedIn }) => {
      const stream = bytes();
      const run = await runPair({
        variant: 'postcopy',
        bytes: stream,
        trackerFactory: pushDecoderTrackerFactory(),
        fault: { kind: 'reset', direction: 's2r', offset: at(stream) },
      });
      expect(run.sender.state, run.sender.error?.message).toBe(sender);
      expect(run.sender.failedIn).toBe(failedIn);
      expect(run.sender.history.includes('POSTCOPY_TRANSITIONED')).toBe(sender === 'POSTCOPY_INCONSISTENT');
      expect(run.sender.history).not.toContain(sender === 'RESUMED' ? 'POSTCOPY_INCONSISTENT' : 'RESUMED');
      expect(run.receiver.state).toBe('DESTROYED');
    });
  });

  it('a whole postcopy migration passes through POSTCOPY_TRANSITIONED', async () => {
    const run = await runPair({ variant: 'postcopy', bytes: synthesized, chunkSize: 4096, trackerFactory: pushDecoderTrackerFactory() });
    expect(run.sender.history).toEqual(['PREAMBLE', 'STREAMING', 'POSTCOPY_TRANSITIONED', 'AWAIT_SYNC', 'DONE_OK']);
    expect(run.finalBytes !== undefined && Buffer.from(run.finalBytes).equals(synthesized)).toBe(true);
  });
});
