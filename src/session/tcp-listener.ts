import { isIP } from 'node:net';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { bulkReadingSocket } from './bulk-read-socket.js';
import { handshake } from './tcp-handshake.js';
import { InputChannel } from './input-channel.js';
import { OutputChannel } from './output-channel.js';

/** Connections allowed to be in their handshake at once; more are closed at once. */
const MAX_PENDING = 8;

export interface AcceptOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: Uint8Array | undefined;
  /** Each connection must finish the handshake within this (idle ones are dropped). */
  readonly handshakeMs: number;
  /** Give up when no sender got through within this. */
  readonly acceptMs: number;
  readonly onListening?: (address: AddressInfo) => void;
  readonly onRejected?: (peer: string, reason: string) => void;
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.x: reachable only from this host. */
export function isLoopback(address: string): boolean {
  if (address === 'localhost') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

/**
 * Listen on host:port and return the first connection that completes the
 * stream-migrate handshake (tcp-handshake.ts). A connection that stays idle,
 * speaks something else or lacks the token is closed and the listener keeps
 * accepting, so it cannot hold the only slot. The socket comes back paused,
 * with nothing of the stream read from it.
 */
export async function acceptSender(options: AcceptOptions): Promise<Socket> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  options.onListening?.(server.address() as AddressInfo);
  const pending = new Set<Socket>();
  try {
    return await new Promise<Socket>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => finish(new Error(`no sender completed the handshake within ${options.acceptMs} ms`)), options.acceptMs);
      const finish = (outcome: Socket | Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        server.off('connection', onConnection);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const onConnection = (socket: Socket): void => {
        const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
        if (pending.size >= MAX_PENDING) {
          socket.destroy();
          options.onRejected?.(peer, 'too many connections in their handshake');
          return;
        }
        pending.add(socket);
        const input = new InputChannel(socket);
        const output = new OutputChannel(socket);
        handshake('receiver', input, output, { token: options.token, timeoutMs: options.handshakeMs, state: 'HANDSHAKE' }).then(
          () => {
            pending.delete(socket);
            // The sender waits for the banner now: nothing more can have arrived. Keep what did, paused.
            socket.pause();
            input.detach();
            if (settled || input.bufferedBytes > 0) {
              socket.destroy();
              if (!settled) options.onRejected?.(peer, 'sent data before the banner');
              return;
            }
            finish(bulkReadingSocket(socket));
          },
          (error: unknown) => {
            pending.delete(socket);
            input.detach();
            socket.destroy();
            if (!settled) options.onRejected?.(peer, (error as Error).message);
          },
        );
      };
      server.on('connection', onConnection);
      server.once('error', (error) => finish(error));
    });
  } finally {
    server.close();
    for (const socket of pending) socket.destroy();
  }
}
