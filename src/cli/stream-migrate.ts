#!/usr/bin/env node
/**
 * stream-migrate: stand in for either end of `xl migrate`.
 *
 *   stream-migrate receive -o FILE [--listen HOST:PORT]
 *   stream-migrate send FILE (--exec "CMD ..." | --connect HOST:PORT)
 *
 * Exit status (src/cli/errors.ts): 0 only when the whole protocol completed;
 * 1 with one line naming the failing state and the reason; 2 for usage errors.
 * All diagnostics go to stderr: on the receiver, stdout is the protocol.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_OK, failWithUsageError, guardStandardStreams, reportError, UsageError } from './errors.js';
import { namedCommand, refuseEmptyArguments } from './argv-checks.js';
import { helpWidth } from './help-width.js';
import { packageVersion } from './version.js';
import type { MigrationVariant } from '../session/migration-variant.js';
import { pushDecoderTrackerFactory } from '../session/push-decoder-tracker.js';
import { resolveTimeouts, withTimeout, type SessionTimeouts } from '../session/timeouts.js';
import { childTransport, socketTransport, stdioTransport } from '../session/transport.js';
import { checkOutput } from '../io/atomic-output.js';
import { XlMigrationReceiver, type ReceiverResult } from '../session/xl-receiver.js';
import { XlMigrationSender, type SenderResult } from '../session/xl-sender.js';

const NAME = 'stream-migrate';

interface CommonArgs {
  remus: boolean;
  colo: boolean;
  postcopy: boolean;
  timeout: number;
  'idle-timeout': number;
  debug: boolean;
}

function variantOf(args: CommonArgs): MigrationVariant {
  const chosen = (['remus', 'colo', 'postcopy'] as const).filter((flag) => args[flag]);
  if (chosen.length > 1) throw new UsageError(`--${chosen.join(' and --')} are mutually exclusive`);
  return chosen[0] ?? 'plain';
}

function timeoutsOf(args: CommonArgs): SessionTimeouts {
  const ms = (seconds: number, flag: string): number => {
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--${flag} must be a positive number of seconds`);
    return Math.round(seconds * 1000);
  };
  const messageMs = ms(args.timeout, 'timeout');
  return resolveTimeouts({ messageMs, writeMs: messageMs, idleMs: ms(args['idle-timeout'], 'idle-timeout') });
}

function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match === null ? Number.NaN : Number(match[2]);
  if (match === null || match[1] === '' || port > 65535) throw new UsageError(`--${flag} expects HOST:PORT, got "${value}"`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function log(line: string): void {
  process.stderr.write(`${NAME}: ${line}\n`);
}

function reportFailure(side: 'send' | 'receive', result: SenderResult | ReceiverResult, debug: boolean): void {
  const where = result.failedIn ?? result.state;
  log(`${side} failed in ${where} (final state ${result.state}): ${result.error?.message ?? 'protocol did not complete'}`);
  if (debug && result.error?.stack !== undefined) process.stderr.write(`${result.error.stack}\n`);
}

/** Bound a wait; on timeout, fail naming what was awaited. */
function timeoutAfter<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(promise, ms, () => {
    throw new Error(`timed out after ${ms} ms ${what}`);
  });
}

async function acceptOne(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const shown = typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : `${host}:${port}`;
  log(`listening on ${shown}`);
  try {
    return await timeoutAfter(
      new Promise<Socket>((resolve) => server.once('connection', resolve)),
      timeoutMs,
      'waiting for a connection',
    );
  } finally {
    server.close();
  }
}

