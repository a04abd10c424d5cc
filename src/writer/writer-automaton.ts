/**
 * The streaming writer's automaton (spec/STATE-MACHINES.md §6), as plain synchronous
 * data and logic with no I/O: which write is legal in which state, and where
 * each one leads. StreamWriter consults it before every write; tests enumerate
 * WRITER_STATES × WRITER_OPS against it.
 */
import type { Dialect } from '../format/record-types.js';
import { WriterStateError } from './writer-errors.js';

export type WriterMode = 'plain' | 'remus' | 'colo' | 'postcopy-rfc';
export type GuestKind = 'pv' | 'hvm' | 'pvh';

export const WRITER_MODES: readonly WriterMode[] = ['plain', 'remus', 'colo', 'postcopy-rfc'];
export const GUEST_KINDS: readonly GuestKind[] = ['pv', 'hvm', 'pvh'];

export interface WriterConfig {
  mode: WriterMode;
  guest: GuestKind;
  /**
   * The stream is converted from a legacy (pre-Xen-4.6) image (src/legacy/): its markers are
   * allowed — xen_major 0, the libxl LEGACY option, emulator id 0 (unknown).
   */
  legacyConverted?: boolean;
}

/** §6 state names (S0 … S14), plus DONE and ABORTED (aborted or failed: nothing more can be written). */
export const WRITER_STATES = [
  'START', // S0: optional xl header
  'LIBXL_HDR', // S1: libxl header
  'LIBXL_PRE', // S2: LIBXC_CONTEXT
  'LIBXC_HDRS', // S3: libxc image + domain header
  'STATIC', // S4: X86_PV_INFO, CPUID/MSR policy, STATIC_DATA_END
  'STREAM_START', // S5: X86_PV_P2M_FRAMES (pv)
  'MEMORY', // S6: PAGE_DATA*, VERIFY
  'EOC', // S7: end-of-checkpoint records
  'LIBXL_TAIL', // S8: emulator records, libxl END
  'CKPT', // S9: emulator records, CHECKPOINT_END
  'CKPT_STATE', // S9b: CHECKPOINT_STATE(NEW) (colo)
  'PC_CPU', // S10: TSC, HVM_CONTEXT, HVM_PARAMS (rfc)
  'PC_PFNS', // S11: POSTCOPY_PFNS* (rfc)
  'PC_LIBXL', // S12: emulator records, POSTCOPY_TRANSITION_END (rfc)
  'PC_PAGES', // S13: POSTCOPY_PAGE_DATA*, libxc END (rfc)
  'PC_TAIL', // S14: libxl END (rfc)
  'DONE',
  'ABORTED',
] as const;
export type WriterState = (typeof WRITER_STATES)[number];

/** One name per kind of write: a header, a record, or closing the stream. */
export const WRITER_OPS = [
  'XL_HEADER',
  'LIBXL_HEADER',
  'LIBXC_CONTEXT',
  'LIBXC_HEADERS',
  'X86_PV_INFO',
  'X86_CPUID_POLICY',
  'X86_MSR_POLICY',
  'STATIC_DATA_END',
  'X86_PV_P2M_FRAMES',
  'PAGE_DATA',
  'VERIFY',
  'X86_TSC_INFO',
  'SHARED_INFO',
  'X86_PV_VCPU_BASIC',
  'X86_PV_VCPU_EXTENDED',
  'X86_PV_VCPU_XSAVE',
  'X86_PV_VCPU_MSRS',
  'HVM_CONTEXT',
  'HVM_PARAMS',
  'LIBXC_END',
  'CHECKPOINT',
  'EMULATOR_XENSTORE_DATA',
  'EMULATOR_CONTEXT',
  'CHECKPOINT_END',
  'CHECKPOINT_STATE',
  'POSTCOPY_BEGIN',
  'POSTCOPY_PFNS_BEGIN',
  'POSTCOPY_PFNS',
  'POSTCOPY_TRANSITION',
  'POSTCOPY_TRANSITION_END',
  'POSTCOPY_PAGE_DATA',
  'LIBXL_END',
  'CLOSE',
] as const;
export type WriterOp = (typeof WRITER_OPS)[number];

