/**
 * The reader's checks of one record body against what the stream has said so
 * far (guest width, P2M range, postcopy set, …): one entry per record name,
 * looked up by the layer automaton (decoder.ts) once it has placed the record.
 * The automaton decides order and layers; these checks decide whether a body
 * is valid here. Checks that need only the body itself come from
 * src/codec/body-checks.ts, shared with the writer's guards.
 */
import { RECORD_HEADER_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { Dialect } from '../format/record-types.js';
import type { RuleKey } from '../format/rules.js';
import { formatError, type ErrorLocation } from '../codec/errors.js';
import type { RecordBody } from '../codec/records.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';
import { hvmContextProblems } from '../codec/bodies/hvm-context-framing.js';
import { p2mFramesProblems, pageDataProblems, pvInfoProblems, reservedFieldProblems, vcpuProblems, type BodyProblem } from '../codec/body-checks.js';
import type { PfnSet } from './pfn-set.js';
import type { SummaryBuilder } from './summary.js';
import type { VerifyResendCheck } from './verify-resend.js';

export interface ProblemExtra {
  expected?: string | number | undefined;
  actual?: string | number | undefined;
  detail?: string | undefined;
}

/** Reports a problem: throws when its rule is fatal in the reader's mode, else records it. */
export type ReportProblem = (key: RuleKey, at: ErrorLocation, extra?: ProblemExtra) => void;

/** What the libxc stream has said so far, for rules that depend on earlier records. */
export interface LibxcFacts {
  readonly dialect: Dialect;
  imageVersion: number;
  domainType: number;
  staticDataEnd: boolean;
  seenPageData: boolean;
  guestWidth: number | undefined;
  p2mEndPfn: number | undefined;
  vcpu0Basic: boolean;
  pcBegun: boolean;
  pcPfnsBegun: boolean;
  readonly pcSet: PfnSet;
  readonly pcReceived: PfnSet;
}

export interface CheckContext {
  readonly facts: LibxcFacts;
  readonly report: ReportProblem;
  readonly summary: SummaryBuilder;
  /**
   * VERIFY (xl migrate --debug): the re-sent pages are compared with the copies they verify, only
   * when page contents are read: with 'skip' no rule looks at them, whole records or not.
   */
  readonly resend: VerifyResendCheck | undefined;
}

type BodyCheck = (body: RecordBody, at: ErrorLocation, ctx: CheckContext) => void;

/** Errors about a record as a whole (its type, its place) point at its header, not its body. */
export function recordStart(at: ErrorLocation): ErrorLocation {
  return { ...at, offset: at.offset - RECORD_HEADER_SIZE };
}

/** Report every problem a shared body check found, at its offset inside the body. */
export function reportAll(problems: readonly BodyProblem[], at: ErrorLocation, report: ReportProblem): void {
  for (const p of problems) report(p.rule, { ...at, offset: at.offset + p.offset }, p);
}

/** VERIFY: a re-sent page must equal the copy it verifies (verify-resend.ts). */
function checkResend(body: PageDataBody, at: ErrorLocation, { resend, report }: CheckContext): void {
  if (resend === undefined) return;
  for (const m of resend.pages(body, at.offset)) {
    const pfn = `pfn 0x${m.pfn.toString(16)}`;
    const first =
      m.firstOffset === undefined ? 'a zero page (it was not sent before VERIFY)' : `its copy at offset ${m.firstOffset} (0x${m.firstOffset.toString(16)})`;
    report('VERIFY_MISMATCH', { ...at, offset: m.offset }, { detail: `the re-sent page of ${pfn} at offset ${m.offset} differs from ${first}` });
  }
}

function needPvInfo(at: ErrorLocation, facts: LibxcFacts): number {
  if (facts.guestWidth === undefined) throw formatError('PV_INFO_MISSING', recordStart(at));
  return facts.guestWidth;
}

/** v3: PAGE_DATA / P2M need STATIC_DATA_END first; v2: it is inferred at the first one. */
function inferStaticDataEnd(at: ErrorLocation, facts: LibxcFacts): void {
  if (facts.staticDataEnd) return;
  if (facts.imageVersion >= 3 && facts.dialect === 'upstream') throw formatError('STATIC_DATA_END_MISSING', recordStart(at));
  facts.staticDataEnd = true;
}

function checkPageData(body: PageDataBody, at: ErrorLocation, { facts, report }: CheckContext): void {
  inferStaticDataEnd(at, facts);
  facts.seenPageData = true;
  if (facts.pcBegun) throw formatError('PC_ORDER', recordStart(at), { detail: 'PAGE_DATA after POSTCOPY_BEGIN' });
  reportAll(pageDataProblems(body, facts.p2mEndPfn), at, report);
}

function checkVcpu(name: string): BodyCheck {
  return (body, at, { facts, report }) => {
    if (body.kind !== 'vcpu') return;
    const width = needPvInfo(at, facts);
    reportAll(vcpuProblems(name, body, width), at, report);
    if (name === 'X86_PV_VCPU_BASIC' && body.vcpuId === 0 && body.context.length > 0) facts.vcpu0Basic = true;
  };
}

/** Per record name: the libxc layer's body checks (records absent here have none beyond their codec's). */
export const LIBXC_BODY_CHECKS: Readonly<Record<string, BodyCheck>> = {
  X86_PV_INFO(body, at, { facts, report, summary }) {
    if (body.kind !== 'pv-info') return;
    if (facts.guestWidth !== undefined) throw formatError('PV_INFO_DUPLICATE', recordStart(at));
    reportAll(pvInfoProblems(body), at, report);
    facts.guestWidth = body.guestWidth;
    summary.guestWidth = body.guestWidth;
  },
  X86_PV_P2M_FRAMES(body, at, { facts, report }) {
    if (body.kind !== 'p2m-frames') return;
    const width = needPvInfo(at, facts);
    inferStaticDataEnd(at, facts);
    reportAll(p2mFramesProblems(body, width), at, report);
    facts.p2mEndPfn = body.endPfn;
  },
  PAGE_DATA(body, at, ctx) {
    if (body.kind !== 'page-data') return;
    checkPageData(body, at, ctx);
    checkResend(body, at, ctx);
  },
  VERIFY(_body, _at, { resend }) {
    resend?.begin();
  },
  SHARED_INFO(_body, at, { facts }) {
    needPvInfo(at, facts);
  },
  X86_TSC_INFO(body, at, { report }) {
    reportAll(reservedFieldProblems(body), at, report);
  },
  HVM_CONTEXT(body, at, { report }) {
    if (body.kind === 'opaque') reportAll(hvmContextProblems(body.data), at, report);
  },
  HVM_PARAMS(body, at, { report }) {
    reportAll(reservedFieldProblems(body), at, report);
  },
  X86_PV_VCPU_BASIC: checkVcpu('X86_PV_VCPU_BASIC'),
  X86_PV_VCPU_EXTENDED: checkVcpu('X86_PV_VCPU_EXTENDED'),
  X86_PV_VCPU_XSAVE: checkVcpu('X86_PV_VCPU_XSAVE'),
  X86_PV_VCPU_MSRS: checkVcpu('X86_PV_VCPU_MSRS'),
  // Postcopy RFC (the dialect's table is the only one with these names).
  POSTCOPY_BEGIN(_body, at, { facts }) {
    if (facts.pcBegun) throw formatError('PC_BEGIN_DUPLICATE', recordStart(at));
    facts.pcBegun = true;
  },
  POSTCOPY_PFNS_BEGIN(_body, at, { facts }) {
    if (!facts.pcBegun) throw formatError('PC_ORDER', recordStart(at), { detail: 'Received POSTCOPY_PFNS_BEGIN before POSTCOPY_BEGIN' });
    facts.pcPfnsBegun = true;
  },
  POSTCOPY_PFNS(body, at, { facts }) {
    if (!facts.pcPfnsBegun) throw formatError('PC_ORDER', recordStart(at), { detail: 'Received POSTCOPY_PFNS record before POSTCOPY_PFNS_BEGIN' });
    if (body.kind !== 'pfn-list') return;
    body.pfns.forEach((pfn, i) => {
      if (!facts.pcSet.add(pfn)) throw formatError('PC_PFNS_DUPLICATE', { ...at, offset: at.offset + 8 + 8 * i }, { actual: `pfn 0x${pfn.toString(16)}` });
    });
  },
  POSTCOPY_TRANSITION(_body, at, { facts }) {
    if (!facts.pcPfnsBegun) throw formatError('PC_ORDER', recordStart(at), { detail: 'Received POSTCOPY_TRANSITION record before POSTCOPY_PFNS_BEGIN' });
  },
  POSTCOPY_PAGE_DATA(_body, at) {
    throw formatError('PC_ORDER', recordStart(at), { detail: 'POSTCOPY_PAGE_DATA before POSTCOPY_TRANSITION' });
  },
};

/** After the postcopy transition: every page must carry data, be in the postcopy set and come once. */
export function checkPostcopyPages(body: PageDataBody, at: ErrorLocation, facts: LibxcFacts): void {
  const { pfns, types } = body;
  for (let i = 0; i < pfns.length; i++) {
    const entryAt = { ...at, offset: at.offset + 8 + 8 * i };
    if (!PAGE_TYPE_HAS_DATA[types[i]])
      throw formatError('PC_PAGE_TYPE', entryAt, { actual: `type 0x${types[i].toString(16)} for pfn 0x${pfns[i].toString(16)}` });
    if (!facts.pcSet.has(pfns[i])) throw formatError('PC_PAGE_NOT_LISTED', entryAt, { actual: `pfn 0x${pfns[i].toString(16)}` });
    if (!facts.pcReceived.add(pfns[i])) throw formatError('PC_PAGE_DUPLICATE', entryAt, { actual: `pfn 0x${pfns[i].toString(16)}` });
  }
}
