/**
 * The framing of an HVM_CONTEXT blob, checked against Xen 4.17's save.h sizes
 * (src/format/hvm-save.ts). Shared by the reader (a problem per rule) and the
 * writer (a WriterGuardError with the same rule id), so a blob the writer
 * accepts is one `verify` accepts and Xen's hvm_load() can load.
 */
import { dataView } from '../bytes.js';
import { layoutCodec, reservedValueText } from '../layout-codec.js';
import { hvmEntryLayout } from '../machine/entry-layouts.js';
import { decodeStruct } from '../machine/struct.js';
import type { RuleKey } from '../../format/rules.js';
import {
  HVM_FILE_MAGIC,
  HVM_FILE_VERSION,
  HVM_SAVE_CODE_END,
  HVM_SAVE_CODE_HEADER,
  HVM_SAVE_DESCRIPTOR_SIZE,
  HVM_SAVE_ENTRY_BY_CODE,
  type HvmSaveEntryType,
} from '../../format/hvm-save.js';

export interface HvmContextProblem {
  readonly rule: RuleKey;
  /** Byte offset in the blob (the record body) of the descriptor or field at fault. */
  readonly offset: number;
  readonly expected?: string;
  readonly actual: string;
}

/**
 * Problems of one blob, at most one per rule, in blob order: a fatal one
 * (FRAMING, HEADER, ENTRY) ends the walk; INSTANCE (strict) does not, so
 * lenient reading still finds a later fatal problem.
 */
export function hvmContextProblems(blob: Uint8Array): HvmContextProblem[] {
  const dv = dataView(blob);
  const problems: HvmContextProblem[] = [];
  const fatal = (p: HvmContextProblem): HvmContextProblem[] => [...problems, p];
  let off = 0;
  for (let index = 0; ; index++) {
    if (off + HVM_SAVE_DESCRIPTOR_SIZE > blob.length) {
      return fatal({
        rule: 'HVM_CONTEXT_FRAMING',
        offset: off,
        expected: 'an END entry (typecode 0, length 0)',
        actual: off === blob.length ? 'the blob ends without one' : `${blob.length - off} bytes, less than a descriptor`,
      });
    }
    const typecode = dv.getUint16(off, true);
    const instance = dv.getUint16(off + 2, true);
    const length = dv.getUint32(off + 4, true);
    const at = `entry #${index} at blob offset ${off}`;
    if (length > blob.length - off - HVM_SAVE_DESCRIPTOR_SIZE) {
      return fatal({
        rule: 'HVM_CONTEXT_FRAMING',
        offset: off + 4,
        expected: `≤ ${blob.length - off - HVM_SAVE_DESCRIPTOR_SIZE} bytes left in the blob`,
        actual: `${at} (typecode ${typecode}) claims ${length} bytes`,
      });
    }
    if (index === 0) {
      const p = headerProblem(dv, typecode, length);
      if (p) return fatal(p);
    } else if (typecode === HVM_SAVE_CODE_END) {
      if (length !== 0) return fatal({ rule: 'HVM_CONTEXT_FRAMING', offset: off + 4, expected: 'END length 0', actual: `${at}: END with length ${length}` });
      return problems; // Xen's hvm_load() stops here; bytes after END are never read.
    } else {
      const type = HVM_SAVE_ENTRY_BY_CODE.get(typecode);
      if (!type || typecode === HVM_SAVE_CODE_HEADER) {
        return fatal({ rule: 'HVM_CONTEXT_ENTRY', offset: off, expected: 'typecode 2–20 (HEADER only first)', actual: `${at}: typecode ${typecode}` });
      }
      const want = lengthProblem(type, length, () => dv.getUint32(off + HVM_SAVE_DESCRIPTOR_SIZE, true));
      if (want) return fatal({ rule: 'HVM_CONTEXT_ENTRY', offset: off + 4, expected: `${type.name} length ${want}`, actual: `${at}: ${length}` });
      if (type.maxInstance !== undefined && instance > type.maxInstance && !problems.some((p) => p.rule === 'HVM_CONTEXT_INSTANCE')) {
        problems.push({
          rule: 'HVM_CONTEXT_INSTANCE',
          offset: off + 2,
          expected: `${type.name} instance ≤ ${type.maxInstance}`,
          actual: `${at}: instance ${instance}`,
        });
      }
      if (!problems.some((p) => p.rule === 'HVM_CONTEXT_RESERVED')) {
        const p = reservedProblem(blob, off, typecode, length, at);
        if (p) problems.push(p);
      }
    }
    off += HVM_SAVE_DESCRIPTOR_SIZE + length;
  }
}

/** The first field the entry's table marks reserved that is not zero (CPU pad0, CPU_MSR _rsvd), as a problem. */
function reservedProblem(blob: Uint8Array, off: number, typecode: number, length: number, at: string): HvmContextProblem | undefined {
  const layout = hvmEntryLayout(typecode, length);
  if (!layout?.fields.some((f) => f.reserved !== undefined || typeof f.type === 'object')) return undefined;
  const data = blob.subarray(off + HVM_SAVE_DESCRIPTOR_SIZE, off + HVM_SAVE_DESCRIPTOR_SIZE + length);
  const { value } = decodeStruct(layout, data);
  const [v] = layoutCodec(layout).reservedViolations(value as never);
  if (!v || v.offset >= length) return undefined;
  return {
    rule: v.rule,
    offset: off + HVM_SAVE_DESCRIPTOR_SIZE + v.offset,
    expected: `${layout.name}.${v.path} = 0`,
    actual: `${at}: ${reservedValueText(v.value)}`,
  };
}

function headerProblem(dv: DataView, typecode: number, length: number): HvmContextProblem | undefined {
  if (typecode !== HVM_SAVE_CODE_HEADER || length !== 24) {
    return { rule: 'HVM_CONTEXT_HEADER', offset: 0, expected: 'typecode 1 (HEADER), length 24', actual: `typecode ${typecode}, length ${length}` };
  }
  const magic = dv.getUint32(8, true);
  if (magic !== HVM_FILE_MAGIC)
    return { rule: 'HVM_CONTEXT_HEADER', offset: 8, expected: `magic 0x${HVM_FILE_MAGIC.toString(16)}`, actual: `0x${magic.toString(16)}` };
  const version = dv.getUint32(12, true);
  if (version !== HVM_FILE_VERSION) return { rule: 'HVM_CONTEXT_HEADER', offset: 12, expected: `version ${HVM_FILE_VERSION}`, actual: String(version) };
  return undefined;
}

/** What the length should be when `length` is wrong for `type`, else undefined. */
function lengthProblem(type: HvmSaveEntryType, length: number, msrCount: () => number): string | undefined {
  switch (type.length) {
    case 'exact':
      return length === type.size ? undefined : String(type.size);
    case 'zeroExtend':
      return length > 0 && length <= type.size ? undefined : `1–${type.size}`;
    case 'compat':
      return length > 0 && length <= type.size ? undefined : `1–${type.size} (zero-extended; ${type.compatSize} is the pre-3.4 layout)`;
    case 'xsave':
      return length >= type.size ? undefined : `≥ ${type.size}`;
    case 'msr': {
      if (length < type.size) return `≥ ${type.size}`;
      const count = msrCount();
      return length === type.size + 16 * count ? undefined : `8 + 16×${count} = ${type.size + 16 * count}`;
    }
  }
}
