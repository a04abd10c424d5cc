/**
 * `encode`: a JSON document (as `dump --format json` writes it) back to the
 * stream's bytes. The document is validated first (errors name the JSON path),
 * then encoded and written item by item, each item's JSON released once it is
 * written. gzip-compressed JSON is accepted too.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { JsonFormError } from '../codec/errors.js';
import { encodeItemChunks, itemFromJson, type StreamItemJsonForm } from '../codec/json.js';
import type { ByteSink } from './byte-sink.js';

export interface EncodeResult {
  items: number;
  bytes: number;
}

/** Read a whole JSON input (path, or a Readable such as stdin) as text. */
export async function readJsonText(source: string | AsyncIterable<Uint8Array>): Promise<string> {
  let bytes: Buffer;
  if (typeof source === 'string') bytes = await readFile(source);
  else {
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(Buffer.from(c));
    bytes = Buffer.concat(chunks);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return bytes.toString('utf8');
}

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JsonFormError('', `not JSON: ${(e as Error).message}`);
  }
}

export async function encodeJsonDocument(value: unknown, sink: ByteSink): Promise<EncodeResult> {
  // Loaded on first use: the validator compiles TypeBox schemas, which the
  // package root does not load (see src/index.ts).
  const { parseStreamDocument } = await import('../codec/json-validate.js');
  const doc = parseStreamDocument(value);
  const items: Array<StreamItemJsonForm | undefined> = doc.items;
  const count = items.length;
  for (let i = 0; i < count; i++) {
    const j = items[i] as StreamItemJsonForm;
    items[i] = undefined; // let the JSON of written items be collected
    let chunks: Uint8Array[];
    try {
      chunks = encodeItemChunks(itemFromJson(j, doc.dialect), doc.dialect);
    } catch (e) {
      if (e instanceof JsonFormError) throw e;
      throw new JsonFormError(`/items/${i}`, (e as Error).message);
    }
    await sink.write(chunks);
  }
  return { items: count, bytes: sink.bytesWritten };
}
