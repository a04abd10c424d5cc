/**
 * What the sender does to the source domain at each protocol step (spec/PROTOCOLS.md
 * §1.3). Replaying a saved stream has no live domain, so every action is
 * optional; a toolstack integration supplies real ones.
 */
export interface SourceDomain {
  readonly name: string;
  /** Stop the guest so its final state can be sent (between steps 1 and 2 of the device hooks). */
  suspend?(): void | Promise<void>;
  /** Step 5 renames to NAME--migratedaway; on resume it is renamed back to NAME. */
  rename?(newName: string): void | Promise<void>;
  /** Failure before the point of no return, or permission received: run the source again. */
  resume?(): void | Promise<void>;
  /** Status 0 received: the destination runs the guest, remove the source. */
  destroy?(): void | Promise<void>;
}

export const MIGRATED_AWAY_SUFFIX = '--migratedaway';
export const POSTCOPY_INCONSISTENT_SUFFIX = '--postcopy-inconsistent';

/** A domain with no actions, for replaying a saved stream. */
export function detachedDomain(name = 'replay'): SourceDomain {
  return { name };
}
