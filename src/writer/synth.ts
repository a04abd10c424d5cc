/**
 * synth: write a realistic migration stream of any size with StreamWriter,
 * shaped like upstream libxc/libxl output (spec/FORMAT.md §5.13, spec/STATE-MACHINES.md
 * §5): static data, precopy passes that resend a shrinking subset, the
 * end-of-checkpoint records, libxl's emulator records for HVM, and the
 * Remus / COLO / postcopy-RFC variants.
 *
 * Memory stays bounded (two batches of pfns plus a 256 KiB page pool) and page
 * data is never copied, so multi-GiB streams go out at the sink's speed.
 */
import { MAX_BATCH_SIZE } from '../format/constants.js';
import { PAGE_TYPE } from '../format/page-types.js';
import type { StreamSink } from './sink.js';
import { StreamWriter } from './stream-writer.js';
import { WriteBehindSink } from './write-behind-sink.js';
import type { GuestKind, WriterMode } from './writer-automaton.js';
import { SynthPageSource, synthPageType, synthSendsPfn } from './synth-pages.js';
import {
  synthCpuidPolicy,
  synthEmulatorContext,
  synthEmulatorXenstore,
  synthHvmContext,
  synthHvmParams,
  synthMsrPolicy,
  synthP2mFrames,
  synthSharedInfo,
  synthVcpuBasic,
  synthVcpuExtended,
  synthXlConfig,
} from './synth-records.js';

export interface SynthOptions {
  kind: GuestKind;
  /** Guest memory in 4 KiB pages (pfns 0 … pages−1). */
  pages: number;
  /** Precopy passes (≥ 1): pass 0 sends everything, later passes a shrinking subset. Default 1. */
  passes?: number;
  /** Remus/COLO checkpoints (0 = plain stream). Default 0. */
  checkpoints?: number;
  /** COLO instead of Remus (needs checkpoints ≥ 1). */
  colo?: boolean;
  /** Postcopy RFC dialect (hvm/pvh only; not with checkpoints). */
  postcopy?: boolean;
  /** Wrap the stream in an xl save-file header with a JSON config. */
  xl?: boolean;
  /** pfns per PAGE_DATA record (1 … 1024). Default 1024. */
  batch?: number;
  seed?: number;
  vcpus?: number;
  /** Called after every PAGE_DATA record with the stream's bytes so far (for progress output). */
  onProgress?: (bytesWritten: number) => void;
}

export interface SynthResult {
  mode: WriterMode;
  bytes: number;
  /** Records written, keyed `layer:NAME`. */
  records: Record<string, number>;
  /** Data-bearing pages sent in PAGE_DATA / POSTCOPY_PAGE_DATA records. */
  pagesSent: number;
}

/** The mode a set of options produces. Throws RangeError for combinations that make no stream. */
export function synthMode(options: SynthOptions): WriterMode {
  const checkpoints = options.checkpoints ?? 0;
  if (options.postcopy) {
    if (checkpoints > 0 || options.colo) throw new RangeError('postcopy cannot be combined with checkpoints or colo');
    if (options.kind === 'pv') throw new RangeError('postcopy (RFC) streams are HVM-only: use kind hvm or pvh');
    return 'postcopy-rfc';
  }
  if (options.colo) {
    if (checkpoints < 1) throw new RangeError('colo needs checkpoints ≥ 1');
    return 'colo';
  }
  return checkpoints > 0 ? 'remus' : 'plain';
}

/** Throws RangeError when the options cannot make a stream (checked before any output is opened). */
export function checkSynthOptions(options: SynthOptions): void {
  plan(options);
}

interface Plan {
  mode: WriterMode;
  passes: number;
  checkpoints: number;
  batch: number;
  seed: number;
  vcpus: number;
}

