/**
 * `verify`: walk the whole stream with the reader's checks and classify it:
 * valid (complete, or a checkpointed stream that ended by failover), or
 * invalid with the first fatal problem. Warnings and notes are kept either way.
 */
import { StreamFormatError } from '../codec/errors.js';
import { readStream } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import type { Problem, StreamEnd } from '../reader/items.js';
import type { StreamSummary } from '../reader/summary.js';
import { problemJson } from './dump-json.js';
import { grouped, offsetHex } from './text-format.js';
import type { WalkOptions } from './walk-options.js';

export type VerifyStatus = 'valid' | 'invalid';

export interface VerifyResult {
  status: VerifyStatus;
  /** Present when valid. */
  end?: StreamEnd | undefined;
  /** The fatal problem, when invalid. */
  error?: StreamFormatError;
  problems: readonly Problem[];
  summary: StreamSummary;
  /** Trailing bytes after END are xl migrate's go message. */
  goMessage: boolean;
}

/** Only StreamFormatError means "invalid stream"; anything else (I/O) propagates. */
export async function verifyStream(source: StreamSource, options: WalkOptions = {}): Promise<VerifyResult> {
  // Nothing here keeps an item's views past the next item: let the reader reuse its buffers.
  // No rule looks at page contents: step over them unless asked to read every byte (--deep).
  const reader = readStream(source, { pageContents: 'skip', ...options.reader, recycleBuffers: true });
  let goMessage = false;
  try {
    for await (const item of reader) {
      options.onProgress?.(item.offset + item.length);
      if (item.kind === 'trailing') goMessage = item.isGoMessage;
    }
  } catch (e) {
    if (!(e instanceof StreamFormatError)) throw e;
    return { status: 'invalid', error: e, problems: reader.problems, summary: reader.summary(), goMessage };
  }
  return { status: 'valid', end: reader.end, problems: reader.problems, summary: reader.summary(), goMessage };
}

/** One line per problem with offset and rule id, then the verdict. */
export function renderVerifyText(name: string, r: VerifyResult): string {
  const lines: string[] = [];
  for (const p of r.problems) lines.push(`${p.severity} ${p.rule.id} at offset ${p.offset} (${offsetHex(p.offset)}): ${stripRule(p.message, p.rule.id)}`);
  if (r.error) lines.push(`error ${r.error.ruleId} at offset ${r.error.offset} (${offsetHex(r.error.offset)}): ${stripRule(r.error.message, r.error.ruleId)}`);
  const s = r.summary;
  const what = [
    s.wrapper ? (s.wrapper === 'libvirt' ? 'libvirt save image' : 'XenServer suspend image') : '',
    s.container ? `${s.container} container` : '',
    s.imageVersion ? `libxc v${s.imageVersion}` : '',
    s.domainType ?? '',
    s.xenVersion ? `Xen ${s.xenVersion}` : '',
    s.mode && s.mode !== 'plain' ? `${s.mode} stream` : '',
  ]
    .filter(Boolean)
    .join(', ');
  if (r.status === 'invalid') {
    lines.push(`${name}: INVALID (${r.error?.ruleId}) after ${grouped(s.records)} records${what ? ` — ${what}` : ''}`);
  } else {
    const end = r.end as StreamEnd;
    let verdict = `${name}: VALID — ${what}, ${grouped(s.records)} records, ${grouped(end.streamEnd)} bytes`;
    if (end.status === 'failover') {
      verdict +=
        `; checkpointed stream ended by failover after ${end.completeCheckpoints} complete checkpoint(s) (valid: a receiver restores checkpoint ${end.completeCheckpoints}` +
        `${end.discardedBytes ? `, discarding ${end.discardedRecords} records / ${grouped(end.discardedBytes)} bytes after it` : ''})`;
    } else if (end.trailingBytes) {
      verdict += r.goMessage
        ? `; the ${end.trailingBytes} bytes after END are xl migrate's go message (the input is a capture of the wire)`
        : `; ${grouped(end.trailingBytes)} bytes after END ignored`;
    }
    lines.push(verdict);
  }
  return `${lines.join('\n')}\n`;
}

export function verifyJson(name: string, r: VerifyResult): object {
  return {
    input: name,
    status: r.status,
    ...(r.end ? { end: r.end } : {}),
    ...(r.error
      ? {
          error: {
            rule: r.error.ruleId,
            offset: r.error.offset,
            recordIndex: r.error.recordIndex,
            layer: r.error.layer,
            recordName: r.error.recordName,
            message: r.error.message,
          },
        }
      : {}),
    goMessage: r.goMessage,
    problems: r.problems.map(problemJson),
    records: r.summary.records,
  };
}

/** Messages from the codec start with "RULE-ID at offset …: "; the line already says that. */
function stripRule(message: string, ruleId: string): string {
  if (!message.startsWith(ruleId)) return message;
  const i = message.indexOf(': ');
  return i >= 0 ? message.slice(i + 2) : message;
}
