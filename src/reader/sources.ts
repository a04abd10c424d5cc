/**
 * Byte sources for the reader. Each keeps a window of contiguous bytes the
 * decoder can take views of; `ensure(n)` makes at least n bytes contiguous,
 * allocating a fresh buffer when it must (earlier views stay valid: buffers
 * are never reused). Memory stays bounded by the largest record plus a chunk.
 */
import type { FileHandle } from 'node:fs/promises';
// fs.promises, not node:fs/promises: a bundle then loads it on first use (the CLI's sync reads never do).
import { closeSync, createReadStream, fstat, fstatSync, openSync, promises as fsPromises, read, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { COMPRESSION_MAGIC_BYTES, compressionOf, decompressChunks } from './containers/decompress.js';
import { copyBytes } from '../codec/bytes.js';

export interface ByteWindow {
  /** Contiguous unread bytes (possibly empty). */
  current(): Uint8Array;
  /**
   * How many bytes the input holds from the current position: a regular file's
   * size says so without reading them; other windows know only current().length.
   */
  known(): number;
  /** Move past n bytes; beyond current() only as far as known() allows (a seekable file then skips them unread). */
  consume(n: number): void;
  /** Make `current()` hold at least n bytes. Resolves false at EOF (current() then holds the rest). */
  ensure(n: number): Promise<boolean>;
  close(): Promise<void>;
  /**
   * Bytes already passed, read again by stream offset, where the input allows
   * it (a regular file, bytes in memory); undefined elsewhere (pipes, sockets,
   * decompressed input).
   */
  readonly passedBytes?: PassedBytes | undefined;
  /**
   * A sequential input (a pipe, a FIFO) lets bytes it need not keep pass: the
   * `length` bytes from current()[at] on are read into a scratch buffer (those
   * already in the window are cut out), and current() goes on with the bytes
   * after them. Resolves how many there were (fewer at EOF). Undefined elsewhere.
   */
  readonly pass?: ((at: number, length: number) => Promise<number>) | undefined;
}

/** `length` bytes at stream offset `offset`, all before the current position; valid until the next call. */
export type PassedBytes = (offset: number, length: number) => Uint8Array;

/** Minimum read size, so runs of small records don't cost a syscall each. */
const MIN_READ = 256 * 1024;
/** Bytes read at once when letting bytes pass (several pipe-fulls; small enough to stay in cache). */
const PASS_READ = 256 * 1024;
/** Bytes read back at once for passedBytes. */
const READ_BACK = 1024 * 1024;
/** After a big record, read that much plus the next record's header, so equal-sized records line up with reads. */
const LOOKAHEAD = 8;

/** readNow()'s answer when a non-blocking fd has nothing yet. */
const WOULD_BLOCK = -1;

/** A FileHandle whose reads are blocking reads on the calling thread, also offered without a promise. */
interface BlockingHandle extends FileHandle {
  /** Bytes read (0 at EOF), or WOULD_BLOCK. */
  readNow(buffer: Uint8Array, offset: number, length: number, position: number | null): number;
}

/** A buffer that is not zero-filled: it is about to be overwritten by a read. */
function uninitialised(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}

/**
 * A file descriptor / handle, read into buffers sized to what the decoder needs.
 * A regular file is read with positioned reads from offset 0 and its size is
 * known, so bytes the decoder steps over (skipped page contents) are never read;
 * anything else (a pipe, a FIFO) is read sequentially.
 */
export class FileWindow implements ByteWindow {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private eof = false;
  /** Regular file: the offset of buf[end] in it, and its size (a lower bound: it may grow). */
  private filePos = 0;
  private size = -1;
  /** recycle 'alternate': the buffer before `buf`, free once the consumer asks for the next item. */
  private spare: Uint8Array | undefined;
  /** Nothing was read since the last consume(): the next read starts an item. */
  private itemStarts = true;
  /** Sequential input: where passed bytes go. */
  private scratch: Uint8Array | undefined;
  /** A blocking handle's read without a promise (a pipe gives 64 KiB a read: no promise per read); the handle's read() only on EAGAIN. */
  private readonly readNow: BlockingHandle['readNow'] | undefined;
  readonly pass: ((at: number, length: number) => Promise<number>) | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly ownsHandle: boolean,
    private readonly recycle: Recycling = false,
    fileSize?: number,
  ) {
    if (fileSize !== undefined) this.size = fileSize;
    this.readNow = (handle as Partial<BlockingHandle>).readNow;
    // Sequential input only (a regular file steps over bytes by position); one function, not one per record.
    this.pass = fileSize === undefined ? (at, length) => this.passOver(at, length) : undefined;
  }

  current(): Uint8Array {
    return this.buf.subarray(this.pos, this.end);
  }

  known(): number {
    const have = this.end - this.pos;
    return this.size < 0 ? have : Math.max(have, this.size - this.filePos + have);
  }

  consume(n: number): void {
    this.itemStarts = true;
    this.pos += n;
    if (this.pos <= this.end) return;
    if (this.size < 0) throw new Error('FileWindow: cannot skip unread bytes of a sequential input');
    // Skipped unread: the next read starts after them.
    this.filePos += this.pos - this.end;
    this.pos = this.end;
  }

  async ensure(n: number): Promise<boolean> {
    const have = this.end - this.pos;
    if (have >= n) return true;
    if (this.eof) return false;
    let size = Math.max(n + LOOKAHEAD, MIN_READ);
    let next: Uint8Array;
    // Recycling, the consumer has asked for the next item: only the unread tail is alive. Alternating, the
    // first read for an item moves to the other buffer (the one before is free now); later ones stay put.
    const switching = this.recycle === 'alternate' && this.itemStarts;
    this.itemStarts = false;
    const reuse = switching ? this.spare : this.recycle ? this.buf : undefined;
    if (reuse !== undefined && reuse.length >= size) {
      next = reuse;
      size = next.length;
      if (next === this.buf) next.copyWithin(0, this.pos, this.end);
      else next.set(this.buf.subarray(this.pos, this.end));
    } else {
      next = uninitialised(size);
      if (have > 0) next.set(this.buf.subarray(this.pos, this.end));
    }
    if (switching) this.spare = this.buf;
    this.buf = next;
    this.pos = 0;
    this.end = have;
    const positioned = this.size >= 0;
    while (this.end < n) {
      const position = positioned ? this.filePos : null;
      let bytesRead = this.readNow ? this.readNow(next, this.end, size - this.end, position) : WOULD_BLOCK;
      if (bytesRead === WOULD_BLOCK) ({ bytesRead } = await this.handle.read(next, this.end, size - this.end, position));
      if (bytesRead === 0) {
        this.eof = true;
        return false;
      }
      this.end += bytesRead;
      if (positioned) {
        this.filePos += bytesRead;
        if (this.filePos > this.size) this.size = this.filePos;
      }
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.ownsHandle) await this.handle.close();
  }

  private async passOver(at: number, length: number): Promise<number> {
    const from = this.pos + at;
    if (from > this.end) throw new Error('FileWindow: pass() beyond the bytes in the window');
    const inWindow = Math.min(length, this.end - from);
    this.buf.copyWithin(from, from + inWindow, this.end);
    this.end -= inWindow;
    if (inWindow === length) return length;
    // Everything after `from` was passed: the rest is read past, and later reads append at `from`.
    return inWindow + (await this.readPast(length - inWindow));
  }

  /** Read n bytes into a scratch buffer reused from call to call, keeping nothing. */
  private async readPast(n: number): Promise<number> {
    if (this.eof) return 0;
    this.scratch ??= uninitialised(PASS_READ);
    const scratch = this.scratch;
    let done = 0;
    while (done < n) {
      const length = Math.min(n - done, scratch.length);
      let bytesRead = this.readNow ? this.readNow(scratch, 0, length, null) : WOULD_BLOCK;
      if (bytesRead === WOULD_BLOCK) ({ bytesRead } = await this.handle.read(scratch, 0, length, null));
      if (bytesRead === 0) {
        this.eof = true;
        break;
      }
      done += bytesRead;
    }
    return done;
  }

  get passedBytes(): PassedBytes | undefined {
    if (this.size < 0) return undefined;
    // Asked for in about the order they were sent (a VERIFY re-send follows its first pass): read back in runs, not a page at a time.
    let back: Uint8Array = new Uint8Array(0);
    let backAt = 0;
    let backLength = 0;
    return (offset, length) => {
      if (offset < backAt || offset + length > backAt + backLength) {
        if (back.length < Math.max(length, READ_BACK)) back = uninitialised(Math.max(length, READ_BACK));
        backAt = offset;
        backLength = readSync(this.handle.fd, back, 0, back.length, offset);
        if (backLength < length) throw new Error(`the input changed while it was read: ${length} bytes at offset ${offset} are gone`);
      }
      return back.subarray(offset - backAt, offset - backAt + length);
    };
  }
}

