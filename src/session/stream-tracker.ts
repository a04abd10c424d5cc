import type { MigrationVariant } from './migration-variant.js';

/** How a stream ended, as judged at EOF (or at its final END). */
export interface StreamEnd {
  /** The stream reached its final END record. */
  readonly complete: boolean;
  /** A checkpointed stream ended after a complete checkpoint (Remus/COLO failover). */
  readonly failover: boolean;
}

/**
 * What the session layer needs from a streaming validator: feed bytes, learn
 * when the stream's final END went by, get back the bytes that followed it
 * (the start of GO on an `xl migrate` wire), and judge the end at EOF.
 * Implementations throw on invalid input; the thrown error is reported as a
 * bad stream in the RECEIVING state.
 */
export interface StreamTracker {
  /** Must not keep `chunk` (or views of it) after returning: its memory is recycled once it is written. */
  push(chunk: Uint8Array): void;
  readonly done: boolean;
  /** Bytes pushed after the final END (only meaningful once `done`). */
  trailing(): Uint8Array;
  /** Call at EOF (or once `done`); throws if the stream is truncated or incomplete. */
  end(): StreamEnd;
  /**
   * Optional: call `listener` for every record as it is validated (a COLO
   * secondary answers checkpoints as they arrive). Trackers without it give a
   * receiver nothing to answer with.
   */
  watch?(listener: (record: TrackedRecord) => void): void;
}

/** A validated record, as much of it as the session layer reacts to. */
export interface TrackedRecord {
  readonly layer: string;
  readonly name: string;
  /** CHECKPOINT_STATE's control id. */
  readonly controlId?: number | undefined;
}

/** Creates one tracker per received stream, configured for the variant on the wire. */
export type StreamTrackerFactory = (variant: MigrationVariant) => StreamTracker;

/** A validation failure as the project's StreamFormatError carries it (read structurally). */
export interface StreamFailureInfo {
  readonly message: string;
  readonly ruleId?: string | undefined;
  readonly offset?: number | undefined;
}

export function describeStreamFailure(error: unknown): StreamFailureInfo {
  if (error instanceof Error) {
    const candidate = error as Error & { ruleId?: unknown; offset?: unknown };
    return {
      message: error.message,
      ruleId: typeof candidate.ruleId === 'string' ? candidate.ruleId : undefined,
      offset: typeof candidate.offset === 'number' ? candidate.offset : undefined,
    };
  }
  return { message: String(error) };
}