function plan(options: SynthOptions): Plan {
  const mode = synthMode(options);
  const passes = options.passes ?? 1;
  const batch = options.batch ?? MAX_BATCH_SIZE;
  const vcpus = options.vcpus ?? 1;
  if (!Number.isInteger(options.pages) || options.pages < 1 || options.pages > 2 ** 32) throw new RangeError(`pages must be 1 … 2^32, got ${options.pages}`);
  if (!Number.isInteger(passes) || passes < 1) throw new RangeError(`passes must be ≥ 1, got ${passes}`);
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH_SIZE) throw new RangeError(`batch must be 1 … ${MAX_BATCH_SIZE}, got ${batch}`);
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 128) throw new RangeError(`vcpus must be 1 … 128, got ${vcpus}`);
  const checkpoints = options.checkpoints ?? 0;
  if (!Number.isInteger(checkpoints) || checkpoints < 0) throw new RangeError(`checkpoints must be ≥ 0, got ${checkpoints}`);
  return { mode, passes, checkpoints, batch, seed: (options.seed ?? 1) >>> 0, vcpus };
}

/**
 * The memory passes a synth stream contains, in order: precopy passes
 * 0 … passes−1, then (remus/colo) one dirty pass per further checkpoint.
 * The postcopy pass, when there is one, is `postcopyPass`.
 */
export function synthPasses(options: SynthOptions): { pagePasses: number[]; postcopyPass?: number } {
  const p = plan(options);
  const pagePasses = Array.from({ length: p.passes }, (_, i) => i);
  for (let c = 1; c < p.checkpoints; c++) pagePasses.push(p.passes - 1 + c);
  return p.mode === 'postcopy-rfc' ? { pagePasses, postcopyPass: p.passes } : { pagePasses };
}

/** The pfns pass `pass` sends, ascending (pass 0: all, holes included). */
export function synthPassPfns(options: SynthOptions, pass: number): number[] {
  const seed = (options.seed ?? 1) >>> 0;
  const out: number[] = [];
  for (let pfn = 0; pfn < options.pages; pfn++) if (synthSendsPfn(options.kind, seed, pfn, pass)) out.push(pfn);
  return out;
}

/**
 * The pass whose content the destination ends with for `pfn` (undefined for a
 * hole). With synthPageContent(seed, pfn, pass) this says what `extract` must give.
 */
export function synthFinalPass(options: SynthOptions, pfn: number): number | undefined {
  const seed = (options.seed ?? 1) >>> 0;
  if (synthPageType(options.kind, seed, pfn) === PAGE_TYPE.XTAB) return undefined;
  const { pagePasses, postcopyPass } = synthPasses(options);
  if (postcopyPass !== undefined && synthSendsPfn(options.kind, seed, pfn, postcopyPass)) return postcopyPass;
  for (let i = pagePasses.length - 1; i >= 0; i--) if (synthSendsPfn(options.kind, seed, pfn, pagePasses[i])) return pagePasses[i];
  return undefined;
}

const TSC_KHZ = 2_000_000;