/**
 * Chunks as they arrive, with a contiguous window over them: a record that fits
 * in one chunk is a view of it; one that spans chunks is copied, once, into a
 * buffer of exactly the size asked for, filled as its chunks arrive (so neither
 * the chunking nor the number of calls to assemble() makes a byte copied twice).
 * Shared by the async chunk source and the push decoder.
 */
export class ChunkQueue {
  /**
   * `recycle`: the consumer keeps no view past its next request, so the buffer
   * a spanning record was assembled in is reused for the next one.
   */
  constructor(private readonly recycle = false) {}

  /** The contiguous window: buf[pos, end). */
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  /** buf is ours (allocated here) and [end, buf.length) is free to fill; otherwise buf is a caller's chunk. */
  private owned = false;
  /** recycle: the last buffer allocated for assembling. */
  private spare?: Uint8Array | undefined;
  /** Chunks received but not yet in buf. */
  private readonly queue: Uint8Array[] = [];
  private queued = 0;

  /** Bytes available (contiguous or not). */
  get available(): number {
    return this.end - this.pos + this.queued;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
  }

  current(): Uint8Array {
    return this.buf.subarray(this.pos, this.end);
  }

  consume(n: number): void {
    this.pos += n;
  }

  /**
   * Make at least n bytes contiguous in current(), or as many as there are.
   * Returns whether n bytes are there. Callers may ask again for the same n as
   * chunks arrive: only the new bytes are copied.
   */
  assemble(n: number): boolean {
    const have = this.end - this.pos;
    if (have >= n) return true;
    if (this.queue.length === 0) return false;
    if (have === 0 && this.queue[0].length >= Math.min(n, this.queued)) {
      // Zero-copy: the next chunk alone holds what is needed (or all there is).
      const chunk = this.queue.shift() as Uint8Array;
      this.queued -= chunk.length;
      this.setWindow(chunk, chunk.length, false);
      return chunk.length >= n;
    }
    if (!this.owned || this.buf.length - this.pos < n) {
      // A buffer of exactly n: the bytes of this request are copied into it once, as they come.
      // (Only a request that outgrows an earlier, smaller one re-copies that smaller prefix.)
      const next = this.recycle && this.spare && this.spare.length >= n ? this.spare : new Uint8Array(n);
      if (next.buffer === this.buf.buffer)
        next.copyWithin(0, this.pos + this.buf.byteOffset - next.byteOffset, this.end + this.buf.byteOffset - next.byteOffset);
      else next.set(this.buf.subarray(this.pos, this.end));
      if (this.recycle) this.spare = next;
      this.setWindow(next, have, true);
    }
    const limit = this.pos + n;
    while (this.end < limit && this.queue.length > 0) {
      const chunk = this.queue[0];
      const take = Math.min(chunk.length, limit - this.end);
      this.buf.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.end);
      this.end += take;
      this.queued -= take;
      if (take === chunk.length) this.queue.shift();
      else this.queue[0] = chunk.subarray(take);
    }
    return this.end >= limit;
  }

  private setWindow(buf: Uint8Array, end: number, owned: boolean): void {
    this.buf = buf;
    this.pos = 0;
    this.end = end;
    this.owned = owned;
  }

  /** Drop up to n bytes unread (window first, then queued chunks, no copy); returns how many were dropped. */
  drop(n: number): number {
    const fromWindow = Math.min(n, this.end - this.pos);
    this.pos += fromWindow;
    let dropped = fromWindow;
    while (dropped < n && this.queue.length > 0) {
      const chunk = this.queue[0];
      const take = Math.min(chunk.length, n - dropped);
      if (take === chunk.length) this.queue.shift();
      else this.queue[0] = chunk.subarray(take);
      this.queued -= take;
      dropped += take;
    }
    return dropped;
  }

  /**
   * Remove the n bytes that follow the first `keep` of the window (an opaque
   * blob let pass unread), as many as have arrived; the `keep` bytes (copied)
   * stay in front of whatever follows. Returns how many were removed: the
   * caller counts the rest as it arrives, before pushing what follows it.
   */
  cut(keep: number, n: number): number {
    const head = copyBytes(this.buf, this.pos, this.pos + keep);
    this.pos += keep;
    const removed = this.drop(n);
    const after = this.current();
    if (after.length > 0) {
      this.queue.unshift(after);
      this.queued += after.length;
    }
    // `after` may view the spare buffer: it must not be recycled under it.
    this.spare = undefined;
    this.setWindow(head, keep, true);
    return removed;
  }

  /**
   * Copy what is not consumed out of the pushed chunks (a partial record
   * header, pfn array or record: what the next push completes), so that no
   * chunk is referenced any more and its memory can be reused by the caller.
   */
  releaseInput(): void {
    if (this.queue.length === 0 && (this.owned || this.end === this.pos)) {
      if (!this.owned) this.setWindow(new Uint8Array(0), 0, false);
      return;
    }
    const rest = this.rest();
    this.queue.length = 0;
    this.queued = 0;
    // Owned and full: the next request that needs more gets a buffer of its size (one more copy of this tail).
    this.setWindow(rest, rest.length, true);
  }

  /** Everything not consumed, as one buffer (a copy). */
  rest(): Uint8Array {
    return Buffer.concat([this.current(), ...this.queue]);
  }
}

