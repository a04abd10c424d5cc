import { RULES, type RuleInfo, type RuleKey } from '../format/rules.js';
import type { Layer } from '../format/record-types.js';

/** Where in the input a problem is: every field optional except the byte offset. */
export interface ErrorLocation {
  /** Absolute byte offset of the offending bytes in the input (decompressed stream). */
  offset: number;
  /** Index of the record in the whole stream (0-based), when the problem is in a record. */
  recordIndex?: number | undefined;
  layer?: Layer | 'xl' | undefined;
  /** Record type number. */
  recordType?: number | undefined;
  /** Record or header name, e.g. PAGE_DATA or "libxc image header". */
  recordName?: string | undefined;
}

export interface ProblemDetails extends ErrorLocation {
  rule: RuleInfo;
  /** What the rule broken wanted, in words or numbers. */
  expected?: string | undefined;
  /** What was found instead. */
  actual?: string | undefined;
  /** Free-form explanation, shown after the rule's text. */
  detail?: string | undefined;
}

function describe(p: ProblemDetails): string {
  const where: string[] = [`offset ${p.offset} (0x${p.offset.toString(16)})`];
  if (p.recordIndex !== undefined) where.push(`record #${p.recordIndex}`);
  const what = [p.layer, p.recordName].filter(Boolean).join(' ');
  if (what) where.push(what);
  let msg = `${p.rule.id} at ${where.join(', ')}: ${p.detail ?? p.rule.text}`;
  if (p.expected !== undefined && p.actual !== undefined) msg += ` (expected ${p.expected}, got ${p.actual})`;
  else if (p.expected !== undefined) msg += ` (expected ${p.expected})`;
  else if (p.actual !== undefined) msg += ` (got ${p.actual})`;
  return msg;
}

/**
 * The one error type bad input produces. Carries the rule broken, the byte offset
 * and, when known, the record index, layer and type.
 */
export class StreamFormatError extends Error {
  override readonly name = 'StreamFormatError';
  readonly ruleId: string;
  readonly rule: RuleInfo;
  readonly offset: number;
  readonly recordIndex?: number | undefined;
  readonly layer?: Layer | 'xl' | undefined;
  readonly recordType?: number | undefined;
  readonly recordName?: string | undefined;
  readonly expected?: string | undefined;
  readonly actual?: string | undefined;
  /** The explanation given by the thrower (the rule's text when none). */
  readonly detail: string;

  constructor(details: ProblemDetails) {
    super(describe(details));
    this.rule = details.rule;
    this.ruleId = details.rule.id;
    this.offset = details.offset;
    this.recordIndex = details.recordIndex;
    this.layer = details.layer;
    this.recordType = details.recordType;
    this.recordName = details.recordName;
    this.expected = details.expected;
    this.actual = details.actual;
    this.detail = details.detail ?? details.rule.text;
  }
}

/** Context a body or header decoder is given, for its error messages. */
export interface DecodeContext extends ErrorLocation {}

export function formatError(
  key: RuleKey,
  at: ErrorLocation,
  extra: { expected?: string | number | undefined; actual?: string | number | undefined; detail?: string | undefined; relative?: number } = {},
): StreamFormatError {
  return new StreamFormatError({
    ...at,
    offset: at.offset + (extra.relative ?? 0),
    rule: RULES[key],
    expected: extra.expected === undefined ? undefined : String(extra.expected),
    actual: extra.actual === undefined ? undefined : String(extra.actual),
    detail: extra.detail,
  });
}

/** A JSON document that does not match the schema: the JSON path and what is wrong. */
export class JsonFormError extends Error {
  override readonly name = 'JsonFormError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path || '/'}: ${problem}`);
  }
}

/** Misuse of the API (not bad input bytes): e.g. encoding a value that cannot be represented. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}
