import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CaptureFile } from './capture-file.js';
import { beginCookies, finishCookies, performCookies, prepareCookies, type FinishCookie, type PerformCookie, type PrepareCookie } from './cookies.js';
import { checkDevicesMigratable, runDeviceStep, type DeviceHookContext, type DeviceMigrationHook } from './device-hooks.js';
import { InputChannel } from './input-channel.js';
import type { MigrationJob, MigrationJobStore } from './job-lock.js';
import { OutputChannel } from './output-channel.js';
import { asProtocolError } from './protocol-error.js';
import { pushDecoderTrackerFactory } from './push-decoder-tracker.js';
import type { SourceDomain } from './source-domain.js';
import { captureStream, type CaptureResult } from './stream-capture.js';
import type { StreamTrackerFactory } from './stream-tracker.js';
import { listenOnce, connectUri, type OneShotListener } from './tcp-endpoint.js';
import { resolveTimeouts, type SessionTimeouts } from './timeouts.js';

/**
 * The five-step migration flow after libvirt's protocol v3 (spec/PROTOCOLS.md
 * §2.3): Begin (src) → Prepare (dst) → Perform (src) → Finish (dst) →
 * Confirm (src). Perform leaves the source paused; Finish keeps or discards
 * what arrived; Confirm kills the source on success and resumes it
 * otherwise. The stream travels bare over TCP (no xl handshake: the v3 steps
 * replace it). Jobs and phases as in §3.
 */
export type V3State = 'BEGIN' | 'PREPARE' | 'PERFORM' | 'FINISH' | 'CONFIRM' | V3SourceEnd | 'ABORTED';

/**
 * How Confirm leaves the source: removed, resumed, or — when a transfer failed
 * past its point of no return (xl's go was sent, the report never came) —
 * left paused with its job held in PERFORM3_DONE, for an operator who can
 * see whether the destination runs the domain.
 */
export type V3SourceEnd = 'SRC_KILLED' | 'SRC_RESUMED' | 'SRC_LEFT_PAUSED';

/** A transfer failed after the destination may have taken over: neither kill nor resume the source. */
export class UncertainOutcomeError extends Error {
  override readonly name = 'UncertainOutcomeError';
}

export interface V3SourceOptions {
  readonly domain: SourceDomain;
  readonly jobs: MigrationJobStore;
  readonly stream: () => AsyncIterable<Uint8Array>;
  readonly deviceHooks?: readonly DeviceMigrationHook[];
  readonly sourceHost?: string;
  readonly live?: boolean;
  /** The source domain is paused already: VIR_MIGRATE_PAUSED goes into the flags before Prepare. */
  readonly paused?: boolean;
  readonly leases?: readonly string[];
  readonly timeouts?: Partial<SessionTimeouts>;
  /** Where the domain goes, as device step 0 is told (the URI is known only after Prepare). */
  readonly destination?: string;
  /** How Perform moves the stream; default: bare over TCP to the `tcp://` URI Prepare gave. */
  readonly transfer?: V3Transfer;
}

/** What a Perform transfer must do: send, run device steps 1–3, suspend the source once the stream is out. */
export interface V3TransferContext {
  readonly prepared: PrepareCookie;
  readonly hooks: readonly DeviceMigrationHook[];
  readonly hookContext: DeviceHookContext;
  /** Suspend the source domain (remembered, so Confirm resumes it on failure). */
  readonly suspend: () => Promise<void>;
}

/** Perform's transfer; resolves with what was sent (for Finish's check), throws when it failed (UncertainOutcomeError past its point of no return). */
export type V3Transfer = (context: V3TransferContext) => Promise<{ bytesSent: number; sha256: string }>;

/** The source's three steps, as migrateV3 drives them. */
export interface V3SourceSide {
  begin(): Promise<string>;
  perform(prepareCookie: string): Promise<string>;
  confirm(finishCookie: string | undefined): Promise<V3SourceEnd>;
}

/** The destination's two steps. */
export interface V3DestinationSide {
  prepare(beginCookie: string): Promise<string>;
  finish(performCookie: string | undefined): Promise<string>;
}

export class V3Source implements V3SourceSide {
  private job: MigrationJob | undefined;
  private readonly timeouts: SessionTimeouts;
  private suspended = false;
  private uncertain = false;

  constructor(private readonly options: V3SourceOptions) {
    this.timeouts = resolveTimeouts(options.timeouts);
  }

  /** Begin: take the MIGRATION_OUT job (BEGIN3), ask devices (step 0), describe the domain. */
  async begin(): Promise<string> {
    const { domain } = this.options;
    this.job = await this.options.jobs.start(domain.name, 'MIGRATION_OUT', 'BEGIN3');
    try {
      await checkDevicesMigratable(this.options.deviceHooks ?? [], this.hookContext(this.options.destination ?? ''));
    } catch (error) {
      await this.endJob('CONFIRM3_CANCELLED');
      throw error;
    }
    return beginCookies.encode({
      version: 3,
      domain: domain.name,
      sourceHost: this.options.sourceHost ?? 'localhost',
      flags: { live: this.options.live ?? true, paused: this.options.paused ?? false },
      leases: [...(this.options.leases ?? [])],
    });
  }

