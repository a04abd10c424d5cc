/**
 * The headerless back channels (spec/FORMAT.md §9.3, §6.4): bare records travelling
 * destination → source.
 *  - COLO: (libxl CHECKPOINT_STATE 2 SVM_READY, 3 SVM_RESUMED, 1 SVM_SUSPENDED,
 *    libxc CHECKPOINT_DIRTY_PFN_LIST)*, until the link closes;
 *  - postcopy RFC: libxc POSTCOPY_FAULT* then POSTCOPY_COMPLETE (xl then sends
 *    its postcopy sync message on the same pipe: reported as trailing bytes).
 */
import { RECORD_HEADER_SIZE, REC_LENGTH_MAX, roundUp8, XL_POSTCOPY_SYNC_MESSAGE } from '../format/constants.js';
import { recordTypeName, recordTypeTable, type Dialect, type Layer } from '../format/record-types.js';
import { RULES } from '../format/rules.js';
import { copyBytes, dataView } from '../codec/bytes.js';
import { formatError } from '../codec/errors.js';
import { decodeRecordBody } from '../codec/records.js';
import type { Step } from './decoder.js';
import type { Problem, RecordItem, StreamEnd, StreamItem } from './items.js';
import { SummaryBuilder, type StreamSummary } from './summary.js';

export type BackChannelKind = 'colo' | 'postcopy';

export interface BackChannelOptions {
  channel: BackChannelKind;
  maxRecordLength?: number;
  /** Strict (default): non-zero padding is an error. */
  strict?: boolean;
}

/** COLO's cycle: which (layer, type, control id) comes next. */
const COLO_CYCLE: Array<{ layer: Layer; name: string; controlId?: number }> = [
  { layer: 'libxl', name: 'CHECKPOINT_STATE', controlId: 2 },
  { layer: 'libxl', name: 'CHECKPOINT_STATE', controlId: 3 },
  { layer: 'libxl', name: 'CHECKPOINT_STATE', controlId: 1 },
  { layer: 'libxc', name: 'CHECKPOINT_DIRTY_PFN_LIST' },
];
const POSTCOPY_SYNC = Buffer.from(XL_POSTCOPY_SYNC_MESSAGE, 'latin1');

export class BackChannelDecoder {
  readonly problems: Problem[] = [];
  private readonly channel: BackChannelKind;
  private readonly dialect: Dialect;
  private readonly maxRecordLength: number;
  private readonly strict: boolean;
  private readonly summaryBuilder: SummaryBuilder;
  private offset = 0;
  private index = 0;
  private complete = false;
  private trailing: Uint8Array[] = [];
  private trailingBytes = 0;
  private streamEnd = 0;

  constructor(options: BackChannelOptions) {
    this.channel = options.channel;
    this.dialect = options.channel === 'postcopy' ? 'postcopy-rfc' : 'upstream';
    this.maxRecordLength = options.maxRecordLength ?? REC_LENGTH_MAX;
    this.strict = options.strict ?? true;
    this.summaryBuilder = new SummaryBuilder(this.dialect);
  }

  get done(): boolean {
    return this.complete;
  }

  get position(): number {
    return this.offset;
  }

  summary(end?: StreamEnd): StreamSummary {
    return this.summaryBuilder.build(end);
  }

