import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MigrationVariant } from '../../src/session/migration-variant.js';
import type { StreamTrackerFactory } from '../../src/session/stream-tracker.js';
import type { SessionTimeouts } from '../../src/session/timeouts.js';
import { XlMigrationReceiver, type ReceiverOptions, type ReceiverResult } from '../../src/session/xl-receiver.js';
import { XlMigrationSender, type SenderOptions, type SenderResult } from '../../src/session/xl-sender.js';
import { createLink, type Link, type LinkFault } from './session-link.js';

/** Short but generous enough for a loaded CI machine; faults that stall rely on these expiring. */
export const TEST_TIMEOUTS: SessionTimeouts = { messageMs: 400, idleMs: 400, writeMs: 400 };

export interface PairRun {
  readonly sender: SenderResult;
  readonly receiver: ReceiverResult;
  readonly link: Link;
  readonly dir: string;
  readonly finalPath: string;
  /** Files left in the directory (temporary files must never remain). */
  readonly leftovers: string[];
  readonly finalBytes?: Uint8Array | undefined;
}

export interface PairOptions {
  readonly variant: MigrationVariant;
  readonly bytes: Uint8Array;
  readonly trackerFactory: StreamTrackerFactory;
  readonly fault?: LinkFault;
  readonly sender?: Partial<Omit<SenderOptions, 'transport' | 'stream'>>;
  readonly receiver?: Partial<Omit<ReceiverOptions, 'transport' | 'outputPath' | 'trackerFactory'>>;
  /** Split the stream into chunks of this size (exercises boundaries). */
  readonly chunkSize?: number;
  /** Let the sender learn the receiver's outcome (Remus/COLO have no acknowledgement). */
  readonly senderSeesReceiverVerdict?: boolean;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** Run a real sender against a real receiver over an in-process link. */
export async function runPair(options: PairOptions): Promise<PairRun> {
  const dir = await mkdtemp(join(tmpdir(), 'session-test-'));
  const finalPath = join(dir, 'capture.bin');
  const link = createLink(options.fault);
  const receiver = new XlMigrationReceiver({
    transport: link.receiver,
    outputPath: finalPath,
    trackerFactory: options.trackerFactory,
    variant: options.variant,
    timeouts: TEST_TIMEOUTS,
    ...options.receiver,
  });
  const receiving = receiver.run();
  const sender = new XlMigrationSender({
    transport: link.sender,
    stream: chunked(options.bytes, options.chunkSize ?? 64),
    variant: options.variant,
    timeouts: TEST_TIMEOUTS,
    ...(options.senderSeesReceiverVerdict === true ? { peerVerdict: () => receiving.then((result) => result.ok) } : {}),
    ...options.sender,
  });
  const [senderResult, receiverResult] = await Promise.all([sender.run(), receiving]);
  const leftovers = (await readdir(dir)).filter((name) => name !== 'capture.bin');
  const finalBytes = await readFile(finalPath).then(
    (buffer) => new Uint8Array(buffer),
    () => undefined,
  );
  await rm(dir, { recursive: true, force: true });
  return { sender: senderResult, receiver: receiverResult, link, dir, finalPath, leftovers, finalBytes };
}