async function connectTo(host: string, port: number, timeoutMs: number): Promise<Socket> {
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

async function receive(args: CommonArgs & { output: string; listen?: string; strict: boolean }): Promise<number> {
  const variant = variantOf(args);
  const timeouts = timeoutsOf(args);
  const endpoint = args.listen === undefined ? undefined : parseHostPort(args.listen, 'listen');
  try {
    // '', a directory, a device: refused before anything is read or sent.
    await checkOutput(args.output, { exclusive: true });
  } catch (error) {
    log(`receive: ${(error as Error).message}`);
    return 2;
  }
  let socket: Socket | undefined;
  if (endpoint !== undefined) {
    try {
      socket = await acceptOne(endpoint.host, endpoint.port, timeouts.messageMs);
    } catch (error) {
      log(`receive failed before the protocol started: ${(error as Error).message}`);
      return 1;
    }
  }
  const transport = socket === undefined ? stdioTransport() : socketTransport(socket);
  const receiver = new XlMigrationReceiver({
    transport,
    outputPath: args.output,
    variant,
    timeouts,
    trackerFactory: pushDecoderTrackerFactory({ strict: args.strict }),
  });
  const result = await receiver.run();
  socket?.destroy();
  if (socket === undefined) process.stdin.destroy();
  if (!result.ok) {
    reportFailure('receive', result, args.debug);
    // Past the point of no return the capture was committed: it stays (the sender may have let go of its domain).
    if (result.outputPath !== undefined) log(`the received stream was complete and is kept in ${result.outputPath}`);
    return 1;
  }
  log(`received ${result.bytesReceived} bytes into ${args.output} (${variant}, final state ${result.state})`);
  return 0;
}

async function send(args: CommonArgs & { file: string; exec?: string; connect?: string }): Promise<number> {
  const variant = variantOf(args);
  const timeouts = timeoutsOf(args);
  if ((args.exec === undefined) === (args.connect === undefined)) throw new UsageError('send needs exactly one of --exec CMD or --connect HOST:PORT');
  const endpoint = args.connect === undefined ? undefined : parseHostPort(args.connect, 'connect');
  try {
    await access(args.file);
  } catch {
    log(`send failed before the protocol started: cannot read ${args.file}`);
    return 1;
  }

  if (endpoint !== undefined) {
    let socket: Socket;
    try {
      socket = await connectTo(endpoint.host, endpoint.port, timeouts.messageMs);
    } catch (error) {
      log(`send failed before the protocol started: ${(error as Error).message}`);
      return 1;
    }
    const result = await new XlMigrationSender({ transport: socketTransport(socket), stream: createReadStream(args.file), variant, timeouts, destination: args.connect }).run();
    socket.destroy();
    return finishSend(result, args.debug);
  }

  // Like xl: run the command through sh, talk over its stdin/stdout, let its stderr through.
  const child = spawn('sh', ['-c', args.exec ?? ''], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal === null ? code : null));
    child.once('error', () => resolve(null));
  });
  const result = await new XlMigrationSender({
    transport: childTransport(child),
    stream: createReadStream(args.file),
    variant,
    timeouts,
    destination: args.exec,
    peerVerdict: async () => (await exited) === 0,
  }).run();
  let code: number | null;
  try {
    code = await timeoutAfter(exited, timeouts.messageMs, 'waiting for the receiver command to exit');
  } catch {
    child.kill('SIGKILL');
    code = null;
  }
  if (!result.ok) return finishSend(result, args.debug);
  if (code !== 0) {
    log(`send completed the protocol but the receiver command ${code === null ? 'did not exit cleanly' : `exited with status ${code}`}`);
    return 1;
  }
  return finishSend(result, args.debug);
}

function finishSend(result: SenderResult, debug: boolean): number {
  if (!result.ok) {
    reportFailure('send', result, debug);
    return 1;
  }
  log(`sent ${result.bytesSent} bytes (${result.variant}, final state ${result.state})`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let status = EXIT_OK;
  const debug = argv.includes('--debug');
  const commonOptions = {
    remus: { type: 'boolean', default: false, describe: 'Remus: checkpointed stream, no ready/go/report, EOF = failover' },
    colo: { type: 'boolean', default: false, describe: 'COLO: like Remus, with CHECKPOINT_STATE records' },
    postcopy: { type: 'boolean', default: false, describe: '[RFC] postcopy: back channel + postcopy sync message' },
    timeout: { type: 'number', default: 120, describe: 'seconds to wait for each control message (and connection)' },
    'idle-timeout': { type: 'number', default: 60, describe: 'seconds of silence allowed while the stream flows' },
    debug: { type: 'boolean', default: false, describe: 'print stack traces on failure' },
  } as const;
  const parser = yargs(argv)
    .scriptName(NAME)
    .usage('$0 <command> [options]\n\nStand in for either end of `xl migrate`.')
    .command(
      'receive',
      'receiver side (like `xl migrate-receive`) on stdin/stdout, or on one TCP connection',
      (y) =>
        y
          .options(commonOptions)
          .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'file to write the received stream to (appears only after a valid end)' })
          .option('listen', { type: 'string', describe: 'serve one TCP connection on HOST:PORT instead of stdin/stdout' })
          .option('strict', { type: 'boolean', default: false, describe: "validate with the verifier's rules, not only Xen's C reader's" }),
      async (args) => {
        status = await receive(args);
      },
    )
    .command(
      'send <file>',
      'sender side (like `xl migrate`): replay a saved stream as a migration',
      (y) =>
        y
          .options(commonOptions)
          .positional('file', { type: 'string', demandOption: true, describe: 'xl save file to send' })
          .option('exec', { type: 'string', describe: 'run CMD via sh -c and speak over its stdin/stdout (like xl with ssh)' })
          .option('connect', { type: 'string', describe: 'connect to HOST:PORT instead' }),
      async (args) => {
        status = await send(args);
      },
    )
    .demandCommand(1, 'a command is required: receive or send')
    .strict()
    .help()
    .version('version', 'show the version of stream-migrate', packageVersion())
    .wrap(helpWidth())
    .exitProcess(false)
    .fail(failWithUsageError);
  try {
    refuseEmptyArguments(argv);
    namedCommand(argv, ['receive', 'send']);
    await parser.parseAsync();
  } catch (error) {
    return reportError(NAME, error, debug);
  }
  return status;
}

// Run only as the executable, not when imported.
const invokedAs = process.argv[1] ?? '';
if (invokedAs.endsWith('stream-migrate.js') || invokedAs.endsWith('stream-migrate')) {
  // The receiver on stdin/stdout speaks its protocol on stdout and handles a closed peer itself.
  guardStandardStreams(NAME, { stdout: hideBin(process.argv).find((a) => !a.startsWith('-')) !== 'receive' });
  process.exitCode = await main(hideBin(process.argv));
}