/** Chunks from an async iterable (Readable, stdin, web stream, gunzip). */
export class ChunkWindow implements ByteWindow {
  private readonly chunks: ChunkQueue;
  private eof = false;
  private readonly iterator: AsyncIterator<Uint8Array>;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly onClose?: () => void,
    recycle = false,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    this.chunks = new ChunkQueue(recycle);
  }

  current(): Uint8Array {
    return this.chunks.current();
  }

  known(): number {
    return this.chunks.current().length;
  }

  consume(n: number): void {
    this.chunks.consume(n);
  }

  async ensure(n: number): Promise<boolean> {
    // Assemble as chunks arrive: each is copied (if at all) straight into place and then dropped.
    while (!this.chunks.assemble(n)) {
      if (this.eof) return false;
      const r = await this.iterator.next();
      if (r.done) this.eof = true;
      else this.chunks.push(r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBuffer));
    }
    return true;
  }

  async close(): Promise<void> {
    this.onClose?.();
    await this.iterator.return?.();
  }
}

/** An in-memory input: views of it, never copies. */
export class MemoryWindow implements ByteWindow {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  current(): Uint8Array {
    return this.bytes.subarray(this.pos);
  }
  known(): number {
    return this.bytes.length - this.pos;
  }
  consume(n: number): void {
    this.pos += n;
  }
  ensure(n: number): Promise<boolean> {
    return Promise.resolve(this.bytes.length - this.pos >= n);
  }
  ensureSync(n: number): boolean {
    return this.bytes.length - this.pos >= n;
  }
  async close(): Promise<void> {}
  readonly passedBytes: PassedBytes = (offset, length) => this.bytes.subarray(offset, offset + length);
}

