import { encodeRecord, makeRecord } from '../codec/records.js';
import { CaptureFile } from './capture-file.js';
import { ColoSecondary, type ColoBackChannelCounts, type DirtyPfnSource } from './colo-secondary.js';
import { BANNER, GO, PERMISSION, POSTCOPY_SYNC, READY, REPORT, REPORT_STATUS_OK, reportStatusFromRc } from './fixed-messages.js';
import { readFixedMessage, writeFixedMessage } from './fixed-message-io.js';
import { InputChannel } from './input-channel.js';
import { isCheckpointed, type MigrationVariant } from './migration-variant.js';
import { OutputChannel } from './output-channel.js';
import { pushDecoderTrackerFactory } from './push-decoder-tracker.js';
import { asProtocolError, type ProtocolError } from './protocol-error.js';
import { RECEIVER_STATES, receiverDefinition, type ReceiverState } from './receiver-states.js';
import { StateMachine } from './state-machine.js';
import { captureStream } from './stream-capture.js';
import type { StreamEnd, StreamTrackerFactory } from './stream-tracker.js';
import { resolveTimeouts, type SessionTimeouts } from './timeouts.js';
import type { Transport } from './transport.js';

/** libxl's ERROR_FAIL; xl reports `(char)(-rc)` in the status byte. */
const ERROR_FAIL = -3;

export interface ReceiverOptions {
  readonly transport: Transport;
  /** Where the received stream ends up; it appears there only after a valid end. */
  readonly outputPath: string;
  /** Validator for the incoming stream; default: the project's PushDecoder, lenient like Xen's C reader. */
  readonly trackerFactory?: StreamTrackerFactory;
  readonly variant?: MigrationVariant;
  readonly timeouts?: Partial<SessionTimeouts>;
  /**
   * Step 7 beyond renaming the file ("unpause our copy"). Throwing makes the
   * start fail: the receiver reports a failure status and destroys its copy.
   */
  readonly onStart?: (finalPath: string) => void | Promise<void>;
  readonly onStateChange?: (from: ReceiverState, to: ReceiverState) => void;
  /** COLO: the pfns the secondary reports dirty after each checkpoint (default none: a capture runs no guest). */
  readonly coloDirtyPfns?: DirtyPfnSource;
}

export interface ReceiverResult {
  readonly ok: boolean;
  readonly variant: MigrationVariant;
  readonly state: ReceiverState;
  readonly history: readonly ReceiverState[];
  readonly failedIn?: ReceiverState | undefined;
  readonly error?: ProtocolError | undefined;
  /** Stream bytes written (the file's size when committed). */
  readonly bytesReceived: number;
  /** The final path, only when the file was kept. */
  readonly outputPath?: string | undefined;
  readonly streamEnd?: StreamEnd | undefined;
  /** COLO: what the receiver wrote on its back channel (SVM_READY, SVM_RESUMED, SVM_SUSPENDED, dirty pfn lists). */
  readonly coloBackChannel?: ColoBackChannelCounts | undefined;
}

/**
 * The receiving side of `xl migrate` (`xl migrate-receive`, spec/PROTOCOLS.md
 * §1.3–1.5) writing the stream to a file: it is validated as it arrives,
 * kept in a temporary file, and renamed to `outputPath` only when the
 * protocol reaches the point where xl would start the domain. Every failure
 * removes the temporary file and ends in DESTROYED (or PERMISSION_SENT). A
 * committed capture is kept whatever fails later (the sender cannot be told,
 * the report cannot be written), except when the start itself failed and the
 * sender was told so: it then resumes its domain, and our copy is withdrawn.
 */
export class XlMigrationReceiver {
  private readonly variant: MigrationVariant;
  private readonly timeouts: SessionTimeouts;
  private readonly machine: StateMachine<ReceiverState>;
  private readonly input: InputChannel;
  private readonly output: OutputChannel;
  private file: CaptureFile | undefined;
  private streamEnd: StreamEnd | undefined;
  private secondary: ColoSecondary | undefined;
  private coloBackChannel: ColoBackChannelCounts | undefined;

  constructor(private readonly options: ReceiverOptions) {
    this.variant = options.variant ?? 'plain';
    this.timeouts = resolveTimeouts(options.timeouts);
    this.machine = new StateMachine(receiverDefinition(this.variant), options.onStateChange);
    this.input = new InputChannel(options.transport.input);
    this.output = new OutputChannel(options.transport.output);
  }

  get state(): ReceiverState {
    return this.machine.state;
  }

  async run(): Promise<ReceiverResult> {
    let failure: { failedIn: ReceiverState; error: ProtocolError } | undefined;
    try {
      await this.protocol();
    } catch (caught) {
      const error = asProtocolError(caught, this.machine.state);
      // The error carries the state it was detected in; the machine may have moved on while reporting it.
      const failedIn = isReceiverState(error.state) ? error.state : this.machine.state;
      failure = { failedIn, error };
      this.coloBackChannel = await this.secondary?.settle();
      await this.fail();
    } finally {
      this.output.end();
      await this.output.finish(this.timeouts.writeMs);
      this.input.detach();
      await this.file?.release();
    }
    const kept = this.file?.isCommitted === true;
    return {
      ok: failure === undefined && this.machine.state === 'DONE',
      variant: this.variant,
      state: this.machine.state,
      history: [...this.machine.history],
      failedIn: failure?.failedIn,
      error: failure?.error,
      bytesReceived: this.file?.bytesWritten ?? 0,
      outputPath: kept ? this.options.outputPath : undefined,
      streamEnd: this.streamEnd,
      coloBackChannel: this.coloBackChannel,
    };
  }

