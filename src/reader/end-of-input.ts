/**
 * How a stream ended, decided when its input runs out (spec/FORMAT.md §9.5):
 * complete (with or without bytes after the final END), a failover to the last
 * complete checkpoint, or a truncation, described as precisely as the bytes
 * left allow. The layer automaton (decoder.ts) hands over what it knows; this
 * file reads no input and keeps no state of its own.
 */
import { XL_MIGRATE_GO_MESSAGE, RECORD_HEADER_SIZE, roundUp8 } from '../format/constants.js';
import { recordTypeName, type Dialect, type Layer } from '../format/record-types.js';
import type { RuleKey } from '../format/rules.js';
import { dataView } from '../codec/bytes.js';
import { formatError, type ErrorLocation } from '../codec/errors.js';
import type { StreamEnd, StreamItem } from './items.js';
import { detectContainer, DETECT_BYTES } from './detect.js';
import type { ProblemExtra } from './record-checks.js';

const GO_MESSAGE = Buffer.from(XL_MIGRATE_GO_MESSAGE, 'latin1');

/** Automaton states in which the next item is a header (not a record). */
const HEADER_STATES: ReadonlySet<string> = new Set(['DETECT', 'XL', 'LIBXL_HDR', 'LIBXC_IHDR', 'LIBXC_DHDR', 'LIBVIRT', 'XS_SIG', 'XS_SECTION']);

/** What to expect next in each automaton state, for "the stream ends before …" messages. */
const EXPECTATIONS: Readonly<Record<string, string>> = {
  DETECT: 'a stream header',
  XL: 'the xl save-file header',
  LIBXL_HDR: 'the libxl stream header',
  LIBXC_IHDR: 'the libxc image header',
  LIBVIRT: "libvirt's save image header and domain XML",
  XS_SIG: 'the XenServer suspend image signature',
  XS_SECTION: 'the next XenServer section (the image has no End_of_image yet)',
  LIBXC_DHDR: 'the libxc domain header',
  LIBXC_REC: 'the next libxc record (the libxc stream has no END yet)',
  LIBXC_PC: 'the next postcopy libxc record',
  LIBXL_FIRST: 'the LIBXC_CONTEXT record',
  LIBXL_TAIL: 'the libxl END record',
  LIBXL_POSTPC: 'the libxl END record',
  LIBXL_CKPT: 'CHECKPOINT_END',
  LIBXL_CKST: 'CHECKPOINT_STATE',
  LIBXL_PCT: 'POSTCOPY_TRANSITION_END',
};

/** The automaton's position when the input ended. */
export interface EndFacts {
  readonly state: string;
  readonly dialect: Dialect;
  /** Offset of the first undecoded byte (the start of the item the input cut). */
  readonly offset: number;
  readonly recordIndex: number;
  readonly streamEnd: number;
  readonly trailingBytes: number;
  readonly trailingHead: Uint8Array;
  readonly checkpointed: boolean;
  readonly completeCheckpoints: number;
  readonly lastCompleteEnd: number;
  readonly lastCompleteRecordIndex: number;
  /** Reports a problem (throws when its severity is fatal in the reader's mode). */
  readonly report: (key: RuleKey, at: ErrorLocation, extra?: ProblemExtra) => void;
}

export interface EndVerdict {
  end: StreamEnd;
  trailing?: StreamItem;
}

/**
 * The verdict at EOF with `restLength` undecoded bytes, of which `rest` holds
 * the first (at least the record header when one was read). Throws
 * STREAM-TRUNCATED / STREAM-NO-COMPLETE-CHECKPOINT when the stream is incomplete.
 */
export function endOfInput(f: EndFacts, rest: Uint8Array, restLength: number): EndVerdict {
  const eof = f.offset + restLength;
  if (f.state === 'DONE') return completeEnd(f, eof);
  if (f.checkpointed && f.completeCheckpoints > 0 && (f.state === 'LIBXC_REC' || f.state === 'LIBXL_CKPT' || f.state === 'LIBXL_CKST'))
    return failoverEnd(f, eof);
  if (f.checkpointed && f.completeCheckpoints === 0) {
    throw formatError('CHECKPOINT_INCOMPLETE', { offset: eof }, { detail: 'the stream ended inside its first checkpoint: nothing to fail over to' });
  }
  const insideRecord = restLength >= RECORD_HEADER_SIZE && isRecordState(f.state);
  throw formatError('TRUNCATED', truncationLocation(f, rest, eof), {
    detail: truncationDetail(f, rest, restLength),
    expected: insideRecord ? undefined : expectation(f.state),
  });
}

