import { BatchedCaptureWriter } from './batched-capture-writer.js';
import type { CaptureFile } from './capture-file.js';
import type { InputChannel } from './input-channel.js';
import { ProtocolError } from './protocol-error.js';
import { describeStreamFailure, type StreamEnd, type StreamTracker } from './stream-tracker.js';

export interface CaptureRequest {
  readonly input: InputChannel;
  readonly tracker: StreamTracker;
  readonly file: CaptureFile;
  /** State to blame for failures (RECEIVING for xl, PERFORM3/FINISH3 for v3). */
  readonly state: string;
  readonly idleMs: number;
  /**
   * `end`: stop right after the stream's final END and leave what follows
   * (GO) in `input`. `eof`: read until the peer closes (checkpointed streams,
   * whose end is EOF after a complete checkpoint).
   */
  readonly until: 'end' | 'eof';
}

export interface CaptureResult {
  readonly bytes: number;
  readonly end: StreamEnd;
}

/**
 * Copy the incoming stream into the capture file while validating it. Only
 * the stream's own bytes reach the file; bytes past its END are pushed back.
 */
export async function captureStream(request: CaptureRequest): Promise<CaptureResult> {
  const { input, tracker, file, state, idleMs, until } = request;
  // The chunks are borrowed from the input's recycled memory and handed back once written.
  const writer = new BatchedCaptureWriter(file, undefined, (parts) => input.giveBack(parts[parts.length - 1]));
  let received = 0;
  try {
    for (;;) {
      const chunk = await input.borrowSome({ state, timeoutMs: idleMs, expected: 'migration stream data' });
      if (chunk === null) {
        await writer.flush();
        return { bytes: received, end: judgeEnd(tracker, state, until) };
      }
      // Validate before the bytes are queued for the file: an invalid byte is never written.
      pushOrFail(tracker, chunk, state, received);
      if (until === 'end' && tracker.done) {
        const trailing = tracker.trailing();
        const own = chunk.subarray(0, chunk.length - trailing.length);
        await writer.add(own);
        await writer.flush();
        received += own.length;
        input.unshift(trailing);
        return { bytes: received, end: judgeEnd(tracker, state, until) };
      }
      await writer.add(chunk);
      received += chunk.length;
    }
  } finally {
    // On a failure the caller discards the file: no write of ours may still be running then.
    await writer.settle();
  }
}

function pushOrFail(tracker: StreamTracker, chunk: Uint8Array, state: string, streamOffset: number): void {
  try {
    tracker.push(chunk);
  } catch (error) {
    throw badStream(error, state, streamOffset);
  }
}

function judgeEnd(tracker: StreamTracker, state: string, until: 'end' | 'eof'): StreamEnd {
  let end: StreamEnd;
  try {
    end = tracker.end();
  } catch (error) {
    const info = describeStreamFailure(error);
    throw new ProtocolError(`stream ended before a valid end: ${info.message}`, {
      state,
      kind: until === 'end' ? 'peer-closed' : 'bad-stream',
      expected: until === 'end' ? 'the stream to reach its final END' : 'EOF after a complete checkpoint',
      cause: error,
    });
  }
  const valid = until === 'end' ? end.complete : end.complete || end.failover;
  if (!valid) {
    throw new ProtocolError('stream ended before a valid end', {
      state,
      kind: 'peer-closed',
      expected: until === 'end' ? 'the stream to reach its final END' : 'EOF after a complete checkpoint',
    });
  }
  return end;
}

function badStream(error: unknown, state: string, streamOffset: number): ProtocolError {
  const info = describeStreamFailure(error);
  const where = info.offset !== undefined ? ` at stream offset ${info.offset}` : ` in the chunk at offset ${streamOffset}`;
  return new ProtocolError(`invalid migration stream${where}: ${info.message}`, {
    state,
    kind: 'bad-stream',
    expected: 'a valid migration stream',
    actual: info.ruleId,
    cause: error,
  });
}
