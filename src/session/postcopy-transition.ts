import { PushDecoder } from '../reader/push-decoder.js';
import { readerOptionsFor } from './push-decoder-tracker.js';

/**
 * Where a postcopy sender's stream passes the point after which the guest may
 * run at the destination: the end of libxl's POSTCOPY_TRANSITION_END record
 * (seed 004: `postcopy_transitioned`; spec/PROTOCOLS.md §1.5). The sender
 * shows it every chunk just before handing it to the transport; the chunk that
 * completes the record is the transition, whether or not its write then
 * succeeds (once handed over, the bytes may have arrived).
 *
 * The stream is read with the reader's rules, pages counted, not assembled.
 * A stream the reader cannot follow before the record is one the receiver
 * refuses before it could resume the guest, so watching simply stops there.
 */
export class PostcopyTransitionWatch {
  private readonly decoder = new PushDecoder({ ...readerOptionsFor('postcopy'), pageContents: 'skip' });
  private watching = true;
  private endOffset: number | undefined;

  /** Offset just past POSTCOPY_TRANSITION_END, once seen. */
  get transitionEnd(): number | undefined {
    return this.endOffset;
  }

  /** The next bytes about to be handed out; true when they complete the transition record. */
  completes(bytes: Uint8Array): boolean {
    if (!this.watching) return false;
    try {
      for (const item of this.decoder.push(bytes)) {
        if (item.kind === 'record' && item.layer === 'libxl' && item.record.name === 'POSTCOPY_TRANSITION_END') {
          this.endOffset = item.offset + item.length;
          this.watching = false;
          return true;
        }
      }
    } catch {
      this.watching = false;
    }
    return false;
  }
}
