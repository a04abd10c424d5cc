import { fstatSync } from 'node:fs';
import { Socket, type SocketConstructorOpts } from 'node:net';
import { ByteRing } from './byte-ring.js';

/** A read goes straight into the ring when it has this much room in one piece. */
const MIN_READ_BYTES = 256 * 1024;
/**
 * The ring the reads land in. It must outlast what consumers hold at once:
 * InputChannel's high-water mark (4 MiB) and a capture's batch being written
 * plus the one filling (2 × 4 MiB), each overshot by up to a read.
 */
const RING_BYTES = 32 * 1024 * 1024;

const rings = new WeakMap<object, ByteRing>();

/** The ring behind a socket made here; views read from it must be released to it (InputChannel does). */
export function ringOf(source: object): ByteRing | undefined {
  return rings.get(source);
}

type SocketInit = { fd: number; readable: true; writable: boolean } | { handle: unknown; readable: true; writable: true; allowHalfOpen: boolean };

/**
 * A socket whose reads land straight in a recycled ring (Node's `onread`,
 * with a buffer chosen before each read) and are emitted as 'data' views of
 * it. Node's default is a fresh 64 KiB buffer and a 'data' event per 64 KiB:
 * for a migration stream that was about 16,000 events and as many newly
 * page-faulted buffers per GiB. When consumers hold the whole ring, a read
 * goes to a spare buffer and is copied out (slower, never blocked).
 */
function bulkSocket(init: SocketInit, ringBytes = RING_BYTES): Socket {
  const ring = new ByteRing(ringBytes);
  let spare: Uint8Array | undefined;
  let socket: Socket | undefined;
  socket = new Socket({
    ...init,
    onread: {
      buffer: (): Uint8Array => {
        spare ??= Buffer.allocUnsafeSlow(MIN_READ_BYTES);
        return ring.space(MIN_READ_BYTES) ?? spare;
      },
      callback: (length: number, buffer: Uint8Array): boolean => {
        const view = ring.owns(buffer) ? ring.commit(buffer, length) : new Uint8Array(buffer.subarray(0, length));
        // The 'data' listener decides about pausing (InputChannel pauses above its high-water mark).
        socket?.emit('data', view);
        return true;
      },
    },
    // `onread` and `handle` are Node options its type declarations leave out.
  } as unknown as SocketConstructorOpts);
  rings.set(socket, ring);
  return socket;
}

let stdinSocket: Socket | undefined;

/**
 * Standard input as a bulk-reading socket when it is a pipe or a socket (what
 * xl's ssh or `--exec` gives the receiver); `process.stdin` otherwise (a file,
 * a terminal). Created once: two handles on fd 0 would conflict.
 */
export function bulkStdin(): Socket {
  if (stdinSocket !== undefined) return stdinSocket;
  stdinSocket = isPipeOrSocket(0) ? bulkSocket({ fd: 0, readable: true, writable: false }) : (process.stdin as unknown as Socket);
  return stdinSocket;
}

function isPipeOrSocket(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/**
 * The same connection as `socket`, reading in bulk from now on. `socket` must
 * be paused with nothing buffered (a connection whose handshake consumed
 * exactly what arrived); it is abandoned, not closed: the returned socket
 * owns the connection.
 */
export function bulkReadingSocket(socket: Socket, ringBytes = RING_BYTES): Socket {
  const handle = (socket as unknown as { _handle?: unknown })._handle;
  if (handle === undefined || handle === null) return socket;
  return bulkSocket({ handle, readable: true, writable: true, allowHalfOpen: socket.allowHalfOpen }, ringBytes);
}
