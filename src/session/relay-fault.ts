import { copyBytes } from '../codec/bytes.js';
import { PushDecoder } from '../reader/push-decoder.js';
import { readerOptionsFor } from './push-decoder-tracker.js';
import type { RelayFault } from './relay.js';

/**
 * The most significant byte of the record header's body_length: flipped, the
 * length exceeds the reader's limit (RECORD-LENGTH-MAX, as in Xen's reader),
 * which is seen from the 8 header bytes alone, so the damaged byte never
 * leaves the relay.
 */
const LENGTH_HIGH_BYTE = 7;

/**
 * TEST ONLY (`stream-migrate relay --fault-corrupt-page-header OFFSET`): damage
 * one byte of the first PAGE_DATA header that starts at or after stream offset
 * `from`, as a faulty wire would, before the relay validates it. A shadow
 * reader finds the record; a header split over an earlier chunk (already
 * passed on) is skipped for the next one. Exists to prove the refusal path
 * against real xl.
 */
export class PageHeaderFault implements RelayFault {
  private readonly shadow = new PushDecoder({ ...readerOptionsFor('plain'), pageContents: 'skip' });
  private position = 0;
  private fired = false;

  constructor(private readonly from: number) {}

  get hasFired(): boolean {
    return this.fired;
  }

  apply(chunk: Uint8Array): Uint8Array {
    const start = this.position;
    this.position += chunk.length;
    if (this.fired || this.shadow.done) return chunk;
    let items: ReturnType<PushDecoder['push']>;
    try {
      items = this.shadow.push(chunk);
    } catch {
      this.fired = true; // already invalid: nothing left to damage
      return chunk;
    }
    for (const item of items) {
      if (item.kind !== 'record' || item.record.name !== 'PAGE_DATA' || item.offset < this.from) continue;
      const target = item.offset + LENGTH_HIGH_BYTE - start;
      if (target < 0 || target >= chunk.length) continue;
      const damaged = copyBytes(chunk);
      damaged[target] ^= 0x80;
      this.fired = true;
      return damaged;
    }
    return chunk;
  }
}
