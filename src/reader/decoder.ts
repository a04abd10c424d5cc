/**
 * The reader's core: a synchronous, pull-driven decoder implementing the layer
 * automaton of spec/FORMAT.md §9.5 (plain, Remus, COLO, postcopy RFC) and the
 * validation rules of §10. It never touches I/O: a driver hands it the
 * contiguous bytes it has (`next(view)`) and it either returns an item (views
 * into `view`), asks for more bytes (`need`), or at EOF decides how the stream
 * ended (`finish`). The same decoder serves files, pipes, memory and push-fed
 * protocol sessions.
 */
import {
  LIBXC_DOMAIN_HEADER_SIZE,
  LIBXC_IMAGE_HEADER_SIZE,
  LIBXL_HEADER_SIZE,
  RECORD_HEADER_SIZE,
  REC_LENGTH_MAX,
  XL_HEADER_SIZE,
  XL_OPTIONAL_DATA_MAX,
  DOMAIN_TYPE_X86_PV,
  roundUp8,
} from '../format/constants.js';
import { isOptionalType, recordTypeName, recordTypeTable, type Dialect, type Layer, type RecordTypeInfo } from '../format/record-types.js';
import { RULES, type RuleKey } from '../format/rules.js';
import { dataView } from '../codec/bytes.js';
import { formatError, type StreamFormatError, type ErrorLocation } from '../codec/errors.js';
import { decodeLibxcDomainHeader, decodeLibxcImageHeader, decodeLibxlHeader, decodeXlHeader, xlHeaderLength } from '../codec/headers.js';
import { decodeRecordBody, RECORD_LENGTH_AT, RECORD_TYPE_AT, withPadding, type RecordBody, type StreamRecord } from '../codec/records.js';
import { decodePageDataSkippingPages, pageDataEntriesLength } from '../codec/bodies/page-data.js';
import { decodeEmulatorContextWithoutBlob, EMULATOR_HEAD_SIZE } from '../codec/bodies/libxl.js';
import { checkpointStateProblems, emulatorProblems } from '../codec/body-checks.js';
import type { Container, Problem, RecordItem, StreamEnd, StreamItem, StreamMode } from './items.js';
import { detectOrNeed, DETECT_BYTES, type Wrapper } from './detect.js';
import { libvirtStep, xenserverSectionStep, xenserverSignatureStep, type WrapperStep } from './containers/wrapper-parts.js';
import { PfnSet } from './pfn-set.js';
import { SummaryBuilder, type StreamSummary } from './summary.js';
import { VerifyResendCheck } from './verify-resend.js';
import type { PassedBytes } from './sources.js';
import { endOfInput, type EndVerdict } from './end-of-input.js';
import { checkLibxcDomainHeader, checkLibxcImageHeader, checkLibxlHeader, checkXlHeader } from './header-checks.js';
import {
  checkPostcopyPages,
  LIBXC_BODY_CHECKS,
  recordStart,
  reportAll,
  type CheckContext,
  type LibxcFacts,
  type ProblemExtra,
  type ReportProblem,
} from './record-checks.js';

export interface ReaderOptions {
  /** Record numbering of the libxc (and libxl) layer. Never guessed: default upstream. */
  dialect?: Dialect | undefined;
  /** Stream mode; 'auto' (default) detects Remus/COLO from the first CHECKPOINT. */
  mode?: 'auto' | 'plain' | 'remus' | 'colo' | undefined;
  /** Strict (default): verifier-level rules are errors. Lenient: they become warnings, as Xen's C reader accepts them. */
  strict?: boolean | undefined;
  /** Refuse records whose body_length exceeds this before allocating anything (default 128 MiB, REC_LENGTH_MAX). */
  maxRecordLength?: number | undefined;
  /** Refuse an xl header whose optional_data_len exceeds this before buffering it (default 16 MiB, XL_OPTIONAL_DATA_MAX). */
  maxXlOptionalData?: number | undefined;
  /** Stop at the final END and leave what follows unread (for protocol sessions). */
  stopAtEnd?: boolean | undefined;
  /** Force the container instead of detecting it. */
  container?: Container | undefined;
  /**
   * 'read' (default): every byte is decoded; PAGE_DATA bodies carry views of their pages.
   * 'skip': a PAGE_DATA (or POSTCOPY_PAGE_DATA) record whose bytes the driver knows
   * exist but has not read (`next`'s `known`) is checked from its header and pfn array
   * alone and its pages are stepped over (body.pagesSkipped, empty pageData). No rule
   * looks at page contents, so the verdicts are the same. Where the driver does not
   * know the record is whole (a pipe), the decoder offers to let the pages pass (a
   * `need` step's `passable`) and decodes the record once they have. The same holds
   * for the blob of EMULATOR_CONTEXT in a record known to be whole: a driver that can
   * splice it out (PushDecoder) gets a body with blobSkipped.
   */
  pageContents?: 'read' | 'skip' | undefined;
}

