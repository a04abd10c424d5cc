/** jsonDocumentItems: a stream document read item by item, whatever the chunking; non-documents refused early. */
import { describe, expect, it } from 'vitest';
import { JsonFormError } from '../src/codec/errors.js';
import { jsonDocumentItems, type JsonItemsOptions } from '../src/inspect/json-items.js';

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function items(text: string, size = 1 << 16, options: JsonItemsOptions = {}): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const it of jsonDocumentItems(chunked(text, size), options)) out.push(it.value);
  return out;
}

async function failure(text: string | AsyncIterable<Uint8Array>, options: JsonItemsOptions = {}): Promise<JsonFormError> {
  try {
    for await (const _ of jsonDocumentItems(typeof text === 'string' ? chunked(text, 7) : text, options)) void _;
  } catch (e) {
    expect(e).toBeInstanceOf(JsonFormError);
    return e as JsonFormError;
  }
  throw new Error('no error');
}

const HEAD = '{"format":"xen-migration-stream/1","dialect":"upstream","items":';

describe('jsonDocumentItems', () => {
  const doc = {
    format: 'xen-migration-stream/1',
    dialect: 'postcopy-rfc',
    items: [{ kind: 'a', s: 'with "quotes", \\ [brackets] {braces} and é' }, [1, [2, { x: '}' }]], 'plain', 12.5e3, true, null, { nested: { deep: [] } }],
    end: { status: 'complete', problems: ['[', '{'] },
    problems: [],
  };
  const compact = JSON.stringify(doc);
  const pretty = JSON.stringify(doc, null, 2).replace(/\n/g, '\r\n\t');

  it('yields each item exactly as JSON.parse reads it, at every chunk size', async () => {
    for (const text of [compact, pretty]) {
      for (const size of [1, 2, 3, 5, 64, 1 << 16]) expect(await items(text, size)).toEqual(doc.items);
    }
  });

  it('reports the dialect before the first item; an empty items array is fine', async () => {
    let dialect: string | undefined;
    expect(await items(compact, 3, { onDialect: (d) => (dialect = d) })).toHaveLength(7);
    expect(dialect).toBe('postcopy-rfc');
    expect(await items(`${HEAD} [ ] }`)).toEqual([]);
  });

  it('refuses what is not a stream document, at the first byte that shows it', async () => {
    expect((await failure('')).problem).toMatch(/not JSON: the end of the input at byte 0/);
    expect((await failure('\0\0\0')).problem).toMatch(/not JSON: byte 0x00 at byte 0/);
    expect((await failure('   x')).problem).toMatch(/not JSON: 'x' at byte 3/);
    expect((await failure(`${HEAD}[1,]}`)).problem).toMatch(/not JSON: '\]'/);
    expect((await failure(`${HEAD}[1]} {}`)).problem).toMatch(/nothing after the document/);
    expect((await failure(`${HEAD}[1,{"a":}]}`)).path).toBe('/items/1');
    expect((await failure(`${HEAD}[1,2`)).problem).toMatch(/the end of the input/);
    expect((await failure('{"dialect":"upstream","items":[]}')).path).toBe('/format');
    expect((await failure('{"format":"xen-migration-stream/1","items":[]}')).problem).toMatch(/"dialect" before "items"/);
    expect((await failure('{"format":"xen-migration-stream/1","dialect":"upstream"}')).path).toBe('/items');
    expect((await failure('{"format":"xen-migration-stream/1","dialect":"upstream","items":{}}')).path).toBe('/items');
  });

  it('an item longer than maxItemBytes is refused at its path before it is all read', async () => {
    const e = await failure(`${HEAD}[1,"${'x'.repeat(100)}"]}`, { maxItemBytes: 50 });
    expect(e.path).toBe('/items/1');
    expect(e.problem).toMatch(/longer than 50 bytes/);
    // An endless item stops the reading: the source is not drained.
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`${HEAD}["`);
      for (;;) {
        pulled++;
        yield Buffer.alloc(1024, 0x61);
      }
    }
    expect((await failure(endless(), { maxItemBytes: 10_000 })).path).toBe('/items/0');
    expect(pulled).toBeLessThan(12);
  });

  it('whitespace between items costs nothing and is not limited', async () => {
    async function* spaced(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`${HEAD}[1`);
      for (let i = 0; i < 64; i++) yield Buffer.alloc(1 << 16, 0x20);
      yield Buffer.from(',2]}');
    }
    const out: unknown[] = [];
    for await (const it of jsonDocumentItems(spaced(), { maxItemBytes: 16 })) out.push(it.value);
    expect(out).toEqual([1, 2]);
  });
});