const VCPU_STAGE: Partial<Record<WriterOp, number>> = {
  X86_PV_VCPU_BASIC: 1,
  X86_PV_VCPU_EXTENDED: 2,
  X86_PV_VCPU_XSAVE: 3,
  X86_PV_VCPU_MSRS: 4,
};

/** Arguments some ops need for their ordering checks. */
export interface OpArgs {
  vcpuId?: number;
  pfns?: readonly number[];
  types?: readonly number[];
}

/** Per-state progress that decides which of a state's writes are still allowed. */
interface Progress {
  pvInfo: boolean;
  cpuid: boolean;
  msr: boolean;
  verify: boolean;
  tsc: boolean;
  sharedInfo: boolean;
  hvmContext: boolean;
  hvmParams: boolean;
  /** Last vCPU with a BASIC record in this end-of-checkpoint block (−1: none yet). */
  vcpu: number;
  /** Last record kind written for that vCPU (VCPU_STAGE). */
  vcpuStage: number;
  emuXenstore: boolean;
  emuContext: boolean;
}

function freshProgress(): Progress {
  return {
    pvInfo: false,
    cpuid: false,
    msr: false,
    verify: false,
    tsc: false,
    sharedInfo: false,
    hvmContext: false,
    hvmParams: false,
    vcpu: -1,
    vcpuStage: 0,
    emuXenstore: false,
    emuContext: false,
  };
}

export class WriterAutomaton {
  private current: WriterState = 'START';
  private p: Progress = freshProgress();
  /** Checkpoints completed (CHECKPOINT_END written). */
  private completedCheckpoints = 0;
  /** Records written since the last completed checkpoint (a remus/colo stream may only stop at 0). */
  private sinceCheckpoint = 0;
  private staticDataEnd = false;
  /** [RFC] pfns listed by POSTCOPY_PFNS (duplicates are refused), and those still owed a page. */
  private postcopyListed = new Set<number>();
  private postcopyOutstanding = new Set<number>();

  constructor(readonly config: WriterConfig) {
    if (config.mode === 'postcopy-rfc' && config.guest === 'pv') {
      // spec/FORMAT.md §6.4: only HVM is specified (paging needs HVM_PARAM_PAGING_RING_PFN).
      throw new RangeError('postcopy-rfc streams are HVM-only (hvm or pvh guests): the RFC does not specify PV postcopy');
    }
  }

  get state(): WriterState {
    return this.current;
  }

  get dialect(): Dialect {
    return this.config.mode === 'postcopy-rfc' ? 'postcopy-rfc' : 'upstream';
  }

  get checkpointsCompleted(): number {
    return this.completedCheckpoints;
  }

  /** Whether the guest has a device model (libxl's HVM test: PV and PVH have none). */
  private get hasEmulator(): boolean {
    return this.config.guest === 'hvm';
  }

  private get checkpointed(): boolean {
    return this.config.mode === 'remus' || this.config.mode === 'colo';
  }

