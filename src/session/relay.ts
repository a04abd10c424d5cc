import { PushDecoder } from '../reader/push-decoder.js';
import { BatchedCaptureWriter } from './batched-capture-writer.js';
import { CaptureFile } from './capture-file.js';
import { GO } from './fixed-messages.js';
import { InputChannel } from './input-channel.js';
import { OutputChannel } from './output-channel.js';
import { asProtocolError, describeBytes, ProtocolError } from './protocol-error.js';
import { readerOptionsFor } from './push-decoder-tracker.js';
import { ReceiverMessageWatch } from './relay-receiver-watch.js';
import { describeStreamFailure, type StreamFailureInfo } from './stream-tracker.js';
import { resolveTimeouts, type SessionTimeouts } from './timeouts.js';
import type { Transport } from './transport.js';

/**
 * Where the relay is (spec/PROTOCOLS.md §1.6):
 * - STREAMING: forwarding the stream, each chunk validated before it is passed on
 * - AWAIT_GO: the stream reached a valid END; waiting for the sender's go message
 * - GO_FORWARDED: go was passed on (the destination may start its copy); passing the rest through
 * - DONE: both sides closed
 * - REFUSED: the stream was invalid; both sides were closed before go reached the destination
 * - FAILED: a side failed or went away (no verdict on the stream)
 */
export type RelayState = 'STREAMING' | 'AWAIT_GO' | 'GO_FORWARDED' | 'DONE' | 'REFUSED' | 'FAILED';

/** A test-only hook that may alter the source's bytes before they are validated (see relay-fault.ts). */
export interface RelayFault {
  apply(chunk: Uint8Array): Uint8Array;
}

export interface RelayOptions {
  /** The `xl migrate` side: the stream and go come from it; banner, ready, report and permission go to it. */
  readonly source: Transport;
  /** The `xl migrate-receive` side. */
  readonly destination: Transport;
  /** Add the verifier's rules to the reader's (Xen's C reader's) rules. */
  readonly strict?: boolean;
  /** Tee the stream (xl header + libxl stream, without go) into this file; it appears only once the stream is valid. */
  readonly capturePath?: string;
  readonly timeouts?: Partial<SessionTimeouts>;
  readonly fault?: RelayFault;
  /** Run over the destination's channels before anything is forwarded (e.g. the TCP handshake). */
  readonly beforeForwarding?: (input: InputChannel, output: OutputChannel) => Promise<void>;
}

export interface RelayResult {
  readonly ok: boolean;
  readonly state: RelayState;
  /** State in which a failure or the refusal happened. */
  readonly failedIn?: RelayState | undefined;
  readonly error?: ProtocolError | undefined;
  /** Set when the stream was refused: the reader's rule and the stream offset it names. */
  readonly refusal?: StreamFailureInfo | undefined;
  /** Stream bytes forwarded to the destination (go not included). */
  readonly streamBytes: number;
  readonly goForwarded: boolean;
  /** The destination's report status byte, when one went by (0 = its copy runs). */
  readonly reportStatus?: number | undefined;
  readonly capturePath?: string | undefined;
}

/** setTimeout's largest delay: the destination may stay silent for as long as the stream flows. */
const NO_TIMEOUT_MS = 2_147_483_647;

/**
 * A validating relay between a real `xl migrate` and a real `xl migrate-receive`.
 * Bytes go through as they arrive, in both directions; the one thing held back
 * is the sender's go message, which reaches the destination only after the
 * stream passed the reader's rules up to its END. An invalid stream is cut
 * before go: the destination sees EOF (xl destroys its partial copy) and the
 * sender sees its pipe close (xl resumes the source).
 */
export class XlMigrationRelay {
  private readonly timeouts: SessionTimeouts;
  private readonly sourceIn: InputChannel;
  private readonly sourceOut: OutputChannel;
  private readonly destinationIn: InputChannel;
  private readonly destinationOut: OutputChannel;
  private readonly watch = new ReceiverMessageWatch();
  private state: RelayState = 'STREAMING';
  private streamBytes = 0;
  private goForwarded = false;
  private capture: CaptureFile | undefined;

  constructor(private readonly options: RelayOptions) {
    this.timeouts = resolveTimeouts(options.timeouts);
    this.sourceIn = new InputChannel(options.source.input);
    this.sourceOut = new OutputChannel(options.source.output);
    this.destinationIn = new InputChannel(options.destination.input);
    this.destinationOut = new OutputChannel(options.destination.output);
  }

  async run(): Promise<RelayResult> {
    let back: Promise<void> | undefined;
    try {
      if (this.options.capturePath !== undefined) this.capture = await CaptureFile.create(this.options.capturePath);
      await this.options.beforeForwarding?.(this.destinationIn, this.destinationOut);
      back = this.forwardBack();
      back.catch(() => undefined);
      await this.forwardStream();
      await this.capture?.commit();
      await this.forwardGo();
      await Promise.all([this.forwardRest(), back]);
      this.state = 'DONE';
      return this.result();
    } catch (caught) {
      const failedIn = this.state;
      const refusal = caught instanceof StreamRefusal ? caught.info : undefined;
      const error = caught instanceof StreamRefusal ? caught.error : asProtocolError(caught, failedIn);
      this.state = refusal === undefined ? 'FAILED' : 'REFUSED';
      // The destination first: it must not see one more byte, above all not go.
      this.destinationOut.destroy();
      this.sourceOut.destroy();
      await this.capture?.discard().catch(() => undefined);
      await back?.catch(() => undefined);
      return this.result(failedIn, error, refusal);
    } finally {
      this.sourceIn.detach();
      this.destinationIn.detach();
      await this.capture?.release().catch(() => undefined);
    }
  }

