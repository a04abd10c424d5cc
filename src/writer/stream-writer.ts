/**
 * StreamWriter: writes a Xen migration stream one header or record at a time,
 * refusing anything the stream's automaton (spec/STATE-MACHINES.md §6) or the
 * format's guards do not allow. A refused write throws before anything reaches
 * the sink, and leaves the writer in the state it was in.
 *
 * Bodies are handed to the sink as views (header + body chunks + padding,
 * one vectored write per record); page data is never copied.
 */
import {
  LIBXL_OPTION_LEGACY,
  LIBXL_VERSION,
  MAX_BATCH_SIZE,
  PAGE_SHIFT,
  PAGE_SIZE,
  REC_LENGTH_MAX,
  XL_MANDATORY_FLAG_JSON,
  XL_MANDATORY_FLAG_STREAMV2,
  DOMAIN_TYPE_X86_HVM,
  DOMAIN_TYPE_X86_PV,
  roundUp8,
} from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA, PAGE_TYPE_VALID, pageTypeName } from '../format/page-types.js';
import { recordTypeTable, type Dialect, type Layer } from '../format/record-types.js';
import { RULES, type RuleKey } from '../format/rules.js';
import { hvmContextProblems } from '../codec/bodies/hvm-context-framing.js';
import type { LayoutValue } from '../format/layout.js';
import { X86_TSC_INFO } from '../format/layouts/x86-tsc-info.js';
import { layoutZero } from '../codec/layout-codec.js';
import {
  checkpointStateProblems,
  emulatorProblems,
  p2mFramesProblems,
  pvInfoProblems,
  reservedFieldProblems,
  vcpuProblems,
  xenstorePairProblems,
  type BodyProblem,
} from '../codec/body-checks.js';
import { EncodeError } from '../codec/errors.js';
import { encodeLibxcDomainHeader, encodeLibxcImageHeader, encodeLibxlHeader, encodeXlHeader, type XlHeader } from '../codec/headers.js';
import { encodeRecordChunks, encodeRecordHeader, makeRecord, type RecordBody } from '../codec/records.js';
import { countDataPages, pfnListCodec } from '../codec/bodies/page-data.js';
import { VCPU_BASIC_SIZE } from '../codec/bodies/x86-pv.js';
import type { CpuidLeaf, MsrEntry } from '../codec/bodies/x86-common.js';
import { ownedList, PackedList, type EntryList } from '../codec/bodies/entry-list.js';
import { WriterAutomaton, type GuestKind, type OpArgs, type WriterConfig, type WriterMode, type WriterOp, type WriterState } from './writer-automaton.js';
import { WriterGuardError, WriterStateError } from './writer-errors.js';
import { totalLength, type StreamSink } from './sink.js';

/** Page contents of a PAGE_DATA record: one contiguous view, or any list of views (e.g. one per page). */
export type PageChunks = Uint8Array | readonly Uint8Array[];

export interface XlHeaderOptions {
  /** The domain config, as JSON text or an object (written like xl: 4-space JSON + NUL). */
  config?: string | object;
  /**
   * A decoded xl header (codec/headers.ts) to write exactly as it was read: flags,
   * config bytes and optional tail unchanged (e.g. rewrite keeps the input's bytes).
   * Excludes `config`; must carry the STREAMv2 flag.
   */
  header?: XlHeader;
}

export interface LibxcHeaderOptions {
  /** Xen version of the "saver" (domain header); default 4.17. 0 would mark a legacy-converted stream. */
  xenMajor?: number;
  xenMinor?: number;
}

/**
 * X86_TSC_INFO's fields (src/format/layouts/x86-tsc-info.ts): khz given, the
 * others zero unless given (mode 0 default, 1 always emulate, 2 never emulate,
 * 3 pvrdtscp). Ranges and the reserved field are checked from the table.
 */
export type TscInfo = Partial<LayoutValue<typeof X86_TSC_INFO>> & { khz: number };

const TSC_ZERO = layoutZero(X86_TSC_INFO);

export interface EmulatorOptions {
  /** 1 QEMU traditional, 2 QEMU upstream (default). 0 is refused (legacy-converted streams only). */
  emulatorId?: number;
  index?: number;
}

export interface HvmParam {
  index: number | bigint;
  value: number | bigint;
}

