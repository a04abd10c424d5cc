import { RECORD_HEADER_SIZE, XL_HEADER_SIZE } from '../format/constants.js';
import { hasXlMagic, xlHeaderLength } from '../codec/headers.js';
import { copyBytes } from '../codec/bytes.js';
import { BackChannelDecoder } from '../reader/back-channel.js';
import { ColoBackChannelMonitor, type ColoBackChannelSummary } from './colo-back-channel-monitor.js';
import { checkDevicesMigratable, DeviceRefusedError, runDeviceStep, type DeviceHookContext, type DeviceMigrationHook } from './device-hooks.js';
import { BANNER, GO, PERMISSION, POSTCOPY_SYNC, READY, REPORT, REPORT_STATUS_OK } from './fixed-messages.js';
import { readFixedMessage, writeFixedMessage } from './fixed-message-io.js';
import { InputChannel } from './input-channel.js';
import type { MigrationVariant } from './migration-variant.js';
import { OutputChannel } from './output-channel.js';
import { PostcopyTransitionWatch } from './postcopy-transition.js';
import { asProtocolError, describeBytes, ProtocolError } from './protocol-error.js';
import { describeStreamFailure } from './stream-tracker.js';
import { SENDER_STATES, senderDefinition, senderFailureState, type SenderState } from './sender-states.js';
import { detachedDomain, MIGRATED_AWAY_SUFFIX, POSTCOPY_INCONSISTENT_SUFFIX, type SourceDomain } from './source-domain.js';
import { StateMachine } from './state-machine.js';
import { resolveTimeouts, withTimeout, type SessionTimeouts } from './timeouts.js';
import type { Transport } from './transport.js';

export interface SenderOptions {
  readonly transport: Transport;
  /**
   * The bytes to send: an xl save image (xl header + libxl stream), e.g. a file
   * read stream. The producer may reuse a chunk's memory once the chunk after
   * the next one is requested (`readFileRecycled` does, with two buffers).
   */
  readonly stream: AsyncIterable<Uint8Array>;
  readonly variant?: MigrationVariant;
  readonly timeouts?: Partial<SessionTimeouts>;
  readonly domain?: SourceDomain;
  readonly deviceHooks?: readonly DeviceMigrationHook[];
  /** Destination as shown to device hooks. */
  readonly destination?: string;
  readonly live?: boolean;
  /**
   * Remus/COLO carry no acknowledgement: the sender only sees the receiver
   * close. When something else can tell whether the receiver succeeded (the
   * exit status of a spawned receiver), pass it here; it is awaited, bounded,
   * in AWAIT_FAILOVER.
   */
  readonly peerVerdict?: () => Promise<boolean>;
  readonly onStateChange?: (from: SenderState, to: SenderState) => void;
  /**
   * Run in PREAMBLE before the banner is awaited, over the same channels (so
   * nothing the receiver sends after it is lost): e.g. the TCP handshake.
   */
  readonly beforeBanner?: (input: InputChannel, output: OutputChannel) => Promise<void>;
}

export interface SenderResult {
  readonly ok: boolean;
  readonly variant: MigrationVariant;
  readonly state: SenderState;
  readonly history: readonly SenderState[];
  /** State in which the failure was detected (absent on success). */
  readonly failedIn?: SenderState | undefined;
  readonly error?: ProtocolError | undefined;
  readonly bytesSent: number;
  /** Status byte of the receiver's report (plain variant). */
  readonly reportStatus?: number | undefined;
  /** Back-channel records seen (postcopy: POSTCOPY_FAULT count; colo: bytes). */
  readonly backChannel?: { readonly faults: number; readonly complete: boolean; readonly bytes: number } | undefined;
  /** COLO: the secondary's CHECKPOINT_STATE records and dirty pfn lists, read and checked alongside the stream. */
  readonly colo?: ColoBackChannelSummary | undefined;
}

/**
 * The sending side of `xl migrate` (spec/PROTOCOLS.md §1.3), as an explicit state
 * machine over a pair of byte streams. `run` never throws for protocol
 * failures: it returns the final state and the error that led there.
 */
export class XlMigrationSender {
  private readonly variant: MigrationVariant;
  private readonly timeouts: SessionTimeouts;
  private readonly domain: SourceDomain;
  private readonly machine: StateMachine<SenderState>;
  private readonly input: InputChannel;
  private readonly output: OutputChannel;
  private bytesSent = 0;
  private suspended = false;
  private renamed = false;
  private reportStatus: number | undefined;
  private backChannel = { faults: 0, complete: false, bytes: 0 };
  /** Postcopy: finds the end of POSTCOPY_TRANSITION_END in what we send (then the source must never be resumed). */
  private readonly transition: PostcopyTransitionWatch | undefined;
  private coloMonitor: ColoBackChannelMonitor | undefined;
  private colo: ColoBackChannelSummary | undefined;