/** What the reader accepts as input. */
export type StreamSource =
  | string
  | number
  | Uint8Array
  | FileHandle
  | NodeJS.ReadableStream
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

/** Prepend already-read chunks to an iterator. */
async function* withHead(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  for (const h of head) yield h;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBuffer);
  }
}

/** Wrap chunks, decompressing them transparently when they start with a compression format's magic. */
async function chunkWindow(chunks: AsyncIterable<Uint8Array>, onClose?: () => void, recycle = false): Promise<ByteWindow> {
  const it = chunks[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let len = 0;
  while (len < COMPRESSION_MAGIC_BYTES) {
    const r = await it.next();
    if (r.done) break;
    const c = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBuffer);
    head.push(c);
    len += c.length;
  }
  const all = withHead(head, it);
  const codec = compressionOf(head.length === 1 ? head[0] : Buffer.concat(head));
  if (codec) {
    const d = decompressChunks(codec, all);
    return new ChunkWindow(
      d.chunks,
      () => {
        d.stop();
        onClose?.();
      },
      recycle,
    );
  }
  return new ChunkWindow(all, onClose, recycle);
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}

/**
 * How a window reuses its read buffers. false: never (views stay valid).
 * true: one buffer, so an item's views are valid until the next item is
 * requested. 'alternate': two buffers in turn, so they stay valid until the
 * item after the next is requested: a consumer may still be writing one
 * record's bytes out while the next is read (extract). Windows over chunks
 * (compressed input, streams) treat 'alternate' as false.
 */