/** The xl JSON config (when given as text, NUL-terminated like libxl_domain_config_to_json). */
function xlConfigBytes(config: string | object | undefined): Uint8Array {
  if (config === undefined) return new Uint8Array(0);
  const text = typeof config === 'string' ? config : JSON.stringify(config, null, 4);
  return new Uint8Array(Buffer.from(`${text}\0`, 'utf8'));
}

const EMPTY_BODY = { kind: 'empty' } as const;

export class StreamWriter {
  private readonly automaton: WriterAutomaton;
  private readonly counts = new Map<string, number>();
  private inFlight = false;
  private sinkClosed = false;
  private guestWidth = 8;
  private readonly pageDataType: number;
  private readonly postcopyPageDataType: number;

  constructor(
    private readonly sink: StreamSink,
    readonly config: WriterConfig,
  ) {
    this.automaton = new WriterAutomaton(config);
    this.pageDataType = this.typeOf('libxc', 'PAGE_DATA');
    this.postcopyPageDataType = config.mode === 'postcopy-rfc' ? this.typeOf('libxc', 'POSTCOPY_PAGE_DATA') : -1;
  }

  get state(): WriterState {
    return this.automaton.state;
  }

  get mode(): WriterMode {
    return this.config.mode;
  }

  get guest(): GuestKind {
    return this.config.guest;
  }

  get dialect(): Dialect {
    return this.automaton.dialect;
  }

  /** The writes legal now. */
  allowed(): WriterOp[] {
    return this.automaton.allowed();
  }

  get bytesWritten(): number {
    return this.sink.bytesWritten;
  }

  get checkpointsCompleted(): number {
    return this.automaton.checkpointsCompleted;
  }

  /** Records written so far, keyed `layer:NAME` (e.g. `libxc:PAGE_DATA`). */
  recordCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  // ------------------------------------------------------------------ headers

  /** S0: the xl save-file header (xl save / xl migrate streams only). */
  writeXlHeader(options: XlHeaderOptions = {}): Promise<void> {
    return this.emit('XL_HEADER', () => {
      if (options.header) {
        if (options.config !== undefined) this.guard('XL_HEADER', 'give either config or header, not both');
        if ((options.header.mandatoryFlags & XL_MANDATORY_FLAG_STREAMV2) === 0)
          this.guard('XL_HEADER', 'the header lacks the STREAMv2 flag (legacy streams are not written)', RULES.XL_LEGACY.id);
        return [encodeXlHeader(options.header)];
      }
      const config = xlConfigBytes(options.config);
      const flags = XL_MANDATORY_FLAG_STREAMV2 | (config.length > 0 ? XL_MANDATORY_FLAG_JSON : 0);
      return [encodeXlHeader({ byteOrder: 'little', mandatoryFlags: flags, optionalFlags: 0, config, optionalTail: new Uint8Array(0) })];
    });
  }

  /** S0/S1: the 16-byte libxl header (options 0: little-endian; LEGACY too in a legacy-converted stream). */
  writeLibxlHeader(): Promise<void> {
    const options = this.config.legacyConverted === true ? LIBXL_OPTION_LEGACY : 0;
    return this.emit('LIBXL_HEADER', () => [encodeLibxlHeader({ version: LIBXL_VERSION, options })]);
  }

  /** S2: libxl LIBXC_CONTEXT; the libxc stream follows. */
  writeLibxcContext(): Promise<void> {
    return this.emit('LIBXC_CONTEXT', () => this.record('libxl', 'LIBXC_CONTEXT', EMPTY_BODY));
  }

  /** S3: libxc image header (v3; v2 for postcopy-rfc) and domain header (type from the guest kind). */
  writeLibxcHeaders(options: LibxcHeaderOptions = {}): Promise<void> {
    return this.emit('LIBXC_HEADERS', () => {
      const xenMajor = options.xenMajor ?? 4;
      const xenMinor = options.xenMinor ?? 17;
      if (!isU32(xenMajor) || !isU32(xenMinor)) this.guard('LIBXC_HEADERS', `Xen version ${xenMajor}.${xenMinor} does not fit u32 fields`);
      if (xenMajor === 0 && this.config.legacyConverted !== true) this.guard('LIBXC_HEADERS', 'xen_major 0 marks a legacy-converted stream');
      return [
        encodeLibxcImageHeader({ version: this.dialect === 'postcopy-rfc' ? 2 : 3, options: 0, reserved16: 0, reserved32: 0 }),
        encodeLibxcDomainHeader({
          domainType: this.guest === 'pv' ? DOMAIN_TYPE_X86_PV : DOMAIN_TYPE_X86_HVM,
          pageShift: PAGE_SHIFT,
          reserved: 0,
          xenMajor,
          xenMinor,
        }),
      ];
    });
  }

