import { PassThrough } from 'node:stream';
import type { Transport } from '../../src/session/transport.js';

export type Direction = 's2r' | 'r2s';

/** A fault the link applies when the bytes flowing in `direction` reach `offset`. */
export type LinkFault =
  /** Flip one byte (xor 0xff). */
  | { readonly kind: 'corrupt'; readonly direction: Direction; readonly offset: number }
  /** Forward up to `offset`, then nothing more: the waiting side must time out. */
  | { readonly kind: 'stall'; readonly direction: Direction; readonly offset: number }
  /** Forward up to `offset`, then EOF in this direction only (a half-close). */
  | { readonly kind: 'end'; readonly direction: Direction; readonly offset: number }
  /** Forward up to `offset`, then the whole connection dies (a killed peer). */
  | { readonly kind: 'reset'; readonly direction: Direction; readonly offset: number };

export interface Link {
  readonly sender: Transport;
  readonly receiver: Transport;
  /** Bytes forwarded so far per direction. */
  readonly forwarded: Record<Direction, number>;
  /** Everything forwarded, per direction (for byte-level assertions). */
  readonly captured: Record<Direction, Uint8Array[]>;
}

/**
 * Two in-process byte pipes between a sender and a receiver, with a pump in
 * the middle that can inject one fault. Closing a side's output without
 * ending it (destroy) resets the whole link, like a killed process or a
 * dropped socket.
 */
export function createLink(fault?: LinkFault): Link {
  const senderOut = new PassThrough();
  const receiverIn = new PassThrough();
  const receiverOut = new PassThrough();
  const senderIn = new PassThrough();
  const forwarded: Record<Direction, number> = { s2r: 0, r2s: 0 };
  const captured: Record<Direction, Uint8Array[]> = { s2r: [], r2s: [] };
  const all = [senderOut, receiverIn, receiverOut, senderIn];
  let dead = false;
  // A stalled direction stays silent: not even EOF gets through it.
  const frozen = new Set<Direction>();

  const reset = (): void => {
    if (dead) return;
    dead = true;
    // Readers see EOF (a pipe whose writer died); writers get EPIPE.
    if (!frozen.has('s2r')) receiverIn.end();
    if (!frozen.has('r2s')) senderIn.end();
    const epipe = (): Error => Object.assign(new Error('write EPIPE (link reset)'), { code: 'EPIPE' });
    senderOut.destroy(epipe());
    receiverOut.destroy(epipe());
  };

  const pump = (direction: Direction, from: PassThrough, to: PassThrough): void => {
    let stopped = false;
    from.on('error', () => undefined);
    to.on('error', () => undefined);
    from.on('data', (data: Buffer) => {
      if (stopped || dead) return;
      let chunk = new Uint8Array(data);
      const start = forwarded[direction];
      const active = fault !== undefined && fault.direction === direction;
      if (active && fault.kind === 'corrupt' && fault.offset >= start && fault.offset < start + chunk.length) {
        chunk = chunk.slice();
        chunk[fault.offset - start] ^= 0xff;
      }
      if (active && fault.kind !== 'corrupt' && start + chunk.length > fault.offset) {
        chunk = chunk.subarray(0, fault.offset - start);
        stopped = true;
        if (fault.kind === 'stall') frozen.add(direction);
      }
      forwarded[direction] += chunk.length;
      captured[direction].push(chunk.slice());
      if (chunk.length > 0 && !to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
      if (stopped && fault !== undefined) {
        if (fault.kind === 'end') to.end();
        if (fault.kind === 'reset') reset();
      }
    });
    from.on('end', () => {
      if (!stopped && !dead) to.end();
    });
    from.on('close', () => {
      // Destroyed without a clean end: that side went away.
      if (!from.readableEnded) reset();
    });
  };

  pump('s2r', senderOut, receiverIn);
  pump('r2s', receiverOut, senderIn);
  for (const stream of all) stream.on('error', () => undefined);

  return {
    sender: { input: senderIn, output: senderOut },
    receiver: { input: receiverIn, output: receiverOut },
    forwarded,
    captured,
  };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
