import { open, type FileHandle } from 'node:fs/promises';
import { XL_HEADER_SIZE } from '../format/constants.js';
import { formatError } from '../codec/errors.js';
import { xlHeaderLength } from '../codec/headers.js';
import { DETECT_BYTES, detectContainer } from '../reader/detect.js';
import { COMPRESSION_MAGIC_BYTES, compressionOf, decompressChunks } from '../reader/containers/decompress.js';
import type { CompressionCodec } from '../io/compression/index.js';

/** Read the file this many bytes at a time: few thread-pool round trips, few pipe/socket writes. */
export const SEND_CHUNK_BYTES = 4 * 1024 * 1024;

/** The input could not be opened or read (the CLI's I/O error, exit 2). */
export class SendInputError extends Error {
  override readonly name = 'SendInputError';
}

export interface SendInput {
  /** The stream's bytes, decompressed when the file is compressed. Chunks are recycled (see `readFileRecycled`). */
  readonly stream: AsyncIterable<Uint8Array>;
  /** The file is compressed (gzip, zstd, xz, bzip2 or lz4). */
  readonly gzip: boolean;
  close(): Promise<void>;
}

/**
 * Open a file to send and check, before any protocol step, that it is a
 * migration stream: a compressed file is decompressed on the fly (its contents are
 * checked, not its compressed bytes); anything that is not an xl save file or
 * a libxl/libxc stream is refused with STREAM-NOT-V2, like stream-inspect.
 */
export async function openSendInput(path: string): Promise<SendInput> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw ioError(path, error);
  }
  const isDirectory = await handle.stat().then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (isDirectory) {
    await handle.close().catch(() => undefined);
    throw new SendInputError(`cannot read ${path}: is a directory`);
  }
  try {
    const magic = new Uint8Array(COMPRESSION_MAGIC_BYTES);
    const { bytesRead } = await handle.read(magic, 0, magic.length, 0).catch((error: unknown) => {
      throw ioError(path, error);
    });
    const codec = compressionOf(magic.subarray(0, bytesRead));
    const raw = codec ? decompressed(handle, codec) : readFileRecycled(handle);
    const stream = await checkedStream(raw, path, codec?.name);
    return { stream, gzip: codec !== undefined, close: () => handle.close().catch(() => undefined) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Read a file through two recycled buffers. A yielded chunk stays valid until
 * the chunk after the next one is requested: a consumer may keep one chunk in
 * flight while it asks for the next (XlMigrationSender does exactly that).
 */
export async function* readFileRecycled(handle: FileHandle, chunkBytes = SEND_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  const buffers = [Buffer.allocUnsafeSlow(chunkBytes), Buffer.allocUnsafeSlow(chunkBytes)];
  let position = 0;
  for (let turn = 0; ; turn ^= 1) {
    const buffer = buffers[turn];
    const { bytesRead } = await handle.read(buffer, 0, chunkBytes, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

async function* decompressed(handle: FileHandle, codec: CompressionCodec): AsyncGenerator<Uint8Array> {
  const file = handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 1024 * 1024 });
  const d = decompressChunks(codec, file);
  try {
    yield* d.chunks;
  } finally {
    d.stop();
    file.destroy();
  }
}

/**
 * Look at the first bytes (decompressed) before handing the stream over;
 * refuse what is not a migration stream, and an xl header the reader would
 * refuse from its 48 fixed bytes (e.g. an optional_data_len over
 * XL-OPTIONAL-DATA-MAX, which the sender would otherwise buffer to find the
 * header's end).
 */
async function checkedStream(source: AsyncIterable<Uint8Array>, path: string, compression: string | undefined): Promise<AsyncIterable<Uint8Array>> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  const readHead = async (want: number): Promise<Uint8Array> => {
    while (headBytes < want && !ended) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw compression ? notAStream(`${compression}-compressed data that could not be decompressed (${(error as Error).message})`) : ioError(path, error);
      }
      if (next.done === true) ended = true;
      else {
        head.push(next.value);
        headBytes += next.value.length;
        // One chunk (the usual case) is passed on as it is; several tiny ones are joined (a copy of a few
        // bytes) before the next read, which may recycle the buffer before last.
        if (head.length > 1) head.splice(0, head.length, new Uint8Array(Buffer.concat(head)));
      }
    }
    return head[0] ?? new Uint8Array(0);
  };
  let first = await readHead(DETECT_BYTES);
  const detection = detectContainer(first.subarray(0, DETECT_BYTES));
  if (detection.container === undefined) {
    await iterator.return?.();
    throw notAStream(`${detection.looksLike}${compression ? ` (after ${compression} decompression)` : ''}`);
  }
  if (detection.container === 'xl') {
    first = await readHead(XL_HEADER_SIZE);
    if (first.length >= XL_HEADER_SIZE) {
      try {
        xlHeaderLength(first);
      } catch (error) {
        await iterator.return?.();
        throw error;
      }
    }
  }
  return (async function* replay(): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  })();
}

function notAStream(looksLike: string): Error {
  return formatError('NOT_V2', { offset: 0 }, { detail: `not a v2 migration stream: looks like ${looksLike}` });
}

function ioError(path: string, error: unknown): SendInputError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  return new SendInputError(`cannot read ${path}: ${reason}`);
}