  /** S2→S4: LIBXC_CONTEXT then the libxc headers. */
  async beginLibxc(options: LibxcHeaderOptions = {}): Promise<void> {
    await this.writeLibxcContext();
    await this.writeLibxcHeaders(options);
  }

  // ------------------------------------------------------------- static data

  /** S4 (pv, first): X86_PV_INFO. Only (8, 4) and (4, 3) are legal pairs. */
  writePvInfo(guestWidth = 8, ptLevels = 4): Promise<void> {
    return this.emit('X86_PV_INFO', () => {
      const body = { kind: 'pv-info', guestWidth, ptLevels, reserved: new Uint8Array(6) } as const;
      this.refuse('X86_PV_INFO', pvInfoProblems(body));
      const chunks = this.record('libxc', 'X86_PV_INFO', body);
      this.guestWidth = guestWidth;
      return chunks;
    });
  }

  writeCpuidPolicy(leaves: EntryList<CpuidLeaf>): Promise<void> {
    return this.emit('X86_CPUID_POLICY', () => {
      if (leaves.length === 0) this.guard('X86_CPUID_POLICY', 'an empty policy is omitted, not written', RULES.CPUID_POLICY_LENGTH.id);
      return this.record('libxc', 'X86_CPUID_POLICY', { kind: 'cpuid-policy', leaves: ownedList(leaves) });
    });
  }

  writeMsrPolicy(entries: EntryList<MsrEntry>): Promise<void> {
    return this.emit('X86_MSR_POLICY', () => {
      if (entries.length === 0) this.guard('X86_MSR_POLICY', 'an empty policy is omitted, not written', RULES.MSR_POLICY_LENGTH.id);
      return this.record('libxc', 'X86_MSR_POLICY', { kind: 'msr-policy', entries: ownedList(entries) });
    });
  }

  writeStaticDataEnd(): Promise<void> {
    return this.emit('STATIC_DATA_END', () => this.record('libxc', 'STATIC_DATA_END', EMPTY_BODY));
  }

  /** S5 (pv): X86_PV_P2M_FRAMES; `frames` must be exactly the frames covering startPfn..endPfn. */
  writeP2mFrames(p2m: { startPfn?: number; endPfn: number; frames: EntryList<bigint> }): Promise<void> {
    return this.emit('X86_PV_P2M_FRAMES', () => {
      const startPfn = p2m.startPfn ?? 0;
      if (!isU32(startPfn) || !isU32(p2m.endPfn) || startPfn > p2m.endPfn) {
        this.guard('X86_PV_P2M_FRAMES', `pfn range ${startPfn}..${p2m.endPfn} is not a u32 range`, RULES.P2M_RANGE.id);
      }
      const body = { kind: 'p2m-frames', startPfn, endPfn: p2m.endPfn, frames: ownedList(p2m.frames) } as const;
      this.refuse('X86_PV_P2M_FRAMES', p2mFramesProblems(body, this.guestWidth));
      return this.record('libxc', 'X86_PV_P2M_FRAMES', body);
    });
  }

  // ------------------------------------------------------------------ memory

  /**
   * S6: one PAGE_DATA record. `types` are type nibbles (PAGE_TYPE); `pages`
   * holds 4096 bytes for every entry whose type carries data, in entry order.
   */
  writePages(pfns: readonly number[], types: readonly number[], pages: PageChunks): Promise<void> {
    return this.emit('PAGE_DATA', () => this.pageRecord('PAGE_DATA', this.pageDataType, pfns, types, pages, false));
  }

  /** S6 (plain, once): VERIFY; the pages that follow are a debug re-send. */
  writeVerify(): Promise<void> {
    return this.emit('VERIFY', () => this.record('libxc', 'VERIFY', EMPTY_BODY));
  }

