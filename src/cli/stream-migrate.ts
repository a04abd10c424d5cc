#!/usr/bin/env node
/**
 * stream-migrate: stand in for either end of `xl migrate`.
 *
 *   stream-migrate receive -o FILE [--listen [HOST:]PORT [--token-file F]]
 *   stream-migrate send FILE (--exec "CMD ..." | --connect HOST:PORT [--token-file F])
 *   stream-migrate relay [--listen [HOST:]PORT] (--exec "CMD ..." | --connect HOST:PORT) [--capture F]
 *   stream-migrate migrate FILE --domain NAME (-o FILE | --exec CMD | --connect HOST:PORT) [--state-dir D] [--device-hook TYPE=CMD]...
 *   stream-migrate jobs [--clear DOMAIN] [--state-dir D]
 *
 * Exit status (src/cli/errors.ts): 0 only when the whole protocol completed;
 * 1 with one line naming the failing state and the reason; 2 for usage errors.
 * All diagnostics go to stderr: on the receiver, stdout is the protocol.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Argv } from 'yargs';
import { EXIT_OK, failWithUsageError, guardStandardStreams, reportError, UsageError } from './errors.js';
import { namedCommand, refuseEmptyArguments } from './argv-checks.js';
import { helpWidth } from './help-width.js';
import { parsePlainCommandLine } from './plain-command-line.js';
import { packageVersion } from './version.js';
import { relayCommand } from './stream-migrate-relay.js';
import { CommandGroup } from '../session/command-group.js';
import type { MigrationVariant } from '../session/migration-variant.js';
import { pushDecoderTrackerFactory } from '../session/push-decoder-tracker.js';
import { openSendInput, SendInputError, type SendInput } from '../session/send-input.js';
import { handshake } from '../session/tcp-handshake.js';
import { acceptSender } from '../session/tcp-listener.js';
import { resolveTimeouts, type SessionTimeouts } from '../session/timeouts.js';
import { childTransport, socketTransport, stdioTransport } from '../session/transport.js';
import { checkOutput } from '../io/atomic-output.js';
import { connectTo, log, logListening, parseHostPort, readToken, TokenFileError } from './migrate-endpoints.js';
import { jobs, jobsBuilder, migrate, migrateBuilder, type JobsArgs, type MigrateArgs } from './migrate-commands.js';
import { XlMigrationReceiver, type ReceiverResult } from '../session/xl-receiver.js';
import { XlMigrationSender, type SenderResult } from '../session/xl-sender.js';

const NAME = 'stream-migrate';

interface CommonArgs {
  remus: boolean;
  colo: boolean;
  postcopy: boolean;
  timeout: number;
  'idle-timeout': number;
  'handshake-timeout': number;
  debug: boolean;
}

function variantOf(args: CommonArgs): MigrationVariant {
  const chosen = (['remus', 'colo', 'postcopy'] as const).filter((flag) => args[flag]);
  if (chosen.length > 1) throw new UsageError(`--${chosen.join(' and --')} are mutually exclusive`);
  return chosen[0] ?? 'plain';
}

export function handshakeMsOf(args: Pick<CommonArgs, 'handshake-timeout'>): number {
  const seconds = args['handshake-timeout'];
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError('--handshake-timeout must be a positive number of seconds');
  return Math.round(seconds * 1000);
}

export function timeoutsOf(args: Pick<CommonArgs, 'timeout' | 'idle-timeout'>): SessionTimeouts {
  const ms = (seconds: number, flag: string): number => {
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--${flag} must be a positive number of seconds`);
    return Math.round(seconds * 1000);
  };
  const messageMs = ms(args.timeout, 'timeout');
  return resolveTimeouts({ messageMs, writeMs: messageMs, idleMs: ms(args['idle-timeout'], 'idle-timeout') });
}

/** `--listen PORT` (or `:PORT`) binds loopback; any other interface must be named: `--listen HOST:PORT`. */
export function parseListen(value: string): { host: string; port: number } {
  const bare = /^:?(\d+)$/.exec(value);
  if (bare !== null) {
    const port = Number(bare[1]);
    if (port > 65535) throw new UsageError(`--listen expects PORT or HOST:PORT, got "${value}"`);
    return { host: '127.0.0.1', port };
  }
  return parseHostPort(value, 'listen');
}

