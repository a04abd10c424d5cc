/**
 * Which flavour of `xl migrate` runs over the wire (spec/PROTOCOLS.md §1.3–1.5).
 * - plain: banner, stream, ready, go, report [, permission]
 * - remus / colo: banner, a checkpointed stream that ends at EOF (= failover); no ready/go/report
 * - postcopy: [RFC] banner, stream, back channel + postcopy sync message; no ready/go/report
 */
export type MigrationVariant = 'plain' | 'remus' | 'colo' | 'postcopy';

export const MIGRATION_VARIANTS: readonly MigrationVariant[] = ['plain', 'remus', 'colo', 'postcopy'];

export function isCheckpointed(variant: MigrationVariant): boolean {
  return variant === 'remus' || variant === 'colo';
}