  constructor(private readonly options: SenderOptions) {
    this.variant = options.variant ?? 'plain';
    this.timeouts = resolveTimeouts(options.timeouts);
    this.domain = options.domain ?? detachedDomain();
    this.machine = new StateMachine(senderDefinition(this.variant), options.onStateChange);
    this.input = new InputChannel(options.transport.input);
    this.output = new OutputChannel(options.transport.output);
    this.transition = this.variant === 'postcopy' ? new PostcopyTransitionWatch() : undefined;
  }

  get state(): SenderState {
    return this.machine.state;
  }

  async run(): Promise<SenderResult> {
    try {
      await this.protocol();
      return this.result();
    } catch (caught) {
      const error = asProtocolError(caught, this.machine.state, caught instanceof DeviceRefusedError ? 'refused' : 'io');
      // The error carries the state it was detected in; the machine may have moved on since.
      const failedIn = isSenderState(error.state) ? error.state : this.machine.state;
      await this.fail(failedIn);
      return this.result(failedIn, error);
    } finally {
      this.coloMonitor?.stop();
      this.output.end();
      await this.output.finish(this.timeouts.writeMs);
      this.input.detach();
    }
  }

  private async protocol(): Promise<void> {
    const hookContext: DeviceHookContext = {
      live: this.options.live ?? true,
      destination: this.options.destination ?? '',
      domainName: this.domain.name,
    };
    const hooks = this.options.deviceHooks ?? [];
    // Step 0: a device may refuse before anything is read or sent.
    await checkDevicesMigratable(hooks, hookContext);
    await this.options.beforeBanner?.(this.input, this.output);
    await readFixedMessage(this.input, BANNER, 'PREAMBLE', this.timeouts.messageMs);
    // COLO: the secondary answers each checkpoint while the stream flows; read it alongside.
    if (this.variant === 'colo') this.coloMonitor = new ColoBackChannelMonitor(this.input);

    this.machine.moveTo('STREAMING');
    await this.sendStream(() => this.action('device hook step 1', () => runDeviceStep(hooks, 1, hookContext)));
    await this.action('source domain suspend', () => this.domain.suspend?.());
    this.suspended = true;
    await this.action('device hook step 2', () => runDeviceStep(hooks, 2, hookContext));
    await this.action('device hook step 3', () => runDeviceStep(hooks, 3, hookContext));

    if (this.variant === 'plain') await this.plainHandshake();
    else if (this.variant === 'postcopy') await this.postcopyEnd();
    else await this.checkpointedEnd();
  }

  private async plainHandshake(): Promise<void> {
    this.machine.moveTo('AWAIT_READY');
    await readFixedMessage(this.input, READY, 'AWAIT_READY', this.timeouts.messageMs);

    this.machine.moveTo('RENAMED');
    await this.action('source domain rename', () => this.domain.rename?.(`${this.domain.name}${MIGRATED_AWAY_SUFFIX}`));
    this.renamed = true;

    this.machine.moveTo('GO_SENT');
    await writeFixedMessage(this.output, GO, 'GO_SENT', this.timeouts.writeMs);

    this.machine.moveTo('AWAIT_REPORT');
    await readFixedMessage(this.input, REPORT, 'AWAIT_REPORT', this.timeouts.messageMs);
    const [status] = await this.input.readExact(1, {
      state: 'AWAIT_REPORT',
      timeoutMs: this.timeouts.messageMs,
      expected: 'the report status byte',
    });
    this.reportStatus = status;
    if (status === REPORT_STATUS_OK) {
      await this.action('source domain destroy', () => this.domain.destroy?.());
      this.machine.moveTo('DONE_OK');
      return;
    }

    this.machine.moveTo('AWAIT_PERMISSION');
    await readFixedMessage(this.input, PERMISSION, 'AWAIT_PERMISSION', this.timeouts.messageMs);
    await this.resumeSource();
    this.machine.moveTo('RESUMED');
    throw new ProtocolError(`receiver reported failure status ${status}; it destroyed its copy and the source was resumed`, {
      state: 'AWAIT_REPORT',
      kind: 'remote-failure',
      expected: `status ${REPORT_STATUS_OK}`,
      actual: String(status),
    });
  }

