import type { MigrationVariant } from './migration-variant.js';
import type { StreamEnd, StreamTracker } from './stream-tracker.js';

/** The options the project's PushDecoder (src/reader/push-decoder.ts) accepts. */
export interface PushDecoderOptions {
  dialect?: 'upstream' | 'postcopy-rfc';
  mode?: 'auto' | 'plain' | 'remus' | 'colo';
  strict?: boolean;
  stopAtEnd?: boolean;
}

/** The part of PushDecoder's contract the session layer relies on. */
export interface PushDecoderLike {
  push(chunk: Uint8Array): unknown[];
  readonly done: boolean;
  trailing(): Uint8Array;
  end(): StreamEnd;
}

/** Reader options for what travels on an `xl migrate` wire of the given variant. */
export function readerOptionsFor(variant: MigrationVariant): PushDecoderOptions {
  switch (variant) {
    case 'plain':
      return { dialect: 'upstream', mode: 'plain', stopAtEnd: true };
    case 'remus':
      return { dialect: 'upstream', mode: 'remus', stopAtEnd: true };
    case 'colo':
      return { dialect: 'upstream', mode: 'colo', stopAtEnd: true };
    case 'postcopy':
      return { dialect: 'postcopy-rfc', mode: 'plain', stopAtEnd: true };
  }
}

/** Adapt a PushDecoder to the session layer's StreamTracker (decoded items are not needed here). */
export function trackerFromPushDecoder(decoder: PushDecoderLike): StreamTracker {
  return {
    push(chunk: Uint8Array): void {
      decoder.push(chunk);
    },
    get done(): boolean {
      return decoder.done;
    },
    trailing: () => decoder.trailing(),
    end: () => decoder.end(),
  };
}
