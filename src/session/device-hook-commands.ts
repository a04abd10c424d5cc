import { spawn } from 'node:child_process';
import { CommandGroup } from './command-group.js';
import type { DeviceHookContext, DeviceMigrationHook } from './device-hooks.js';

/** A hook command that has not exited within this long is ended (and, at step 0, counts as a refusal). */
export const DEFAULT_HOOK_TIMEOUT_MS = 120_000;

export interface CommandHookOptions {
  readonly timeoutMs?: number;
  /** Steps 1–3 ignore the command's status, as xend did; say it somewhere. */
  readonly onIgnoredFailure?: (deviceType: string, step: 1 | 2 | 3, status: string) => void;
}

/**
 * `--device-hook TYPE=COMMAND`: a device migration hook run as an external
 * command, the way xend's vTPM controller ran its migration tool (seed 002,
 * spec/PROTOCOLS.md §4): `COMMAND -type TYPE -step N -host DST -domname NAME`
 * through `sh -c` (so COMMAND may carry its own arguments), with
 * STREAM_MIGRATE_LIVE=1 or 0 in its environment. Step 0: exit status 0 means
 * the device can be migrated, anything else refuses the migration. Steps 1–3:
 * the status is ignored (xend ignored the return value).
 */
export function commandDeviceHook(deviceType: string, command: string, options: CommandHookOptions = {}): DeviceMigrationHook {
  const run = (step: 0 | 1 | 2 | 3, context: DeviceHookContext) =>
    runHookCommand(command, deviceType, step, context, options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS);
  return {
    deviceType,
    canMigrate: async (context) => (await run(0, context)) === 0,
    migrate: async (step, context) => {
      const status = await run(step, context);
      if (status !== 0) options.onIgnoredFailure?.(deviceType, step, status === null ? 'no exit status (signal or timeout)' : `exit status ${status}`);
    },
  };
}

/** Parse `TYPE=COMMAND` (TYPE: letters, digits, '-', '_'). */
export function parseDeviceHookSpec(spec: string): { deviceType: string; command: string } | undefined {
  const match = /^([A-Za-z0-9_-]+)=(.+)$/s.exec(spec);
  if (match === null || match[2].trim() === '') return undefined;
  return { deviceType: match[1], command: match[2] };
}

async function runHookCommand(command: string, deviceType: string, step: number, context: DeviceHookContext, timeoutMs: number): Promise<number | null> {
  const args = ['-type', deviceType, '-step', String(step), '-host', context.destination, '-domname', context.domainName];
  // "$0" is the command text itself; "$@" the xend-style arguments, each one word whatever it contains.
  const child = spawn('sh', ['-c', `${command} "$@"`, 'device-hook', ...args], {
    stdio: ['ignore', 2, 2],
    detached: true,
    env: { ...process.env, STREAM_MIGRATE_LIVE: context.live ? '1' : '0' },
  });
  return new CommandGroup(child).waitOrKill(timeoutMs);
}