  /** Perform: send the stream to the URI from Prepare; the source stays paused. */
  async perform(prepareCookie: string): Promise<string> {
    const job = this.requireJob();
    const prepared = prepareCookies.decode(prepareCookie);
    await job.setPhase('PERFORM3');
    const hooks = this.options.deviceHooks ?? [];
    const context = this.hookContext(prepared.uri);
    const suspend = async (): Promise<void> => {
      await this.options.domain.suspend?.();
      this.suspended = true;
    };
    const transfer = this.options.transfer ?? ((c: V3TransferContext) => this.sendBare(c));
    let sent: { bytesSent: number; sha256: string };
    try {
      sent = await transfer({ prepared, hooks, hookContext: context, suspend });
    } catch (error) {
      if (error instanceof UncertainOutcomeError) this.uncertain = true;
      throw error;
    }
    const { bytesSent, sha256 } = sent;
    await job.setPhase('PERFORM3_DONE');
    const cookie: PerformCookie = { version: 3, domain: prepared.domain, bytesSent, sha256 };
    return performCookies.encode(cookie);
  }

  /** The default transfer: the bare stream over TCP (no xl handshake: the v3 steps replace it). */
  private async sendBare({ prepared, hooks, hookContext: context, suspend }: V3TransferContext): Promise<{ bytesSent: number; sha256: string }> {
    const transport = await connectUri(prepared.uri, this.timeouts.messageMs);
    const output = new OutputChannel(transport.output);
    const hash = createHash('sha256');
    let bytesSent = 0;
    try {
      await runDeviceStep(hooks, 1, context);
      for await (const chunk of this.options.stream()) {
        await output.write(chunk, { state: 'PERFORM3', timeoutMs: this.timeouts.writeMs, what: 'migration stream data' });
        hash.update(chunk);
        bytesSent += chunk.length;
      }
      await suspend();
      await runDeviceStep(hooks, 2, context);
      await runDeviceStep(hooks, 3, context);
      output.end();
      await output.finish(this.timeouts.writeMs);
    } finally {
      transport.input.destroy();
    }
    return { bytesSent, sha256: hash.digest('hex') };
  }

  /** Confirm: kill the source if the destination kept the domain, resume it otherwise. */
  async confirm(finishCookie: string | undefined): Promise<V3SourceEnd> {
    if (this.uncertain && this.job !== undefined) {
      // The whole stream went and the destination may run the domain: record that, keep the job, touch nothing.
      await this.job.setPhase('PERFORM3_DONE');
      this.job = undefined;
      return 'SRC_LEFT_PAUSED';
    }
    const finished = finishCookie === undefined ? undefined : finishCookies.decode(finishCookie);
    const success = finished?.kept === true && this.job?.phase === 'PERFORM3_DONE';
    if (success) {
      await this.endJob('CONFIRM3');
      await this.options.domain.destroy?.();
      return 'SRC_KILLED';
    }
    await this.endJob('CONFIRM3_CANCELLED');
    if (this.suspended) await this.options.domain.resume?.();
    this.suspended = false;
    return 'SRC_RESUMED';
  }

  private async endJob(phase: 'CONFIRM3' | 'CONFIRM3_CANCELLED'): Promise<void> {
    if (this.job === undefined) return;
    await this.job.setPhase(phase);
    await this.job.finish();
    this.job = undefined;
  }

  private requireJob(): MigrationJob {
    if (this.job === undefined) throw new Error('no active MIGRATION_OUT job: call begin() first');
    return this.job;
  }

  private hookContext(destination: string): DeviceHookContext {
    return { live: this.options.live ?? true, destination, domainName: this.options.domain.name };
  }
}

export interface V3DestinationOptions {
  readonly jobs: MigrationJobStore;
  readonly outputPath: string;
  readonly trackerFactory?: StreamTrackerFactory;
  readonly timeouts?: Partial<SessionTimeouts>;
  /** Loopback by default; the destination listens here for Perform's connection. */
  readonly listenHost?: string;
}

export class V3Destination implements V3DestinationSide {
  private job: MigrationJob | undefined;
  private listener: OneShotListener | undefined;
  private incoming: Promise<{ file: CaptureFile; capture: CaptureResult } | { file?: CaptureFile | undefined; error: Error }> | undefined;
  private readonly timeouts: SessionTimeouts;

  constructor(private readonly options: V3DestinationOptions) {
    this.timeouts = resolveTimeouts(options.timeouts);
  }

