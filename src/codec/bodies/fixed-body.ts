/**
 * A record body that is one fixed layout (src/format/layouts/): its codec,
 * value and JSON types all come from the table; only the record kind and the
 * rule broken by a wrong length are given here.
 */
import type { Layout, LayoutJson, LayoutValue } from '../../format/layout.js';
import type { BodyLayout } from '../../format/record-types.js';
import type { RuleKey } from '../../format/rules.js';
import { fromBase64, toBase64 } from '../bytes.js';
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
  return tableBodyCodec(kind, table, lengthRule, false);
}

/** A fixed body a lenient reader may find longer: the bytes beyond the table are kept as `extra`. */
export type FixedBodyWithExtra<K extends BodyLayout, L extends Layout> = FixedBody<K, L> & { extra?: Uint8Array };
export type FixedBodyWithExtraJson<K extends BodyLayout, L extends Layout> = FixedBodyJson<K, L> & { extra?: string };

/**
 * The codec of a body that is `table.size` bytes laid out as `table`, refused
 * when shorter (`lengthRule`) and kept with its `extra` bytes when longer (the
 * reader then reports the strict rule of that body, e.g. PV_INFO_EXTRA).
 */
export function fixedBodyWithExtraCodec<K extends BodyLayout, L extends Layout>(
  kind: K,
  table: L,
  lengthRule: RuleKey,
): BodyCodec<FixedBodyWithExtra<K, L>, FixedBodyWithExtraJson<K, L>> {
  return tableBodyCodec(kind, table, lengthRule, true);
}

function tableBodyCodec<K extends BodyLayout, L extends Layout>(
  kind: K,
  table: L,
  lengthRule: RuleKey,
  keepExtra: boolean,
): BodyCodec<FixedBodyWithExtra<K, L>, FixedBodyWithExtraJson<K, L>> {
  const c = layoutCodec(table);
  return {
    layout: kind,
    table,
    decode(bytes, at) {
      if (bytes.length < table.size || (!keepExtra && bytes.length !== table.size))
        throw formatError(lengthRule, at, { expected: table.size, actual: bytes.length });
      const b = { kind, ...c.decode(bytes) } as FixedBodyWithExtra<K, L>;
      if (bytes.length > table.size) b.extra = bytes.subarray(table.size);
      return b;
    },
    encodedLength: (b) => table.size + (b.extra?.length ?? 0),
    encode: (b) => (b.extra ? [c.encode(b), b.extra] : [c.encode(b)]),
    toJson: (b) => ({ kind, ...c.toJson(b), ...(b.extra ? { extra: toBase64(b.extra) } : {}) }) as FixedBodyWithExtraJson<K, L>,
    fromJson: (j) => ({ kind, ...c.fromJson(j), ...(j.extra !== undefined ? { extra: fromBase64(j.extra) } : {}) }) as FixedBodyWithExtra<K, L>,
  };
}