function reportFailure(side: 'send' | 'receive', result: SenderResult | ReceiverResult, debug: boolean): void {
  const where = result.failedIn ?? result.state;
  log(`${side} failed in ${where} (final state ${result.state}): ${result.error?.message ?? 'protocol did not complete'}`);
  if (debug && result.error?.stack !== undefined) process.stderr.write(`${result.error.stack}\n`);
}

async function receive(
  args: CommonArgs & { output: string; listen?: string | undefined; strict: boolean; 'token-file'?: string | undefined },
): Promise<number> {
  const variant = variantOf(args);
  const timeouts = timeoutsOf(args);
  const endpoint = args.listen === undefined ? undefined : parseListen(args.listen);
  if (args['token-file'] !== undefined && endpoint === undefined) throw new UsageError('--token-file is for --listen (over --exec, ssh authenticates)');
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
      const token = args['token-file'] === undefined ? undefined : await readToken(args['token-file']);
      socket = await acceptSender({
        ...endpoint,
        token,
        handshakeMs: handshakeMsOf(args),
        acceptMs: timeouts.messageMs,
        onListening: (address) => logListening(address, token, 'send a stream', '--exec over ssh (as xl does)'),
        onRejected: (peer, reason) => log(`closed the connection from ${peer}: ${reason}`),
      });
    } catch (error) {
      if (error instanceof UsageError) throw error;
      log(`receive failed before the protocol started: ${(error as Error).message}`);
      return error instanceof TokenFileError ? 2 : 1;
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
  if (socket === undefined) transport.input.destroy();
  if (!result.ok) {
    reportFailure('receive', result, args.debug);
    // Past the point of no return the capture was committed: it stays (the sender may have let go of its domain).
    if (result.outputPath !== undefined) log(`the received stream was complete and is kept in ${result.outputPath}`);
    return 1;
  }
  log(`received ${result.bytesReceived} bytes into ${args.output} (${variant}, final state ${result.state})`);
  const colo = result.coloBackChannel;
  if (colo !== undefined)
    log(`COLO back channel: ${colo.checkpointStates} CHECKPOINT_STATE records, ${colo.dirtyPfnLists} dirty pfn lists (${colo.bytes} bytes)`);
  return 0;
}

async function send(
  args: CommonArgs & { file: string; exec?: string | undefined; connect?: string | undefined; 'token-file'?: string | undefined },
): Promise<number> {
  const variant = variantOf(args);
  const timeouts = timeoutsOf(args);
  const handshakeMs = handshakeMsOf(args);
  if ((args.exec === undefined) === (args.connect === undefined)) throw new UsageError('send needs exactly one of --exec CMD or --connect HOST:PORT');
  const endpoint = args.connect === undefined ? undefined : parseHostPort(args.connect, 'connect');
  if (args['token-file'] !== undefined && endpoint === undefined) throw new UsageError('--token-file is for --connect (over --exec, ssh authenticates)');
  let token: Uint8Array | undefined;
  try {
    token = args['token-file'] === undefined ? undefined : await readToken(args['token-file']);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    log(`send failed before the protocol started: ${(error as Error).message}`);
    return 2;
  }
  let input: SendInput;
  try {
    input = await openSendInput(args.file);
  } catch (error) {
    log(`send failed before the protocol started: ${(error as Error).message}`);
    // Like stream-inspect: an unreadable input is an I/O error (2), a file that is not a stream is invalid input (1).
    return error instanceof SendInputError ? 2 : 1;
  }
  try {
    return endpoint === undefined
      ? await sendToCommand(args.exec ?? '', input, variant, timeouts, args.debug)
      : await sendToSocket(endpoint, args.connect ?? '', input, variant, timeouts, { token, handshakeMs }, args.debug);
  } finally {
    await input.close();
  }
}

