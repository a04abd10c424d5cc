/**
 * Per-instance migration state with prepare / commit / rollback, after the
 * Eucalyptus node controller (seed 000, spec/PROTOCOLS.md §5).
 */
export const INSTANCE_MIGRATION_STATES = ['NOT_MIGRATING', 'PREPARING', 'READY', 'IN_PROGRESS', 'CLEANING'] as const;
export type InstanceMigrationState = (typeof INSTANCE_MIGRATION_STATES)[number];

export type MigrationRole = 'source' | 'destination';

/** Result codes after Eucalyptus' EUCA_* values. */
export type MigrationActionCode = 'OK' | 'DUPLICATE' | 'UNSUPPORTED' | 'INVALID' | 'NOT_FOUND' | 'ERROR';

export interface MigrationActionResult {
  readonly code: MigrationActionCode;
  readonly state?: InstanceMigrationState | undefined;
  readonly message: string;
}

export interface PrepareRequest {
  readonly source: string;
  readonly destination: string;
  readonly credentials?: string;
}

export interface InstanceMigrationHooks {
  /** Destination preparation (disks, config…); throwing sends the instance to CLEANING. */
  prepareDestination?(instanceId: string, request: PrepareRequest): void | Promise<void>;
  /** Source commit: start the outgoing migration (runs in the background in Eucalyptus). */
  startMigration?(instanceId: string): void;
  /** Source rollback body (not in the seed): undo the preparation. */
  rollback?(instanceId: string): void | Promise<void>;
}

interface InstanceRecord {
  state: InstanceMigrationState;
  request?: PrepareRequest | undefined;
  preparedAt?: string;
}

/** One instance's row as it is persisted (JSON). */
export interface InstanceSnapshot {
  readonly instanceId: string;
  readonly role: MigrationRole;
  readonly state: InstanceMigrationState;
  readonly request?: PrepareRequest | undefined;
  readonly preparedAt?: string | undefined;
}

/** Where rows go after every change (src/session/instance-state-files.ts keeps one file per instance). */
export interface InstanceStateStore {
  save(snapshot: InstanceSnapshot): Promise<void>;
  remove(instanceId: string): Promise<void>;
}

/**
 * The table of §5 row by row. `role` is this node's part in the migration of
 * the instance; a node that is neither gets "unexpected migration request".
 */
export class InstanceMigrationTable {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly roles = new Map<string, MigrationRole>();
  private outgoing = 0;

  constructor(
    private readonly hooks: InstanceMigrationHooks = {},
    private readonly store?: InstanceStateStore,
  ) {}

  /** Register an instance this node knows about (NOT_MIGRATING). */
  add(instanceId: string): void {
    this.instances.set(instanceId, { state: 'NOT_MIGRATING' });
  }

  /** Put back a persisted row (after a restart); an IN_PROGRESS source row counts as an outgoing migration. */
  restore(snapshot: InstanceSnapshot): void {
    const { instanceId, role, state, request, preparedAt } = snapshot;
    this.instances.set(instanceId, { state, request, ...(preparedAt === undefined ? {} : { preparedAt }) });
    this.roles.set(instanceId, role);
    if (role === 'source' && state === 'IN_PROGRESS') this.outgoing += 1;
  }

  snapshot(instanceId: string): InstanceSnapshot | undefined {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return undefined;
    const { state, request, preparedAt } = instance;
    return { instanceId, role: this.roles.get(instanceId) ?? 'source', state, request, preparedAt };
  }

  /**
   * The end of an outgoing migration, success or failure (Eucalyptus'
   * migrating thread; its body is not in the seed): IN_PROGRESS →
   * NOT_MIGRATING, one outgoing migration fewer. The row is then dropped
   * from the store: a node keeps rows only while something is under way.
   */
  async complete(instanceId: string): Promise<MigrationActionResult> {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return { code: 'NOT_FOUND', message: `no migration state for ${instanceId}` };
    if (instance.state === 'IN_PROGRESS' && this.roles.get(instanceId) !== 'destination') this.outgoing -= 1;
    instance.state = 'NOT_MIGRATING';
    instance.request = undefined;
    await this.store?.remove(instanceId);
    return { code: 'OK', state: instance.state, message: 'migration ended' };
  }

