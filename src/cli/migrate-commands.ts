/**
 * stream-migrate migrate / jobs: the libvirt-v3 flow with a persisted job
 * lock, phases and instance rows (src/session/migration-job-run.ts), and the
 * view of what is under way or was left by a crash.
 */
import { spawn } from 'node:child_process';
import type { Argv } from 'yargs';
import { checkOutput } from '../io/atomic-output.js';
import { CommandGroup } from '../session/command-group.js';
import { commandDeviceHook, parseDeviceHookSpec } from '../session/device-hook-commands.js';
import type { DeviceMigrationHook } from '../session/device-hooks.js';
import { InstanceStateFiles } from '../session/instance-state-files.js';
import { JobBusyError, MigrationJobStore, type MigrationJobRecord } from '../session/job-lock.js';
import { diagnoseJob } from '../session/job-recovery.js';
import {
  incomingStateDir,
  JobNeedsAttentionError,
  removeLeftovers,
  runMigration,
  settleInstanceRow,
  type MigrationDestination,
} from '../session/migration-job-run.js';
import { openSendInput, SendInputError, type SendInput } from '../session/send-input.js';
import { detachedDomain } from '../session/source-domain.js';
import { handshake } from '../session/tcp-handshake.js';
import { resolveTimeouts, type SessionTimeouts } from '../session/timeouts.js';
import { childTransport, socketTransport } from '../session/transport.js';
import { XlV3Peer, type XlPeerLink } from '../session/xl-v3-peer.js';
import { UsageError } from './errors.js';
import { connectTo, log, parseHostPort, readToken, TokenFileError } from './migrate-endpoints.js';
import { defaultStateDir } from './state-dir.js';

/** Test-only: a run stops (and waits to be killed) once this phase is on disk. */
const PAUSE_ENV = 'STREAM_MIGRATE_TEST_PAUSE_AT';

export interface MigrateArgs {
  file: string;
  domain: string;
  output?: string | undefined;
  exec?: string | undefined;
  connect?: string | undefined;
  'token-file'?: string | undefined;
  'state-dir'?: string | undefined;
  'device-hook'?: string[] | string | undefined;
  live: boolean;
  timeout: number;
  'idle-timeout': number;
  'handshake-timeout': number;
  debug: boolean;
}

