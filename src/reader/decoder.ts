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
  XL_MIGRATE_GO_MESSAGE,
  LIBXC_DOMAIN_HEADER_SIZE,
  LIBXC_IMAGE_HEADER_SIZE,
  LIBXL_HEADER_SIZE,
  LIBXL_OPTION_BIG_ENDIAN,
  LIBXC_OPTION_BIG_ENDIAN,
  RECORD_HEADER_SIZE,
  REC_LENGTH_MAX,
  XL_HEADER_SIZE,
  XL_OPTIONAL_DATA_MAX,
  XL_MANDATORY_FLAG_JSON,
  DOMAIN_TYPE_X86_PV,
  roundUp8,
} from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import { isOptionalType, recordTypeName, recordTypeTable, type Dialect, type Layer, type RecordTypeInfo } from '../format/record-types.js';
import { RULES, type RuleKey } from '../format/rules.js';
import { dataView, isAllZero } from '../codec/bytes.js';
import { formatError, type StreamFormatError, type ErrorLocation } from '../codec/errors.js';
import { decodeLibxcDomainHeader, decodeLibxcImageHeader, decodeLibxlHeader, decodeXlHeader, xlHeaderLength } from '../codec/headers.js';
import { bodyCodecFor, decodeRecordBody, type StreamRecord } from '../codec/records.js';
import { layoutCodec, reservedValueText } from '../codec/layout-codec.js';
import { decodePageDataSkippingPages, pageDataEntriesLength, type PageDataBody } from '../codec/bodies/page-data.js';
import { p2mFrameCount, VCPU_BASIC_SIZE } from '../codec/bodies/x86-pv.js';
import { hvmContextProblems } from '../codec/bodies/hvm-context-framing.js';
import type { Container, Problem, RecordItem, StreamEnd, StreamItem, StreamMode } from './items.js';
import { detectContainer, detectOrNeed, DETECT_BYTES } from './detect.js';
import { PfnSet } from './pfn-set.js';
import { SummaryBuilder, type StreamSummary } from './summary.js';
import { VerifyResendCheck } from './verify-resend.js';

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
   * looks at page contents, so the verdicts are the same.
   */
  pageContents?: 'read' | 'skip' | undefined;
}

export type Step =
  | { item: StreamItem }
  /** More contiguous bytes are needed: at least `need` from the current position. */
  | { need: number }
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
  | 'DONE'
  | 'FAILED';