export type Step =
  | { item: StreamItem }
  /**
   * More contiguous bytes are needed: at least `need` from the current position.
   * `passable` (pageContents 'skip'): the record's bytes [at, at + length) are
   * page contents or an opaque blob no rule reads. A driver may let
   * them pass unread and call next() again with `omitted` = length and the
   * view holding the record's other bytes (the first `at`, then the rest).
   */
  | { need: number; passable?: { at: number; length: number } }
  /** Trailing bytes after END were counted and can be dropped. */
  | { skip: number }
  /** stopAtEnd: the stream is over; bytes from here on belong to someone else. */
  | { stop: true };

type State =
  | 'DETECT'
  | 'XL'
  | 'LIBXL_HDR'
  | 'LIBXL_FIRST'
  | 'LIBXC_IHDR'
  | 'LIBXC_DHDR'
  | 'LIBXC_REC'
  | 'LIBXL_CKPT'
  | 'LIBXL_CKST'
  | 'LIBXL_PCT'
  | 'LIBXC_PC'
  | 'LIBXL_POSTPC'
  | 'LIBXL_TAIL'
  | 'LIBVIRT'
  | 'XS_SIG'
  | 'XS_SECTION'
  | 'DONE'
  | 'FAILED';

const CHECKPOINT_STATE = 0x5;

export class StreamDecoder {
  readonly dialect: Dialect;
  readonly strict: boolean;
  readonly maxRecordLength: number;
  readonly maxXlOptionalData: number;
  readonly problems: Problem[] = [];
  private readonly summaryBuilder: SummaryBuilder;
  private readonly requestedMode: 'auto' | 'plain' | 'remus' | 'colo';
  private readonly stopAtEnd: boolean;
  private readonly skipPages: boolean;
  private state: State;
  private container?: Container;
  /** The wrapper around the stream (libvirt, XenServer), once its magic was seen. */
  private wrapper?: Wrapper;
  /** Absolute offset of the next byte to decode. */
  private offset = 0;
  private recordIndex = 0;

  // libxc-layer facts gathered on the way (for rules that depend on order or guest kind).
  private readonly facts: LibxcFacts;
  private readonly checks: CheckContext;
  private readonly report: ReportProblem = (key, at, extra) => this.problem(key, at, extra);
  private mode: StreamMode = 'plain';
  private checkpointed = false;
  private checkpoint = 0;
  private completeCheckpoints = 0;
  private lastCompleteEnd = 0;
  private lastCompleteRecordIndex = 0;
  /** next()'s `known` for the current call. */
  private known = 0;
  /** next()'s `omitted` for the current call: blob bytes of the record at the view's start left out of it. */
  private omitted = 0;
  /** Wire length of the record being handled (for checkpoint end offsets). */
  private currentWire = 0;
  // Trailing bytes after the final END.
  private streamEnd = 0;
  private trailingBytes = 0;
  private trailingHead = new Uint8Array(0);

