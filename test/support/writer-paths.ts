/**
 * Legal paths through the writer's automaton for every mode × guest, as lists
 * of steps, and a probe call for every op (used to try each op in each state).
 */
import { PAGE_SIZE } from '../../src/format/constants.js';
import { PAGE_TYPE } from '../../src/format/page-types.js';
import type { StreamWriter } from '../../src/writer/stream-writer.js';
import type { GuestKind, WriterMode, WriterOp } from '../../src/writer/writer-automaton.js';
import {
  synthCpuidPolicy,
  synthEmulatorContext,
  synthHvmContext,
  synthMsrPolicy,
  synthP2mFrames,
  synthSharedInfo,
  synthVcpuBasic,
  synthVcpuExtended,
} from '../../src/writer/synth-records.js';

export interface Step {
  op: WriterOp;
  /** The record the stream gets (`layer:NAME`), or undefined for headers and CLOSE. */
  record?: string | undefined;
  run: (w: StreamWriter) => Promise<void>;
}

const PAGES = 64;

/** n data pages, page i filled with byte (i + 1). */
export function pagesFor(n: number): Uint8Array {
  const out = new Uint8Array(n * PAGE_SIZE);
  for (let i = 0; i < n; i++) out.fill((i + 1) & 0xff, i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  return out;
}

const xc = (name: string) => `libxc:${name}`;
const xl = (name: string) => `libxl:${name}`;

/** Every op called with arguments that are valid whenever the op itself is legal. */
export const PROBES: Record<WriterOp, (w: StreamWriter) => Promise<void>> = {
  XL_HEADER: (w) => w.writeXlHeader({ config: { c_info: { name: 'probe' } } }),
  LIBXL_HEADER: (w) => w.writeLibxlHeader(),
  LIBXC_CONTEXT: (w) => w.writeLibxcContext(),
  LIBXC_HEADERS: (w) => w.writeLibxcHeaders(),
  X86_PV_INFO: (w) => w.writePvInfo(8, 4),
  X86_CPUID_POLICY: (w) => w.writeCpuidPolicy(synthCpuidPolicy()),
  X86_MSR_POLICY: (w) => w.writeMsrPolicy(synthMsrPolicy()),
  STATIC_DATA_END: (w) => w.writeStaticDataEnd(),
  X86_PV_P2M_FRAMES: (w) => w.writeP2mFrames(synthP2mFrames(PAGES)),
  PAGE_DATA: (w) => w.writePages([1, 2, 3], [PAGE_TYPE.NOTAB, PAGE_TYPE.XTAB, PAGE_TYPE.L1TAB], pagesFor(2)),
  VERIFY: (w) => w.writeVerify(),
  X86_TSC_INFO: (w) => w.writeTscInfo({ khz: 2_000_000 }),
  SHARED_INFO: (w) => w.writeSharedInfo(synthSharedInfo(1)),
  X86_PV_VCPU_BASIC: (w) => w.writeVcpuBasic(0, synthVcpuBasic(1, 0)),
  X86_PV_VCPU_EXTENDED: (w) => w.writeVcpuExtended(0, synthVcpuExtended(1, 0)),
  X86_PV_VCPU_XSAVE: (w) => w.writeVcpuXsave(0, new Uint8Array(64).fill(1)),
  X86_PV_VCPU_MSRS: (w) => w.writeVcpuMsrs(0, new Uint8Array(32).fill(2)),
  HVM_CONTEXT: (w) => w.writeHvmContext(synthHvmContext(2_000_000)),
  HVM_PARAMS: (w) => w.writeHvmParams([{ index: 1, value: 0xfeffc }]),
  LIBXC_END: (w) => w.endLibxc(),
  CHECKPOINT: (w) => w.checkpoint(),
  EMULATOR_XENSTORE_DATA: (w) => w.writeEmulatorXenstoreData([['physmap/f0000000/name', 'vga.vram']]),
  EMULATOR_CONTEXT: (w) => w.writeEmulatorContext(synthEmulatorContext(1)),
  CHECKPOINT_END: (w) => w.endCheckpoint(),
  CHECKPOINT_STATE: (w) => w.writeCheckpointState(0),
  POSTCOPY_BEGIN: (w) => w.postcopyBegin(),
  POSTCOPY_PFNS_BEGIN: (w) => w.postcopyPfnsBegin(),
  POSTCOPY_PFNS: (w) => w.writePostcopyPfns([10, 11], [PAGE_TYPE.NOTAB, PAGE_TYPE.NOTAB]),
  POSTCOPY_TRANSITION: (w) => w.postcopyTransition(),
  POSTCOPY_TRANSITION_END: (w) => w.endPostcopyTransition(),
  POSTCOPY_PAGE_DATA: (w) => w.writePostcopyPages([10], [PAGE_TYPE.NOTAB], pagesFor(1)),
  LIBXL_END: (w) => w.end(),
  CLOSE: (w) => w.close(),
};

const step = (op: WriterOp, record?: string, run: (w: StreamWriter) => Promise<void> = PROBES[op]): Step => ({ op, record, run });

/**
 * A legal path for (mode, guest). `full` adds every optional write (xl header,
 * VERIFY, several vCPUs with all four record kinds, xenstore data, a second
 * checkpoint); otherwise only what is mandatory.
 */
export function legalPath(mode: WriterMode, guest: GuestKind, full: boolean): Step[] {
  const s: Step[] = [];
  if (full) s.push(step('XL_HEADER'));
  s.push(step('LIBXL_HEADER'), step('LIBXC_CONTEXT', xl('LIBXC_CONTEXT')), step('LIBXC_HEADERS'));
  if (mode !== 'postcopy-rfc') {
    if (guest === 'pv') s.push(step('X86_PV_INFO', xc('X86_PV_INFO')));
    if (full) s.push(step('X86_CPUID_POLICY', xc('X86_CPUID_POLICY')), step('X86_MSR_POLICY', xc('X86_MSR_POLICY')));
    s.push(step('STATIC_DATA_END', xc('STATIC_DATA_END')));
    if (guest === 'pv') s.push(step('X86_PV_P2M_FRAMES', xc('X86_PV_P2M_FRAMES')));
  }
  const memory = (round: number) => {
    const pass = (w: StreamWriter) => w.writePages([round, 40 + round], [PAGE_TYPE.NOTAB, PAGE_TYPE.L2TAB_PINNED], pagesFor(2));
    s.push(step('PAGE_DATA', xc('PAGE_DATA'), pass));
    // A debug re-send repeats the pages it verifies (the reader compares them: LIBXC-VERIFY-MISMATCH).
    if (full && mode === 'plain') s.push(step('VERIFY', xc('VERIFY')), step('PAGE_DATA', xc('PAGE_DATA'), pass));
  };
  const eoc = (postcopy = false) => {
    if (!postcopy) s.push(step('X86_TSC_INFO', xc('X86_TSC_INFO')));
    if (guest === 'pv') {
      s.push(step('SHARED_INFO', xc('SHARED_INFO')));
      const vcpus = full ? 3 : 1;
      for (let v = 0; v < vcpus; v++) {
        s.push(step('X86_PV_VCPU_BASIC', xc('X86_PV_VCPU_BASIC'), (w) => w.writeVcpuBasic(v, synthVcpuBasic(1, v))));
        if (full && v !== 1) {
          s.push(step('X86_PV_VCPU_EXTENDED', xc('X86_PV_VCPU_EXTENDED'), (w) => w.writeVcpuExtended(v, synthVcpuExtended(1, v))));
          s.push(step('X86_PV_VCPU_XSAVE', xc('X86_PV_VCPU_XSAVE'), (w) => w.writeVcpuXsave(v, new Uint8Array(576).fill(v + 1))));
          s.push(step('X86_PV_VCPU_MSRS', xc('X86_PV_VCPU_MSRS'), (w) => w.writeVcpuMsrs(v, new Uint8Array(48).fill(v + 2))));
        }
      }
    } else {
      s.push(step('HVM_CONTEXT', xc('HVM_CONTEXT')));
      if (full) s.push(step('HVM_PARAMS', xc('HVM_PARAMS')));
    }
  };
  const emulator = () => {
    if (guest !== 'hvm') return;
    if (full) s.push(step('EMULATOR_XENSTORE_DATA', xl('EMULATOR_XENSTORE_DATA')));
    s.push(step('EMULATOR_CONTEXT', xl('EMULATOR_CONTEXT')));
  };
  switch (mode) {
    case 'plain':
      memory(0);
      eoc();
      s.push(step('LIBXC_END', xc('END')));
      emulator();
      s.push(step('LIBXL_END', xl('END')));
      break;
    case 'remus':
    case 'colo': {
      const checkpoints = full ? 2 : 1;
      for (let c = 0; c < checkpoints; c++) {
        memory(c);
        eoc();
        s.push(step('CHECKPOINT', xc('CHECKPOINT')));
        emulator();
        s.push(step('CHECKPOINT_END', xl('CHECKPOINT_END')));
        if (mode === 'colo' && c < checkpoints - 1) s.push(step('CHECKPOINT_STATE', xl('CHECKPOINT_STATE')));
      }
      s.push(step('CLOSE'));
      break;
    }
    case 'postcopy-rfc':
      memory(0);
      s.push(step('POSTCOPY_BEGIN', xc('POSTCOPY_BEGIN')), step('X86_TSC_INFO', xc('X86_TSC_INFO')));
      eoc(true);
      s.push(step('POSTCOPY_PFNS_BEGIN', xc('POSTCOPY_PFNS_BEGIN')));
      s.push(step('POSTCOPY_PFNS', xc('POSTCOPY_PFNS'), (w) => w.writePostcopyPfns([10, 11, 12], [PAGE_TYPE.NOTAB, PAGE_TYPE.NOTAB, PAGE_TYPE.XTAB])));
      if (full) s.push(step('POSTCOPY_PFNS', xc('POSTCOPY_PFNS'), (w) => w.writePostcopyPfns([20], [PAGE_TYPE.NOTAB])));
      s.push(step('POSTCOPY_TRANSITION', xc('POSTCOPY_TRANSITION')));
      emulator();
      s.push(step('POSTCOPY_TRANSITION_END', xl('POSTCOPY_TRANSITION_END')));
      s.push(step('POSTCOPY_PAGE_DATA', xc('POSTCOPY_PAGE_DATA'), (w) => w.writePostcopyPages([11, 10], [PAGE_TYPE.NOTAB, PAGE_TYPE.NOTAB], pagesFor(2))));
      if (full)
        s.push(
          step('POSTCOPY_PAGE_DATA', xc('POSTCOPY_PAGE_DATA'), (w) =>
            w.writePostcopyPages([20], [PAGE_TYPE.NOTAB], [pagesFor(1).subarray(0, 16), pagesFor(1).subarray(16)]),
          ),
        );
      s.push(step('LIBXC_END', xc('END')), step('LIBXL_END', xl('END')));
      break;
  }
  return s;
}