  /** Source → destination until the stream's END: validate each chunk, then pass it on and tee it. */
  private async forwardStream(): Promise<void> {
    const decoder = new PushDecoder({ ...readerOptionsFor('plain', this.options.strict ?? false), pageContents: 'skip' });
    const capture = this.capture === undefined ? undefined : new BatchedCaptureWriter(this.capture);
    const context = { state: 'STREAMING', timeoutMs: this.timeouts.writeMs, what: 'migration stream data' };
    try {
      for (;;) {
        const read = await this.sourceIn.readSome({ state: 'STREAMING', timeoutMs: this.timeouts.idleMs, expected: 'migration stream data' });
        if (read === null) throw new ProtocolError('the sender closed the stream before its END', { state: 'STREAMING', kind: 'peer-closed' });
        const chunk = this.options.fault?.apply(read) ?? read;
        try {
          decoder.push(chunk);
        } catch (error) {
          throw new StreamRefusal(error, this.streamBytes);
        }
        const own = decoder.done ? chunk.subarray(0, chunk.length - decoder.trailing().length) : chunk;
        if (decoder.done) this.sourceIn.unshift(decoder.trailing());
        await this.destinationOut.write(own, context);
        await capture?.add(own);
        this.streamBytes += own.length;
        if (decoder.done) break;
      }
      try {
        if (!decoder.end().complete) throw new Error('the stream did not reach its final END');
      } catch (error) {
        throw new StreamRefusal(error, this.streamBytes);
      }
      await capture?.flush();
    } finally {
      await capture?.settle();
    }
  }

  /** The one message held back: go reaches the destination only after the whole stream was found valid. */
  private async forwardGo(): Promise<void> {
    this.state = 'AWAIT_GO';
    const got = await this.sourceIn.readExact(GO.bytes.length, { state: 'AWAIT_GO', timeoutMs: this.timeouts.messageMs, expected: 'the go message' });
    if (!Buffer.from(got).equals(Buffer.from(GO.bytes))) {
      throw new ProtocolError(`the sender sent ${describeBytes(got)} after the stream's END instead of the go message`, {
        state: 'AWAIT_GO',
        kind: 'unexpected-data',
        expected: `go message ${describeBytes(GO.bytes)}`,
        actual: describeBytes(got),
      });
    }
    await this.destinationOut.writeFlushed(got, { state: 'AWAIT_GO', timeoutMs: this.timeouts.writeMs, what: 'the go message' });
    this.goForwarded = true;
    this.state = 'GO_FORWARDED';
  }

  /** After go: anything more from the sender passes through until it closes (xl sends nothing more). */
  private async forwardRest(): Promise<void> {
    const context = { state: 'GO_FORWARDED', timeoutMs: this.timeouts.writeMs, what: 'data from the sender' };
    for (;;) {
      const chunk = await this.sourceIn.readSome({ state: 'GO_FORWARDED', timeoutMs: this.timeouts.messageMs, expected: 'the sender to close' });
      if (chunk === null) break;
      await this.destinationOut.write(chunk, context);
    }
    this.destinationOut.end();
  }

  /** Destination → source, as it comes (banner, ready, report, permission), watched on the way. */
  private async forwardBack(): Promise<void> {
    for (;;) {
      const chunk = await this.destinationIn.readSome({ state: this.state, timeoutMs: NO_TIMEOUT_MS, expected: 'data from the destination' });
      if (chunk === null) break;
      await this.sourceOut.write(chunk, { state: this.state, timeoutMs: this.timeouts.writeMs, what: 'data from the destination' });
      this.watch.push(chunk);
    }
    this.sourceOut.end();
    if (this.goForwarded && this.watch.reportStatus === undefined) {
      throw new ProtocolError('the destination closed after go without reporting whether its copy runs', { state: 'GO_FORWARDED', kind: 'peer-closed' });
    }
  }

  private result(failedIn?: RelayState, error?: ProtocolError, refusal?: StreamFailureInfo): RelayResult {
    const reportStatus = this.watch.reportStatus;
    const remoteFailure =
      error === undefined && reportStatus !== undefined && reportStatus !== 0
        ? new ProtocolError(`the destination reported failure status ${reportStatus}; it destroyed its copy and the source resumes`, {
            state: 'GO_FORWARDED',
            kind: 'remote-failure',
            actual: String(reportStatus),
          })
        : undefined;
    return {
      ok: error === undefined && remoteFailure === undefined && this.state === 'DONE',
      state: this.state,
      failedIn: failedIn ?? (remoteFailure === undefined ? undefined : 'GO_FORWARDED'),
      error: error ?? remoteFailure,
      refusal,
      streamBytes: this.streamBytes,
      goForwarded: this.goForwarded,
      reportStatus,
      capturePath: this.capture?.isCommitted === true ? this.options.capturePath : undefined,
    };
  }
}

/** The stream broke one of the reader's rules: the relay refuses it (rule id and offset kept for the message). */
class StreamRefusal extends Error {
  readonly info: StreamFailureInfo;
  readonly error: ProtocolError;

  constructor(cause: unknown, forwarded: number) {
    const info = describeStreamFailure(cause);
    // The reader's messages start with the rule id and the offset; anything else gets them put in front.
    const named = info.ruleId !== undefined && info.offset !== undefined && info.message.startsWith(info.ruleId);
    const where = info.offset !== undefined ? `${info.ruleId ?? 'invalid'} at stream offset ${info.offset}` : `after ${forwarded} forwarded bytes`;
    super(`refused the stream: ${named ? info.message : `${where}: ${info.message}`}`);
    this.info = info;
    this.error = new ProtocolError(`${this.message}; the destination was not told to go, so the source resumes`, {
      state: 'STREAMING',
      kind: 'bad-stream',
      expected: 'a valid migration stream',
      actual: info.ruleId,
      cause,
    });
  }
}