  /** [RFC] back channel (POSTCOPY_FAULT*, POSTCOPY_COMPLETE), checked by the reader's back-channel decoder, then the sync message. */
  private async postcopyEnd(): Promise<void> {
    this.machine.moveTo('AWAIT_SYNC');
    const context = { state: 'AWAIT_SYNC', timeoutMs: this.timeouts.messageMs };
    const decoder = new BackChannelDecoder({ channel: 'postcopy' });
    while (!decoder.done) {
      const head = await this.input.readExact(RECORD_HEADER_SIZE, { ...context, expected: 'a back-channel record' });
      let step = backChannelStep(decoder, head);
      if ('need' in step) {
        const rest = await this.input.readExact(step.need - head.length, { ...context, expected: 'a back-channel record body' });
        step = backChannelStep(decoder, new Uint8Array(Buffer.concat([head, rest])));
      }
      if (!('item' in step) || step.item.kind !== 'record') throw new Error(`back-channel decoder: unexpected step ${JSON.stringify(step)}`);
      this.backChannel.bytes += step.item.length;
      if (step.item.record.name === 'POSTCOPY_FAULT') this.backChannel.faults += 1;
      else this.backChannel.complete = true;
    }
    await readFixedMessage(this.input, POSTCOPY_SYNC, 'AWAIT_SYNC', this.timeouts.messageMs);
    await this.action('source domain destroy', () => this.domain.destroy?.());
    this.machine.moveTo('DONE_OK');
  }

  /** Remus/COLO: EOF on our side is the primary going away; the receiver fails over and closes. */
  private async checkpointedEnd(): Promise<void> {
    this.machine.moveTo('AWAIT_FAILOVER');
    this.output.end();
    if (this.coloMonitor !== undefined) await this.awaitColoBackChannel(this.coloMonitor);
    const back = await this.input.readToEnd({
      state: 'AWAIT_FAILOVER',
      timeoutMs: this.timeouts.messageMs,
      expected: 'the receiver to close after failover',
    });
    if (this.coloMonitor === undefined) this.backChannel.bytes = back.length;
    if (this.variant === 'remus' && back.length > 0) {
      throw new ProtocolError(`receiver sent unexpected data on a Remus stream: ${describeBytes(back)}`, {
        state: 'AWAIT_FAILOVER',
        kind: 'unexpected-data',
        expected: 'nothing (Remus has no back channel)',
        actual: describeBytes(back),
      });
    }
    if (this.options.peerVerdict !== undefined) {
      const verdict = await withTimeout(this.options.peerVerdict(), this.timeouts.messageMs, () => undefined);
      if (verdict !== true) {
        throw new ProtocolError(verdict === undefined ? 'no verdict from the receiver in time' : 'receiver reported failure after failover', {
          state: 'AWAIT_FAILOVER',
          kind: verdict === undefined ? 'timeout' : 'remote-failure',
          expected: 'the receiver to accept the stream',
        });
      }
    }
    this.machine.moveTo('DONE_OK');
  }

  /** COLO: the back channel must end (the receiver closes after failover) and have kept its cycle. */
  private async awaitColoBackChannel(monitor: ColoBackChannelMonitor): Promise<void> {
    const summary = await withTimeout(monitor.done, this.timeouts.messageMs, () => undefined);
    if (summary === undefined) {
      monitor.stop();
      throw new ProtocolError(`timed out after ${this.timeouts.messageMs} ms waiting for the receiver to close after failover`, {
        state: 'AWAIT_FAILOVER',
        kind: 'timeout',
        expected: 'the receiver to close after failover',
      });
    }
    this.colo = summary;
    this.backChannel.bytes = summary.bytes;
  }

