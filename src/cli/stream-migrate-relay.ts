/**
 * `stream-migrate relay`: a validating relay between a real `xl migrate` and a
 * real `xl migrate-receive` (src/session/relay.ts). The sender's side is
 * stdin/stdout (the relay is xl's remote command) or one TCP connection
 * (`--listen`); the destination's side is a command (`--exec`), a TCP
 * connection (`--connect`) or stdin/stdout (only with `--listen`).
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Argv } from 'yargs';
import { UsageError } from './errors.js';
import { connectTo, log, logListening, parseHostPort, readToken, TokenFileError } from './migrate-endpoints.js';
import { handshakeMsOf, parseListen, timeoutsOf } from './stream-migrate.js';
import { checkOutput } from '../io/atomic-output.js';
import { CommandGroup } from '../session/command-group.js';
import { PageHeaderFault } from '../session/relay-fault.js';
import { XlMigrationRelay, type RelayOptions, type RelayResult } from '../session/relay.js';
import { handshake } from '../session/tcp-handshake.js';
import { acceptSender } from '../session/tcp-listener.js';
import type { SessionTimeouts } from '../session/timeouts.js';
import { bulkStdin } from '../session/bulk-read-socket.js';
import { childTransport, socketTransport, stdioTransport, type Transport } from '../session/transport.js';

export interface RelayArgs {
  listen?: string | undefined;
  exec?: string | undefined;
  connect?: string | undefined;
  'token-file'?: string | undefined;
  capture?: string | undefined;
  strict: boolean;
  'fault-corrupt-page-header'?: number | undefined;
  timeout: number;
  'idle-timeout': number;
  'handshake-timeout': number;
  debug: boolean;
}

/** How long the destination command may take to exit once the relay failed and closed its pipes. */
const FAILED_COMMAND_GRACE_MS = 1000;

export const relayOptions = {
  listen: { type: 'string', describe: "take the sender's side from one TCP connection on PORT (loopback) or HOST:PORT instead of stdin/stdout" },
  exec: { type: 'string', describe: 'run the destination (e.g. "xl migrate-receive") via sh -c and speak over its stdin/stdout' },
  connect: { type: 'string', describe: 'the destination is a stream-migrate receiver or relay listening on HOST:PORT' },
  'token-file': { type: 'string', describe: 'TCP ends (--listen, --connect): prove this shared secret and require it of the peer' },
  capture: { type: 'string', describe: 'also write the stream to FILE (appears only once the stream validated)' },
  strict: { type: 'boolean', default: false, describe: "validate with the verifier's rules, not only Xen's C reader's" },
  'fault-corrupt-page-header': {
    type: 'number',
    describe: 'TEST ONLY: damage the first PAGE_DATA header at or after this stream offset before validating (proves the refusal path)',
  },
  timeout: { type: 'number', default: 120, describe: 'seconds to wait for go after the stream, and for a connection' },
  'idle-timeout': { type: 'number', default: 60, describe: 'seconds of silence allowed while the stream flows' },
  'handshake-timeout': { type: 'number', default: 10, describe: 'TCP: seconds a connection has to complete the stream-migrate handshake' },
  debug: { type: 'boolean', default: false, describe: 'print stack traces on failure' },
} as const;

export const relayCommand = (setStatus: (status: number) => void) => ({
  name: 'relay',
  command: 'relay',
  describe: 'validating relay between `xl migrate` (stdin/stdout or --listen) and `xl migrate-receive` (--exec, --connect or stdin/stdout)',
  builder: (y: Argv) => y.options(relayOptions),
  handler: async (args: RelayArgs) => {
    setStatus(await relay(args));
  },
});

function checkArgs(args: RelayArgs): void {
  const destinations = [args.exec, args.connect].filter((d) => d !== undefined).length;
  if (destinations > 1) throw new UsageError('relay takes one destination: --exec CMD or --connect HOST:PORT');
  if (destinations === 0 && args.listen === undefined) {
    throw new UsageError('relay needs a destination (--exec CMD or --connect HOST:PORT); stdin/stdout is the sender unless --listen is given');
  }
  if (args['token-file'] !== undefined && args.listen === undefined && args.connect === undefined) {
    throw new UsageError('--token-file is for the TCP ends (--listen, --connect); over --exec or stdio, ssh authenticates');
  }
  const fault = args['fault-corrupt-page-header'];
  if (fault !== undefined && (!Number.isInteger(fault) || fault < 0)) throw new UsageError('--fault-corrupt-page-header expects a stream offset (integer ≥ 0)');
}