export type Recycling = boolean | 'alternate';

export interface WindowOptions {
  /**
   * Reuse read buffers: an item's views are then valid only until the next
   * item is requested. For walks that keep nothing (verify, stats); off by default.
   */
  recycleBuffers?: Recycling | undefined;
  /**
   * Read a pipe, FIFO or socket given as a path or fd with blocking reads on the
   * calling thread, not through the thread pool (one round trip per pipe-sized
   * chunk otherwise). For a CLI that has nothing else to do meanwhile: it blocks
   * the event loop until data comes. Off by default.
   */
  syncReads?: boolean | undefined;
}

/** Open any supported source as a window. Compressed input (any source) is decompressed transparently. */
export async function openWindow(source: StreamSource, options: WindowOptions = {}): Promise<ByteWindow> {
  const recycling = options.recycleBuffers ?? false;
  const recycle = recycling === true; // windows over chunks: one buffer or none
  if (source instanceof Uint8Array) {
    if (compressionOf(source)) return chunkWindow(Readable.from([source]), undefined, recycle);
    return new MemoryWindow(source);
  }
  if (typeof source === 'string' || typeof source === 'number') {
    const handle = typeof source === 'string' ? (options.syncReads ? blockingFile(source) : await fsPromises.open(source, 'r')) : fdHandle(source);
    const owns = typeof source === 'string';
    const fileSize = await regularFileSize(handle);
    const magic = new Uint8Array(COMPRESSION_MAGIC_BYTES);
    const { bytesRead } = await handle.read(magic, 0, magic.length, 0).catch(() => ({ bytesRead: -1 }));
    if (bytesRead > 0 && compressionOf(magic.subarray(0, bytesRead))) {
      if (owns) {
        await handle.close();
        const stream = createReadStream(source as string, { highWaterMark: 1 << 20 });
        return chunkWindow(stream, () => stream.destroy(), recycle);
      }
      const stream = createReadStream('', { fd: handle.fd, start: 0, autoClose: false, highWaterMark: 1 << 20 });
      return chunkWindow(stream, () => stream.destroy(), recycle);
    }
    if (bytesRead === -1) {
      // Not seekable (a pipe): read it sequentially, straight into record-sized buffers (pages it skips pass through a scratch buffer).
      const reader = options.syncReads ? blockingReader(handle) : handle;
      const window = new FileWindow(reader, owns, recycling);
      await window.ensure(COMPRESSION_MAGIC_BYTES);
      if (!compressionOf(window.current())) return window;
      return chunkWindow(
        fdChunks(reader, copyBytes(window.current())),
        () => {
          if (owns) void handle.close();
        },
        recycle,
      );
    }
    return new FileWindow(handle, owns, recycling, fileSize);
  }
  if (typeof (source as FileHandle).read === 'function' && typeof (source as FileHandle).fd === 'number' && !isAsyncIterable(source)) {
    return new FileWindow(source as FileHandle, false, recycling, await regularFileSize(source as FileHandle));
  }
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function' && !isAsyncIterable(source)) {
    return chunkWindow(Readable.fromWeb(source as import('node:stream/web').ReadableStream<Uint8Array>), undefined, recycle);
  }
  if (isAsyncIterable(source)) return chunkWindow(source, undefined, recycle);
  throw new TypeError('unsupported stream source');
}

