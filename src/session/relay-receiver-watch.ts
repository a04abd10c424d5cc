import { BANNER, PERMISSION, READY, REPORT, REPORT_STATUS_OK, type FixedMessage } from './fixed-messages.js';

/**
 * Follows what `xl migrate-receive` says (banner, ready, report + status byte,
 * permission) in the bytes the relay has already passed on, to learn the
 * outcome. It never holds anything back: the sender judges these messages.
 */
export class ReceiverMessageWatch {
  private readonly expected: FixedMessage[] = [BANNER, READY, REPORT];
  private matched = 0;
  private status: number | undefined;
  private awaitingStatus = false;
  private offTrack = false;

  /** The status byte after the report, once it went by. */
  get reportStatus(): number | undefined {
    return this.status;
  }

  /** The destination said something other than xl's messages (the sender will have refused it). */
  get unexpected(): boolean {
    return this.offTrack;
  }

  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (this.offTrack) return;
      this.take(byte);
    }
  }

  private take(byte: number): void {
    if (this.awaitingStatus) {
      this.awaitingStatus = false;
      this.status = byte;
      // A failed start is followed by permission for the sender to resume.
      if (byte !== REPORT_STATUS_OK) this.expected.push(PERMISSION);
      return;
    }
    const message = this.expected[0];
    if (message === undefined || message.bytes[this.matched] !== byte) {
      this.offTrack = true;
      return;
    }
    this.matched += 1;
    if (this.matched < message.bytes.length) return;
    this.expected.shift();
    this.matched = 0;
    if (message === REPORT) this.awaitingStatus = true;
  }
}