  // ------------------------------------------------------ end of checkpoint

  /** S6→S7 (or S10): X86_TSC_INFO, the first end-of-checkpoint record. */
  writeTscInfo(tsc: TscInfo): Promise<void> {
    return this.emit('X86_TSC_INFO', () => {
      // Field ranges are the table's: the codec refuses what does not fit (an EncodeError, refused by emit).
      return this.record('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', ...TSC_ZERO, ...tsc });
    });
  }

  /** S7 (pv): SHARED_INFO, exactly one 4096-byte page. */
  writeSharedInfo(page: Uint8Array): Promise<void> {
    return this.emit('SHARED_INFO', () => {
      if (page.length !== PAGE_SIZE) this.guard('SHARED_INFO', `must be ${PAGE_SIZE} bytes, got ${page.length}`, RULES.SHARED_INFO_LENGTH.id);
      return this.record('libxc', 'SHARED_INFO', { kind: 'opaque', data: page });
    });
  }

  /** S7 (pv): vCPU `vcpuId`'s vcpu_guest_context (0x1430 bytes for 64-bit guests, 0xAF0 for 32-bit). */
  writeVcpuBasic(vcpuId: number, context: Uint8Array): Promise<void> {
    return this.emit(
      'X86_PV_VCPU_BASIC',
      () => {
        const want = this.guestWidth === 4 ? VCPU_BASIC_SIZE[4] : VCPU_BASIC_SIZE[8];
        if (context.length !== want)
          this.guard('X86_PV_VCPU_BASIC', `a width-${this.guestWidth} guest's context is ${want} bytes, got ${context.length}`, RULES.VCPU_SIZE.id);
        return this.vcpuRecord('X86_PV_VCPU_BASIC', vcpuId, context);
      },
      undefined,
      { vcpuId },
    );
  }

  /** S7 (pv): extended context, 1–128 bytes (empty ones are omitted). */
  writeVcpuExtended(vcpuId: number, context: Uint8Array): Promise<void> {
    return this.emit(
      'X86_PV_VCPU_EXTENDED',
      () => {
        // Empty: the reader tolerates it (old senders), but a writer omits the record.
        if (context.length === 0) this.guard('X86_PV_VCPU_EXTENDED', 'an empty context is omitted, not written');
        return this.vcpuRecord('X86_PV_VCPU_EXTENDED', vcpuId, context);
      },
      undefined,
      { vcpuId },
    );
  }

  /** S7 (pv): xsave state, ≥ 16 bytes. */
  writeVcpuXsave(vcpuId: number, context: Uint8Array): Promise<void> {
    return this.emit(
      'X86_PV_VCPU_XSAVE',
      () => {
        if (context.length === 0) this.guard('X86_PV_VCPU_XSAVE', 'an empty context is omitted, not written');
        return this.vcpuRecord('X86_PV_VCPU_XSAVE', vcpuId, context);
      },
      undefined,
      { vcpuId },
    );
  }

  /** S7 (pv): MSRs, a non-empty multiple of 16 bytes (u32 index, u32 reserved, u64 value). */
  writeVcpuMsrs(vcpuId: number, msrs: Uint8Array): Promise<void> {
    return this.emit(
      'X86_PV_VCPU_MSRS',
      () => {
        if (msrs.length === 0) this.guard('X86_PV_VCPU_MSRS', 'an empty MSR list is omitted, not written');
        return this.vcpuRecord('X86_PV_VCPU_MSRS', vcpuId, msrs);
      },
      undefined,
      { vcpuId },
    );
  }

  /** S7/S10 (hvm, pvh): Xen's HVM save blob, non-empty. */
  writeHvmContext(blob: Uint8Array): Promise<void> {
    return this.emit('HVM_CONTEXT', () => {
      if (blob.length === 0) this.guard('HVM_CONTEXT', 'the HVM context must not be empty', RULES.HVM_CONTEXT_EMPTY.id);
      const chunks = this.record('libxc', 'HVM_CONTEXT', { kind: 'opaque', data: blob });
      // Every problem, strict ones included: the writer writes what a strict reader accepts.
      const [p] = hvmContextProblems(blob);
      if (p) this.guard('HVM_CONTEXT', `${p.actual} at blob offset ${p.offset}; expected ${p.expected}`, RULES[p.rule].id);
      return chunks;
    });
  }

  /** S7/S10 (hvm, pvh): HVM_PARAMS (omit the record when there are none). */
  writeHvmParams(params: EntryList<HvmParam>): Promise<void> {
    return this.emit('HVM_PARAMS', () => {
      if (params.length === 0) this.guard('HVM_PARAMS', 'a record with no params is omitted, not written');
      return this.record('libxc', 'HVM_PARAMS', {
        kind: 'hvm-params',
        reserved: 0,
        params:
          params instanceof PackedList
            ? (params as PackedList<{ index: bigint; value: bigint }>)
            : params.map((p) => ({ index: BigInt(p.index), value: BigInt(p.value) })),
      });
    });
  }

  /** S7 (plain) / S13 (postcopy-rfc): the libxc END record. */
  endLibxc(): Promise<void> {
    return this.emit('LIBXC_END', () => this.record('libxc', 'END', EMPTY_BODY));
  }

  // --------------------------------------------------- checkpoints (remus/colo)

  /** S7→S9 (remus/colo): libxc CHECKPOINT; libxl's checkpoint records follow. */
  checkpoint(): Promise<void> {
    return this.emit('CHECKPOINT', () => this.record('libxc', 'CHECKPOINT', EMPTY_BODY));
  }

  /** S8/S9/S12 (hvm): EMULATOR_XENSTORE_DATA, [key, value] pairs relative to the device model's directory. */
  writeEmulatorXenstoreData(pairs: EntryList<readonly [string, string]>, options: EmulatorOptions = {}): Promise<void> {
    return this.emit('EMULATOR_XENSTORE_DATA', () => {
      const { emulatorId, index } = this.emulator('EMULATOR_XENSTORE_DATA', options);
      // Decoded pairs were checked when read (and are kept as their bytes); others are checked here.
      if (pairs instanceof PackedList)
        return this.record('libxl', 'EMULATOR_XENSTORE_DATA', { kind: 'emulator-xenstore', emulatorId, index, pairs: pairs as PackedList<[string, string]> });
      for (const [key, value] of pairs as Iterable<readonly [string, string]>) this.refuse('EMULATOR_XENSTORE_DATA', xenstorePairProblems(key, value));
      return this.record('libxl', 'EMULATOR_XENSTORE_DATA', { kind: 'emulator-xenstore', emulatorId, index, pairs: pairs.map(([k, v]) => [k, v]) });
    });
  }

  /** S8/S9/S12 (hvm): EMULATOR_CONTEXT, the device model's save blob. */
  writeEmulatorContext(blob: Uint8Array, options: EmulatorOptions = {}): Promise<void> {
    return this.emit('EMULATOR_CONTEXT', () => {
      const { emulatorId, index } = this.emulator('EMULATOR_CONTEXT', options);
      return this.record('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId, index, blob });
    });
  }

  /** S9 (remus/colo): libxl CHECKPOINT_END; remus goes back to MEMORY, colo to CKPT_STATE. */
  endCheckpoint(): Promise<void> {
    return this.emit('CHECKPOINT_END', () => this.record('libxl', 'CHECKPOINT_END', EMPTY_BODY));
  }

  /** S9b (colo): CHECKPOINT_STATE; on the forward stream only 0 (CHECKPOINT_NEW) is legal. */
  writeCheckpointState(controlId = 0): Promise<void> {
    return this.emit('CHECKPOINT_STATE', () => {
      // Only 0 (CHECKPOINT_NEW) on the forward stream; SVM_* go on the back channel.
      const body = { kind: 'checkpoint-state', controlId } as const;
      this.refuse('CHECKPOINT_STATE', checkpointStateProblems(body));
      return this.record('libxl', 'CHECKPOINT_STATE', body);
    });
  }

  // ------------------------------------------------------- postcopy (RFC)

  /** S6→S10 (postcopy-rfc): POSTCOPY_BEGIN; the CPU context records follow. */
  postcopyBegin(): Promise<void> {
    return this.emit('POSTCOPY_BEGIN', () => this.record('libxc', 'POSTCOPY_BEGIN', EMPTY_BODY));
  }

  /** S10→S11: POSTCOPY_PFNS_BEGIN. */
  postcopyPfnsBegin(): Promise<void> {
    return this.emit('POSTCOPY_PFNS_BEGIN', () => this.record('libxc', 'POSTCOPY_PFNS_BEGIN', EMPTY_BODY));
  }

  /** S11: POSTCOPY_PFNS, the pfns (with types) still to be sent after the transition. */
  writePostcopyPfns(pfns: readonly number[], types: readonly number[]): Promise<void> {
    return this.emit(
      'POSTCOPY_PFNS',
      () => {
        this.checkEntries('POSTCOPY_PFNS', pfns, types, Math.floor((REC_LENGTH_MAX - 8) / 8));
        const chunks = this.encodeEntries('POSTCOPY_PFNS', pfns, types);
        return [encodeRecordHeader(this.typeOf('libxc', 'POSTCOPY_PFNS'), chunks[0].length), ...chunks];
      },
      undefined,
      { pfns, types },
    );
  }

  /** S11→S12: POSTCOPY_TRANSITION; libxl's transition records follow. */
  postcopyTransition(): Promise<void> {
    return this.emit('POSTCOPY_TRANSITION', () => this.record('libxc', 'POSTCOPY_TRANSITION', EMPTY_BODY));
  }

  /** S12→S13: libxl POSTCOPY_TRANSITION_END; the guest resumes at the destination. */
  endPostcopyTransition(): Promise<void> {
    return this.emit('POSTCOPY_TRANSITION_END', () => this.record('libxl', 'POSTCOPY_TRANSITION_END', EMPTY_BODY));
  }

  /** S13: POSTCOPY_PAGE_DATA; every pfn must carry data and have been listed by POSTCOPY_PFNS. */
  writePostcopyPages(pfns: readonly number[], types: readonly number[], pages: PageChunks): Promise<void> {
    return this.emit('POSTCOPY_PAGE_DATA', () => this.pageRecord('POSTCOPY_PAGE_DATA', this.postcopyPageDataType, pfns, types, pages, true), undefined, {
      pfns,
    });
  }

  /** Pages listed by POSTCOPY_PFNS that no POSTCOPY_PAGE_DATA has carried yet. */
  get postcopyPagesOutstanding(): number {
    return this.automaton.postcopyPagesOutstanding;
  }

  // ------------------------------------------------------------- finishing

  /** S8/S14: the libxl END record, then close the sink (a file sink renames its file into place). */
  async end(): Promise<void> {
    await this.emit('LIBXL_END', () => this.record('libxl', 'END', EMPTY_BODY));
    await this.closeSink();
  }

  /** remus/colo: stop at a checkpoint boundary (these streams have no END) and close the sink. */
  async close(): Promise<void> {
    await this.emit('CLOSE', () => []);
    await this.closeSink();
  }

  /** Stop writing and discard the output where the sink can (a file sink deletes its temporary file). */
  async abort(reason?: Error): Promise<void> {
    if (this.sinkClosed) return;
    this.automaton.abort();
    await this.sink.abort(reason);
  }

  // ------------------------------------------------------------- internals

  /**
   * The one path every write takes: check the automaton, build the chunks (the
   * guards run here), and only then change state and hand the chunks to the sink.
   */
  private async emit(op: WriterOp, build: () => Uint8Array[], countAs?: string, args?: OpArgs): Promise<void> {
    if (this.inFlight) {
      throw new WriterStateError(this.state, op, this.automaton.allowed(), 'the previous write has not finished; await it first');
    }
    this.automaton.check(op, args);
    let chunks: Uint8Array[];
    try {
      chunks = build();
    } catch (error) {
      if (error instanceof EncodeError) this.guard(op, error.message);
      throw error;
    }
    this.automaton.apply(op, args);
    const key = countAs ?? RECORD_KEYS[op];
    if (key) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (chunks.length === 0) return;
    this.inFlight = true;
    try {
      await this.sink.write(chunks);
    } catch (error) {
      this.automaton.abort();
      await this.sink.abort(error instanceof Error ? error : undefined).catch(() => undefined);
      throw error;
    } finally {
      this.inFlight = false;
    }
  }

  private async closeSink(): Promise<void> {
    this.inFlight = true;
    try {
      await this.sink.close();
      this.sinkClosed = true;
    } catch (error) {
      this.automaton.abort(true);
      await this.sink.abort(error instanceof Error ? error : undefined).catch(() => undefined);
      throw error;
    } finally {
      this.inFlight = false;
    }
  }

  private guard(record: string, problem: string, ruleId?: string): never {
    throw new WriterGuardError(this.state, record, problem, ruleId);
  }

  /**
   * Refuse the write when a check the reader also runs (src/codec/body-checks.ts)
   * found a problem: every severity, strict ones too, since the writer writes
   * what a strict reader accepts. The error carries the reader's rule id.
   */
  private refuse(record: string, problems: readonly BodyProblem[]): void {
    const [p] = problems;
    if (!p) return;
    const found = p.actual !== undefined ? `${p.actual}` : (p.detail ?? RULES[p.rule].text);
    this.guard(record, p.expected !== undefined ? `${found}; expected ${p.expected}` : found, RULES[p.rule].id);
  }

  private guardRule(record: string, rule: RuleKey, problem: string): never {
    this.guard(record, problem, RULES[rule].id);
  }

  private typeOf(layer: Layer, name: string): number {
    const info = recordTypeTable(layer, this.dialect).byName(name);
    if (!info) throw new Error(`no ${layer} ${name} in the ${this.dialect} dialect`);
    return info.type;
  }

  /** Encode a record through the codec, refusing reserved fields the table says are not zero and bodies over REC_LENGTH_MAX. */
  private record(layer: Layer, name: string, body: RecordBody): Uint8Array[] {
    this.refuse(name, reservedFieldProblems(body));
    const chunks = encodeRecordChunks(makeRecord(layer, name, body, this.dialect), this.dialect);
    const paddedBody = totalLength(chunks) - 8;
    if (paddedBody > REC_LENGTH_MAX) this.guardRule(name, 'RECORD_TOO_LONG', `body of ${paddedBody} bytes (padded) exceeds REC_LENGTH_MAX (${REC_LENGTH_MAX})`);
    return chunks;
  }

  /** vCPU records: the context sizes the reader checks (vcpuProblems) for this guest width. */
  private vcpuRecord(name: string, vcpuId: number, context: Uint8Array): Uint8Array[] {
    const body = { kind: 'vcpu', vcpuId, reserved: 0, context } as const;
    this.refuse(name, vcpuProblems(name, body, this.guestWidth));
    return this.record('libxc', name, body);
  }

  private emulator(record: string, options: EmulatorOptions): { emulatorId: number; index: number } {
    const emulatorId = options.emulatorId ?? 2;
    const index = options.index ?? 0;
    if (emulatorId === 0 && this.config.legacyConverted !== true) this.guard(record, 'emulator_id 0 (unknown) only appears in legacy-converted streams');
    if (!isU32(emulatorId) || !isU32(index)) this.guard(record, 'emulator id and index are u32');
    this.refuse(record, emulatorProblems({ kind: 'emulator-context', emulatorId, index, blob: new Uint8Array(0) }));
    return { emulatorId, index };
  }

  private checkEntries(record: string, pfns: readonly number[], types: readonly number[], maxCount: number): void {
    if (pfns.length === 0) this.guardRule(record, 'PAGE_DATA_COUNT_ZERO', 'count must be ≥ 1');
    if (pfns.length > maxCount) this.guard(record, `${pfns.length} pfns exceed the batch limit of ${maxCount}`);
    if (pfns.length !== types.length) this.guard(record, `${pfns.length} pfns but ${types.length} types`);
    for (let i = 0; i < types.length; i++) {
      const t = types[i];
      if (!(t >= 0 && t <= 15 && PAGE_TYPE_VALID[t])) this.guardRule(record, 'PAGE_DATA_TYPE', `types[${i}] = ${t} is not a valid page type (0–4, 9–15)`);
    }
  }

  private encodeEntries(record: string, pfns: readonly number[], types: readonly number[]): Uint8Array[] {
    try {
      return pfnListCodec.encode({ kind: 'pfn-list', count: pfns.length, reserved: 0, pfns: pfns as number[], types: types as number[] });
    } catch (error) {
      if (error instanceof EncodeError) this.guard(record, error.message);
      throw error;
    }
  }

  /** PAGE_DATA / POSTCOPY_PAGE_DATA: header, pfn array, then the caller's page views as they are. */
  private pageRecord(
    record: string,
    type: number,
    pfns: readonly number[],
    types: readonly number[],
    pages: PageChunks,
    everyEntryHasData: boolean,
  ): Uint8Array[] {
    this.checkEntries(record, pfns, types, MAX_BATCH_SIZE);
    if (everyEntryHasData) {
      for (let i = 0; i < types.length; i++) {
        if (!PAGE_TYPE_HAS_DATA[types[i]])
          this.guardRule(record, 'PC_PAGE_TYPE', `pfn 0x${pfns[i].toString(16)} has type ${pageTypeName(types[i])}, which carries no data`);
      }
    }
    const pageChunks: readonly Uint8Array[] = pages instanceof Uint8Array ? [pages] : pages;
    const pageBytes = totalLength(pageChunks);
    const dataPages = countDataPages(types);
    if (pageBytes !== dataPages * PAGE_SIZE) {
      this.guardRule(record, 'PAGE_DATA_LENGTH', `${dataPages} data-bearing entries need ${dataPages * PAGE_SIZE} bytes of pages, got ${pageBytes}`);
    }
    const entries = this.encodeEntries(record, pfns, types);
    const bodyLength = entries[0].length + pageBytes;
    if (roundUp8(bodyLength) > REC_LENGTH_MAX) this.guardRule(record, 'RECORD_TOO_LONG', `body of ${bodyLength} bytes exceeds REC_LENGTH_MAX`);
    const chunks: Uint8Array[] = [encodeRecordHeader(type, bodyLength), entries[0]];
    for (let i = 0; i < pageChunks.length; i++) chunks.push(pageChunks[i]);
    return chunks;
  }
}

