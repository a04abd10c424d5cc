/** Options every inspector walk takes: how to read the stream and where to report progress. */
import type { ReaderOptions } from '../reader/decoder.js';

export interface WalkOptions {
  /** dialect, mode, strict (default strict, like Xen's verifier). */
  reader?: ReaderOptions | undefined;
  /** Called after each item with the (decompressed) bytes walked so far. */
  onProgress?: ((bytesDone: number) => void) | undefined;
}
