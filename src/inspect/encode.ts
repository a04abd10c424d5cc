/**
 * `encode`: a JSON document (as `dump --format json` writes it) back to the
 * stream's bytes. The document is read item by item (./json-items.ts): each
 * item is parsed, validated (errors name the JSON path), encoded and written
 * before the next one is read, so memory is bounded by the largest item
 * (at most `maxItemBytes` of JSON text) whatever the document's size.
 * gzip-compressed JSON is decompressed on the fly.
 */
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { JsonFormError } from '../codec/errors.js';
import { encodeItemChunks, itemFromJson, type StreamItemJsonForm } from '../codec/json.js';
import type { Dialect } from '../format/record-types.js';
import type { ByteSink } from './byte-sink.js';
import { jsonDocumentItems, type JsonItemsOptions } from './json-items.js';

export interface EncodeResult {
  items: number;
  bytes: number;
}

/** The JSON input's bytes (path, or a Readable such as stdin), gunzipped when they start with the gzip magic. */
export async function* jsonInputBytes(source: string | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const input = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  const all = (async function* () {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  })();
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    pipeline(Readable.from(all), gunzip, () => undefined); // errors surface through the iteration below
    yield* gunzip;
  } else {
    yield* all;
  }
}

/** Encode the document read from `source` to `sink`, one item at a time. */
export async function encodeJsonStream(
  source: AsyncIterable<Uint8Array>,
  sink: ByteSink,
  options: Pick<JsonItemsOptions, 'maxItemBytes'> = {},
): Promise<EncodeResult> {
  // Loaded on first use: the validator compiles TypeBox schemas, which the
  // package root does not load (see src/index.ts).
  const assertStreamItem: (item: unknown, i: number) => asserts item is StreamItemJsonForm = (await import('../codec/json-validate.js')).assertStreamItem;
  let dialect: Dialect = 'upstream';
  let items = 0;
  for await (const { index, value } of jsonDocumentItems(source, { ...options, onDialect: (d) => (dialect = d) })) {
    assertStreamItem(value, index);
    let chunks: Uint8Array[];
    try {
      chunks = encodeItemChunks(itemFromJson(value, dialect), dialect);
    } catch (e) {
      if (e instanceof JsonFormError) throw e;
      throw new JsonFormError(`/items/${index}`, (e as Error).message);
    }
    await sink.write(chunks);
    items++;
  }
  return { items, bytes: sink.bytesWritten };
}