/** Write a whole synthetic stream to `sink`. On any failure the writer (and sink) is aborted. */
// Long (~120 lines) on purpose: the whole synthetic stream in wire order (S0 → S14 of
// spec/STATE-MACHINES.md §6), read top to bottom; the pieces it writes are in synth-records/synth-pages.
export async function synth(sink: StreamSink, options: SynthOptions): Promise<SynthResult> {
  let p: Plan;
  try {
    p = plan(options);
  } catch (error) {
    await sink.abort(error instanceof Error ? error : undefined);
    throw error;
  }
  const { kind, pages } = options;
  // Build record N+1 while record N is written: synth never changes a chunk it handed over.
  const writer = new StreamWriter(new WriteBehindSink(sink), { mode: p.mode, guest: kind });
  const source = new SynthPageSource(p.seed);
  let pagesSent = 0;

  const sendPass = async (pass: number): Promise<void> => {
    let pfns: number[] = [];
    let types: number[] = [];
    const flush = async () => {
      const chunks = source.chunks(pfns, types, pass);
      pagesSent += chunks.length / 2;
      await writer.writePages(pfns, types, chunks);
      options.onProgress?.(writer.bytesWritten);
      pfns = [];
      types = [];
    };
    for (let pfn = 0; pfn < pages; pfn++) {
      if (!synthSendsPfn(kind, p.seed, pfn, pass)) continue;
      pfns.push(pfn);
      types.push(synthPageType(kind, p.seed, pfn));
      if (pfns.length === p.batch) await flush();
    }
    if (pfns.length > 0) await flush();
  };

  const endOfCheckpoint = async (round: number, postcopy = false): Promise<void> => {
    await writer.writeTscInfo({ khz: TSC_KHZ, nsec: BigInt(1_000_000_000 + round * 25_000_000) });
    if (kind === 'pv') {
      await writer.writeSharedInfo(synthSharedInfo(p.seed));
      for (let v = 0; v < p.vcpus; v++) {
        await writer.writeVcpuBasic(v, synthVcpuBasic(p.seed, v));
        await writer.writeVcpuExtended(v, synthVcpuExtended(p.seed, v));
      }
    } else {
      await writer.writeHvmContext(synthHvmContext(TSC_KHZ));
      await writer.writeHvmParams(synthHvmParams(kind, postcopy));
    }
  };

  const emulatorRecords = async (): Promise<void> => {
    if (kind !== 'hvm') return;
    await writer.writeEmulatorXenstoreData(synthEmulatorXenstore());
    await writer.writeEmulatorContext(synthEmulatorContext(p.seed));
  };

  try {
    if (options.xl) await writer.writeXlHeader({ config: synthXlConfig(kind, pages, p.vcpus, p.seed) });
    await writer.writeLibxlHeader();
    await writer.beginLibxc({ xenMajor: 4, xenMinor: 17 });
    if (p.mode !== 'postcopy-rfc') {
      if (kind === 'pv') await writer.writePvInfo(8, 4);
      await writer.writeCpuidPolicy(synthCpuidPolicy());
      await writer.writeMsrPolicy(synthMsrPolicy());
      await writer.writeStaticDataEnd();
      if (kind === 'pv') await writer.writeP2mFrames(synthP2mFrames(pages));
    }
    const { pagePasses, postcopyPass } = synthPasses(options);
    for (let pass = 0; pass < p.passes; pass++) await sendPass(pass);

    switch (p.mode) {
      case 'plain':
        await endOfCheckpoint(0);
        await writer.endLibxc();
        await emulatorRecords();
        await writer.end();
        break;
      case 'remus':
      case 'colo':
        for (let c = 0; c < p.checkpoints; c++) {
          if (c > 0) await sendPass(pagePasses[p.passes - 1 + c]);
          await endOfCheckpoint(c);
          await writer.checkpoint();
          await emulatorRecords();
          await writer.endCheckpoint();
          // COLO: CHECKPOINT_STATE(NEW) starts the next checkpoint, so the last one is not followed by it.
          if (p.mode === 'colo' && c < p.checkpoints - 1) await writer.writeCheckpointState(0);
        }
        // Checkpointed streams never END: the primary just stops after a complete checkpoint.
        await writer.close();
        break;
      case 'postcopy-rfc': {
        const pass = postcopyPass ?? p.passes;
        await writer.postcopyBegin();
        await endOfCheckpoint(0, true);
        await writer.postcopyPfnsBegin();
        const set = synthPassPfns(options, pass);
        const types = set.map((pfn) => synthPageType(kind, p.seed, pfn));
        const PFNS_PER_RECORD = 512 * 1024; // the RFC sender's 4 MiB of pfns
        for (let i = 0; i < set.length; i += PFNS_PER_RECORD) {
          await writer.writePostcopyPfns(set.slice(i, i + PFNS_PER_RECORD), types.slice(i, i + PFNS_PER_RECORD));
        }
        await writer.postcopyTransition();
        await emulatorRecords();
        await writer.endPostcopyTransition();
        const perRecord = Math.min(p.batch, 64); // the RFC sender's postcopy batch
        for (let i = 0; i < set.length; i += perRecord) {
          const pfns = set.slice(i, i + perRecord);
          const batchTypes = types.slice(i, i + perRecord);
          const chunks = source.chunks(pfns, batchTypes, pass);
          pagesSent += chunks.length / 2;
          await writer.writePostcopyPages(pfns, batchTypes, chunks);
        }
        await writer.endLibxc();
        await writer.end();
        break;
      }
    }
  } catch (error) {
    await writer.abort(error instanceof Error ? error : undefined).catch(() => undefined);
    throw error;
  }
  return { mode: p.mode, bytes: writer.bytesWritten, records: writer.recordCounts(), pagesSent };
}