/** How each op is counted in recordCounts() (headers and CLOSE are not records). */
const RECORD_KEYS: Readonly<Partial<Record<WriterOp, string>>> = {
  LIBXC_CONTEXT: 'libxl:LIBXC_CONTEXT',
  X86_PV_INFO: 'libxc:X86_PV_INFO',
  X86_CPUID_POLICY: 'libxc:X86_CPUID_POLICY',
  X86_MSR_POLICY: 'libxc:X86_MSR_POLICY',
  STATIC_DATA_END: 'libxc:STATIC_DATA_END',
  X86_PV_P2M_FRAMES: 'libxc:X86_PV_P2M_FRAMES',
  PAGE_DATA: 'libxc:PAGE_DATA',
  VERIFY: 'libxc:VERIFY',
  X86_TSC_INFO: 'libxc:X86_TSC_INFO',
  SHARED_INFO: 'libxc:SHARED_INFO',
  X86_PV_VCPU_BASIC: 'libxc:X86_PV_VCPU_BASIC',
  X86_PV_VCPU_EXTENDED: 'libxc:X86_PV_VCPU_EXTENDED',
  X86_PV_VCPU_XSAVE: 'libxc:X86_PV_VCPU_XSAVE',
  X86_PV_VCPU_MSRS: 'libxc:X86_PV_VCPU_MSRS',
  HVM_CONTEXT: 'libxc:HVM_CONTEXT',
  HVM_PARAMS: 'libxc:HVM_PARAMS',
  LIBXC_END: 'libxc:END',
  CHECKPOINT: 'libxc:CHECKPOINT',
  EMULATOR_XENSTORE_DATA: 'libxl:EMULATOR_XENSTORE_DATA',
  EMULATOR_CONTEXT: 'libxl:EMULATOR_CONTEXT',
  CHECKPOINT_END: 'libxl:CHECKPOINT_END',
  CHECKPOINT_STATE: 'libxl:CHECKPOINT_STATE',
  POSTCOPY_BEGIN: 'libxc:POSTCOPY_BEGIN',
  POSTCOPY_PFNS_BEGIN: 'libxc:POSTCOPY_PFNS_BEGIN',
  POSTCOPY_PFNS: 'libxc:POSTCOPY_PFNS',
  POSTCOPY_TRANSITION: 'libxc:POSTCOPY_TRANSITION',
  POSTCOPY_TRANSITION_END: 'libxl:POSTCOPY_TRANSITION_END',
  POSTCOPY_PAGE_DATA: 'libxc:POSTCOPY_PAGE_DATA',
  LIBXL_END: 'libxl:END',
};

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}