function seconds(value: number, flag: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${flag} must be a positive number of seconds`);
  return Math.round(value * 1000);
}

function deviceHooksOf(specs: string[] | string | undefined, timeoutMs: number): DeviceMigrationHook[] {
  return [specs ?? []].flat().map((spec) => {
    const parsed = parseDeviceHookSpec(spec);
    if (parsed === undefined) throw new UsageError(`--device-hook expects TYPE=COMMAND, got "${spec}"`);
    return commandDeviceHook(parsed.deviceType, parsed.command, {
      timeoutMs,
      onIgnoredFailure: (type, step, status) => log(`device hook ${type} step ${step}: ${status} (ignored, as xend did)`),
    });
  });
}

async function pauseForTest(record: MigrationJobRecord): Promise<void> {
  if (process.env[PAUSE_ENV] !== record.phase) return;
  log(`test pause: ${record.job} ${record.domain} in phase ${record.phase} (pid ${process.pid})`);
  await new Promise<never>(() => setInterval(() => undefined, 1 << 30));
}

export async function migrate(args: MigrateArgs): Promise<number> {
  const targets = [args.output, args.exec, args.connect].filter((t) => t !== undefined);
  if (targets.length !== 1) throw new UsageError('migrate needs exactly one of -o FILE, --exec CMD or --connect HOST:PORT');
  if (args['token-file'] !== undefined && args.connect === undefined) throw new UsageError('--token-file is for --connect (over --exec, ssh authenticates)');
  // The name is a file name in the state directory (URI-encoded); a leading dot would hide it from `jobs`.
  if (args.domain === '' || args.domain.startsWith('.')) throw new UsageError('--domain must name the domain (not starting with a dot)');
  const messageMs = seconds(args.timeout, 'timeout');
  const timeouts = resolveTimeouts({ messageMs, writeMs: messageMs, idleMs: seconds(args['idle-timeout'], 'idle-timeout') });
  const handshakeMs = seconds(args['handshake-timeout'], 'handshake-timeout');
  const deviceHooks = deviceHooksOf(args['device-hook'], messageMs);
  const endpoint = args.connect === undefined ? undefined : parseHostPort(args.connect, 'connect');
  let input: SendInput;
  let token: Uint8Array | undefined;
  try {
    if (args.output !== undefined) await checkOutput(args.output, { exclusive: true });
    token = args['token-file'] === undefined ? undefined : await readToken(args['token-file']);
    input = await openSendInput(args.file);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    log(`migrate failed before the flow started: ${(error as Error).message}`);
    return error instanceof SendInputError || error instanceof TokenFileError || (error as NodeJS.ErrnoException).code !== undefined ? 2 : 1;
  }
  const stream = () => input.stream;
  let destination: MigrationDestination;
  if (args.output !== undefined) destination = { kind: 'local', outputPath: args.output };
  else {
    const uri = args.exec ?? `tcp://${args.connect}`;
    const open = endpoint === undefined ? () => execLink(args.exec ?? '', timeouts) : () => tcpLink(endpoint, timeouts, { token, handshakeMs });
    destination = { kind: 'xl', uri, peer: new XlV3Peer({ open, uri, stream, timeouts }) };
  }
  const stateDir = args['state-dir'] ?? defaultStateDir();
  try {
    const result = await runMigration({
      stateDir,
      domain: detachedDomain(args.domain),
      stream,
      destination,
      deviceHooks,
      live: args.live,
      timeouts,
      onPhase: pauseForTest,
      log,
    });
    if (result.ok) {
      log(`migrated ${args.domain}: ${result.history.join(' → ')}`);
      return 0;
    }
    log(`migrate of ${args.domain} failed (${result.history.join(' → ')}): ${result.error?.message ?? 'the flow did not complete'}`);
    if (result.state === 'SRC_LEFT_PAUSED') {
      log(
        `the source is left paused and its job held in PERFORM3_DONE: check whether the destination runs ${args.domain}, then \`stream-migrate jobs --clear ${args.domain}\``,
      );
    }
    if (args.debug && result.error?.stack !== undefined) process.stderr.write(`${result.error.stack}\n`);
    return 1;
  } catch (error) {
    if (error instanceof JobBusyError || error instanceof JobNeedsAttentionError) {
      log(`migrate refused: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await input.close();
  }
}

/** How long a receiver command may take to exit once the protocol failed and its pipes were closed. */
const FAILED_COMMAND_GRACE_MS = 1000;

/** Like `send --exec`: the command via sh, in its own process group, spoken to over its stdin/stdout. */
async function execLink(command: string, timeouts: SessionTimeouts): Promise<XlPeerLink> {
  const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  const group = new CommandGroup(child);
  return {
    transport: childTransport(child),
    close: async (ok) => {
      child.stdin.destroy();
      child.stdout.destroy();
      const code = await group.waitOrKill(ok ? timeouts.messageMs : Math.min(timeouts.messageMs, FAILED_COMMAND_GRACE_MS));
      if (!ok || code === 0) return undefined;
      return `the receiver command ${code === null ? 'did not exit cleanly' : `exited with status ${code}`}`;
    },
  };
}

/** Like `send --connect`: one TCP connection to `stream-migrate receive --listen`, with its handshake. */
async function tcpLink(
  endpoint: { host: string; port: number },
  timeouts: SessionTimeouts,
  auth: { token?: Uint8Array | undefined; handshakeMs: number },
): Promise<XlPeerLink> {
  const socket = await connectTo(endpoint.host, endpoint.port, timeouts.messageMs);
  return {
    transport: socketTransport(socket),
    beforeBanner: (from, to) => handshake('sender', from, to, { token: auth.token, timeoutMs: auth.handshakeMs, state: 'PREAMBLE' }),
    close: async () => {
      socket.destroy();
      return undefined;
    },
  };
}

export interface JobsArgs {
  clear?: string | undefined;
  'state-dir'?: string | undefined;
}

/** `jobs`: every job (source and local-destination side) with phase, age, owner and what a stale one means. */
export async function jobs(args: JobsArgs): Promise<number> {
  const stateDir = args['state-dir'] ?? defaultStateDir();
  const stores = [new MigrationJobStore(stateDir), new MigrationJobStore(incomingStateDir(stateDir))];
  if (args.clear !== undefined) return clearJob(args.clear, stateDir, stores);
  const records = (await Promise.all(stores.map((s) => s.list()))).flat();
  const rows = new Map((await new InstanceStateFiles(stateDir).list()).map((row) => [row.instanceId, row]));
  if (records.length === 0 && rows.size === 0) {
    process.stdout.write(`no migration jobs in ${stateDir}\n`);
    return 0;
  }
  const now = Date.now();
  const incoming = new Map(records.filter((r) => r.job === 'MIGRATION_IN').map((r) => [r.domain, r]));
  for (const record of records) {
    const diagnosis = diagnoseJob(record, { incoming: record.job === 'MIGRATION_OUT' ? incoming.get(record.domain) : undefined });
    const row = record.job === 'MIGRATION_OUT' ? rows.get(record.domain) : undefined;
    const instance = row === undefined ? '' : `, instance ${row.state}`;
    process.stdout.write(
      `${record.domain}  ${record.job}  ${record.phase}  age ${age(now - Date.parse(record.startedAt))}${instance}  pid ${record.pid}: ${diagnosis.explanation}\n`,
    );
  }
  for (const row of rows.values()) {
    if (records.some((r) => r.domain === row.instanceId && r.job === 'MIGRATION_OUT')) continue;
    process.stdout.write(`${row.instanceId}  instance ${row.state} without a job (left by a crash between the two files); jobs --clear removes it\n`);
  }
  return 0;
}

async function clearJob(domain: string, stateDir: string, stores: MigrationJobStore[]): Promise<number> {
  const records = (await Promise.all(stores.map((s) => s.read(domain)))).filter((r) => r !== undefined);
  const running = records.find((r) => diagnoseJob(r).stale === false);
  if (running !== undefined) {
    log(`jobs: not clearing ${domain}: its ${running.job} job is running (pid ${running.pid})`);
    return 1;
  }
  await settleInstanceRow(stateDir, domain);
  for (const record of records) await removeLeftovers(record);
  for (const store of stores) await store.clear(domain);
  if (records.length === 0) process.stdout.write(`${domain}: no job to clear\n`);
  for (const record of records) process.stdout.write(`cleared ${domain} ${record.job} in phase ${record.phase} (pid ${record.pid} gone)\n`);
  return 0;
}

function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d`;
}

export const migrateOptions = {
  timeout: { type: 'number', default: 120, describe: 'seconds to wait for each control message (and connection)' },
  'idle-timeout': { type: 'number', default: 60, describe: 'seconds of silence allowed while the stream flows' },
  'handshake-timeout': { type: 'number', default: 10, describe: 'TCP: seconds a connection has to complete the stream-migrate handshake' },
  debug: { type: 'boolean', default: false, describe: 'print stack traces on failure' },
} as const;

export function migrateBuilder(y: Argv): Argv {
  return y
    .options(migrateOptions)
    .positional('file', { type: 'string', demandOption: true, describe: "xl save file to migrate (the source domain's stream)" })
    .option('domain', { type: 'string', demandOption: true, describe: 'domain name: the job lock and instance row are per domain' })
    .option('output', { alias: 'o', type: 'string', describe: 'local destination: receive into FILE in this process (v3 over loopback TCP)' })
    .option('exec', { type: 'string', describe: "destination: run CMD via sh -c and speak xl's protocol over its stdin/stdout" })
    .option('connect', { type: 'string', describe: 'destination: `stream-migrate receive --listen` at HOST:PORT' })
    .option('token-file', { type: 'string', describe: 'with --connect: prove this shared secret (and check the receiver has it)' })
    .option('state-dir', { type: 'string', describe: 'job and instance files (default $XDG_STATE_HOME/stream-migrate, /var/lib/stream-migrate as root)' })
    .option('device-hook', { type: 'string', array: true, describe: 'TYPE=COMMAND: run COMMAND -type TYPE -step N -host DST -domname NAME for steps 0-3' })
    .option('live', { type: 'boolean', default: true, describe: 'live migration (device hooks see STREAM_MIGRATE_LIVE=1); --no-live for 0' });
}

export function jobsBuilder(y: Argv): Argv {
  return y
    .option('clear', { type: 'string', describe: "release DOMAIN's stale job and instance row (refused while its owner runs)" })
    .option('state-dir', { type: 'string', describe: 'job and instance files (default as for migrate)' });
}