  next(view: Uint8Array): Step {
    if (this.complete) {
      // After POSTCOPY_COMPLETE: xl's postcopy sync message (or anything else) is trailing.
      if (view.length === 0) return { need: 1 };
      if (this.trailingBytes < 64) this.trailing.push(copyBytes(view, 0, 64 - this.trailingBytes));
      this.trailingBytes += view.length;
      this.offset += view.length;
      return { skip: view.length };
    }
    if (view.length < RECORD_HEADER_SIZE) return { need: RECORD_HEADER_SIZE };
    const dv = dataView(view);
    const type = dv.getUint32(0, true);
    const bodyLength = dv.getUint32(4, true);
    const expected = this.expected();
    const layer = expected.layer;
    const loc = { offset: this.offset, recordIndex: this.index, layer, recordType: type, recordName: recordTypeName(layer, type, this.dialect) };
    if (bodyLength > this.maxRecordLength)
      throw formatError('RECORD_TOO_LONG', { ...loc, offset: this.offset + 4 }, { expected: `≤ ${this.maxRecordLength}`, actual: bodyLength });
    const wire = RECORD_HEADER_SIZE + roundUp8(bodyLength);
    if (view.length < wire) return { need: wire };
    const info = recordTypeTable(layer, this.dialect).lookup(type);
    if (!info || !expected.names.includes(info.name)) {
      throw formatError('BACK_CHANNEL_ORDER', loc, { expected: expected.names.join(' or '), actual: info?.name ?? `type 0x${type.toString(16)}` });
    }
    const body = view.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + bodyLength);
    const record = decodeRecordBody(
      layer,
      type,
      body,
      view.subarray(RECORD_HEADER_SIZE + bodyLength, wire),
      { ...loc, offset: this.offset + RECORD_HEADER_SIZE },
      this.dialect,
    );
    if (record.padding) {
      if (this.strict) throw formatError('PADDING_NONZERO', { ...loc, offset: this.offset + RECORD_HEADER_SIZE + bodyLength });
      this.problems.push({
        rule: RULES.PADDING_NONZERO,
        severity: 'warning',
        offset: this.offset + RECORD_HEADER_SIZE + bodyLength,
        recordIndex: this.index,
        message: 'non-zero padding',
      });
    }
    if (record.body.kind === 'checkpoint-state' && expected.controlId !== undefined && record.body.controlId !== expected.controlId) {
      throw formatError(
        'BACK_CHANNEL_ORDER',
        { ...loc, offset: this.offset + RECORD_HEADER_SIZE },
        { expected: `control_id ${expected.controlId}`, actual: `control_id ${record.body.controlId}` },
      );
    }
    if (record.name === 'POSTCOPY_COMPLETE') this.complete = true;
    const item: RecordItem = { kind: 'record', offset: this.offset, length: wire, index: this.index, layer, record, bodyLength };
    this.summaryBuilder.onRecord(item);
    this.summaryBuilder.addBytes(wire);
    this.offset += wire;
    this.index++;
    this.streamEnd = this.offset;
    return { item };
  }

  private expected(): { layer: Layer; names: string[]; controlId?: number | undefined } {
    if (this.channel === 'postcopy') return { layer: 'libxc', names: ['POSTCOPY_FAULT', 'POSTCOPY_COMPLETE'] };
    const step = COLO_CYCLE[this.index % COLO_CYCLE.length];
    return { layer: step.layer, names: [step.name], controlId: step.controlId };
  }

  finish(rest: Uint8Array = new Uint8Array(0)): { end: StreamEnd; trailing?: StreamItem } {
    const eof = this.offset + rest.length;
    if (rest.length > 0 && !this.complete) {
      throw formatError(
        'TRUNCATED',
        { offset: eof, recordIndex: this.index },
        { detail: `the back channel ends inside record #${this.index} at offset ${this.offset} (${rest.length} bytes of it present)` },
      );
    }
    if (this.channel === 'postcopy' && !this.complete) {
      throw formatError('TRUNCATED', { offset: eof }, { detail: 'the postcopy back channel ended without POSTCOPY_COMPLETE' });
    }
    const end: StreamEnd = { status: 'complete', bytesRead: eof, streamEnd: this.streamEnd };
    if (this.trailingBytes === 0) return { end };
    end.trailingBytes = this.trailingBytes;
    const head = Buffer.concat(this.trailing);
    const isSync = this.trailingBytes === POSTCOPY_SYNC.length && head.equals(POSTCOPY_SYNC);
    if (!isSync) {
      const err = formatError('TRAILING_BYTES', { offset: this.streamEnd }, { detail: `${this.trailingBytes} bytes follow POSTCOPY_COMPLETE` });
      if (this.strict) throw err;
      this.problems.push({ rule: RULES.TRAILING_BYTES, severity: 'warning', offset: this.streamEnd, message: err.message });
    }
    return { end, trailing: { kind: 'trailing', offset: this.streamEnd, length: this.trailingBytes, head, isGoMessage: false } };
  }
}
