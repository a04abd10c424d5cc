/**
 * Reads a JSON stream document (`{"format":…,"dialect":…,"items":[…],…}`, as
 * `dump --format json` writes it) item by item from a byte stream, so that
 * only one item's text is ever held: a scanner finds where each element of
 * `items` ends (tracking strings, escapes and nesting), JSON.parse reads that
 * element alone. Keys other than format, dialect and items (dump's `end` and
 * `problems`) are skipped without being kept. Input that is not JSON fails at
 * the first byte that cannot start or continue the document.
 */
import { JsonFormError } from '../codec/errors.js';
import type { Dialect } from '../format/record-types.js';

/** Default limit on one item's JSON text: a 128 MiB (REC_LENGTH_MAX) record as base64 plus its envelope. */
export const JSON_ITEM_MAX = 192 * 1024 * 1024;
/** The format, dialect and any key are short strings; more than this is not a stream document. */
const SMALL_VALUE_MAX = 4096;

export interface JsonItem {
  index: number;
  value: unknown;
}

export interface JsonItemsOptions {
  /** Refuse an item whose JSON text is longer than this many bytes (default JSON_ITEM_MAX). */
  maxItemBytes?: number;
  /** Called once format and dialect are known, before the first item. */
  onDialect?: (dialect: Dialect) => void;
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;
const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  COMMA = 0x2c,
  COLON = 0x3a;
const OPEN_OBJ = 0x7b,
  CLOSE_OBJ = 0x7d,
  OPEN_ARR = 0x5b,
  CLOSE_ARR = 0x5d;

type Expect = 'doc' | 'key-or-end' | 'key' | 'colon' | 'value' | 'next-key' | 'items' | 'item-or-end' | 'next-item' | 'end';

/** One JSON value being scanned: where it ends, and its bytes when kept. */
class ValueScan {
  depth = 0;
  inString = false;
  escaped = false;
  scalar = false;
  length = 0;
  private parts: Uint8Array[] = [];

  constructor(
    readonly keep: boolean,
    readonly max: number,
  ) {}

  /** Scan `chunk` from `i`; returns the index just past the value's end, or -1 when it continues in the next chunk. */
  scan(chunk: Uint8Array, i: number): number {
    const start = i;
    let end = -1;
    if (this.length === 0 && !this.inString && this.depth === 0) {
      const c = chunk[i];
      if (c !== OPEN_OBJ && c !== OPEN_ARR && c !== QUOTE) this.scalar = true;
    }
    for (; i < chunk.length; i++) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        // Jump to the next quote (strings are most of a document: base64 pages); it closes
        // the string unless an odd run of backslashes escapes it.
        const q = chunk.indexOf(QUOTE, i);
        const stop = q < 0 ? chunk.length : q;
        let run = 0;
        while (stop - run - 1 >= i && chunk[stop - run - 1] === BACKSLASH) run++;
        if (q < 0) {
          this.escaped = run % 2 === 1;
          i = chunk.length;
          break;
        }
        i = q;
        if (run % 2 === 1) continue;
        this.inString = false;
        if (this.depth === 0) {
          end = i + 1;
          break;
        }
        continue;
      }
      const c = chunk[i];
      if (this.scalar) {
        if (WS[c] || c === COMMA || c === CLOSE_ARR || c === CLOSE_OBJ) {
          end = i;
          break;
        }
      } else if (c === QUOTE) this.inString = true;
      else if (c === OPEN_OBJ || c === OPEN_ARR) this.depth++;
      else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        if (--this.depth === 0) {
          end = i + 1;
          break;
        }
      }
    }
    const stop = end < 0 ? chunk.length : end;
    this.length += stop - start;
    if (this.length > this.max) return -2;
    if (this.keep) this.parts.push(chunk.subarray(start, stop));
    return end;
  }

  text(): string {
    const t = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    return t;
  }
}

function parse(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JsonFormError(path, `not JSON: ${(e as Error).message}`);
  }
}

function unexpected(c: number | undefined, at: number, wanted: string): JsonFormError {
  const what = c === undefined ? 'the end of the input' : c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
  return new JsonFormError('', `not JSON: ${what} at byte ${at} where ${wanted} was expected`);
}

/**
 * The items of a stream document, parsed one at a time from `source`
 * (decompressed bytes). Throws JsonFormError for input that is not such a
 * document, and for an item longer than `maxItemBytes` (naming its path).
 */