  /** The writes legal now, in the order a producer would normally make them. */
  allowed(): WriterOp[] {
    const { mode, guest } = this.config;
    const p = this.p;
    switch (this.current) {
      case 'START':
        return ['XL_HEADER', 'LIBXL_HEADER'];
      case 'LIBXL_HDR':
        return ['LIBXL_HEADER'];
      case 'LIBXL_PRE':
        return ['LIBXC_CONTEXT'];
      case 'LIBXC_HDRS':
        return ['LIBXC_HEADERS'];
      case 'STATIC': {
        if (guest === 'pv' && !p.pvInfo) return ['X86_PV_INFO'];
        const ops: WriterOp[] = [];
        if (!p.cpuid && !p.msr) ops.push('X86_CPUID_POLICY');
        if (!p.msr) ops.push('X86_MSR_POLICY');
        ops.push('STATIC_DATA_END');
        return ops;
      }
      case 'STREAM_START':
        return ['X86_PV_P2M_FRAMES'];
      case 'MEMORY': {
        const ops: WriterOp[] = ['PAGE_DATA'];
        if (mode === 'plain' && !p.verify) ops.push('VERIFY');
        ops.push(mode === 'postcopy-rfc' ? 'POSTCOPY_BEGIN' : 'X86_TSC_INFO');
        if (mode === 'remus' && this.completedCheckpoints > 0 && this.sinceCheckpoint === 0) ops.push('CLOSE');
        return ops;
      }
      case 'EOC': {
        const finish: WriterOp = this.checkpointed ? 'CHECKPOINT' : 'LIBXC_END';
        if (guest === 'pv') {
          if (!p.sharedInfo) return ['SHARED_INFO'];
          if (p.vcpu < 0) return ['X86_PV_VCPU_BASIC'];
          const ops: WriterOp[] = [];
          if (p.vcpuStage < 2) ops.push('X86_PV_VCPU_EXTENDED');
          if (p.vcpuStage < 3) ops.push('X86_PV_VCPU_XSAVE');
          if (p.vcpuStage < 4) ops.push('X86_PV_VCPU_MSRS');
          ops.push('X86_PV_VCPU_BASIC', finish);
          return ops;
        }
        if (!p.hvmContext) return ['HVM_CONTEXT'];
        return p.hvmParams ? [finish] : ['HVM_PARAMS', finish];
      }
      case 'LIBXL_TAIL':
        return this.libxlChain('LIBXL_END');
      case 'CKPT':
        return this.libxlChain('CHECKPOINT_END');
      case 'CKPT_STATE':
        // A COLO stream may stop here: the checkpoint is complete; NEW would start the next one.
        return ['CHECKPOINT_STATE', 'CLOSE'];
      case 'PC_CPU':
        if (!p.tsc) return ['X86_TSC_INFO'];
        if (!p.hvmContext) return ['HVM_CONTEXT'];
        return p.hvmParams ? ['POSTCOPY_PFNS_BEGIN'] : ['HVM_PARAMS', 'POSTCOPY_PFNS_BEGIN'];
      case 'PC_PFNS':
        return ['POSTCOPY_PFNS', 'POSTCOPY_TRANSITION'];
      case 'PC_LIBXL':
        return this.libxlChain('POSTCOPY_TRANSITION_END');
      case 'PC_PAGES':
        // libxc END only once every listed page has been sent (the RFC sender loops until none remain).
        return this.postcopyOutstanding.size > 0 ? ['POSTCOPY_PAGE_DATA'] : ['LIBXC_END'];
      case 'PC_TAIL':
        return ['LIBXL_END'];
      case 'DONE':
      case 'ABORTED':
        return [];
    }
  }

  /** libxl records around a hand-off: [EMULATOR_XENSTORE_DATA], EMULATOR_CONTEXT (hvm only), then `end`. */
  private libxlChain(end: WriterOp): WriterOp[] {
    if (!this.hasEmulator) return [end];
    const p = this.p;
    if (p.emuContext) return [end];
    return p.emuXenstore ? ['EMULATOR_CONTEXT'] : ['EMULATOR_XENSTORE_DATA', 'EMULATOR_CONTEXT'];
  }

  /** Throws WriterStateError unless `op` (with `args`) is legal now. Changes nothing. */
  check(op: WriterOp, args: OpArgs = {}): void {
    const allowed = this.allowed();
    if (!allowed.includes(op)) throw new WriterStateError(this.current, op, allowed, this.whyNot(op));
    const detail = this.argumentProblem(op, args);
    if (detail) throw new WriterStateError(this.current, op, allowed, detail);
  }

