/**
 * What the stream-migrate commands share about reaching a peer: HOST:PORT
 * arguments, the token file, a bounded TCP connect, and the one log format.
 */
import { readFile, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { isLoopback } from '../session/tcp-listener.js';
import { withTimeout } from '../session/timeouts.js';
import { UsageError } from './errors.js';

const NAME = 'stream-migrate';

export function log(line: string): void {
  process.stderr.write(`${NAME}: ${line}\n`);
}

/** The shared secret for the TCP handshake: the file's bytes, without a trailing newline. */
export async function readToken(path: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    const stats = await stat(path);
    // Like ssh with a private key: a secret others can read is no secret, but say it rather than refuse.
    if ((stats.mode & 0o077) !== 0) log(`warning: token file ${path} is readable by other users (chmod 600 it)`);
    bytes = await readFile(path);
  } catch (error) {
    throw new TokenFileError(
      `cannot read token file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  const token = bytes.subarray(0, bytes.length - (bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? 2 : 1) : 0));
  if (token.length === 0) throw new UsageError(`token file ${path} is empty`);
  return token;
}

export class TokenFileError extends Error {}

export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match === null ? Number.NaN : Number(match[2]);
  if (match === null || match[1] === '' || port > 65535) throw new UsageError(`--${flag} expects HOST:PORT, got "${value}"`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** Bound a wait; on timeout, fail naming what was awaited. */
function timeoutAfter<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(promise, ms, () => {
    throw new Error(`timed out after ${ms} ms ${what}`);
  });
}

export async function connectTo(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = connect({ host, port });
  try {
    await timeoutAfter(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      timeoutMs,
      `connecting to ${host}:${port}`,
    );
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return socket;
}

/**
 * The log lines of a command listening for a sender: where it listens, and a
 * warning when that address is reachable from other hosts (what an open
 * listener lets anyone do, and what to use on an untrusted network).
 */
export function logListening(address: AddressInfo, token: Uint8Array | undefined, exposure: string, remedy: string): void {
  log(`listening on ${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`);
  if (isLoopback(address.address)) return;
  log(
    `warning: listening on ${address.address}, reachable from other hosts: ` +
      (token === undefined ? `anyone who connects can ${exposure}; ` : 'the token is checked but the stream is not encrypted; ') +
      `on an untrusted network use ${remedy}`,
  );
}