function completeEnd(f: EndFacts, eof: number): EndVerdict {
  const end: StreamEnd = { status: 'complete', bytesRead: eof, streamEnd: f.streamEnd };
  if (f.trailingBytes === 0) return { end };
  end.trailingBytes = f.trailingBytes;
  const isGo = f.trailingBytes === GO_MESSAGE.length && Buffer.compare(Buffer.from(f.trailingHead), GO_MESSAGE) === 0;
  const loc = { offset: f.streamEnd };
  if (isGo)
    f.report('TRAILING_GO_MESSAGE', loc, {
      detail: `the ${f.trailingBytes} bytes after END are xl migrate's go message ("domain is yours, you are cleared to unpause")`,
    });
  else f.report('TRAILING_BYTES', loc, { detail: `${f.trailingBytes} bytes follow the final END`, actual: `${f.trailingBytes} bytes` });
  return { end, trailing: { kind: 'trailing', offset: f.streamEnd, length: f.trailingBytes, head: f.trailingHead, isGoMessage: isGo } };
}

function failoverEnd(f: EndFacts, eof: number): EndVerdict {
  const discardedRecords = f.recordIndex - f.lastCompleteRecordIndex;
  const end: StreamEnd = {
    status: 'failover',
    bytesRead: eof,
    streamEnd: f.lastCompleteEnd,
    completeCheckpoints: f.completeCheckpoints,
    discardedRecords,
    discardedBytes: eof - f.lastCompleteEnd,
  };
  if (end.discardedBytes) {
    f.report(
      'DISCARDED_CHECKPOINT',
      { offset: f.lastCompleteEnd },
      { detail: `failover to checkpoint ${f.completeCheckpoints}: ${discardedRecords} records and ${end.discardedBytes} bytes after it are discarded` },
    );
  }
  return { end };
}

function isRecordState(state: string): boolean {
  return !HEADER_STATES.has(state);
}

function expectation(state: string): string {
  return EXPECTATIONS[state] ?? 'more bytes';
}

/** Where a truncation happened: the EOF offset, and the record it cut when its header was read. */
function truncationLocation(f: EndFacts, rest: Uint8Array, eof: number): ErrorLocation {
  if (!isRecordState(f.state)) return { offset: eof };
  const loc: ErrorLocation = { offset: eof, recordIndex: f.recordIndex };
  if (rest.length >= RECORD_HEADER_SIZE) {
    const layer: Layer = f.state === 'LIBXC_REC' || f.state === 'LIBXC_PC' ? 'libxc' : 'libxl';
    const type = dataView(rest).getUint32(0, true);
    Object.assign(loc, { layer, recordType: type, recordName: recordTypeName(layer, type, f.dialect) });
  }
  return loc;
}

function truncationDetail(f: EndFacts, rest: Uint8Array, restLength: number): string {
  if (f.state === 'DETECT' && rest.length < DETECT_BYTES) {
    const d = detectContainer(rest);
    if (!d.container) return `input ends after ${rest.length} bytes: not a v2 migration stream (looks like ${d.looksLike})`;
  }
  if (rest.length >= RECORD_HEADER_SIZE && isRecordState(f.state)) {
    const { layer, recordName } = truncationLocation(f, rest, 0);
    const len = dataView(rest).getUint32(4, true);
    return `the stream ends inside ${layer} record #${f.recordIndex} (${recordName}), which starts at offset ${f.offset}: it needs ${RECORD_HEADER_SIZE + roundUp8(len)} bytes, ${restLength} are there`;
  }
  if (restLength > 0) return `the stream ends inside ${expectation(f.state)} at offset ${f.offset} (${restLength} bytes of it present)`;
  return `the stream ends at offset ${f.offset}, before ${expectation(f.state)}`;
}
