/**
 * The TypeBox schema of a layout's JSON form, derived from its table (kept out
 * of layout-codec.ts so that decoding never loads TypeBox).
 */
import { Type, type TSchema } from '@sinclair/typebox';
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

/** The schemas of `layout`'s fields, by name (to extend with more properties, e.g. a record's kind). */
export function layoutProperties(layout: Layout): Record<string, TSchema> {
  return Object.fromEntries(layout.fields.map((f) => [f.name, fieldSchema(f)]));
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