export async function relay(args: RelayArgs): Promise<number> {
  checkArgs(args);
  const timeouts = timeoutsOf(args);
  const handshakeMs = handshakeMsOf(args);
  if (args.capture !== undefined) {
    try {
      await checkOutput(args.capture, { exclusive: true });
    } catch (error) {
      log(`relay: ${(error as Error).message}`);
      return 2;
    }
  }
  let token: Uint8Array | undefined;
  try {
    token = args['token-file'] === undefined ? undefined : await readToken(args['token-file']);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    log(`relay failed before forwarding anything: ${(error as Error).message}`);
    return error instanceof TokenFileError ? 2 : 1;
  }
  const fault = args['fault-corrupt-page-header'] === undefined ? undefined : new PageHeaderFault(args['fault-corrupt-page-header']);
  if (fault !== undefined) log(`warning: test-only fault: the first PAGE_DATA header at or after offset ${args['fault-corrupt-page-header']} will be damaged`);
  const ends = new Ends();
  try {
    const source = await openSource(args, ends, token, timeouts, handshakeMs);
    const destination = await openDestination(args, ends, token, timeouts, handshakeMs);
    const options: RelayOptions = {
      source,
      destination: destination.transport,
      strict: args.strict,
      timeouts,
      ...(args.capture === undefined ? {} : { capturePath: args.capture }),
      ...(fault === undefined ? {} : { fault }),
      ...(destination.beforeForwarding === undefined ? {} : { beforeForwarding: destination.beforeForwarding }),
    };
    const result = await new XlMigrationRelay(options).run();
    const code = await ends.close(result.ok ? timeouts.messageMs : Math.min(timeouts.messageMs, FAILED_COMMAND_GRACE_MS));
    return finish(result, code, args.debug);
  } catch (error) {
    await ends.close(FAILED_COMMAND_GRACE_MS);
    if (error instanceof UsageError) throw error;
    log(`relay failed before forwarding anything: ${(error as Error).message}`);
    return 1;
  }
}

/** What the relay opened: closed at the end whatever happened. */
class Ends {
  readonly sockets: Socket[] = [];
  stdio = false;
  command: { group: CommandGroup; transport: Transport } | undefined;

  /** Close everything; returns the destination command's exit status (undefined without one). */
  async close(commandWaitMs: number): Promise<number | null | undefined> {
    for (const socket of this.sockets) socket.destroy();
    if (this.stdio) bulkStdin().destroy();
    if (this.command === undefined) return undefined;
    this.command.transport.output.destroy();
    this.command.transport.input.destroy();
    return this.command.group.waitOrKill(commandWaitMs);
  }
}

async function openSource(args: RelayArgs, ends: Ends, token: Uint8Array | undefined, timeouts: SessionTimeouts, handshakeMs: number): Promise<Transport> {
  if (args.listen === undefined) {
    ends.stdio = true;
    return stdioTransport();
  }
  const socket = await acceptSender({
    ...parseListen(args.listen),
    token,
    handshakeMs,
    acceptMs: timeouts.messageMs,
    onListening: (address) => logListening(address, token, 'send a stream through this relay', 'ssh'),
    onRejected: (peer, reason) => log(`closed the connection from ${peer}: ${reason}`),
  });
  ends.sockets.push(socket);
  return socketTransport(socket);
}

async function openDestination(
  args: RelayArgs,
  ends: Ends,
  token: Uint8Array | undefined,
  timeouts: SessionTimeouts,
  handshakeMs: number,
): Promise<{ transport: Transport; beforeForwarding?: RelayOptions['beforeForwarding'] }> {
  if (args.exec !== undefined) {
    // Like xl: sh -c, its stdin/stdout are the wire, its stderr passes through; its own process group.
    const child = spawn('sh', ['-c', args.exec], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    const transport = childTransport(child);
    ends.command = { group: new CommandGroup(child), transport };
    return { transport };
  }
  if (args.connect !== undefined) {
    const { host, port } = parseHostPort(args.connect, 'connect');
    const socket = await connectTo(host, port, timeouts.messageMs);
    ends.sockets.push(socket);
    return {
      transport: socketTransport(socket),
      beforeForwarding: (input, output) => handshake('sender', input, output, { token, timeoutMs: handshakeMs, state: 'STREAMING' }),
    };
  }
  ends.stdio = true;
  return { transport: stdioTransport() };
}

function finish(result: RelayResult, commandCode: number | null | undefined, debug: boolean): number {
  if (!result.ok) {
    log(`relay failed in ${result.failedIn ?? result.state} (final state ${result.state}): ${result.error?.message ?? 'the migration did not complete'}`);
    if (debug && result.error?.stack !== undefined) process.stderr.write(`${result.error.stack}\n`);
    return 1;
  }
  if (commandCode !== undefined && commandCode !== 0) {
    log(`relay completed but the destination command ${commandCode === null ? 'did not exit cleanly' : `exited with status ${commandCode}`}`);
    return 1;
  }
  const capture = result.capturePath === undefined ? '' : `; capture in ${result.capturePath}`;
  log(`relayed ${result.streamBytes} stream bytes (valid), go forwarded, the destination reports its copy runs${capture}`);
  return 0;
}
