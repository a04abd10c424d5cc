/**
 * Validating JSON forms against their TypeBox schemas: validators compiled
 * once, errors naming the JSON path of the first problem.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { JsonFormError } from './errors.js';
import type { StreamDocument, StreamItemJsonForm } from './json.js';
import {
  bodySchemaForKind,
  ContainerPartJson,
  LibxcDomainHeaderJson,
  LibxcImageHeaderJson,
  LibxlHeaderJson,
  RecordItemJson,
  TrailingJson,
  XlHeaderJson,
} from './json-schemas.js';

const checks = new Map<TSchema, TypeCheck<TSchema>>();
function compiled<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = checks.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    checks.set(schema, c);
  }
  return c as TypeCheck<T>;
}

/** Check a value against a schema; throws JsonFormError naming the first bad path. */
export function assertJson<T extends TSchema>(schema: T, value: unknown, basePath = ''): asserts value is Static<T> {
  const check = compiled(schema);
  if (check.Check(value)) return;
  // Union errors are vague: report the deepest path among the errors found.
  let best: { path: string; message: string } | undefined;
  for (const e of check.Errors(value)) {
    if (!best || e.path.length > best.path.length) best = { path: e.path, message: e.message };
  }
  throw new JsonFormError(basePath + (best?.path ?? ''), best?.message ?? 'does not match the schema');
}

/** Validate a parsed JSON document (item by item, so errors point at the item). */
export function parseStreamDocument(value: unknown): StreamDocument {
  if (typeof value !== 'object' || value === null) throw new JsonFormError('', 'expected an object');
  const doc = value as Record<string, unknown>;
  if (doc.format !== 'xen-migration-stream/1') throw new JsonFormError('/format', 'expected "xen-migration-stream/1"');
  if (doc.dialect !== 'upstream' && doc.dialect !== 'postcopy-rfc') throw new JsonFormError('/dialect', 'expected "upstream" or "postcopy-rfc"');
  if (!Array.isArray(doc.items)) throw new JsonFormError('/items', 'expected an array');
  doc.items.forEach((item: unknown, i: number) => {
    assertStreamItem(item, i);
  });
  return doc as StreamDocument;
}

/** Validate item `i` of a document's `items` (errors name /items/i/…). */
export function assertStreamItem(item: unknown, i: number): asserts item is StreamItemJsonForm {
  const kind = (item as { kind?: unknown } | null)?.kind;
  const schema =
    kind === 'xl-header'
      ? XlHeaderJson
      : kind === 'libxl-header'
        ? LibxlHeaderJson
        : kind === 'libxc-image-header'
          ? LibxcImageHeaderJson
          : kind === 'libxc-domain-header'
            ? LibxcDomainHeaderJson
            : kind === 'record'
              ? RecordItemJson
              : kind === 'trailing'
                ? TrailingJson
                : kind === 'container-part'
                  ? ContainerPartJson
                  : undefined;
  if (!schema) throw new JsonFormError(`/items/${i}/kind`, `unknown item kind ${JSON.stringify(kind)}`);
  if (kind === 'record') {
    // Check the body against its own kind's schema first: union errors say too little.
    const body = (item as { body?: { kind?: unknown } }).body;
    const bodySchema = bodySchemaForKind(body?.kind);
    if (!bodySchema) throw new JsonFormError(`/items/${i}/body/kind`, `unknown body kind ${JSON.stringify(body?.kind)}`);
    assertJson(bodySchema, body, `/items/${i}/body`);
  }
  assertJson(schema, item, `/items/${i}`);
}