  /**
   * Send the image, running `afterHeader` once the xl header is out (device
   * step 1). One write is in flight while the next chunk is read; a chunk is
   * asked for only after the write before the last one completed, so the
   * producer may recycle its buffers (see `SenderOptions.stream`).
   */
  private async sendStream(afterHeader: () => Promise<void>): Promise<void> {
    let inFlight: Promise<void> | undefined;
    const sendNext = async (bytes: Uint8Array): Promise<void> => {
      await inFlight;
      // Postcopy: the bytes that complete POSTCOPY_TRANSITION_END are the transition as soon as they are
      // handed to the transport (their write is attributed to it): from here the guest may run at the destination.
      if (this.transition?.completes(bytes) === true) this.machine.moveTo('POSTCOPY_TRANSITIONED');
      const write = this.send(bytes, { state: this.machine.state, timeoutMs: this.timeouts.writeMs, what: 'migration stream data' });
      write.catch(() => undefined); // awaited by the next sendNext or at the end
      inFlight = write;
    };
    // The start of the stream, copied (the producer recycles its buffers), while the xl header is incomplete.
    const pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let headerLength = Number.POSITIVE_INFINITY;
    let headerDone = false;
    for await (const raw of this.options.stream) {
      const chunk = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      if (headerDone) {
        await sendNext(chunk);
        continue;
      }
      if (pendingBytes === 0 && chunk.length >= XL_HEADER_SIZE) headerLength = xlHeaderEnd(chunk);
      let head = chunk;
      if (pendingBytes > 0 || chunk.length < headerLength) {
        pending.push(copyBytes(chunk));
        pendingBytes += chunk.length;
        if (headerLength === Number.POSITIVE_INFINITY && pendingBytes >= XL_HEADER_SIZE) headerLength = xlHeaderEnd(Buffer.concat(pending));
        if (pendingBytes < headerLength) continue;
        head = new Uint8Array(Buffer.concat(pending));
        pending.length = 0;
      }
      await sendNext(head.subarray(0, headerLength));
      await inFlight;
      await afterHeader();
      headerDone = true;
      if (head.length > headerLength) await sendNext(head.subarray(headerLength));
    }
    if (!headerDone) {
      // Shorter than its xl header: send it anyway, the receiver will judge it.
      if (pendingBytes > 0) await sendNext(new Uint8Array(Buffer.concat(pending)));
      await inFlight;
      await afterHeader();
    }
    await inFlight;
  }

  /** Write and wait until the transport took the bytes (then their buffer may be reused). */
  private async send(bytes: Uint8Array, context: { state: string; timeoutMs: number; what: string }): Promise<void> {
    await this.output.writeFlushed(bytes, context);
    this.bytesSent += bytes.length;
  }

  private async action(name: string, act: () => void | Promise<void>): Promise<void> {
    try {
      await act();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ProtocolError(`${name} failed: ${message}`, { state: this.machine.state, kind: 'hook-failed', cause: error });
    }
  }

  private async resumeSource(): Promise<void> {
    if (this.renamed) await this.domain.rename?.(this.domain.name);
    this.renamed = false;
    if (this.suspended) await this.domain.resume?.();
    this.suspended = false;
  }

  /** Move to the failure state for `failedIn` and do what it requires to the source. */
  private async fail(failedIn: SenderState): Promise<void> {
    if (this.machine.isTerminal) return;
    const target = senderFailureState(failedIn);
    this.output.destroy();
    try {
      if (target === 'RESUMED') await this.resumeSource();
      else if (target === 'POSTCOPY_INCONSISTENT') await this.domain.rename?.(`${this.domain.name}${POSTCOPY_INCONSISTENT_SUFFIX}`);
    } catch {
      // The failure being reported is the original one; a failing resume cannot make it worse.
    }
    this.machine.moveTo(target);
  }

  private result(failedIn?: SenderState, error?: ProtocolError): SenderResult {
    return {
      ok: error === undefined && this.machine.state === 'DONE_OK',
      variant: this.variant,
      state: this.machine.state,
      history: [...this.machine.history],
      failedIn,
      error,
      bytesSent: this.bytesSent,
      reportStatus: this.reportStatus,
      backChannel: this.variant === 'plain' ? undefined : { ...this.backChannel },
      colo: this.colo,
    };
  }
}

function isSenderState(state: string): state is SenderState {
  return (SENDER_STATES as readonly string[]).includes(state);
}

/**
 * Where the xl save-file header ends in a stream starting with `head` (at
 * least 48 bytes): the codec's xlHeaderLength, so the reader's checks and its
 * XL-OPTIONAL-DATA-MAX cap apply; 0 for a bare libxl stream.
 */
function xlHeaderEnd(head: Uint8Array): number {
  if (!hasXlMagic(head)) return 0;
  try {
    return xlHeaderLength(head);
  } catch (error) {
    const info = describeStreamFailure(error);
    throw new ProtocolError(`invalid xl header: ${info.message}`, {
      state: 'STREAMING',
      kind: 'bad-stream',
      expected: 'a valid xl save-file header',
      actual: info.ruleId,
      cause: error,
    });
  }
}

/** One step of the back-channel decoder; its format errors become the session's unexpected-data failures. */
function backChannelStep(decoder: BackChannelDecoder, bytes: Uint8Array): ReturnType<BackChannelDecoder['next']> {
  try {
    return decoder.next(bytes);
  } catch (error) {
    const info = describeStreamFailure(error);
    throw new ProtocolError(`back channel contained unexpected data: ${info.message}`, {
      state: 'AWAIT_SYNC',
      kind: 'unexpected-data',
      expected: 'POSTCOPY_FAULT or POSTCOPY_COMPLETE',
      actual: info.ruleId ?? describeBytes(bytes),
      cause: error,
    });
  }
}