  /** Prepare: take the MIGRATION_IN job (PREPARE), start listening, hand back the URI. */
  async prepare(beginCookie: string): Promise<string> {
    const begun = beginCookies.decode(beginCookie);
    this.job = await this.options.jobs.start(begun.domain, 'MIGRATION_IN', 'PREPARE', this.options.outputPath);
    try {
      this.listener = await listenOnce(this.options.listenHost ?? '127.0.0.1', 0);
    } catch (error) {
      await this.job.finish();
      throw error;
    }
    this.incoming = this.receive(this.listener);
    return prepareCookies.encode({ version: 3, domain: begun.domain, uri: this.listener.uri, incomingName: `${begun.domain}--incoming` });
  }

  /** Finish: check what arrived against Perform's cookie; keep it (rename) or discard it. */
  async finish(performCookie: string | undefined): Promise<string> {
    const job = this.job;
    if (job === undefined || this.incoming === undefined) throw new Error('no active MIGRATION_IN job: call prepare() first');
    await job.setPhase('FINISH3');
    let finished: FinishCookie;
    const domain = job.domain;
    try {
      if (performCookie === undefined) {
        this.listener?.close();
        throw new Error('perform failed on the source');
      }
      const performed = performCookies.decode(performCookie);
      const arrived = await this.incoming;
      if ('error' in arrived) throw arrived.error;
      const digest = await sha256OfFile(arrived.file.tempPath);
      if (arrived.capture.bytes !== performed.bytesSent || digest !== performed.sha256) {
        throw new Error(`received ${arrived.capture.bytes} bytes (sha256 ${digest}) but the source sent ${performed.bytesSent} (sha256 ${performed.sha256})`);
      }
      await arrived.file.commit();
      await arrived.file.release();
      finished = { version: 3, domain, kept: true, bytesReceived: arrived.capture.bytes };
    } catch (error) {
      const arrived = await this.incoming;
      await arrived.file?.discard();
      finished = { version: 3, domain, kept: false, bytesReceived: arrived.file?.bytesWritten ?? 0, reason: (error as Error).message };
    } finally {
      await job.finish();
      this.job = undefined;
    }
    return finishCookies.encode(finished);
  }

  private async receive(listener: OneShotListener): Promise<{ file: CaptureFile; capture: CaptureResult } | { file?: CaptureFile | undefined; error: Error }> {
    let file: CaptureFile | undefined;
    try {
      const transport = await listener.accept(this.timeouts.messageMs);
      const input = new InputChannel(transport.input);
      file = await CaptureFile.create(this.options.outputPath);
      try {
        const capture = await captureStream({
          input,
          tracker: (this.options.trackerFactory ?? pushDecoderTrackerFactory())('plain'),
          file,
          state: 'PERFORM3',
          idleMs: this.timeouts.idleMs,
          until: 'end',
        });
        return { file, capture };
      } finally {
        input.detach();
        transport.output.destroy();
      }
    } catch (error) {
      return { file, error: asProtocolError(error, 'PERFORM3') };
    }
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface V3Result {
  readonly ok: boolean;
  readonly state: V3State;
  readonly history: readonly V3State[];
  /** The first error; a later step's error never overwrites Perform's. */
  readonly error?: Error | undefined;
  readonly finish?: FinishCookie | undefined;
}

/** Drive the five steps as libvirt's caller does (`virDomainMigrateVersion3`). */
export async function migrateV3(source: V3SourceSide, destination: V3DestinationSide): Promise<V3Result> {
  const history: V3State[] = ['BEGIN'];
  let beginCookie: string;
  let prepareCookie: string;
  try {
    beginCookie = await source.begin();
  } catch (error) {
    history.push('ABORTED');
    return { ok: false, state: 'ABORTED', history, error: error as Error };
  }
  history.push('PREPARE');
  try {
    prepareCookie = await destination.prepare(beginCookie);
  } catch (error) {
    // Nothing was sent: release the source job without touching the domain.
    await source.confirm(undefined);
    history.push('ABORTED');
    return { ok: false, state: 'ABORTED', history, error: error as Error };
  }
  history.push('PERFORM');
  let firstError: Error | undefined;
  let performCookie: string | undefined;
  try {
    performCookie = await source.perform(prepareCookie);
  } catch (error) {
    firstError = error as Error;
  }
  history.push('FINISH');
  let finishCookie: string | undefined;
  try {
    finishCookie = await destination.finish(performCookie);
  } catch (error) {
    firstError ??= error as Error;
  }
  const finish = finishCookie === undefined ? undefined : finishCookies.decode(finishCookie);
  if (finish !== undefined && !finish.kept) firstError ??= new Error(finish.reason ?? 'destination discarded the domain');
  history.push('CONFIRM');
  const end = await source.confirm(finishCookie);
  history.push(end);
  return { ok: end === 'SRC_KILLED', state: end, history, error: firstError, finish };
}
