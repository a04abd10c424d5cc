import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { InputChannel } from './input-channel.js';
import type { OutputChannel } from './output-channel.js';
import { describeBytes, ProtocolError } from './protocol-error.js';

/**
 * What `stream-migrate` speaks on a TCP connection before xl's protocol (xl
 * itself has no TCP mode: it runs the receiver over ssh, which authenticates
 * and encrypts). The sender speaks first, so a connection that says nothing
 * (or is not stream-migrate) is recognised within the handshake timeout and
 * dropped, and the listener accepts the next one.
 *
 *   hello  = "stream-migrate/1" (16 bytes) + flags (1 byte, bit 0: token) + nonce (32 bytes)
 *   sender → receiver: hello;  receiver → sender: hello
 *   with a shared token, then: sender → receiver: proof;  receiver → sender: proof
 *   proof  = HMAC-SHA256(token, role + sender nonce + receiver nonce), compared in constant time
 *
 * Both sides prove the token, so neither sends guest memory to, nor accepts
 * it from, a peer without it; fresh nonces make a recorded proof useless. The
 * stream itself is not encrypted: on untrusted networks use ssh (`--exec`).
 */
const MAGIC = Buffer.from('stream-migrate/1', 'latin1');
const FLAG_TOKEN = 0x01;
const NONCE_BYTES = 32;
const HELLO_BYTES = MAGIC.length + 1 + NONCE_BYTES;
const PROOF_BYTES = 32;

export type HandshakeRole = 'sender' | 'receiver';

export interface HandshakeOptions {
  /** The shared secret; both sides must have one, or neither. */
  readonly token?: Uint8Array | undefined;
  readonly timeoutMs: number;
  /** State to blame for failures. */
  readonly state: string;
}

export async function handshake(role: HandshakeRole, input: InputChannel, output: OutputChannel, options: HandshakeOptions): Promise<void> {
  const { token, timeoutMs, state } = options;
  const ownNonce = randomBytes(NONCE_BYTES);
  const ownHello = Buffer.concat([MAGIC, Buffer.from([token === undefined ? 0 : FLAG_TOKEN]), ownNonce]);
  const write = (bytes: Uint8Array, what: string): Promise<void> => output.writeFlushed(bytes, { state, timeoutMs, what });
  const read = (length: number, expected: string): Promise<Uint8Array> => input.readExact(length, { state, timeoutMs, expected });

  // The sender speaks first: a receiver learns within the timeout whether this is a sender at all.
  if (role === 'sender') await write(ownHello, 'handshake hello');
  const peerHello = await read(HELLO_BYTES, 'the stream-migrate handshake hello');
  if (!Buffer.from(peerHello.subarray(0, MAGIC.length)).equals(MAGIC)) {
    throw failure(
      state,
      'unexpected-data',
      `the peer is not a stream-migrate ${role === 'sender' ? 'receiver' : 'sender'} (got ${describeBytes(peerHello.subarray(0, MAGIC.length))})`,
    );
  }
  if (role === 'receiver') await write(ownHello, 'handshake hello');
  const peerHasToken = (peerHello[MAGIC.length] & FLAG_TOKEN) !== 0;
  if (peerHasToken !== (token !== undefined)) {
    const peer = role === 'sender' ? 'receiver' : 'sender';
    throw failure(
      state,
      'refused',
      token === undefined ? `the ${peer} requires a shared token: pass --token-file` : `the ${peer} has no shared token (--token-file) and cannot prove it`,
    );
  }
  if (token === undefined) return;

  const peerNonce = peerHello.subarray(MAGIC.length + 1);
  const [senderNonce, receiverNonce] = role === 'sender' ? [ownNonce, peerNonce] : [peerNonce, ownNonce];
  const proofOf = (who: HandshakeRole): Buffer => createHmac('sha256', token).update(who).update(senderNonce).update(receiverNonce).digest();
  const peerRole: HandshakeRole = role === 'sender' ? 'receiver' : 'sender';
  const checkPeer = async (): Promise<void> => {
    const proof = await read(PROOF_BYTES, 'the handshake proof').catch((error: unknown) => {
      // A receiver that rejects our proof just closes: say why that happens.
      if (role === 'sender' && error instanceof ProtocolError && error.kind === 'peer-closed') {
        throw failure(state, 'refused', 'the receiver closed the connection instead of proving the token: the tokens differ');
      }
      throw error;
    });
    if (!timingSafeEqual(Buffer.from(proof), proofOf(peerRole))) throw failure(state, 'refused', `the ${peerRole} does not have the same token`);
  };
  // The sender proves first; the receiver answers only a sender that knows the token.
  if (role === 'sender') {
    await write(proofOf('sender'), 'handshake proof');
    await checkPeer();
  } else {
    await checkPeer();
    await write(proofOf('receiver'), 'handshake proof');
  }
}

function failure(state: string, kind: 'unexpected-data' | 'refused', message: string): ProtocolError {
  return new ProtocolError(`handshake failed: ${message}`, { state, kind, expected: 'a stream-migrate peer with the same token setting' });
}
