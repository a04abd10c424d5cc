/**
 * The TypeBox schema of a layout's JSON form, derived from its table (kept out
 * of layout-codec.ts so that decoding never loads TypeBox).
 */
import { Type, type TArray, type TInteger, type TSchema, type TString } from '@sinclair/typebox';
import { isBytesField, isStructField, type FieldDef, type Layout, type ScalarType } from '../format/layout.js';

function scalarSchema(t: ScalarType, doc: string | undefined): TSchema {
  const d = doc !== undefined ? { description: doc } : {};
  switch (t) {
    case 'u64':
      return Type.String({ pattern: '^0x0*[0-9a-f]{1,16}$', ...d });
    case 'i64':
      return Type.String({ pattern: '^-?[0-9]{1,19}$', ...d });
    default: {
      const bits = Number(t.slice(1));
      const signed = t[0] === 'i';
      return Type.Integer({ minimum: signed ? -(2 ** (bits - 1)) : 0, maximum: signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1, ...d });
    }
  }
}

function fieldSchema(f: FieldDef): TSchema {
  if (isBytesField(f)) {
    const d = f.doc !== undefined ? { description: f.doc } : {};
    if (f.json === 'base64') return Type.String({ ...d, contentEncoding: 'base64', maxLength: 4 * Math.ceil(f.size / 3) + 4 });
    if (f.json === 'latin1') return Type.String({ ...d, minLength: f.size, maxLength: f.size });
    return Type.String({ ...d, pattern: `^([0-9a-fA-F]{2}){${f.size}}$` });
  }
  const one = isStructField(f) ? layoutSchema(f.type) : scalarSchema(f.type, f.doc);
  return f.count === undefined ? one : Type.Array(one, { minItems: f.count, maxItems: f.count });
}

type OneSchema<F> = F extends { readonly type: Layout } ? TSchema : F extends { readonly type: 'bytes' | 'u64' | 'i64' } ? TString : TInteger;
type FieldSchemaType<F> = F extends { readonly count: number } ? TArray<OneSchema<F>> : OneSchema<F>;

/** The TypeBox type of each field's schema, so that Static<> of a schema built from them is the layout's JSON type. */
export type LayoutProperties<L> = L extends Layout<infer Fs> ? { -readonly [F in Fs[number] as F['name']]: FieldSchemaType<F> } : never;

/** The schemas of `layout`'s fields, by name (to extend with more properties, e.g. a record's kind). */
export function layoutProperties<L extends Layout>(layout: L): LayoutProperties<L> {
  return Object.fromEntries(layout.fields.map((f) => [f.name, fieldSchema(f)])) as LayoutProperties<L>;
}

/** Some of a layout's field schemas (e.g. a header's JSON, which leaves out the magic fields encode writes itself). */
export function pickLayoutProperties<L extends Layout, const K extends keyof LayoutProperties<L>>(
  layout: L,
  names: readonly K[],
): Pick<LayoutProperties<L>, K> {
  const all = layoutProperties(layout);
  return Object.fromEntries(names.map((n) => [n, all[n]])) as Pick<LayoutProperties<L>, K>;
}

const schemas = new WeakMap<Layout, TSchema>();

/** JSON schema of `layout`'s JSON form: every field required, nothing else allowed. */
export function layoutSchema(layout: Layout): TSchema {
  let s = schemas.get(layout);
  if (!s) {
    s = Type.Object(layoutProperties(layout), {
      additionalProperties: false,
      ...(layout.doc !== undefined ? { description: layout.doc } : {}),
    });
    schemas.set(layout, s);
  }
  return s;
}