  /** A short reason for the common surprises (the allowed list says the rest). */
  private whyNot(op: WriterOp): string | undefined {
    const { mode, guest } = this.config;
    if ((op === 'EMULATOR_CONTEXT' || op === 'EMULATOR_XENSTORE_DATA') && !this.hasEmulator) return `${guest} guests have no device model`;
    if (op === 'CHECKPOINT' && !this.checkpointed) return `CHECKPOINT is only written in remus/colo streams, this one is ${mode}`;
    if ((op === 'LIBXC_END' || op === 'LIBXL_END') && this.checkpointed) return `${mode} streams have no END; close() at a checkpoint boundary`;
    if (op === 'STATIC_DATA_END' && this.staticDataEnd) return 'STATIC_DATA_END was already written';
    if (op === 'STATIC_DATA_END' && mode === 'postcopy-rfc') return 'postcopy-rfc streams are libxc v2 images: no static data records';
    if (op === 'VERIFY' && mode !== 'plain') return 'VERIFY is only written in plain streams';
    if (op === 'VERIFY' && this.p.verify) return 'VERIFY was already written';
    if (op === 'CLOSE' && this.checkpointed) {
      if (mode === 'colo') return 'a COLO stream stops right after a CHECKPOINT_END';
      return this.completedCheckpoints === 0 ? 'no checkpoint completed yet' : 'records were written since the last checkpoint';
    }
    if (op === 'LIBXC_END' && this.current === 'PC_PAGES') return `${this.postcopyOutstanding.size} postcopy pages not sent yet`;
    if (op === 'POSTCOPY_PAGE_DATA' && this.current === 'PC_PAGES') return 'every page listed by POSTCOPY_PFNS has been sent';
    if (this.current === 'ABORTED') return 'the writer was aborted or its output failed';
    return undefined;
  }

  private argumentProblem(op: WriterOp, args: OpArgs): string | undefined {
    const stage = VCPU_STAGE[op];
    if (stage !== undefined) {
      const id = args.vcpuId ?? -1;
      if (!Number.isInteger(id) || id < 0) return `vcpu id ${id} is not a vCPU number`;
      if (stage === 1) {
        if (this.p.vcpu < 0 && id !== 0) return `the first vCPU record must be vCPU 0's BASIC, got vCPU ${id}`;
        if (this.p.vcpu >= 0 && id <= this.p.vcpu) return `vCPUs are written in increasing id order; last was ${this.p.vcpu}, got ${id}`;
      } else if (id !== this.p.vcpu) {
        return `${op} must follow its vCPU's BASIC record; current vCPU is ${this.p.vcpu}, got ${id}`;
      }
    }
    if (op === 'POSTCOPY_PFNS' && args.pfns) {
      const seen = new Set<number>();
      for (const pfn of args.pfns) {
        if (this.postcopyListed.has(pfn) || seen.has(pfn)) return `duplicate postcopy pfn 0x${pfn.toString(16)}`;
        seen.add(pfn);
      }
    }
    if (op === 'POSTCOPY_PAGE_DATA' && args.pfns) {
      const seen = new Set<number>();
      for (const pfn of args.pfns) {
        if (!this.postcopyOutstanding.has(pfn) || seen.has(pfn)) {
          return this.postcopyListed.has(pfn)
            ? `pfn 0x${pfn.toString(16)} was already sent`
            : `pfn 0x${pfn.toString(16)} is not in the postcopy set (no POSTCOPY_PFNS listed it)`;
        }
        seen.add(pfn);
      }
    }
    return undefined;
  }

