import { createHash } from 'node:crypto';
import { beginCookies, finishCookies, performCookies, prepareCookies } from './cookies.js';
import type { DeviceMigrationHook } from './device-hooks.js';
import type { InputChannel } from './input-channel.js';
import { UncertainOutcomeError, type V3DestinationSide, type V3TransferContext } from './migration-v3.js';
import type { OutputChannel } from './output-channel.js';
import { resolveTimeouts, type SessionTimeouts } from './timeouts.js';
import type { Transport } from './transport.js';
import { XlMigrationSender, type SenderResult } from './xl-sender.js';

/** An open link to an `xl migrate-receive`-style receiver (a spawned command, or a TCP connection). */
export interface XlPeerLink {
  readonly transport: Transport;
  /** Run before the banner is awaited (the TCP handshake). */
  readonly beforeBanner?: (input: InputChannel, output: OutputChannel) => Promise<void>;
  /** Close our ends; for a command, wait (bounded) for it to exit. Resolves with a failure to report, if any. */
  close(ok: boolean): Promise<string | undefined>;
}

export interface XlV3PeerOptions {
  /** Opened in Prepare: the destination is reachable before anything is sent. */
  readonly open: () => Promise<XlPeerLink>;
  /** What Prepare's cookie names as the URI (the command or HOST:PORT). */
  readonly uri: string;
  readonly stream: () => AsyncIterable<Uint8Array>;
  readonly timeouts?: Partial<SessionTimeouts>;
}

/**
 * The v3 flow against a destination that speaks xl's protocol (real
 * `xl migrate-receive`, or `stream-migrate receive`): Prepare opens the link,
 * Perform runs the whole xl exchange (stream, ready, go, report), and Finish
 * turns the receiver's report into the Finish cookie: status 0 means the
 * destination kept and started the domain. The destination's own job lock is
 * the receiver's business (xl holds its own); this side holds the source's.
 */
export class XlV3Peer implements V3DestinationSide {
  private link: XlPeerLink | undefined;
  private result: SenderResult | undefined;
  private linkFailure: string | undefined;
  private domain = '';
  private readonly timeouts: SessionTimeouts;

  constructor(private readonly options: XlV3PeerOptions) {
    this.timeouts = resolveTimeouts(options.timeouts);
  }

  async prepare(beginCookie: string): Promise<string> {
    const begun = beginCookies.decode(beginCookie);
    this.domain = begun.domain;
    this.link = await this.options.open();
    return prepareCookies.encode({ version: 3, domain: begun.domain, uri: this.options.uri, incomingName: `${begun.domain}--incoming` });
  }

  /** V3Source's transfer: the xl exchange over the link Prepare opened. */
  readonly transfer = async (context: V3TransferContext): Promise<{ bytesSent: number; sha256: string }> => {
    const link = this.link;
    if (link === undefined) throw new Error('no link to the destination: prepare() first');
    const hash = createHash('sha256');
    const source = this.options.stream;
    const hashed = async function* (): AsyncIterable<Uint8Array> {
      for await (const chunk of source()) {
        hash.update(chunk);
        yield chunk;
      }
    };
    const result = await new XlMigrationSender({
      transport: link.transport,
      stream: hashed(),
      timeouts: this.timeouts,
      // Step 0 ran in Begin; resume and destroy belong to Confirm.
      domain: { name: context.hookContext.domainName, suspend: context.suspend },
      deviceHooks: context.hooks.map(withoutStepZero),
      destination: context.hookContext.destination,
      live: context.hookContext.live,
      ...(link.beforeBanner === undefined ? {} : { beforeBanner: link.beforeBanner }),
    }).run();
    this.result = result;
    this.linkFailure = await link.close(result.ok);
    this.link = undefined;
    if (!result.ok && (result.state === 'FAILED_BADLY' || result.state === 'POSTCOPY_INCONSISTENT')) {
      // Past xl's go: the destination may have started the domain.
      throw new UncertainOutcomeError(`${result.error?.message ?? 'failed'} (after go: the destination may be running the domain)`, { cause: result.error });
    }
    if (!result.ok) throw result.error ?? new Error(`xl exchange ended in ${result.state}`);
    if (this.linkFailure !== undefined) throw new Error(this.linkFailure);
    return { bytesSent: result.bytesSent, sha256: hash.digest('hex') };
  };

  async finish(performCookie: string | undefined): Promise<string> {
    if (this.link !== undefined) {
      await this.link.close(false);
      this.link = undefined;
    }
    const result = this.result;
    const domain = performCookie === undefined ? this.domain : performCookies.decode(performCookie).domain;
    if (performCookie === undefined || result === undefined || !result.ok || this.linkFailure !== undefined) {
      const reason = this.linkFailure ?? result?.error?.message ?? 'perform failed on the source';
      return finishCookies.encode({ version: 3, domain, kept: false, bytesReceived: 0, reason });
    }
    // The receiver's report status 0: it received the whole stream and started the domain.
    return finishCookies.encode({ version: 3, domain, kept: true, bytesReceived: result.bytesSent });
  }
}

function withoutStepZero(hook: DeviceMigrationHook): DeviceMigrationHook {
  const migrate = hook.migrate;
  return migrate === undefined
    ? { deviceType: hook.deviceType }
    : { deviceType: hook.deviceType, migrate: (step, context) => migrate.call(hook, step, context) };
}