/** `head`, then the rest of a file handle read sequentially, as chunks. */
async function* fdChunks(handle: FileHandle, head: Uint8Array): AsyncIterable<Uint8Array> {
  yield head;
  for (;;) {
    const buf = uninitialised(1 << 20);
    const { bytesRead } = await handle.read(buf, 0, buf.length, null);
    if (bytesRead === 0) return;
    yield buf.subarray(0, bytesRead);
  }
}

/** The size of a regular file (read with positioned reads from 0); undefined for pipes, sockets, devices. */
async function regularFileSize(handle: FileHandle): Promise<number | undefined> {
  const st = await handle.stat().catch(() => undefined);
  return st?.isFile() ? st.size : undefined;
}

/**
 * A file opened for reading through sync calls: no thread-pool round trip per
 * read. The CLI (syncReads) waits for its input anyway, and its start-up then
 * skips loading node:fs/promises.
 */
function blockingFile(path: string): FileHandle {
  const fd = openSync(path, 'r');
  const handle = { fd, read: blockingRead(fd), readNow: readNow(fd), stat: async () => fstatSync(fd), close: async () => closeSync(fd) };
  return handle as unknown as BlockingHandle;
}

/**
 * A FileHandle whose reads are readSync on the calling thread. A non-blocking fd
 * (someone set O_NONBLOCK on a shared pipe) answers EAGAIN when empty: wait a
 * moment and try again.
 */
function blockingReader(handle: FileHandle): FileHandle {
  const wrapper = {
    fd: handle.fd,
    read: blockingRead(handle.fd),
    readNow: readNow(handle.fd),
    stat: () => handle.stat(),
    close: () => handle.close(),
  };
  return wrapper as unknown as BlockingHandle;
}

function readNow(fd: number) {
  return (buffer: Uint8Array, offset: number, length: number, position: number | null): number => {
    try {
      return readSync(fd, buffer, offset, length, position);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return WOULD_BLOCK;
      throw e;
    }
  };
}

function blockingRead(fd: number) {
  return async (buffer: Uint8Array, offset: number, length: number, position: number | null) => {
    for (;;) {
      try {
        return { bytesRead: readSync(fd, buffer, offset, length, position), buffer };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  };
}

/** A FileHandle-like wrapper for a raw fd (not closed by us). */
function fdHandle(fd: number): FileHandle {
  const handle = {
    fd,
    stat: () => new Promise((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st)))),
    read: (buffer: Uint8Array, offset: number, length: number, position: number | null) =>
      new Promise<{ bytesRead: number; buffer: Uint8Array }>((resolve, reject) =>
        read(fd, buffer, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve({ bytesRead, buffer }))),
      ),
    close: async () => {},
  };
  return handle as unknown as FileHandle;
}
