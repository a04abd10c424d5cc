import { PushDecoder } from '../reader/push-decoder.js';
import type { MigrationVariant } from './migration-variant.js';
import type { StreamEnd, StreamTracker, StreamTrackerFactory, TrackedRecord } from './stream-tracker.js';

/** The options the project's PushDecoder (src/reader/push-decoder.ts) accepts that matter here. */
export interface PushDecoderOptions {
  dialect?: 'upstream' | 'postcopy-rfc';
  mode?: 'auto' | 'plain' | 'remus' | 'colo';
  strict?: boolean;
  stopAtEnd?: boolean;
  pageContents?: 'read' | 'skip';
}

/** The part of PushDecoder's contract the session layer relies on. */
export interface PushDecoderLike {
  push(chunk: Uint8Array): unknown[];
  readonly done: boolean;
  trailing(): Uint8Array;
  end(): StreamEnd;
}

/**
 * Reader options for what travels on an `xl migrate` wire of the given
 * variant. Lenient by default: a stand-in receiver should accept what Xen's
 * own C reader accepts; `strict` adds the verifier's rules.
 */
export function readerOptionsFor(variant: MigrationVariant, strict = false): PushDecoderOptions {
  switch (variant) {
    case 'plain':
      return { dialect: 'upstream', mode: 'plain', strict, stopAtEnd: true };
    case 'remus':
      return { dialect: 'upstream', mode: 'remus', strict, stopAtEnd: true };
    case 'colo':
      return { dialect: 'upstream', mode: 'colo', strict, stopAtEnd: true };
    case 'postcopy':
      return { dialect: 'postcopy-rfc', mode: 'plain', strict, stopAtEnd: true };
  }
}

/** Adapt a PushDecoder to the session layer's StreamTracker (only watchers look at the decoded records). */
export function trackerFromPushDecoder(decoder: PushDecoderLike): StreamTracker {
  let listener: ((record: TrackedRecord) => void) | undefined;
  return {
    push(chunk: Uint8Array): void {
      const items = decoder.push(chunk);
      if (listener !== undefined) for (const item of items) notifyRecord(item, listener);
    },
    watch(next: (record: TrackedRecord) => void): void {
      listener = next;
    },
    get done(): boolean {
      return decoder.done;
    },
    trailing: () => decoder.trailing(),
    end: () => decoder.end(),
  };
}

/**
 * The default validator: the project's streaming reader, configured per
 * variant. Pages pass through unassembled (the capture file gets the pushed
 * bytes as they are; every other byte and every record's framing is checked).
 */
export function pushDecoderTrackerFactory(options: { strict?: boolean } = {}): StreamTrackerFactory {
  return (variant) => trackerFromPushDecoder(new PushDecoder({ ...readerOptionsFor(variant, options.strict ?? false), pageContents: 'skip' }));
}

/** A decoded record item (src/reader/items.ts, read structurally) to the watcher. */
function notifyRecord(item: unknown, listener: (record: TrackedRecord) => void): void {
  const candidate = item as { kind?: unknown; layer?: unknown; record?: { name?: unknown; body?: { kind?: unknown; controlId?: unknown } } };
  if (candidate.kind !== 'record' || typeof candidate.layer !== 'string' || typeof candidate.record?.name !== 'string') return;
  const body = candidate.record.body;
  const controlId = body?.kind === 'checkpoint-state' && typeof body.controlId === 'number' ? body.controlId : undefined;
  listener({ layer: candidate.layer, name: candidate.record.name, controlId });
}
