/**
 * Where a writer's bytes go. A sink takes each record as a list of chunks
 * (header, body pieces, padding) and writes them in order without joining them.
 */
export interface StreamSink {
  /**
   * Write `chunks` in order. Resolves when the sink can take more (backpressure):
   * the caller must not modify the chunks before then, and must not call write()
   * again before then.
   */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** Finish the output (flush, close; a file sink moves its file into place). */
  close(): Promise<void>;
  /** Give up: release resources and discard the output where possible. Safe to call more than once. */
  abort(reason?: Error): Promise<void>;
  /** Bytes accepted so far. */
  readonly bytesWritten: number;
}

export function totalLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += chunks[i].length;
  return n;
}
