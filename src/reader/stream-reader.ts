/**
 * The reader's entry points: an async iterator over any source, a synchronous
 * one over bytes in memory, and a push-fed decoder for protocol sessions.
 */
import { StreamDecoder, type ReaderOptions, type Step } from './decoder.js';
import { BackChannelDecoder, type BackChannelOptions } from './back-channel.js';
import type { Problem, StreamEnd, StreamItem } from './items.js';
import { compressionOf, decompressSync } from './containers/decompress.js';
import { MemoryWindow, openWindow, type ByteWindow, type PassedBytes, type StreamSource, type WindowOptions } from './sources.js';
import type { StreamSummary } from './summary.js';

/** What the drivers below need of a decoder: the forward stream's or a back channel's. */
export interface ItemDecoder {
  next(view: Uint8Array, known?: number, omitted?: number): Step;
  /** `restLength`: the bytes that arrived from the current position, `rest` and any that passed unread. */
  finish(rest: Uint8Array, restLength?: number): { end: StreamEnd; trailing?: StreamItem };
  readonly done: boolean;
  readonly problems: Problem[];
  summary(end?: StreamEnd): StreamSummary;
  /** Told when the window can read passed bytes again (StreamDecoder.readPassedBytesWith). */
  readPassedBytesWith?(passed: PassedBytes): void;
}

/** walkItems asks its driver to let bytes of a sequential input pass (ByteWindow.pass), answered with how many there were. */
class PassRequest {
  constructor(
    readonly at: number,
    readonly length: number,
  ) {}
}

/**
 * One walk, shared by the async and sync readers: yields the items, and a
 * number when it needs that many contiguous bytes (the caller answers with
 * whether they came: `ensure`, awaited or not), or a PassRequest (answered
 * with `pass`'s count); returns how the stream ended.
 */
function* walkItems(dec: ItemDecoder, window: ByteWindow): Generator<StreamItem | number | PassRequest, StreamEnd, boolean | number | undefined> {
  const passed = window.passedBytes;
  if (passed !== undefined) dec.readPassedBytesWith?.(passed);
  // Bytes of the record at the window's start that passed unread (its pages, on a pipe).
  let omitted = 0;
  for (;;) {
    const step = dec.next(window.current(), window.known(), omitted);
    if ('item' in step) {
      window.consume(step.item.length - omitted);
      omitted = 0;
      yield step.item;
    } else if ('skip' in step) {
      window.consume(step.skip);
    } else if ('stop' in step) {
      break;
    } else if (step.passable !== undefined && window.pass !== undefined && omitted === 0) {
      // A pipe in skip mode: its pages are read past, into a scratch buffer, before the record is decoded.
      const { at, length } = step.passable;
      const came = (yield new PassRequest(at, length)) as number;
      if (came < length) {
        const rest = window.current();
        return dec.finish(rest, rest.length + came).end;
      }
      omitted = length;
    } else if (!(yield step.need)) {
      if (window.current().length > 0 && dec.done) continue; // trailing bytes shorter than asked
      break;
    }
  }
  const { end, trailing } = dec.finish(dec.done ? new Uint8Array(0) : window.current());
  if (trailing) yield trailing;
  return end;
}

/** Shared by the readers: the results of a finished walk. */
abstract class ReaderBase {
  protected readonly decoder: ItemDecoder;
  protected finished?: StreamEnd;

  constructor(options: ReaderOptions | { backChannel: BackChannelOptions }) {
    this.decoder = 'backChannel' in options ? new BackChannelDecoder(options.backChannel) : new StreamDecoder(options);
  }

  /** Warnings and notes so far (errors are thrown). */
  get problems(): readonly Problem[] {
    return this.decoder.problems;
  }

  /** How the stream ended; undefined until the iteration finished without error. */
  get end(): StreamEnd | undefined {
    return this.finished;
  }

  /** Counts, bytes, passes, pfns so far (complete after the iteration). */
  summary(): StreamSummary {
    return this.decoder.summary(this.finished);
  }
}

/** Walks a stream from a path, fd, FileHandle, Node Readable / stdin, web ReadableStream, async iterable or bytes. Gzip input is decompressed on the fly. */
export class StreamReader extends ReaderBase implements AsyncIterable<StreamItem> {
  private used = false;

  private readonly windowOptions: WindowOptions;

  constructor(
    private readonly source: StreamSource,
    options: (ReaderOptions | { backChannel: BackChannelOptions }) & WindowOptions = {},
  ) {
    super(options);
    this.windowOptions = { recycleBuffers: options.recycleBuffers, syncReads: options.syncReads };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    if (this.used) throw new Error('a StreamReader can be iterated once');
    this.used = true;
    const window: ByteWindow = await openWindow(this.source, this.windowOptions);
    try {
      const walk = walkItems(this.decoder, window);
      for (let step = walk.next(); ; ) {
        if (step.done) {
          this.finished = step.value;
          return;
        }
        if (typeof step.value === 'number') {
          step = walk.next(await window.ensure(step.value));
        } else if (step.value instanceof PassRequest) {
          step = walk.next(await (window.pass as NonNullable<ByteWindow['pass']>)(step.value.at, step.value.length));
        } else {
          yield step.value;
          step = walk.next();
        }
      }
    } finally {
      await window.close();
    }
  }

  /** Walk the whole stream, discarding items; returns how it ended. */
  async run(onItem?: (item: StreamItem) => void): Promise<StreamEnd> {
    for await (const item of this) onItem?.(item);
    return this.finished as StreamEnd;
  }
}

/** Compressed bytes decompressed (in memory: the synchronous reader has no stream to pipe). */
function decompressedBytes(bytes: Uint8Array): Uint8Array {
  const codec = compressionOf(bytes);
  return codec ? decompressSync(codec, bytes) : bytes;
}

/** The same walk over bytes in memory, synchronously. */
export class SyncStreamReader extends ReaderBase implements Iterable<StreamItem> {
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, options: ReaderOptions | { backChannel: BackChannelOptions } = {}) {
    super(options);
    this.bytes = decompressedBytes(bytes);
  }

  *[Symbol.iterator](): Iterator<StreamItem> {
    const window = new MemoryWindow(this.bytes);
    const walk = walkItems(this.decoder, window);
    for (let step = walk.next(); ; ) {
      if (step.done) {
        this.finished = step.value;
        return;
      }
      if (typeof step.value === 'number') {
        step = walk.next(window.ensureSync(step.value));
      } else if (step.value instanceof PassRequest) {
        throw new Error('SyncStreamReader: bytes in memory never pass unread');
      } else {
        yield step.value;
        step = walk.next();
      }
    }
  }

  /** Walk everything: the items, how it ended and the summary. */
  readAll(): { items: StreamItem[]; end: StreamEnd; summary: StreamSummary; problems: readonly Problem[] } {
    const items = [...this];
    return { items, end: this.finished as StreamEnd, summary: this.summary(), problems: this.problems };
  }
}

export function readStream(source: StreamSource, options: ReaderOptions & WindowOptions = {}): StreamReader {
  return new StreamReader(source, options);
}

export function readStreamSync(bytes: Uint8Array, options: ReaderOptions = {}): SyncStreamReader {
  return new SyncStreamReader(bytes, options);
}

/** Walk a headerless back channel (COLO or postcopy RFC), e.g. xl migrate-receive's stdout. */
export function readBackChannel(source: StreamSource, options: BackChannelOptions): StreamReader {
  return new StreamReader(source, { backChannel: options });
}

export function readBackChannelSync(bytes: Uint8Array, options: BackChannelOptions): SyncStreamReader {
  return new SyncStreamReader(bytes, { backChannel: options });
}
