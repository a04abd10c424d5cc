/**
 * `extract`: the guest's memory as a raw sparse image, plus the emulator
 * context blob and the xl config. For a checkpointed stream everything is the
 * state at the last complete checkpoint (what a failover restores); for the
 * postcopy RFC the POSTCOPY_PAGE_DATA pages count too. Outputs appear only when
 * the whole stream was read without error; all of them are opened (and so
 * checked: not the input, not a directory, the image not a device) before the
 * first byte is read, and all are 0600 (guest memory, device state, and an xl
 * config that may hold a VNC password).
 */
import { dirname } from 'node:path';
import { xlConfigText } from '../codec/headers.js';
import { copyBytes } from '../codec/bytes.js';
import { readStream } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import type { Problem, StreamEnd } from '../reader/items.js';
import { InspectArgumentError } from './argument-error.js';
import { DEFAULT_MAX_IMAGE_BYTES, MemoryImage } from './memory-image.js';
import { AtomicOutput } from '../io/atomic-output.js';
import type { WalkOptions } from './walk-options.js';
import { encodeItemChunks } from '../codec/json.js';
import type { CompressionName } from '../io/compression/index.js';
import type { ContainerPartItem } from '../reader/items.js';
import { encodableItem } from './dump-json.js';

/** What a wrapper part gives extract: libvirt's domain XML as the config, XenServer's QEMU section as the emulator context (copies). */
function wrapperBlobs(item: ContainerPartItem): { config?: Uint8Array; emulator?: Uint8Array } {
  if (item.wrapper === 'libvirt' && item.text !== undefined) return { config: Buffer.from(item.text, 'utf8') };
  if (item.wrapper === 'xenserver' && item.part.startsWith('Qemu')) return { emulator: copyBytes(item.bytes, 16) };
  return {};
}

export interface ExtractOptions extends WalkOptions {
  /** Raw memory image path. */
  memory?: string | undefined;
  /** Where the last EMULATOR_CONTEXT blob (without its sub-header) goes. */
  emulatorContext?: string | undefined;
  /** Where the xl config goes (text, without xl's terminating NUL); for a libvirt save image, its domain XML. */
  config?: string | undefined;
  /**
   * Where the migration stream goes without its wrapper (libvirt's header and
   * XML, XenServer's sections) and without trailing bytes: what `xl restore`
   * or Xen's verifier reads. Re-encoded item by item (byte-exact).
   */
  stream?: string | undefined;
  /** Compress the --stream output (gzip, zstd, xz, bzip2, lz4). */
  streamCompress?: CompressionName | undefined;
  /** Directory for the checkpoint undo log (default: the memory image's directory). */
  spillDir?: string | undefined;
  /**
   * Refuse a stream whose pfns would make the (sparse) memory image bigger than
   * this, with an ImageSizeError naming the pfn and its record's offset.
   * Default DEFAULT_MAX_IMAGE_BYTES (1 TiB).
   */
  maxImageBytes?: number | undefined;
}

/** The source as an input an output must not be (a path, or stdin's fd). */
function inputsOf(source: StreamSource): (string | number)[] {
  return typeof source === 'string' || typeof source === 'number' ? [source] : [];
}

export interface ExtractResult {
  end: StreamEnd;
  problems: readonly Problem[];
  /** Pages holding data in the image. */
  pages: number;
  imageBytes: number;
  /** Checkpointed streams: the checkpoint whose state was extracted. */
  checkpoint?: number;
  /** pfns an incomplete checkpoint had touched, rolled back. */
  rolledBackPfns: number;
  emulatorContextBytes?: number;
  configBytes?: number;
  /** Bytes of the stream written to `stream` (before compression). */
  streamBytes?: number;
}

