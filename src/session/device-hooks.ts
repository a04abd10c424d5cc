/**
 * Device migration hooks after xend's external-device migration (seed 002,
 * spec/PROTOCOLS.md §4). Step 0 asks every device whether it can be migrated at
 * all, before anything is sent; steps 1–3 run around suspend and transfer.
 */
export type DeviceHookStep = 0 | 1 | 2 | 3;

export interface DeviceHookContext {
  readonly live: boolean;
  /** Where the domain goes (host, command or address). */
  readonly destination: string;
  readonly domainName: string;
}

export interface DeviceMigrationHook {
  /** Device type named in the refusal message, e.g. "vtpm". */
  readonly deviceType: string;
  /** Step 0: `false` refuses the migration. Absent = the device has no objection. */
  canMigrate?(context: DeviceHookContext): boolean | Promise<boolean>;
  /**
   * Steps 1–3 (return value ignored, as in xend):
   * 1 = stream started, before suspend; 2 = after suspend, start the device's
   * own transfer in the background; 3 = wait until the step-2 transfer finished.
   */
  migrate?(step: 1 | 2 | 3, context: DeviceHookContext): void | Promise<void>;
}

export class DeviceRefusedError extends Error {
  constructor(readonly deviceType: string) {
    super(`Device of type '${deviceType}' refuses migration.`);
    this.name = 'DeviceRefusedError';
  }
}

/** Step 0: throws DeviceRefusedError for the first device that refuses. */
export async function checkDevicesMigratable(hooks: readonly DeviceMigrationHook[], context: DeviceHookContext): Promise<void> {
  for (const hook of hooks) {
    if (hook.canMigrate !== undefined && !(await hook.canMigrate(context))) throw new DeviceRefusedError(hook.deviceType);
  }
}

/** Steps 1–3: every device in order. */
export async function runDeviceStep(hooks: readonly DeviceMigrationHook[], step: 1 | 2 | 3, context: DeviceHookContext): Promise<void> {
  for (const hook of hooks) await hook.migrate?.(step, context);
}
