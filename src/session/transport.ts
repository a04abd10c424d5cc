import type { ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { bulkStdin } from './bulk-read-socket.js';

/**
 * The two byte streams a side talks over: what it reads from the peer and
 * what it writes to the peer. xl uses two pipes (a child's stdin/stdout);
 * a TCP socket is both at once.
 */
export interface Transport {
  readonly input: Readable;
  readonly output: Writable;
}

export function socketTransport(socket: Socket): Transport {
  return { input: socket, output: socket };
}

/** The sender's view of a spawned receiver command: write to its stdin, read its stdout. */
export function childTransport(child: ChildProcessByStdio<Writable, Readable, Readable | null>): Transport {
  return { input: child.stdout, output: child.stdin };
}

/** The receiver's view when run as the remote command: read stdin, answer on stdout. */
export function stdioTransport(): Transport {
  return { input: bulkStdin(), output: process.stdout };
}
