/**
 * The input of a rewrite, made ready for the passes it needs. A regular file
 * can be read twice and, uncompressed, read at any offset; bytes in memory
 * too. A compressed file (gzip, zstd, xz, bzip2, lz4) can be read twice (decompressed each time), but pages can
 * only be fetched by offset from a decompressed copy: `--flatten` spools it to
 * a temporary file first. A pipe can be read once: with a temporary file
 * (`temp`) it is spooled there; without one, only a single-pass rewrite works.
 *
 * The spool holds guest memory: a 0600 scratch file (src/io/scratch-file.ts),
 * by default next to the output (not in os.tmpdir(), often a small tmpfs),
 * removed afterwards, on failure and on SIGINT/SIGTERM/SIGHUP. The bytes are
 * validated as they are spooled, so a bad stream stops the spool at its first
 * error instead of after decompressing all of it.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { ReaderOptions } from '../reader/decoder.js';
import { PushDecoder } from '../reader/push-decoder.js';
import { openWindow, type StreamSource } from '../reader/sources.js';
import { COMPRESSION_MAGIC_BYTES, compressionOf, decompressSync } from '../reader/containers/decompress.js';
import { InspectArgumentError } from '../inspect/argument-error.js';
import { ScratchFile } from '../io/scratch-file.js';

const SPOOL_CHUNK = 1 << 20;

/** Positional reads of the (decompressed) input, for fetching pages by offset. */
export interface PageReader {
  /** Fill `target` with the bytes at `offset`; throws if the input is shorter. */
  read(target: Uint8Array, offset: number): Promise<void>;
  close(): Promise<void>;
}

export interface PreparedInput {
  /** The input can be walked more than once (source() gives a fresh source each time). */
  readonly rereadable: boolean;
  /** Pages can be read by offset (openPages). */
  readonly positional: boolean;
  /** A source for one walk. */
  source(): StreamSource;
  openPages(): Promise<PageReader>;
  /** Where a pipe or gzip input was decompressed to, if it was. */
  readonly spooledTo?: string;
  readonly spooledBytes?: number;
  /** Remove the spool file, if any. */
  cleanup(): Promise<void>;
}

export interface PrepareOptions {
  /** Pages will be fetched by offset (--flatten). */
  positional: boolean;
  /** Spool file for inputs that cannot be read twice or by offset (must not exist). */
  temp?: string | undefined;
  /** Where a spool file without `temp` goes (default os.tmpdir(); rewrite passes the output's directory). */
  spoolDir?: string | undefined;
  /** Spool a pipe to a scratch file in `spoolDir` even without `temp` (the physical-address view needs positional reads). */
  spoolPipes?: boolean | undefined;
  /** How the spooled bytes are validated while spooling. */
  reader?: ReaderOptions | undefined;
  onProgress?: ((bytesDone: number) => void) | undefined;
}

class MemoryPages implements PageReader {
  constructor(private readonly bytes: Uint8Array) {}
  async read(target: Uint8Array, offset: number): Promise<void> {
    if (offset + target.length > this.bytes.length) throw new Error(`input shorter than expected: no ${target.length} bytes at offset ${offset}`);
    target.set(this.bytes.subarray(offset, offset + target.length));
  }
  async close(): Promise<void> {}
}

class FilePages implements PageReader {
  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
  ) {}
  async read(target: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    while (done < target.length) {
      const { bytesRead } = await this.handle.read(target, done, target.length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${this.path} changed while being rewritten: no ${target.length} bytes at offset ${offset}`);
      done += bytesRead;
    }
  }
  async close(): Promise<void> {
    await this.handle.close();
  }
}

function memoryInput(bytes: Uint8Array): PreparedInput {
  return {
    rereadable: true,
    positional: true,
    source: () => bytes,
    openPages: async () => new MemoryPages(bytes),
    cleanup: async () => undefined,
  };
}

function fileInput(path: string, compressed: boolean, spool?: { bytes: number; file: ScratchFile }): PreparedInput {
  return {
    rereadable: true,
    positional: !compressed,
    source: () => path,
    openPages: async () => {
      if (compressed) throw new Error('internal: positional reads of a compressed file');
      return new FilePages(await open(path, 'r'), path);
    },
    ...(spool ? { spooledTo: path, spooledBytes: spool.bytes } : {}),
    cleanup: async () => {
      await spool?.file.remove();
    },
  };
}

/** A pipe without a spool file: one walk only. */
function onceInput(source: StreamSource): PreparedInput {
  let used = false;
  return {
    rereadable: false,
    positional: false,
    source: () => {
      if (used) throw new Error('internal: a pipe input walked twice');
      used = true;
      return source;
    },
    openPages: () => Promise.reject(new Error('internal: positional reads of a pipe')),
    cleanup: async () => undefined,
  };
}

/**
 * Copy `source`, decompressed (the reader's own source handling detects gzip),
 * to `file`, validating it on the way: the first format error stops the copy.
 */
async function spool(source: StreamSource, file: ScratchFile, options: PrepareOptions): Promise<number> {
  const out = file.handle;
  const validator = new PushDecoder(options.reader);
  let total = 0;
  const window = await openWindow(source);
  try {
    for (;;) {
      const more = await window.ensure(SPOOL_CHUNK);
      const bytes = window.current();
      // Past the final END the rest is trailing bytes (the scan pass reports them): stop feeding the validator.
      if (!validator.done) validator.push(bytes);
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await out.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
      window.consume(bytes.length);
      total += bytes.length;
      options.onProgress?.(total);
      if (!more) break;
    }
  } finally {
    await window.close();
  }
  await out.close();
  return total;
}

async function spooled(source: StreamSource, options: PrepareOptions): Promise<PreparedInput> {
  const file =
    options.temp !== undefined ? await ScratchFile.createAt(options.temp) : await ScratchFile.createIn(options.spoolDir ?? tmpdir(), 'xen-rewrite-spool');
  try {
    const bytes = await spool(source, file, options);
    return fileInput(file.path, false, { bytes, file });
  } catch (e) {
    await file.remove();
    throw e;
  }
}

/** Make `input` ready for the passes a rewrite needs (see the file comment). */
export async function prepareInput(input: StreamSource, options: PrepareOptions): Promise<PreparedInput> {
  if (input instanceof Uint8Array) {
    const codec = compressionOf(input);
    return memoryInput(codec ? decompressSync(codec, input) : input);
  }
  if (typeof input === 'string') {
    const st = await stat(input);
    if (st.isFile()) {
      const fh = await open(input, 'r');
      const magic = new Uint8Array(COMPRESSION_MAGIC_BYTES);
      let got = 0;
      try {
        got = (await fh.read(magic, 0, magic.length, 0)).bytesRead;
      } finally {
        await fh.close();
      }
      const compressed = compressionOf(magic.subarray(0, got)) !== undefined;
      // Compressed + flatten: pages are fetched by offset in the decompressed stream, so decompress it once to a file.
      if (compressed && options.positional) return spooled(input, options);
      return fileInput(input, compressed);
    }
  }
  // A pipe, a FIFO, a character device, a stream: readable once.
  if (options.temp !== undefined || options.spoolPipes) return spooled(input, options);
  if (options.positional) {
    throw new InspectArgumentError(
      '--flatten reads its input twice (an index pass, then the pages in pfn order by offset), and a pipe can be read only once: ' +
        'give a seekable file, or --temp FILE to copy the input there first',
    );
  }
  return onceInput(input);
}
