import { connect, createServer, type Socket } from 'node:net';
import { socketTransport, type Transport } from './transport.js';

/** A listening socket that accepts exactly one connection, with a bounded wait. */
export interface OneShotListener {
  readonly uri: string;
  accept(timeoutMs: number): Promise<Transport>;
  close(): void;
}

export async function listenOnce(host = '127.0.0.1', port = 0): Promise<OneShotListener> {
  const server = createServer();
  let pending: Socket | undefined;
  server.on('connection', (socket) => {
    if (pending === undefined) pending = socket;
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');
  return {
    uri: `tcp://${address.address}:${address.port}`,
    accept: (timeoutMs) =>
      new Promise<Transport>((resolve, reject) => {
        const ready = (socket: Socket): void => {
          clearTimeout(timer);
          server.off('close', closed);
          server.close();
          resolve(socketTransport(socket));
        };
        const closed = (): void => {
          clearTimeout(timer);
          server.off('connection', ready);
          reject(new Error(`listener on ${address.address}:${address.port} closed before a connection arrived`));
        };
        const timer = setTimeout(() => {
          server.off('connection', ready);
          server.off('close', closed);
          server.close();
          reject(new Error(`no connection on ${address.address}:${address.port} within ${timeoutMs} ms`));
        }, timeoutMs);
        server.once('close', closed);
        if (pending !== undefined) ready(pending);
        else server.once('connection', ready);
      }),
    close: () => server.close(),
  };
}

/** Connect to a `tcp://HOST:PORT` URI as produced by `listenOnce`. */
export async function connectUri(uri: string, timeoutMs: number): Promise<Transport> {
  const match = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(uri);
  if (match === null) throw new Error(`unsupported migration URI ${uri}`);
  const socket = connect({ host: match[1], port: Number(match[2]) });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to ${uri} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return socketTransport(socket);
}