  constructor(options: ReaderOptions = {}) {
    this.dialect = options.dialect ?? 'upstream';
    this.strict = options.strict ?? true;
    this.maxRecordLength = options.maxRecordLength ?? REC_LENGTH_MAX;
    this.maxXlOptionalData = options.maxXlOptionalData ?? XL_OPTIONAL_DATA_MAX;
    this.requestedMode = options.mode ?? 'auto';
    this.stopAtEnd = options.stopAtEnd ?? false;
    this.skipPages = options.pageContents === 'skip';
    this.summaryBuilder = new SummaryBuilder(this.dialect);
    this.facts = {
      dialect: this.dialect,
      imageVersion: 3,
      domainType: 0,
      staticDataEnd: false,
      seenPageData: false,
      guestWidth: undefined,
      p2mEndPfn: undefined,
      vcpu0Basic: false,
      pcBegun: false,
      pcPfnsBegun: false,
      pcSet: new PfnSet(),
      pcReceived: new PfnSet(),
    };
    this.checks = {
      facts: this.facts,
      report: this.report,
      summary: this.summaryBuilder,
      resend: options.pageContents === 'skip' ? undefined : new VerifyResendCheck(),
    };
    if (this.dialect === 'postcopy-rfc') this.mode = 'postcopy-rfc';
    else if (this.requestedMode === 'remus' || this.requestedMode === 'colo') {
      this.mode = this.requestedMode;
      this.checkpointed = true;
    }
    if (options.container) {
      this.setContainer(options.container);
    } else {
      this.state = 'DETECT';
    }
    this.state ??= 'DETECT';
  }

  /** True once the stream's final END has been decoded. */
  get done(): boolean {
    return this.state === 'DONE';
  }

  /** Absolute offset of the next undecoded byte. */
  get position(): number {
    return this.offset;
  }

  /**
   * The input can be read again by stream offset (a regular file, bytes in
   * memory): the VERIFY check then reads a page's earlier copy back when a
   * re-sent page needs it, instead of fingerprinting every page. Call before
   * the first item.
   */
  readPassedBytesWith(passed: PassedBytes): void {
    this.checks.resend?.readBackFrom(passed);
  }

  summary(end?: StreamEnd): StreamSummary {
    const b = this.summaryBuilder;
    b.mode = this.mode;
    b.checkpoints = this.completeCheckpoints;
    return b.build(end);
  }

  /**
   * Decode the next item from `view`, whose first byte is at `position`.
   * `known`: how many bytes the input holds from `position` on, when the driver
   * knows more than it has read (a regular file's size); with pageContents 'skip'
   * an item may then be longer than `view`, and the driver steps over the rest.
   * `omitted`: the driver let this many bytes of the record pass unread, as a
   * `passable` need step offered; the item still covers the whole record.
   */
  next(view: Uint8Array, known = view.length, omitted = 0): Step {
    try {
      this.known = known;
      this.omitted = omitted;
      return this.step(view);
    } catch (e) {
      this.state = 'FAILED';
      throw e;
    }
  }

  private setContainer(c: Container): void {
    this.container = c;
    this.summaryBuilder.container = c;
    this.state = c === 'xl' ? 'XL' : c === 'libxl' ? 'LIBXL_HDR' : 'LIBXC_IHDR';
  }