  stateOf(instanceId: string): InstanceMigrationState | undefined {
    return this.instances.get(instanceId)?.state;
  }

  get outgoingMigrationsInProgress(): number {
    return this.outgoing;
  }

  async apply(instanceId: string, action: string, role: MigrationRole | 'none', request?: PrepareRequest): Promise<MigrationActionResult> {
    if (role === 'none') return { code: 'ERROR', message: 'unexpected migration request' };
    const result = role === 'destination' ? await this.applyDestination(instanceId, action, request) : await this.applySource(instanceId, action, request);
    if (this.instances.has(instanceId)) this.roles.set(instanceId, role);
    const snapshot = this.snapshot(instanceId);
    if (snapshot !== undefined && this.store !== undefined) {
      if (snapshot.state === 'NOT_MIGRATING') await this.store.remove(instanceId);
      else await this.store.save(snapshot);
    }
    return result;
  }

  private async applySource(instanceId: string, action: string, request?: PrepareRequest): Promise<MigrationActionResult> {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return { code: 'NOT_FOUND', message: `failed to locate instance ${instanceId} to migrate` };
    switch (action) {
      case 'prepare':
        instance.state = 'PREPARING';
        instance.request = request;
        instance.preparedAt = new Date().toISOString();
        instance.state = 'READY';
        return { code: 'OK', state: instance.state, message: 'prepared' };
      case 'commit':
        if (instance.state === 'READY') {
          this.outgoing += 1;
          instance.state = 'IN_PROGRESS';
          this.hooks.startMigration?.(instanceId);
          return { code: 'OK', state: instance.state, message: 'migration started' };
        }
        if (instance.state === 'IN_PROGRESS') return { code: 'DUPLICATE', state: instance.state, message: 'duplicate request' };
        return { code: 'UNSUPPORTED', state: instance.state, message: `instance ${instanceId} is not 'ready' (${instance.state})` };
      case 'rollback':
        if (instance.state === 'PREPARING' || instance.state === 'READY') {
          await this.hooks.rollback?.(instanceId);
          // The seed does not show migration_rollback()'s body; NOT_MIGRATING is the presumed outcome.
          instance.state = 'NOT_MIGRATING';
          instance.request = undefined;
          return { code: 'OK', state: instance.state, message: 'rolled back' };
        }
        return { code: 'OK', state: instance.state, message: 'ignored rollback (duplicate rollback request?)' };
      default:
        return { code: 'INVALID', state: instance.state, message: `unknown migration action '${action}'` };
    }
  }

  private async applyDestination(instanceId: string, action: string, request?: PrepareRequest): Promise<MigrationActionResult> {
    switch (action) {
      case 'prepare': {
        const instance: InstanceRecord = { state: 'PREPARING', request, preparedAt: new Date().toISOString() };
        this.instances.set(instanceId, instance);
        try {
          await this.hooks.prepareDestination?.(instanceId, request ?? { source: '', destination: '' });
        } catch (error) {
          // Straight to CLEANING so the source need not wait for a timeout.
          instance.state = 'CLEANING';
          return { code: 'ERROR', state: instance.state, message: `prepare failed: ${(error as Error).message}` };
        }
        instance.state = 'READY';
        return { code: 'OK', state: instance.state, message: 'prepared' };
      }
      case 'commit':
        return { code: 'UNSUPPORTED', state: this.stateOf(instanceId), message: 'commit is not a destination action' };
      case 'rollback': {
        const instance = this.instances.get(instanceId);
        if (instance !== undefined) instance.state = 'CLEANING';
        return { code: 'OK', state: instance?.state, message: instance === undefined ? 'nothing to roll back' : 'cleaning up' };
      }
      default:
        return { code: 'INVALID', state: this.stateOf(instanceId), message: `unknown migration action '${action}'` };
    }
  }
}