  /** Advance past `op` (call check() first). */
  // Long (~110 lines) on purpose: one case per writer op, the transition table of
  // spec/STATE-MACHINES.md §6 as one switch (check() holds the guards, this only moves).
  apply(op: WriterOp, args: OpArgs = {}): void {
    const { mode, guest } = this.config;
    const p = this.p;
    this.sinceCheckpoint++;
    switch (op) {
      case 'XL_HEADER':
        this.current = 'LIBXL_HDR';
        return;
      case 'LIBXL_HEADER':
        this.current = 'LIBXL_PRE';
        return;
      case 'LIBXC_CONTEXT':
        this.current = 'LIBXC_HDRS';
        return;
      case 'LIBXC_HEADERS':
        // postcopy-rfc streams are v2 images of HVM guests: no static data, no STREAM_START records.
        this.current = mode === 'postcopy-rfc' ? 'MEMORY' : 'STATIC';
        return;
      case 'X86_PV_INFO':
        p.pvInfo = true;
        return;
      case 'X86_CPUID_POLICY':
        p.cpuid = true;
        return;
      case 'X86_MSR_POLICY':
        p.msr = true;
        return;
      case 'STATIC_DATA_END':
        this.staticDataEnd = true;
        this.current = guest === 'pv' ? 'STREAM_START' : 'MEMORY';
        return;
      case 'X86_PV_P2M_FRAMES':
        this.current = 'MEMORY';
        return;
      case 'PAGE_DATA':
        return;
      case 'VERIFY':
        p.verify = true;
        return;
      case 'X86_TSC_INFO':
        p.tsc = true;
        if (this.current === 'MEMORY') this.current = 'EOC';
        return;
      case 'SHARED_INFO':
        p.sharedInfo = true;
        return;
      case 'X86_PV_VCPU_BASIC':
      case 'X86_PV_VCPU_EXTENDED':
      case 'X86_PV_VCPU_XSAVE':
      case 'X86_PV_VCPU_MSRS':
        p.vcpu = args.vcpuId ?? p.vcpu;
        p.vcpuStage = VCPU_STAGE[op] ?? 0;
        return;
      case 'HVM_CONTEXT':
        p.hvmContext = true;
        return;
      case 'HVM_PARAMS':
        p.hvmParams = true;
        return;
      case 'LIBXC_END':
        this.enter(this.current === 'PC_PAGES' ? 'PC_TAIL' : 'LIBXL_TAIL');
        return;
      case 'CHECKPOINT':
        this.enter('CKPT');
        return;
      case 'EMULATOR_XENSTORE_DATA':
        p.emuXenstore = true;
        return;
      case 'EMULATOR_CONTEXT':
        p.emuContext = true;
        return;
      case 'CHECKPOINT_END':
        this.completedCheckpoints++;
        this.enter(mode === 'colo' ? 'CKPT_STATE' : 'MEMORY');
        this.sinceCheckpoint = 0;
        return;
      case 'CHECKPOINT_STATE':
        this.enter('MEMORY');
        return;
      case 'POSTCOPY_BEGIN':
        this.enter('PC_CPU');
        return;
      case 'POSTCOPY_PFNS_BEGIN':
        this.current = 'PC_PFNS';
        return;
      case 'POSTCOPY_PFNS': {
        const pfns = args.pfns ?? [];
        const types = args.types ?? [];
        for (let i = 0; i < pfns.length; i++) {
          this.postcopyListed.add(pfns[i]);
          // BROKEN, XALLOC and XTAB are counted out of the set (§3.5): no page follows for them.
          if ((types[i] ?? 0) < 0xd) this.postcopyOutstanding.add(pfns[i]);
        }
        return;
      }
      case 'POSTCOPY_TRANSITION':
        this.enter('PC_LIBXL');
        return;
      case 'POSTCOPY_TRANSITION_END':
        this.enter('PC_PAGES');
        return;
      case 'POSTCOPY_PAGE_DATA':
        for (const pfn of args.pfns ?? []) this.postcopyOutstanding.delete(pfn);
        return;
      case 'LIBXL_END':
      case 'CLOSE':
        this.current = 'DONE';
        return;
    }
  }

  /** Number of pfns listed by POSTCOPY_PFNS whose page has not been sent yet. */
  get postcopyPagesOutstanding(): number {
    return this.postcopyOutstanding.size;
  }

  /** The writer stops for good (abort, or `force`: its output failed even after DONE). */
  abort(force = false): void {
    if (force || this.current !== 'DONE') this.current = 'ABORTED';
  }

  private enter(state: WriterState): void {
    this.current = state;
    this.p = freshProgress();
  }
}
