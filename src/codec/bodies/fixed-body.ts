/**
 * A record body that is one fixed layout (src/format/layouts/): its codec,
 * value and JSON types all come from the table; only the record kind and the
 * rule broken by a wrong length are given here.
 */
import type { Layout, LayoutJson, LayoutValue } from '../../format/layout.js';
import type { BodyLayout } from '../../format/record-types.js';
import type { RuleKey } from '../../format/rules.js';
import { formatError } from '../errors.js';
import { layoutCodec } from '../layout-codec.js';
import type { BodyCodec } from './body-codec.js';

export type FixedBody<K extends BodyLayout, L extends Layout> = { kind: K } & LayoutValue<L>;
export type FixedBodyJson<K extends BodyLayout, L extends Layout> = { kind: K } & LayoutJson<L>;

/** The codec of a body that is exactly `table.size` bytes laid out as `table`. */
export function fixedBodyCodec<K extends BodyLayout, L extends Layout>(
  kind: K,
  table: L,
  lengthRule: RuleKey,
): BodyCodec<FixedBody<K, L>, FixedBodyJson<K, L>> {
  const c = layoutCodec(table);
  return {
    layout: kind,
    table,
    decode(bytes, at) {
      if (bytes.length !== table.size) throw formatError(lengthRule, at, { expected: table.size, actual: bytes.length });
      return { kind, ...c.decode(bytes) } as FixedBody<K, L>;
    },
    encodedLength: () => table.size,
    encode: (b) => [c.encode(b)],
    toJson: (b) => ({ kind, ...c.toJson(b) }) as FixedBodyJson<K, L>,
    fromJson: (j) => ({ kind, ...c.fromJson(j) }) as FixedBody<K, L>,
  };
}