  private step(view: Uint8Array): Step {
    switch (this.state) {
      case 'DETECT': {
        const d = detectOrNeed(view.subarray(0, DETECT_BYTES));
        if ('need' in d) return d;
        if ('wrapper' in d) return this.enterWrapper(d.wrapper, view);
        if (!d.container) throw this.notV2(d.looksLike);
        this.setContainer(d.container);
        return this.step(view);
      }
      case 'XL': {
        if (view.length < XL_HEADER_SIZE) return { need: XL_HEADER_SIZE };
        const total = xlHeaderLength(view, { offset: this.offset }, this.maxXlOptionalData);
        if (view.length < total) return { need: total };
        const { header, length } = decodeXlHeader(view, { offset: this.offset });
        checkXlHeader(header, this.offset, this.report);
        return this.emit({ kind: 'xl-header', offset: this.offset, length, header }, 'LIBXL_HDR');
      }
      case 'LIBXL_HDR': {
        if (view.length < LIBXL_HEADER_SIZE) return { need: LIBXL_HEADER_SIZE };
        const header = decodeLibxlHeader(view, { offset: this.offset });
        checkLibxlHeader(header, this.offset, this.report);
        return this.emit({ kind: 'libxl-header', offset: this.offset, length: LIBXL_HEADER_SIZE, header }, 'LIBXL_FIRST');
      }
      case 'LIBXC_IHDR': {
        if (view.length < LIBXC_IMAGE_HEADER_SIZE) return { need: LIBXC_IMAGE_HEADER_SIZE };
        const header = decodeLibxcImageHeader(view, { offset: this.offset });
        checkLibxcImageHeader(header, this.offset, this.report);
        this.facts.imageVersion = header.version;
        this.summaryBuilder.imageVersion = header.version;
        return this.emit({ kind: 'libxc-image-header', offset: this.offset, length: LIBXC_IMAGE_HEADER_SIZE, header }, 'LIBXC_DHDR');
      }
      case 'LIBXC_DHDR': {
        if (view.length < LIBXC_DOMAIN_HEADER_SIZE) return { need: LIBXC_DOMAIN_HEADER_SIZE };
        const header = decodeLibxcDomainHeader(view, { offset: this.offset });
        checkLibxcDomainHeader(header, this.offset, this.report);
        this.facts.domainType = header.domainType;
        this.summaryBuilder.domainType = header.domainType;
        this.summaryBuilder.xenVersion = header.xenMajor === 0 ? `legacy converter v${header.xenMinor}` : `${header.xenMajor}.${header.xenMinor}`;
        return this.emit({ kind: 'libxc-domain-header', offset: this.offset, length: LIBXC_DOMAIN_HEADER_SIZE, header }, 'LIBXC_REC');
      }
      case 'DONE': {
        if (this.stopAtEnd) return { stop: true };
        if (view.length === 0) return { need: 1 };
        if (this.trailingHead.length < 64) {
          const head = new Uint8Array(Math.min(64, this.trailingHead.length + view.length));
          head.set(this.trailingHead);
          head.set(view.subarray(0, head.length - this.trailingHead.length), this.trailingHead.length);
          this.trailingHead = head;
        }
        this.trailingBytes += view.length;
        this.offset += view.length;
        return { skip: view.length };
      }
      case 'LIBVIRT':
        return this.wrapperStep(libvirtStep(view, this.offset, this.maxXlOptionalData));
      case 'XS_SIG':
        return this.wrapperStep(xenserverSignatureStep(view, this.offset));
      case 'XS_SECTION':
        return this.wrapperStep(xenserverSectionStep(view, this.offset, this.maxRecordLength));
      case 'FAILED':
        throw new Error('StreamDecoder used after it reported an error');
      default:
        return this.stepRecord(view);
    }
  }

  private enterWrapper(wrapper: Wrapper, view: Uint8Array): Step {
    // One wrapper only: a second magic inside is not a stream.
    if (this.wrapper) throw this.notV2(`a ${wrapper} image inside a ${this.wrapper} image`);
    this.wrapper = wrapper;
    this.summaryBuilder.wrapper = wrapper;
    this.state = wrapper === 'libvirt' ? 'LIBVIRT' : 'XS_SIG';
    return this.step(view);
  }

  /** A wrapper part read (or more bytes needed): emit it and go where it says. */
  private wrapperStep(step: WrapperStep): Step {
    if ('need' in step) return step;
    const next: Record<typeof step.after, State> = {
      stream: 'DETECT',
      libxc: 'LIBXC_IHDR',
      libxl: 'LIBXL_HDR',
      section: 'XS_SECTION',
      end: 'DONE',
    };
    const result = this.emit(step.item, next[step.after]);
    if (step.after === 'libxc' || step.after === 'libxl') this.setContainer(step.after);
    if (step.after === 'end') this.streamEnd = this.offset;
    return result;
  }

  private emit(item: StreamItem, next: State): Step {
    this.offset += item.length;
    this.summaryBuilder.addBytes(item.length);
    this.state = next;
    return { item };
  }

  // ------------------------------------------------------------- records