const GO_MESSAGE = Buffer.from(XL_MIGRATE_GO_MESSAGE, 'latin1');
const CHECKPOINT_STATE = 0x5;
const VCPU_RECORDS: Record<string, true> = { X86_PV_VCPU_BASIC: true, X86_PV_VCPU_EXTENDED: true, X86_PV_VCPU_XSAVE: true, X86_PV_VCPU_MSRS: true };

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
  /**
   * VERIFY (xl migrate --debug): the re-sent pages are compared with the copies they verify, only
   * when page contents are read: with 'skip' no rule looks at them, whole records or not.
   */
  private readonly resend: VerifyResendCheck | undefined;
  private state: State;
  private container?: Container;
  /** Absolute offset of the next byte to decode. */
  private offset = 0;
  private recordIndex = 0;

  // libxc-layer facts gathered on the way (for rules that depend on order or guest kind).
  private imageVersion = 3;
  private domainType = 0;
  private staticDataEnd = false;
  private seenPageData = false;
  private guestWidth?: number;
  private p2mEndPfn?: number;
  private vcpu0Basic = false;
  private mode: StreamMode = 'plain';
  private checkpointed = false;
  private checkpoint = 0;
  private completeCheckpoints = 0;
  private lastCompleteEnd = 0;
  private lastCompleteRecordIndex = 0;
  /** next()'s `known` for the current call. */
  private known = 0;
  /** Wire length of the record being handled (for checkpoint end offsets). */
  private currentWire = 0;
  // Postcopy RFC.
  private pcBegun = false;
  private pcPfnsBegun = false;
  private readonly pcSet = new PfnSet();
  private readonly pcReceived = new PfnSet();
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
    this.resend = this.skipPages ? undefined : new VerifyResendCheck();
    this.summaryBuilder = new SummaryBuilder(this.dialect);
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
   */
  next(view: Uint8Array, known = view.length): Step {
    try {
      this.known = known;
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
        if (!d.container) throw this.notV2(d.looksLike);
        this.setContainer(d.container);
        return this.step(view);
      }
      case 'XL': {
        if (view.length < XL_HEADER_SIZE) return { need: XL_HEADER_SIZE };
        const total = xlHeaderLength(view, { offset: this.offset }, this.maxXlOptionalData);
        if (view.length < total) return { need: total };
        const { header, length } = decodeXlHeader(view, { offset: this.offset });
        if (header.optionalFlags !== 0)
          this.problem('XL_OPTIONAL_FLAGS', { offset: this.offset + 40, layer: 'xl' }, { actual: `0x${header.optionalFlags.toString(16)}`, expected: '0' });
        const hasJson = (header.mandatoryFlags & XL_MANDATORY_FLAG_JSON) !== 0;
        if (hasJson !== (header.config !== undefined && header.config.length > 0)) {
          this.problem(
            'XL_JSON_FLAG',
            { offset: this.offset + 36, layer: 'xl' },
            { detail: hasJson ? 'JSON flag set but no config' : 'config present but JSON flag clear (legacy config text)' },
          );
        }
        return this.emit({ kind: 'xl-header', offset: this.offset, length, header }, 'LIBXL_HDR');
      }
      case 'LIBXL_HDR': {
        if (view.length < LIBXL_HEADER_SIZE) return { need: LIBXL_HEADER_SIZE };
        const header = decodeLibxlHeader(view, { offset: this.offset });
        const loc = { offset: this.offset + 12, layer: 'libxl' as const, recordName: 'libxl header' };
        if (header.options & LIBXL_OPTION_BIG_ENDIAN)
          throw formatError('BIG_ENDIAN', loc, { expected: 'options bit 0 clear', actual: `0x${header.options.toString(16)}` });
        if (header.options & ~3) this.problem('LIBXL_OPTIONS_RESERVED', loc, { actual: `0x${header.options.toString(16)}` });
        return this.emit({ kind: 'libxl-header', offset: this.offset, length: LIBXL_HEADER_SIZE, header }, 'LIBXL_FIRST');
      }
      case 'LIBXC_IHDR': {
        if (view.length < LIBXC_IMAGE_HEADER_SIZE) return { need: LIBXC_IMAGE_HEADER_SIZE };
        const header = decodeLibxcImageHeader(view, { offset: this.offset });
        const loc = { offset: this.offset + 16, layer: 'libxc' as const, recordName: 'libxc image header' };
        if (header.options & LIBXC_OPTION_BIG_ENDIAN)
          throw formatError('BIG_ENDIAN', loc, { expected: 'options bit 0 clear', actual: `0x${header.options.toString(16)}` });
        if (header.options & 0xfffe) this.problem('LIBXC_OPTIONS_RESERVED', loc, { actual: `0x${header.options.toString(16)}` });
        if (header.reserved16 || header.reserved32)
          this.problem(
            'LIBXC_HEADER_RESERVED',
            { ...loc, offset: this.offset + 18 },
            { actual: `0x${header.reserved16.toString(16)}:0x${header.reserved32.toString(16)}` },
          );
        this.imageVersion = header.version;
        this.summaryBuilder.imageVersion = header.version;
        return this.emit({ kind: 'libxc-image-header', offset: this.offset, length: LIBXC_IMAGE_HEADER_SIZE, header }, 'LIBXC_DHDR');
      }
      case 'LIBXC_DHDR': {
        if (view.length < LIBXC_DOMAIN_HEADER_SIZE) return { need: LIBXC_DOMAIN_HEADER_SIZE };
        const header = decodeLibxcDomainHeader(view, { offset: this.offset });
        if (header.reserved)
          this.problem('DOMAIN_RESERVED', { offset: this.offset + 6, layer: 'libxc', recordName: 'libxc domain header' }, { actual: header.reserved });
        this.domainType = header.domainType;
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
      case 'FAILED':
        throw new Error('StreamDecoder used after it reported an error');
      default:
        return this.stepRecord(view);
    }
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
    const type = dv.getUint32(0, true);
    const bodyLength = dv.getUint32(4, true);
    const layer = this.layerFor(type, bodyLength);
    if (bodyLength > this.maxRecordLength) {
      throw formatError('RECORD_TOO_LONG', this.loc(layer, type, 4), { expected: `≤ ${this.maxRecordLength}`, actual: bodyLength });
    }
    const wire = RECORD_HEADER_SIZE + roundUp8(bodyLength);
    const table = recordTypeTable(layer, this.dialect);
    const info = table.lookup(type);
    let entriesLength: number | undefined;
    if (view.length < wire) {
      // Only a record known to be whole may skip its pages: a cut one is reported as today.
      if (!this.skipPages || this.known < wire || info?.layout !== 'page-data' || layer !== 'libxc') return { need: wire };
      if (view.length < RECORD_HEADER_SIZE + 8) return { need: RECORD_HEADER_SIZE + 8 };
      entriesLength = pageDataEntriesLength(view.subarray(RECORD_HEADER_SIZE), bodyLength);
      if (entriesLength === undefined) return { need: wire };
      if (view.length < RECORD_HEADER_SIZE + entriesLength) return { need: RECORD_HEADER_SIZE + entriesLength };
    }

    this.checkKnownType(layer, type, info);
    const at: ErrorLocation = { offset: this.offset + RECORD_HEADER_SIZE, recordIndex: this.recordIndex, layer, recordType: type, recordName: info?.name };
    const record =
      entriesLength === undefined
        ? decodeRecordBody(
            layer,
            type,
            view.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + bodyLength),
            view.subarray(RECORD_HEADER_SIZE + bodyLength, wire),
            at,
            this.dialect,
          )
        : this.pageRecordSkippingPages(layer, type, view.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + entriesLength), bodyLength, at);
    if (record.padding) this.problem('PADDING_NONZERO', { ...this.loc(layer, type, RECORD_HEADER_SIZE + bodyLength), recordName: record.name });
    const item: RecordItem = { kind: 'record', offset: this.offset, length: wire, index: this.recordIndex, layer, record, bodyLength };
    if (this.checkpointed) item.checkpoint = this.checkpoint + 1;
    this.currentWire = wire;
    const next = layer === 'libxc' ? this.onLibxcRecord(record, info, at) : this.onLibxlRecord(record, info, at);
    this.recordIndex++;
    this.summaryBuilder.onRecord(item);
    if (next === 'DONE') this.streamEnd = this.offset + wire;
    return this.emit(item, next);
  }

  /** A page-data record decoded without its pages (their length was checked against the pfn array; a valid one has no padding). */
  private pageRecordSkippingPages(layer: Layer, type: number, entryBytes: Uint8Array, bodyLength: number, at: ErrorLocation): StreamRecord {
    const name = recordTypeName(layer, type, this.dialect);
    // The same location decodeRecordBody gives the body codec, so errors read the same.
    const loc = { offset: at.offset, recordIndex: at.recordIndex, layer, recordType: type, recordName: name };
    return { layer, type, name, body: decodePageDataSkippingPages(entryBytes, bodyLength, loc) };
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
    if (rfcName && (layer === 'libxl' || this.imageVersion === 2)) {
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
      throw formatError('LIBXC_UNHANDLED', this.wholeRecord(at), { detail: `${name} is not handled in a forward stream` });
    }
    if (info.guest) {
      const isPv = this.domainType === DOMAIN_TYPE_X86_PV;
      if ((info.guest === 'pv') !== isPv) {
        throw formatError('LIBXC_UNHANDLED', this.wholeRecord(at), { detail: `${name} is not handled in an ${isPv ? 'x86 PV' : 'x86 HVM'} stream` });
      }
    }
    if (this.state === 'LIBXC_PC') return this.onPostcopyPagePhase(rec, at);
    if (this.dialect === 'upstream') {
      if (info.v3Only && this.imageVersion === 2) {
        if (name === 'STATIC_DATA_END' && this.seenPageData) {
          throw formatError('DIALECT_HINT', this.wholeRecord(at), {
            detail: 'a 0x10 record after PAGE_DATA in a v2 image looks like the postcopy RFC dialect (POSTCOPY_BEGIN): try --dialect postcopy-rfc',
          });
        }
        this.problem('V3_RECORD_IN_V2', this.wholeRecord(at), { detail: `${name} in a v2 image` });
      }
    }
    switch (name) {
      case 'END':
        if (this.container === 'libxc') return 'DONE';
        if (this.domainType === DOMAIN_TYPE_X86_PV && !this.vcpu0Basic && !this.checkpointed) {
          throw formatError('VCPU0_MISSING', this.wholeRecord(at));
        }
        return this.dialect === 'postcopy-rfc' && this.pcBegun ? 'LIBXL_POSTPC' : 'LIBXL_TAIL';
      case 'CHECKPOINT':
        if (this.requestedMode === 'plain' || this.dialect === 'postcopy-rfc') throw formatError('CHECKPOINT_IN_PLAIN', this.wholeRecord(at));
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
        if (this.staticDataEnd) throw formatError('STATIC_DATA_END_DUPLICATE', this.wholeRecord(at));
        this.staticDataEnd = true;
        return 'LIBXC_REC';
      case 'X86_PV_INFO': {
        if (body.kind !== 'pv-info') break;
        if (this.guestWidth !== undefined) throw formatError('PV_INFO_DUPLICATE', this.wholeRecord(at));
        if (body.extra) this.problem('PV_INFO_EXTRA', at, { expected: 8, actual: 8 + body.extra.length });
        const ok = (body.guestWidth === 4 && body.ptLevels === 3) || (body.guestWidth === 8 && body.ptLevels === 4);
        if (!ok) throw formatError('PV_INFO_WIDTH', at, { expected: '(4,3) or (8,4)', actual: `(${body.guestWidth},${body.ptLevels})` });
        if (!isAllZero(body.reserved)) this.problem('PV_INFO_RESERVED', { ...at, offset: at.offset + 2 });
        this.guestWidth = body.guestWidth;
        this.summaryBuilder.guestWidth = body.guestWidth;
        return 'LIBXC_REC';
      }
      case 'X86_PV_P2M_FRAMES': {
        if (body.kind !== 'p2m-frames') break;
        if (this.guestWidth === undefined) throw formatError('PV_INFO_MISSING', this.wholeRecord(at));
        this.inferStaticDataEnd(at);
        const k = p2mFrameCount(body.startPfn, body.endPfn, this.guestWidth);
        if (body.frames.length !== k) {
          throw formatError('P2M_LENGTH', at, {
            expected: `${k} frames (${8 + 8 * k} bytes) for pfns ${body.startPfn}..${body.endPfn}`,
            actual: `${body.frames.length} frames`,
          });
        }
        this.p2mEndPfn = body.endPfn;
        return 'LIBXC_REC';
      }
      case 'PAGE_DATA': {
        if (body.kind !== 'page-data') break;
        this.inferStaticDataEnd(at);
        this.seenPageData = true;
        if (this.pcBegun) throw formatError('PC_ORDER', this.wholeRecord(at), { detail: 'PAGE_DATA after POSTCOPY_BEGIN' });
        if (body.reserved) this.problem('PAGE_DATA_RESERVED', { ...at, offset: at.offset + 4 }, { actual: body.reserved });
        if (body.pfnReservedBits) {
          const i = body.pfnReservedBits.findIndex((b) => b !== 0);
          this.problem(
            'PAGE_DATA_PFN_RESERVED',
            { ...at, offset: at.offset + 8 + 8 * i },
            { actual: `0x${body.pfnReservedBits[i].toString(16)} in pfn[${i}]` },
          );
        }
        if (this.p2mEndPfn !== undefined) {
          const limit = this.p2mEndPfn;
          const i = body.pfns.findIndex((p) => p > limit);
          if (i >= 0)
            throw formatError(
              'PAGE_DATA_PFN_RANGE',
              { ...at, offset: at.offset + 8 + 8 * i },
              { expected: `pfn ≤ ${limit}`, actual: `0x${body.pfns[i].toString(16)} (index ${i})` },
            );
        }
        this.checkResend(body, at);
        return 'LIBXC_REC';
      }
      case 'VERIFY':
        this.resend?.begin();
        return 'LIBXC_REC';
      case 'SHARED_INFO':
        if (this.guestWidth === undefined) throw formatError('PV_INFO_MISSING', this.wholeRecord(at));
        return 'LIBXC_REC';
      case 'X86_TSC_INFO':
        this.checkReservedFields(body, info, at);
        return 'LIBXC_REC';
      case 'HVM_CONTEXT':
        if (body.kind === 'opaque') for (const p of hvmContextProblems(body.data)) this.problem(p.rule, { ...at, offset: at.offset + p.offset }, p);
        return 'LIBXC_REC';
      case 'HVM_PARAMS':
        if (body.kind === 'hvm-params' && body.reserved) this.problem('HVM_PARAMS_RESERVED', { ...at, offset: at.offset + 4 }, { actual: body.reserved });
        return 'LIBXC_REC';
      // Postcopy RFC (the dialect's table is the only one with these names).
      case 'POSTCOPY_BEGIN':
        if (this.pcBegun) throw formatError('PC_BEGIN_DUPLICATE', this.wholeRecord(at));
        this.pcBegun = true;
        return 'LIBXC_REC';
      case 'POSTCOPY_PFNS_BEGIN':
        if (!this.pcBegun) throw formatError('PC_ORDER', this.wholeRecord(at), { detail: 'Received POSTCOPY_PFNS_BEGIN before POSTCOPY_BEGIN' });
        this.pcPfnsBegun = true;
        return 'LIBXC_REC';
      case 'POSTCOPY_PFNS':
        if (!this.pcPfnsBegun) throw formatError('PC_ORDER', this.wholeRecord(at), { detail: 'Received POSTCOPY_PFNS record before POSTCOPY_PFNS_BEGIN' });
        if (body.kind === 'pfn-list') {
          body.pfns.forEach((pfn, i) => {
            if (!this.pcSet.add(pfn)) throw formatError('PC_PFNS_DUPLICATE', { ...at, offset: at.offset + 8 + 8 * i }, { actual: `pfn 0x${pfn.toString(16)}` });
          });
        }
        return 'LIBXC_REC';
      case 'POSTCOPY_TRANSITION':
        if (!this.pcPfnsBegun)
          throw formatError('PC_ORDER', this.wholeRecord(at), { detail: 'Received POSTCOPY_TRANSITION record before POSTCOPY_PFNS_BEGIN' });
        return 'LIBXL_PCT';
      case 'POSTCOPY_PAGE_DATA':
        throw formatError('PC_ORDER', this.wholeRecord(at), { detail: 'POSTCOPY_PAGE_DATA before POSTCOPY_TRANSITION' });
      default:
        if (VCPU_RECORDS[name] && body.kind === 'vcpu') {
          this.checkVcpu(name, body.vcpuId, body.reserved, body.context.length, at);
          return 'LIBXC_REC';
        }
    }
    return 'LIBXC_REC';
  }

  private checkVcpu(name: string, vcpuId: number, reserved: number, n: number, at: ErrorLocation): void {
    if (this.guestWidth === undefined) throw formatError('PV_INFO_MISSING', this.wholeRecord(at));
    if (reserved) this.problem('VCPU_RESERVED', { ...at, offset: at.offset + 4 }, { actual: reserved });
    if (n === 0) return; // tolerated (Xen 4.6–4.8 senders)
    const width = this.guestWidth as 4 | 8;
    const bad = (expected: string) => formatError('VCPU_SIZE', at, { expected, actual: `${n} bytes of context` });
    if (name === 'X86_PV_VCPU_BASIC') {
      if (n !== VCPU_BASIC_SIZE[width]) throw bad(`${VCPU_BASIC_SIZE[width]} bytes for a ${width * 8}-bit guest`);
      if (vcpuId === 0) this.vcpu0Basic = true;
    } else if (name === 'X86_PV_VCPU_EXTENDED' && n > 128) throw bad('≤ 128 bytes');
    else if (name === 'X86_PV_VCPU_XSAVE' && n < 16) throw bad('≥ 16 bytes');
    else if (name === 'X86_PV_VCPU_MSRS' && n % 16 !== 0) throw bad('a multiple of 16 bytes');
  }

  /** v3: PAGE_DATA / P2M need STATIC_DATA_END first; v2: it is inferred at the first one. */
  private inferStaticDataEnd(at: ErrorLocation): void {
    if (this.staticDataEnd) return;
    if (this.imageVersion >= 3 && this.dialect === 'upstream') throw formatError('STATIC_DATA_END_MISSING', this.wholeRecord(at));
    this.staticDataEnd = true;
  }

  private onPostcopyPagePhase(rec: StreamRecord, at: ErrorLocation): State {
    if (rec.name === 'END') return 'LIBXL_POSTPC';
    if (rec.name !== 'POSTCOPY_PAGE_DATA' || rec.body.kind !== 'page-data') {
      throw formatError('PC_ORDER', this.wholeRecord(at), { detail: `Expected end of stream, received ${rec.name}` });
    }
    const { pfns, types } = rec.body;
    for (let i = 0; i < pfns.length; i++) {
      const entryAt = { ...at, offset: at.offset + 8 + 8 * i };
      if (!PAGE_TYPE_HAS_DATA[types[i]])
        throw formatError('PC_PAGE_TYPE', entryAt, { actual: `type 0x${types[i].toString(16)} for pfn 0x${pfns[i].toString(16)}` });
      if (!this.pcSet.has(pfns[i])) throw formatError('PC_PAGE_NOT_LISTED', entryAt, { actual: `pfn 0x${pfns[i].toString(16)}` });
      if (!this.pcReceived.add(pfns[i])) throw formatError('PC_PAGE_DUPLICATE', entryAt, { actual: `pfn 0x${pfns[i].toString(16)}` });
    }
    return 'LIBXC_PC';
  }

  private onLibxlRecord(rec: StreamRecord, info: RecordTypeInfo | undefined, at: ErrorLocation): State {
    const state = this.state;
    if (!info) return state === 'LIBXL_FIRST' ? 'LIBXL_TAIL' : state; // unknown optional, skipped (lenient)
    const name = rec.name;
    const body = rec.body;
    if (body.kind === 'empty' && body.extra) this.problem('LIBXL_EMPTY_BODY', at, { actual: `${body.extra.length} bytes` });
    const unexpected = (why: string) => formatError('LIBXL_UNEXPECTED_RECORD', this.wholeRecord(at), { detail: `${name} ${why}` });

    if (state === 'LIBXL_FIRST') {
      if (name === 'LIBXC_CONTEXT') return 'LIBXC_IHDR';
      this.problem('LIBXL_FIRST_RECORD', this.wholeRecord(at), { expected: 'LIBXC_CONTEXT', actual: name });
      this.state = 'LIBXL_TAIL';
      return this.onLibxlRecord(rec, info, at);
    }
    if (body.kind === 'emulator-xenstore' || body.kind === 'emulator-context') {
      if (this.domainType === DOMAIN_TYPE_X86_PV) throw formatError('EMULATOR_NOT_HVM', this.wholeRecord(at), { detail: `${name} in an x86 PV stream` });
      if (body.emulatorId > 2) this.problem('EMULATOR_ID', { ...at }, { expected: '0, 1 or 2', actual: body.emulatorId });
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
          if (body.extra) this.problem('CHECKPOINT_STATE_EXTRA', at, { expected: 4, actual: 4 + body.extra.length });
          if (body.controlId !== 0) throw formatError('CHECKPOINT_STATE_ID', at, { expected: '0 (CHECKPOINT_NEW)', actual: body.controlId });
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

  /** Errors about a record as a whole (its type, its place) point at its header, not its body. */
  private wholeRecord(at: ErrorLocation): ErrorLocation {
    return { ...at, offset: this.offset };
  }

  /** VERIFY: a re-sent page must equal the copy it verifies (verify-resend.ts). */
  private checkResend(body: PageDataBody, at: ErrorLocation): void {
    if (this.resend === undefined) return;
    for (const m of this.resend.pages(body, at.offset)) {
      const pfn = `pfn 0x${m.pfn.toString(16)}`;
      const first =
        m.firstOffset === undefined ? 'a zero page (it was not sent before VERIFY)' : `its copy at offset ${m.firstOffset} (0x${m.firstOffset.toString(16)})`;
      this.problem('VERIFY_MISMATCH', { ...at, offset: m.offset }, { detail: `the re-sent page of ${pfn} at offset ${m.offset} differs from ${first}` });
    }
  }

  private checkpointDone(): void {
    this.checkpoint++;
    this.completeCheckpoints++;
    this.lastCompleteEnd = this.offset + this.currentWire;
    this.lastCompleteRecordIndex = this.recordIndex + 1;
  }

  /** A fixed body's reserved fields, from its layout table (the writer's guard checks the same ones). */
  private checkReservedFields(body: StreamRecord['body'], info: RecordTypeInfo | undefined, at: ErrorLocation): void {
    const table = bodyCodecFor(info).table;
    if (!table) return;
    for (const v of layoutCodec(table).reservedViolations(body as never)) {
      this.problem(v.rule, { ...at, offset: at.offset + v.offset }, { actual: reservedValueText(v.value), detail: `${table.name}.${v.path} must be zero.` });
    }
  }

  private problem(key: RuleKey, at: ErrorLocation, extra: { expected?: string | number; actual?: string | number; detail?: string } = {}): void {
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
    return formatError('NOT_V2', { offset: 0 }, { detail: `not a v2 migration stream: looks like ${looksLike}` });
  }

  // ------------------------------------------------------------------ EOF

  /**
   * The input ended. `rest` is whatever undecoded bytes remain (a partial
   * header or record). Returns how the stream ended, plus a trailing item when
   * bytes followed END; throws STREAM-TRUNCATED when the stream is incomplete.
   */
  finish(rest: Uint8Array = new Uint8Array(0)): { end: StreamEnd; trailing?: StreamItem } {
    return this.finishAt(rest, rest.length);
  }

  /**
   * The input ended inside `item`, a page-data record whose pages a push driver
   * let pass unread (pageContents 'skip' with bytes not yet seen): `present` of
   * its bytes arrived, `head` holds at least its record header. The verdict is
   * the one finish() gives a full decoder left at the record's start.
   */
  finishInside(item: RecordItem, head: Uint8Array, present: number): { end: StreamEnd; trailing?: StreamItem } {
    this.offset = item.offset;
    this.recordIndex = item.index;
    return this.finishAt(head, present);
  }

  /** finish() with `restLength` undecoded bytes at EOF, of which `rest` holds the first (at least the record header when one was read). */
  private finishAt(rest: Uint8Array, restLength: number): { end: StreamEnd; trailing?: StreamItem } {
    const eof = this.offset + restLength;
    if (this.state === 'DONE') {
      const end: StreamEnd = { status: 'complete', bytesRead: eof, streamEnd: this.streamEnd };
      if (this.trailingBytes === 0) return { end };
      end.trailingBytes = this.trailingBytes;
      const isGo = this.trailingBytes === GO_MESSAGE.length && Buffer.compare(Buffer.from(this.trailingHead), GO_MESSAGE) === 0;
      const loc = { offset: this.streamEnd };
      if (isGo)
        this.problem('TRAILING_GO_MESSAGE', loc, {
          detail: `the ${this.trailingBytes} bytes after END are xl migrate's go message ("domain is yours, you are cleared to unpause")`,
        });
      else this.problem('TRAILING_BYTES', loc, { detail: `${this.trailingBytes} bytes follow the final END`, actual: `${this.trailingBytes} bytes` });
      return { end, trailing: { kind: 'trailing', offset: this.streamEnd, length: this.trailingBytes, head: this.trailingHead, isGoMessage: isGo } };
    }
    if (this.checkpointed && this.completeCheckpoints > 0 && ['LIBXC_REC', 'LIBXL_CKPT', 'LIBXL_CKST'].includes(this.state)) {
      const discardedRecords = this.recordIndex - this.lastCompleteRecordIndex;
      const end: StreamEnd = {
        status: 'failover',
        bytesRead: eof,
        streamEnd: this.lastCompleteEnd,
        completeCheckpoints: this.completeCheckpoints,
        discardedRecords,
        discardedBytes: eof - this.lastCompleteEnd,
      };
      if (end.discardedBytes) {
        this.problem(
          'DISCARDED_CHECKPOINT',
          { offset: this.lastCompleteEnd },
          { detail: `failover to checkpoint ${this.completeCheckpoints}: ${discardedRecords} records and ${end.discardedBytes} bytes after it are discarded` },
        );
      }
      return { end };
    }
    if (this.checkpointed && this.completeCheckpoints === 0) {
      throw formatError('CHECKPOINT_INCOMPLETE', { offset: eof }, { detail: 'the stream ended inside its first checkpoint: nothing to fail over to' });
    }
    const insideRecord = restLength >= RECORD_HEADER_SIZE && this.isRecordState();
    throw formatError('TRUNCATED', this.truncationLocation(rest, eof), {
      detail: this.truncationDetail(rest, restLength),
      expected: insideRecord ? undefined : this.expectation(),
    });
  }

  /** Where a truncation happened: the EOF offset, and the record it cut when its header was read. */
  private truncationLocation(rest: Uint8Array, eof: number): ErrorLocation {
    if (!this.isRecordState()) return { offset: eof };
    const loc: ErrorLocation = { offset: eof, recordIndex: this.recordIndex };
    if (rest.length >= RECORD_HEADER_SIZE) {
      const layer: Layer = this.state === 'LIBXC_REC' || this.state === 'LIBXC_PC' ? 'libxc' : 'libxl';
      const type = dataView(rest).getUint32(0, true);
      Object.assign(loc, { layer, recordType: type, recordName: recordTypeName(layer, type, this.dialect) });
    }
    return loc;
  }

  private isRecordState(): boolean {
    return !['DETECT', 'XL', 'LIBXL_HDR', 'LIBXC_IHDR', 'LIBXC_DHDR'].includes(this.state);
  }

  private truncationDetail(rest: Uint8Array, restLength: number): string {
    if (this.state === 'DETECT' && rest.length < DETECT_BYTES) {
      const d = detectContainer(rest);
      if (!d.container) return `input ends after ${rest.length} bytes: not a v2 migration stream (looks like ${d.looksLike})`;
    }
    if (rest.length >= RECORD_HEADER_SIZE && this.isRecordState()) {
      const { layer, recordName } = this.truncationLocation(rest, 0);
      const len = dataView(rest).getUint32(4, true);
      return `the stream ends inside ${layer} record #${this.recordIndex} (${recordName}), which starts at offset ${this.offset}: it needs ${RECORD_HEADER_SIZE + roundUp8(len)} bytes, ${restLength} are there`;
    }
    if (restLength > 0) return `the stream ends inside ${this.expectation()} at offset ${this.offset} (${restLength} bytes of it present)`;
    return `the stream ends at offset ${this.offset}, before ${this.expectation()}`;
  }

  private expectation(): string {
    switch (this.state) {
      case 'DETECT':
        return 'a stream header';
      case 'XL':
        return 'the xl save-file header';
      case 'LIBXL_HDR':
        return 'the libxl stream header';
      case 'LIBXC_IHDR':
        return 'the libxc image header';
      case 'LIBXC_DHDR':
        return 'the libxc domain header';
      case 'LIBXC_REC':
        return 'the next libxc record (the libxc stream has no END yet)';
      case 'LIBXC_PC':
        return 'the next postcopy libxc record';
      case 'LIBXL_FIRST':
        return 'the LIBXC_CONTEXT record';
      case 'LIBXL_TAIL':
        return 'the libxl END record';
      case 'LIBXL_POSTPC':
        return 'the libxl END record';
      case 'LIBXL_CKPT':
        return 'CHECKPOINT_END';
      case 'LIBXL_CKST':
        return 'CHECKPOINT_STATE';
      case 'LIBXL_PCT':
        return 'POSTCOPY_TRANSITION_END';
      default:
        return 'more bytes';
    }
  }
}