async function sendToSocket(
  endpoint: { host: string; port: number },
  destination: string,
  input: SendInput,
  variant: MigrationVariant,
  timeouts: SessionTimeouts,
  auth: { token?: Uint8Array | undefined; handshakeMs: number },
  debug: boolean,
): Promise<number> {
  let socket: Socket;
  try {
    socket = await connectTo(endpoint.host, endpoint.port, timeouts.messageMs);
  } catch (error) {
    log(`send failed before the protocol started: ${(error as Error).message}`);
    return 1;
  }
  const result = await new XlMigrationSender({
    transport: socketTransport(socket),
    stream: input.stream,
    variant,
    timeouts,
    destination,
    beforeBanner: (from, to) => handshake('sender', from, to, { token: auth.token, timeoutMs: auth.handshakeMs, state: 'PREAMBLE' }),
  }).run();
  socket.destroy();
  return finishSend(result, debug);
}

/** How long a receiver command may take to exit once the protocol failed and its pipes were closed. */
const FAILED_COMMAND_GRACE_MS = 1000;

async function sendToCommand(command: string, input: SendInput, variant: MigrationVariant, timeouts: SessionTimeouts, debug: boolean): Promise<number> {
  // Like xl: run the command through sh, talk over its stdin/stdout, let its stderr through.
  // Its own process group (detached), so that a timeout or failure ends everything it started, not only sh.
  const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  const group = new CommandGroup(child);
  const result = await new XlMigrationSender({
    transport: childTransport(child),
    stream: input.stream,
    variant,
    timeouts,
    destination: command,
    peerVerdict: async () => (await group.exited) === 0,
  }).run();
  // Our ends of its pipes: EOF for the command, and nothing of ours keeps the process alive.
  child.stdin.destroy();
  child.stdout.destroy();
  const code = await group.waitOrKill(result.ok ? timeouts.messageMs : Math.min(timeouts.messageMs, FAILED_COMMAND_GRACE_MS));
  if (!result.ok) return finishSend(result, debug);
  if (code !== 0) {
    log(`send completed the protocol but the receiver command ${code === null ? 'did not exit cleanly' : `exited with status ${code}`}`);
    return 1;
  }
  return finishSend(result, debug);
}