// Long (~140 lines) on purpose: one streaming tokenizer whose states share the loop's locals
// (position, depth, string/escape state, the item being cut); split, each piece would take them all.
export async function* jsonDocumentItems(source: AsyncIterable<Uint8Array>, options: JsonItemsOptions = {}): AsyncGenerator<JsonItem> {
  const maxItem = options.maxItemBytes ?? JSON_ITEM_MAX;
  let expect: Expect = 'doc';
  let key = '';
  let value: ValueScan | undefined;
  let format: unknown;
  let dialect: unknown;
  let sawItems = false;
  let index = 0;
  let consumed = 0; // bytes of the input before the current chunk

  function* finishValue(): Generator<JsonItem> {
    const v = value as ValueScan;
    value = undefined;
    if (expect === 'item-or-end') {
      yield { index, value: parse(v.text(), `/items/${index}`) };
      index++;
      expect = 'next-item';
    } else if (expect === 'key') {
      const k = parse(v.text(), '');
      if (typeof k !== 'string') throw new JsonFormError('', 'not JSON: an object key must be a string');
      key = k;
      expect = 'colon';
    } else {
      if (key === 'format') format = parse(v.text(), '/format');
      else if (key === 'dialect') dialect = parse(v.text(), '/dialect');
      expect = 'next-key';
    }
  }

  const startItems = (): void => {
    if (format !== 'xen-migration-stream/1')
      throw new JsonFormError('/format', format === undefined ? 'expected "format" before "items"' : 'expected "xen-migration-stream/1"');
    if (dialect !== 'upstream' && dialect !== 'postcopy-rfc')
      throw new JsonFormError('/dialect', dialect === undefined ? 'expected "dialect" before "items"' : 'expected "upstream" or "postcopy-rfc"');
    options.onDialect?.(dialect);
    sawItems = true;
  };

  for await (const chunk of source) {
    let i = 0;
    while (i < chunk.length) {
      if (value) {
        const end = value.scan(chunk, i);
        if (end === -2) {
          throw expect === 'item-or-end'
            ? new JsonFormError(`/items/${index}`, `item longer than ${maxItem} bytes of JSON (the limit; encode --max-item-json raises it)`)
            : new JsonFormError(expect === 'key' ? '' : `/${key}`, `value longer than ${value.max} bytes`);
        }
        if (end === -1) break;
        yield* finishValue();
        i = end;
        continue;
      }
      const c = chunk[i];
      if (WS[c]) {
        while (++i < chunk.length && WS[chunk[i]] === 1);
        continue;
      }
      const at = consumed + i;
      switch (
        expect as Expect // finishValue() changes it too
      ) {
        case 'doc':
          if (c !== OPEN_OBJ) throw unexpected(c, at, "'{'");
          expect = 'key-or-end';
          i++;
          break;
        case 'key-or-end':
        case 'key':
          if (c === CLOSE_OBJ && expect === 'key-or-end') {
            expect = 'end';
            i++;
            break;
          }
          if (c !== QUOTE) throw unexpected(c, at, 'a key');
          expect = 'key';
          value = new ValueScan(true, SMALL_VALUE_MAX);
          break;
        case 'colon':
          if (c !== COLON) throw unexpected(c, at, "':'");
          i++;
          if (key === 'items') {
            startItems();
            expect = 'items';
          } else {
            expect = 'value';
          }
          break;
        case 'value':
          if (c === COMMA || c === CLOSE_OBJ || c === CLOSE_ARR || c === COLON) throw unexpected(c, at, 'a value');
          value = new ValueScan(key === 'format' || key === 'dialect', key === 'format' || key === 'dialect' ? SMALL_VALUE_MAX : Infinity);
          break;
        case 'next-key':
          if (c === COMMA) {
            expect = 'key';
            i++;
            break;
          }
          if (c === CLOSE_OBJ) {
            expect = 'end';
            i++;
            break;
          }
          throw unexpected(c, at, "',' or '}'");
        case 'items':
          if (c !== OPEN_ARR) throw new JsonFormError('/items', 'expected an array');
          expect = 'item-or-end';
          i++;
          break;
        case 'item-or-end':
          if (c === CLOSE_ARR && index === 0) {
            expect = 'next-key';
            i++;
            break;
          }
          if (c === COMMA || c === CLOSE_ARR || c === CLOSE_OBJ || c === COLON) throw unexpected(c, at, 'an item');
          value = new ValueScan(true, maxItem);
          break;
        case 'next-item':
          if (c === COMMA) {
            expect = 'item-or-end';
            i++;
            break;
          }
          if (c === CLOSE_ARR) {
            expect = 'next-key';
            i++;
            break;
          }
          throw unexpected(c, at, "',' or ']'");
        case 'end':
          throw unexpected(c, at, 'nothing after the document');
      }
    }
    consumed += chunk.length;
  }
  if (expect !== 'end') throw unexpected(undefined, consumed, expect === 'doc' ? 'a document' : 'the rest of the document');
  if (!sawItems) throw new JsonFormError('/items', 'expected an array');
}