  private stepRecord(view: Uint8Array): Step {
    if (view.length < RECORD_HEADER_SIZE) return { need: RECORD_HEADER_SIZE };
    const dv = dataView(view);
    const type = dv.getUint32(RECORD_TYPE_AT, true);
    const bodyLength = dv.getUint32(RECORD_LENGTH_AT, true);
    const layer = this.layerFor(type, bodyLength);
    if (bodyLength > this.maxRecordLength) {
      throw formatError('RECORD_TOO_LONG', this.loc(layer, type, RECORD_LENGTH_AT), { expected: `≤ ${this.maxRecordLength}`, actual: bodyLength });
    }
    const wire = RECORD_HEADER_SIZE + roundUp8(bodyLength);
    const table = recordTypeTable(layer, this.dialect);
    const info = table.lookup(type);
    const skippable = this.skipPages && info?.layout === 'page-data' && layer === 'libxc';
    let entriesLength: number | undefined;
    if (this.omitted > 0) {
      // Pages that passed unread (a pipe read past them): the record is decoded from its header and pfn array.
      if (skippable && view.length >= RECORD_HEADER_SIZE + 8) entriesLength = pageDataEntriesLength(view.subarray(RECORD_HEADER_SIZE), bodyLength);
      const offered = entriesLength !== undefined ? bodyLength - entriesLength : info?.layout === 'emulator-context' ? bodyLength - EMULATOR_HEAD_SIZE : 0;
      if (this.omitted !== offered) throw new Error(`StreamDecoder: ${this.omitted} bytes omitted from a record that offered none`);
    }
    // The record's bytes in `view` once they are all there.
    const present = wire - this.omitted;
    if (view.length < present) {
      if (this.omitted > 0) return { need: present };
      if (!this.skipPages) return { need: wire };
      // Only a record known to be whole may skip its blob: a cut one is reported as today.
      if (info?.layout === 'emulator-context') return this.known < wire ? { need: wire } : this.blobPassable(bodyLength, wire, view.length);
      if (!skippable) return { need: wire };
      if (view.length < RECORD_HEADER_SIZE + 8) return { need: RECORD_HEADER_SIZE + 8 };
      entriesLength = pageDataEntriesLength(view.subarray(RECORD_HEADER_SIZE), bodyLength);
      if (entriesLength === undefined) return { need: wire };
      if (view.length < RECORD_HEADER_SIZE + entriesLength) return { need: RECORD_HEADER_SIZE + entriesLength };
      // Not known to be whole (a pipe): the pages may pass unread first, so a cut record is reported as cut.
      if (this.known < wire) return { need: wire, passable: { at: RECORD_HEADER_SIZE + entriesLength, length: bodyLength - entriesLength } };
    }

    this.checkKnownType(layer, type, info);
    const at: ErrorLocation = { offset: this.offset + RECORD_HEADER_SIZE, recordIndex: this.recordIndex, layer, recordType: type, recordName: info?.name };
    const bodyEnd = RECORD_HEADER_SIZE + bodyLength - this.omitted;
    const body = view.subarray(RECORD_HEADER_SIZE, bodyEnd);
    const padding = view.subarray(bodyEnd, present);
    let record: StreamRecord;
    if (entriesLength !== undefined) {
      // A page-data record decoded without its pages (their length was checked against the pfn array; a valid one has no padding).
      const entries = view.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + entriesLength);
      record = this.partlyRead(layer, type, at, (loc) => decodePageDataSkippingPages(entries, bodyLength, loc));
    } else if (this.omitted > 0) {
      // EMULATOR_CONTEXT whose blob passed unread: decoded from its sub-header, its padding kept as a full decode keeps it.
      record = withPadding(
        this.partlyRead(layer, type, at, (loc) => decodeEmulatorContextWithoutBlob(body, loc)),
        padding,
      );
    } else {
      record = decodeRecordBody(layer, type, body, padding, at, this.dialect);
    }
    if (record.padding) this.problem('PADDING_NONZERO', { ...this.loc(layer, type, RECORD_HEADER_SIZE + bodyLength), recordName: record.name });
    const item: RecordItem = { kind: 'record', offset: this.offset, length: wire, index: this.recordIndex, layer, record, bodyLength };
    if (this.checkpointed) item.checkpoint = this.checkpoint + 1;
    this.currentWire = wire;
    const next = layer === 'libxc' ? this.onLibxcRecord(record, info, at) : this.onLibxlRecord(record, info, at);
    this.recordIndex++;
    this.summaryBuilder.onRecord(item);
    if (next === 'DONE' && this.wrapper === 'xenserver') return this.emit(item, 'XS_SECTION'); // the image goes on after the stream
    if (next === 'DONE') this.streamEnd = this.offset + wire;
    return this.emit(item, next);
  }

  /** A record whose body is decoded from the part that was read (pages or blob left unread) by `decode`. */
  private partlyRead(layer: Layer, type: number, at: ErrorLocation, decode: (loc: ErrorLocation) => RecordBody): StreamRecord {
    const name = recordTypeName(layer, type, this.dialect);
    // The same location decodeRecordBody gives the body codec, so errors read the same.
    const loc = { offset: at.offset, recordIndex: at.recordIndex, layer, recordType: type, recordName: name };
    return { layer, type, name, body: decode(loc) };
  }

  /**
   * EMULATOR_CONTEXT's blob (QEMU's device state, up to the record limit) is
   * read by no rule: offer to let it pass once the record header and the
   * emulator sub-header are in view. A body too short for its sub-header has
   * no blob; the full decode reports it.
   */
  private blobPassable(bodyLength: number, wire: number, inView: number): Step {
    const head = RECORD_HEADER_SIZE + EMULATOR_HEAD_SIZE;
    if (bodyLength <= EMULATOR_HEAD_SIZE) return { need: wire };
    if (inView < head) return { need: head };
    return { need: wire, passable: { at: head, length: bodyLength - EMULATOR_HEAD_SIZE } };
  }

  /** Which layer the record at the current position belongs to: only the automaton knows. */
  private layerFor(type: number, bodyLength: number): Layer {
    switch (this.state) {
      case 'LIBXC_REC':
      case 'LIBXC_PC':
        return 'libxc';
      case 'LIBXL_CKST':
        // After CHECKPOINT_END either COLO's CHECKPOINT_STATE (libxl 5, body 4) or the
        // next checkpoint's libxc records follow. libxc 5 (VCPU_EXTENDED) is ≥ 8 bytes.
        if (this.mode === 'colo') return 'libxl';
        if (this.requestedMode === 'auto' && type === CHECKPOINT_STATE && bodyLength === 4) return 'libxl';
        this.state = 'LIBXC_REC';
        return 'libxc';
      default:
        return 'libxl';
    }
  }

  private loc(layer: Layer, type: number, relative = 0): ErrorLocation {
    return { offset: this.offset + relative, recordIndex: this.recordIndex, layer, recordType: type, recordName: recordTypeName(layer, type, this.dialect) };
  }

  private checkKnownType(layer: Layer, type: number, info: RecordTypeInfo | undefined): void {
    if (info) return;
    const loc = this.loc(layer, type);
    const hint = this.dialectHint(layer, type);
    if (layer === 'libxl') {
      if (isOptionalType(type)) this.problem('LIBXL_UNKNOWN_OPTIONAL', loc, { detail: 'unknown optional libxl record (skipped)' });
      else throw formatError(hint ? 'DIALECT_HINT' : 'LIBXL_UNKNOWN_TYPE', loc, { actual: `0x${type.toString(16)}`, detail: hint });
      return;
    }
    if (isOptionalType(type)) this.problem('LIBXC_UNKNOWN_OPTIONAL', loc, { detail: `unknown optional libxc record 0x${type.toString(16)} skipped` });
    else throw formatError(hint ? 'DIALECT_HINT' : 'LIBXC_UNKNOWN_MANDATORY', loc, { actual: `0x${type.toString(16)}`, detail: hint });
  }

  private dialectHint(layer: Layer, type: number): string | undefined {
    if (this.dialect !== 'upstream') return undefined;
    const rfcName = recordTypeTable(layer, 'postcopy-rfc').lookup(type)?.name;
    if (rfcName && (layer === 'libxl' || this.facts.imageVersion === 2)) {
      return `record type 0x${type.toString(16)} is ${rfcName} in the postcopy RFC dialect; this looks like a postcopy stream: try --dialect postcopy-rfc`;
    }
    return undefined;
  }

  private onLibxcRecord(rec: StreamRecord, info: RecordTypeInfo | undefined, at: ErrorLocation): State {
    const name = rec.name;
    const body = rec.body;
    if (!info) return 'LIBXC_REC'; // unknown optional: skipped
    if (body.kind === 'empty' && body.extra) this.problem('LIBXC_EMPTY_BODY', at, { actual: `${body.extra.length} bytes` });
    if (info.unhandled || info.direction === 'back') {
      throw formatError('LIBXC_UNHANDLED', recordStart(at), { detail: `${name} is not handled in a forward stream` });
    }
    if (info.guest) {
      const isPv = this.facts.domainType === DOMAIN_TYPE_X86_PV;
      if ((info.guest === 'pv') !== isPv) {
        throw formatError('LIBXC_UNHANDLED', recordStart(at), { detail: `${name} is not handled in an ${isPv ? 'x86 PV' : 'x86 HVM'} stream` });
      }
    }
    if (this.state === 'LIBXC_PC') return this.onPostcopyPagePhase(rec, at);
    if (this.dialect === 'upstream' && info.v3Only && this.facts.imageVersion === 2) {
      if (name === 'STATIC_DATA_END' && this.facts.seenPageData) {
        throw formatError('DIALECT_HINT', recordStart(at), {
          detail: 'a 0x10 record after PAGE_DATA in a v2 image looks like the postcopy RFC dialect (POSTCOPY_BEGIN): try --dialect postcopy-rfc',
        });
      }
      this.problem('V3_RECORD_IN_V2', recordStart(at), { detail: `${name} in a v2 image` });
    }
    LIBXC_BODY_CHECKS[name]?.(body, at, this.checks);
    return this.libxcNextState(name, at);
  }

  /** Where a libxc record leads the automaton (the body was checked by LIBXC_BODY_CHECKS). */
  private libxcNextState(name: string, at: ErrorLocation): State {
    switch (name) {
      case 'END':
        if (this.container === 'libxc') return 'DONE';
        if (this.facts.domainType === DOMAIN_TYPE_X86_PV && !this.facts.vcpu0Basic && !this.checkpointed) {
          throw formatError('VCPU0_MISSING', recordStart(at));
        }
        return this.dialect === 'postcopy-rfc' && this.facts.pcBegun ? 'LIBXL_POSTPC' : 'LIBXL_TAIL';
      case 'CHECKPOINT':
        if (this.requestedMode === 'plain' || this.dialect === 'postcopy-rfc') throw formatError('CHECKPOINT_IN_PLAIN', recordStart(at));
        if (!this.checkpointed) {
          this.checkpointed = true;
          if (this.mode === 'plain') this.mode = 'remus';
        }
        if (this.container === 'libxc') {
          this.checkpointDone();
          return 'LIBXC_REC';
        }
        return 'LIBXL_CKPT';
      case 'STATIC_DATA_END':
        if (this.facts.staticDataEnd) throw formatError('STATIC_DATA_END_DUPLICATE', recordStart(at));
        this.facts.staticDataEnd = true;
        return 'LIBXC_REC';
      case 'POSTCOPY_TRANSITION':
        return 'LIBXL_PCT';
      default:
        return 'LIBXC_REC';
    }
  }

  private onPostcopyPagePhase(rec: StreamRecord, at: ErrorLocation): State {
    if (rec.name === 'END') return 'LIBXL_POSTPC';
    if (rec.name !== 'POSTCOPY_PAGE_DATA' || rec.body.kind !== 'page-data') {
      throw formatError('PC_ORDER', recordStart(at), { detail: `Expected end of stream, received ${rec.name}` });
    }
    checkPostcopyPages(rec.body, at, this.facts);
    return 'LIBXC_PC';
  }

  private onLibxlRecord(rec: StreamRecord, info: RecordTypeInfo | undefined, at: ErrorLocation): State {
    const state = this.state;
    if (!info) return state === 'LIBXL_FIRST' ? 'LIBXL_TAIL' : state; // unknown optional, skipped (lenient)
    const name = rec.name;
    const body = rec.body;
    if (body.kind === 'empty' && body.extra) this.problem('LIBXL_EMPTY_BODY', at, { actual: `${body.extra.length} bytes` });
    const unexpected = (why: string) => formatError('LIBXL_UNEXPECTED_RECORD', recordStart(at), { detail: `${name} ${why}` });

    if (state === 'LIBXL_FIRST') {
      if (name === 'LIBXC_CONTEXT') return 'LIBXC_IHDR';
      this.problem('LIBXL_FIRST_RECORD', recordStart(at), { expected: 'LIBXC_CONTEXT', actual: name });
      this.state = 'LIBXL_TAIL';
      return this.onLibxlRecord(rec, info, at);
    }
    if (body.kind === 'emulator-xenstore' || body.kind === 'emulator-context') {
      if (this.facts.domainType === DOMAIN_TYPE_X86_PV) throw formatError('EMULATOR_NOT_HVM', recordStart(at), { detail: `${name} in an x86 PV stream` });
      reportAll(emulatorProblems(body), at, this.report);
      if (state === 'LIBXL_TAIL' || state === 'LIBXL_CKPT' || state === 'LIBXL_PCT') {
        return state;
      }
      throw unexpected(state === 'LIBXL_POSTPC' ? 'after the postcopy transition (only END may follow)' : 'here');
    }
    switch (state) {
      case 'LIBXL_TAIL':
        if (name === 'END') return 'DONE';
        throw unexpected(name === 'LIBXC_CONTEXT' ? 'a second time' : name === 'CHECKPOINT_END' ? 'outside a checkpoint' : 'after the libxc stream ended');
      case 'LIBXL_CKPT':
        if (name === 'CHECKPOINT_END') {
          this.checkpointDone();
          if (this.mode === 'remus' && this.requestedMode === 'remus') return 'LIBXC_REC';
          return 'LIBXL_CKST';
        }
        throw unexpected('inside a checkpoint (only emulator records and CHECKPOINT_END)');
      case 'LIBXL_CKST':
        if (name === 'CHECKPOINT_STATE' && body.kind === 'checkpoint-state') {
          reportAll(checkpointStateProblems(body), at, this.report);
          this.mode = 'colo';
          return 'LIBXC_REC';
        }
        throw unexpected('after CHECKPOINT_END (COLO expects CHECKPOINT_STATE)');
      case 'LIBXL_PCT':
        if (name === 'POSTCOPY_TRANSITION_END') return 'LIBXC_PC';
        throw unexpected('during the postcopy transition');
      case 'LIBXL_POSTPC':
        if (name === 'END') return 'DONE';
        throw unexpected('after the postcopy transition (Received non-end record after postcopy transition)');
      default:
        throw unexpected('here');
    }
  }

  private checkpointDone(): void {
    this.checkpoint++;
    this.completeCheckpoints++;
    this.lastCompleteEnd = this.offset + this.currentWire;
    this.lastCompleteRecordIndex = this.recordIndex + 1;
  }

  private problem(key: RuleKey, at: ErrorLocation, extra: ProblemExtra = {}): void {
    const rule = RULES[key];
    const err = formatError(key, at, extra);
    if (rule.severity === 'error' || (rule.severity === 'strict' && this.strict)) throw err;
    this.problems.push({
      rule,
      severity: rule.severity === 'strict' ? 'warning' : rule.severity,
      offset: err.offset,
      recordIndex: at.recordIndex,
      message: err.message,
    });
  }

  private notV2(looksLike: string): StreamFormatError {
    const inside = this.wrapper ? ` (the stream inside the ${this.wrapper} image)` : '';
    return formatError('NOT_V2', { offset: this.offset }, { detail: `not a v2 migration stream${inside}: looks like ${looksLike}` });
  }

  // ------------------------------------------------------------------ EOF

  /**
   * The input ended. `rest` is whatever undecoded bytes remain (a partial
   * header or record). Returns how the stream ended, plus a trailing item when
   * bytes followed END; throws STREAM-TRUNCATED when the stream is incomplete
   * (the diagnosis is in end-of-input.ts). `restLength`: how many undecoded
   * bytes arrived, when a driver let some pass unread (`rest` then holds at
   * least the record header).
   */
  finish(rest: Uint8Array = new Uint8Array(0), restLength = rest.length): EndVerdict {
    return this.finishAt(rest, restLength);
  }

  /**
   * The input ended inside `item`, a page-data record whose pages a push driver
   * let pass unread (pageContents 'skip' with bytes not yet seen): `present` of
   * its bytes arrived, `head` holds at least its record header. The verdict is
   * the one finish() gives a full decoder left at the record's start.
   */
  finishInside(item: RecordItem, head: Uint8Array, present: number): EndVerdict {
    this.offset = item.offset;
    this.recordIndex = item.index;
    return this.finishAt(head, present);
  }

  private finishAt(rest: Uint8Array, restLength: number): EndVerdict {
    return endOfInput(
      {
        state: this.state,
        dialect: this.dialect,
        offset: this.offset,
        recordIndex: this.recordIndex,
        streamEnd: this.streamEnd,
        trailingBytes: this.trailingBytes,
        trailingHead: this.trailingHead,
        checkpointed: this.checkpointed,
        completeCheckpoints: this.completeCheckpoints,
        lastCompleteEnd: this.lastCompleteEnd,
        lastCompleteRecordIndex: this.lastCompleteRecordIndex,
        report: this.report,
      },
      rest,
      restLength,
    );
  }
}