function finishSend(result: SenderResult, debug: boolean): number {
  if (!result.ok) {
    reportFailure('send', result, debug);
    return 1;
  }
  log(`sent ${result.bytesSent} bytes (${result.variant}, final state ${result.state})`);
  const colo = result.colo;
  if (colo !== undefined) {
    log(
      `COLO back channel: ${colo.svmResumed} checkpoints resumed on the secondary, ${colo.svmSuspended} suspended, ` +
        `${colo.dirtyPfnLists} dirty pfn lists (${colo.dirtyPfns} pfns)`,
    );
  }
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
    'handshake-timeout': { type: 'number', default: 10, describe: 'TCP: seconds a connection has to complete the stream-migrate handshake' },
    debug: { type: 'boolean', default: false, describe: 'print stack traces on failure' },
  } as const;
  const receiveCommand = {
    name: 'receive',
    command: 'receive',
    describe: 'receiver side (like `xl migrate-receive`) on stdin/stdout, or on one TCP connection',
    builder: (y: Argv) =>
      y
        .options(commonOptions)
        .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'file to write the received stream to (appears only after a valid end)' })
        .option('listen', { type: 'string', describe: 'serve one TCP sender on PORT (loopback) or HOST:PORT instead of stdin/stdout' })
        .option('token-file', { type: 'string', describe: 'TCP: accept only a sender that proves this shared secret (and prove it back)' })
        .option('strict', { type: 'boolean', default: false, describe: "validate with the verifier's rules, not only Xen's C reader's" }),
    handler: async (args: Parameters<typeof receive>[0]) => {
      status = await receive(args);
    },
  };
  const sendCommand = {
    name: 'send',
    command: 'send <file>',
    describe: 'sender side (like `xl migrate`): replay a saved stream as a migration',
    builder: (y: Argv) =>
      y
        .options(commonOptions)
        .positional('file', { type: 'string', demandOption: true, describe: 'xl save file to send' })
        .option('exec', { type: 'string', describe: 'run CMD via sh -c and speak over its stdin/stdout (like xl with ssh)' })
        .option('connect', { type: 'string', describe: 'connect to HOST:PORT instead' })
        .option('token-file', { type: 'string', describe: 'with --connect: prove this shared secret (and check the receiver has it)' }),
    handler: async (args: Parameters<typeof send>[0]) => {
      status = await send(args);
    },
  };
  const migrateCommand = {
    name: 'migrate',
    command: 'migrate <file>',
    describe: 'the libvirt v3 flow (Begin, Prepare, Perform, Finish, Confirm) with a persisted job lock, phases and device hooks',
    builder: migrateBuilder,
    handler: async (args: MigrateArgs) => {
      status = await migrate(args);
    },
  };
  const jobsCommand = {
    name: 'jobs',
    command: 'jobs',
    describe: 'list migration jobs (phase, age, owner pid; stale ones explained), or --clear DOMAIN',
    builder: jobsBuilder,
    handler: async (args: JobsArgs) => {
      status = await jobs(args);
    },
  };
  try {
    refuseEmptyArguments(argv);
    const relay = relayCommand((code) => {
      status = code;
    });
    const named = [receiveCommand, sendCommand, migrateCommand, jobsCommand, relay].find(
      (c) => c.name === namedCommand(argv, ['receive', 'send', 'migrate', 'jobs', 'relay']),
    );
    // A plainly valid command line runs straight away; yargs is loaded only for help, version and usage errors.
    const plain = named && parsePlainCommandLine(argv, named, NAME);
    if (named !== undefined && plain !== undefined) {
      await named.handler(plain as never);
      return status;
    }
    const { default: yargs } = await import('yargs');
    await yargs(argv)
      .scriptName(NAME)
      .usage('$0 <command> [options]\n\nStand in for either end of `xl migrate`.')
      .command(receiveCommand.command, receiveCommand.describe, receiveCommand.builder, receiveCommand.handler as never)
      .command(sendCommand.command, sendCommand.describe, sendCommand.builder, sendCommand.handler as never)
      .command(migrateCommand.command, migrateCommand.describe, migrateCommand.builder, migrateCommand.handler as never)
      .command(jobsCommand.command, jobsCommand.describe, jobsCommand.builder, jobsCommand.handler as never)
      .command(relay.command, relay.describe, relay.builder, relay.handler as never)
      .demandCommand(1, 'a command is required: receive, send, migrate, jobs or relay')
      .strict()
      .help()
      .version('version', 'show the version of stream-migrate', packageVersion())
      .wrap(helpWidth())
      .exitProcess(false)
      .fail(failWithUsageError)
      .parseAsync();
  } catch (error) {
    return reportError(NAME, error, debug);
  }
  return status;
}

// Run only as the executable, not when imported.
const invokedAs = process.argv[1] ?? '';
if (invokedAs.endsWith('stream-migrate.js') || invokedAs.endsWith('stream-migrate')) {
  // The receiver on stdin/stdout speaks its protocol on stdout and handles a closed peer itself.
  // process.argv without node and the script (what yargs' hideBin gives outside Electron).
  const argv = process.argv.slice(2);
  // The relay on stdin/stdout speaks the protocol there too.
  guardStandardStreams(NAME, { stdout: !['receive', 'relay'].includes(argv.find((a) => !a.startsWith('-')) ?? '') });
  // No top-level await: the build makes this file CommonJS (scripts/build-cli.mjs).
  void main(argv).then((status) => {
    process.exitCode = status;
  });
}