  private async protocol(): Promise<void> {
    await writeFixedMessage(this.output, BANNER, 'BANNER_SENT', this.timeouts.writeMs);

    this.machine.moveTo('RECEIVING');
    this.file = await CaptureFile.create(this.options.outputPath).catch((error: unknown) => {
      throw asProtocolError(error, 'RECEIVING', 'io');
    });
    const tracker = (this.options.trackerFactory ?? pushDecoderTrackerFactory())(this.variant);
    if (this.variant === 'colo' && tracker.watch !== undefined) {
      // The secondary's back channel, answered as each checkpoint is validated (spec/STATE-MACHINES.md §2.7).
      this.secondary = new ColoSecondary(this.output, this.options.coloDirtyPfns, this.timeouts.writeMs);
      tracker.watch(this.secondary.onRecord);
    }
    const capture = await captureStream({
      input: this.input,
      tracker,
      file: this.file,
      state: 'RECEIVING',
      idleMs: this.timeouts.idleMs,
      until: isCheckpointed(this.variant) ? 'eof' : 'end',
    }).catch((error: unknown) => {
      throw asProtocolError(error, 'RECEIVING', 'io');
    });
    this.streamEnd = capture.end;

    if (isCheckpointed(this.variant)) {
      this.coloBackChannel = await this.secondary?.settle();
      // EOF after a complete checkpoint: fail over to it (xl renames and unpauses the domain).
      await this.commit('RECEIVING');
      this.machine.moveTo('DONE');
      return;
    }
    if (this.variant === 'postcopy') {
      this.machine.moveTo('SYNC_SENT');
      // No pages are ever missing from a captured stream: COMPLETE at once, then the sync message.
      await this.output.writeFlushed(new Uint8Array(Buffer.concat([encodePostcopyComplete(), POSTCOPY_SYNC.bytes])), {
        state: 'SYNC_SENT',
        timeoutMs: this.timeouts.writeMs,
        what: 'POSTCOPY_COMPLETE record and postcopy sync message',
      });
      await this.commit('SYNC_SENT');
      this.machine.moveTo('DONE');
      return;
    }

    this.machine.moveTo('READY_SENT');
    await writeFixedMessage(this.output, READY, 'READY_SENT', this.timeouts.writeMs);

    this.machine.moveTo('AWAIT_GO');
    try {
      await readFixedMessage(this.input, GO, 'AWAIT_GO', this.timeouts.messageMs);
      this.machine.moveTo('STARTING');
      await this.commit('STARTING');
      await this.options.onStart?.(this.options.outputPath);
    } catch (caught) {
      // xl: any failure from here on is reported to the sender, then our copy is destroyed.
      const error = asProtocolError(caught, this.machine.state, 'hook-failed');
      await this.reportFailureAndDestroy();
      throw error;
    }

    this.machine.moveTo('REPORT_SENT');
    await this.sendReport(REPORT_STATUS_OK);
    this.machine.moveTo('DONE');
  }

  private async commit(state: ReceiverState): Promise<void> {
    try {
      await this.file?.commit();
    } catch (error) {
      throw asProtocolError(error, state, 'io');
    }
  }

  private async sendReport(status: number): Promise<void> {
    await this.output.writeFlushed(new Uint8Array([...REPORT.bytes, status]), {
      state: 'REPORT_SENT',
      timeoutMs: this.timeouts.writeMs,
      what: `report message with status ${status}`,
    });
  }

  /** Status ≠ 0, destroy our copy, then grant the sender permission to resume. */
  private async reportFailureAndDestroy(): Promise<void> {
    this.machine.moveTo('REPORT_SENT');
    try {
      await this.sendReport(reportStatusFromRc(ERROR_FAIL));
    } catch {
      return; // The sender cannot be told: a committed copy stays (fail() removes only a temporary file).
    }
    await this.file?.withdraw().catch(() => undefined);
    this.machine.moveTo('DESTROYED');
    try {
      await writeFixedMessage(this.output, PERMISSION, 'PERMISSION_SENT', this.timeouts.writeMs);
      this.machine.moveTo('PERMISSION_SENT');
    } catch {
      // Stay DESTROYED: the copy is gone, the sender will not hear about it.
    }
  }

  /** Remove what was not committed; a committed capture is never removed here. */
  private async destroyCopy(): Promise<void> {
    await this.file?.discard().catch(() => undefined);
  }

  private async fail(): Promise<void> {
    await this.destroyCopy();
    if (!this.machine.isTerminal) this.machine.moveTo('DESTROYED');
    this.output.destroy();
  }
}

function isReceiverState(state: string): state is ReceiverState {
  return (RECEIVER_STATES as readonly string[]).includes(state);
}

/** The back channel's POSTCOPY_COMPLETE record (8 bytes), from the codec. */
export function encodePostcopyComplete(): Uint8Array {
  return encodeRecord(makeRecord('libxc', 'POSTCOPY_COMPLETE', { kind: 'empty' }, 'postcopy-rfc'), 'postcopy-rfc');
}