// Long (~90 lines) on purpose: one pass over the input writing up to three outputs; their
// open/commit/abort paths are kept together so none is left behind on an error.
export async function extractStream(source: StreamSource, options: ExtractOptions): Promise<ExtractResult> {
  if (options.memory === undefined && options.emulatorContext === undefined && options.config === undefined && options.stream === undefined) {
    throw new InspectArgumentError('nothing to extract: give a memory image path (-o), --emulator-context, --config or --stream');
  }
  const outputs: AtomicOutput[] = [];
  let image: MemoryImage | undefined;
  let emulatorFile: AtomicOutput | undefined;
  let configFile: AtomicOutput | undefined;
  let streamFile: AtomicOutput | undefined;
  try {
    const inputs = inputsOf(source);
    if (options.memory !== undefined) {
      const file = await AtomicOutput.open(options.memory, { inputs, positional: true });
      outputs.push(file);
      image = new MemoryImage(file, options.spillDir ?? dirname(options.memory), options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES);
    }
    if (options.emulatorContext !== undefined) {
      emulatorFile = await AtomicOutput.open(options.emulatorContext, { inputs });
      outputs.push(emulatorFile);
    }
    if (options.config !== undefined) {
      configFile = await AtomicOutput.open(options.config, { inputs });
      outputs.push(configFile);
    }
    if (options.stream !== undefined) {
      streamFile = await AtomicOutput.open(options.stream, { inputs, compress: options.streamCompress });
      outputs.push(streamFile);
    }
    // The reader reuses two buffers in turn: an item's views are valid until the item after the
    // next is asked for. image.apply() returns with the record's page writes in flight and waits
    // for them at its next call, so the next record is read meanwhile; what is kept longer
    // (emulator context, config) is copied. Fresh buffers per record cost more in page faults.
    const reader = readStream(source, { ...options.reader, recycleBuffers: 'alternate' });
    let openCheckpoint = 1;
    let pendingEmulator: Uint8Array | undefined;
    let committedEmulator: Uint8Array | undefined;
    let config: Uint8Array | undefined;
    // A XenServer image's QEMU state is a section, not an EMULATOR_CONTEXT record.
    let wrapperEmulator: Uint8Array | undefined;
    const commit = async () => {
      if (pendingEmulator) committedEmulator = pendingEmulator;
      pendingEmulator = undefined;
      await image?.commit();
    };

    for await (const item of reader) {
      options.onProgress?.(item.offset + item.length);
      if (streamFile && item.kind !== 'container-part' && item.kind !== 'trailing') await streamFile.write(encodeItemChunks(encodableItem(item)));
      if (item.kind === 'container-part') {
        const kept = wrapperBlobs(item);
        if (kept.config) config = kept.config;
        if (kept.emulator) wrapperEmulator = kept.emulator;
        continue;
      }
      if (item.kind === 'xl-header') {
        const text = xlConfigText(item.header);
        if (text !== undefined) config = Buffer.from(text, 'utf8');
        continue;
      }
      if (item.kind !== 'record') continue;
      // A record of a later checkpoint means the previous one completed (CHECKPOINT_END was read).
      if (item.checkpoint !== undefined && item.checkpoint > openCheckpoint) {
        await commit();
        openCheckpoint = item.checkpoint;
      }
      const body = item.record.body;
      if (body.kind === 'page-data' && image) await image.apply(body, body.pageData, item.offset);
      else if (body.kind === 'p2m-frames' && image) await image.announceMaxPfn(body.endPfn, item.offset);
      else if (body.kind === 'emulator-context') pendingEmulator = Uint8Array.from(body.blob);
    }

    const end = reader.end as StreamEnd;
    let rolledBackPfns = 0;
    const checkpointed = end.completeCheckpoints !== undefined;
    if (end.status === 'complete' || openCheckpoint <= (end.completeCheckpoints ?? 0)) await commit();
    else if (image) rolledBackPfns = await image.rollback();
    await image?.finish();

    const result: ExtractResult = {
      end,
      problems: reader.problems,
      pages: image?.pages ?? 0,
      imageBytes: image?.sizeBytes ?? 0,
      rolledBackPfns,
      ...(checkpointed ? { checkpoint: end.completeCheckpoints } : {}),
    };
    committedEmulator ??= wrapperEmulator;
    if (emulatorFile) {
      if (!committedEmulator)
        throw new InspectArgumentError('--emulator-context: the stream has no EMULATOR_CONTEXT record (only HVM guests with a device model have one)');
      await emulatorFile.write([committedEmulator]);
      result.emulatorContextBytes = committedEmulator.length;
    }
    if (configFile) {
      if (!config) throw new InspectArgumentError('--config: the stream has no xl header with a config (not an xl save file)');
      await configFile.write([config]);
      result.configBytes = config.length;
    }
    if (streamFile) result.streamBytes = streamFile.bytesWritten;
    for (const f of outputs) await f.commit();
    return result;
  } catch (e) {
    await image?.abort();
    for (const f of outputs) await f.discard();
    throw e;
  }
}
