/**
 * One decoded record → the StreamWriter call that writes it. Every record of a
 * rewrite goes through here (except PAGE_DATA, which the batcher handles), so
 * the writer's automaton and guards check the output's order and contents.
 */
import type { StreamRecord } from '../codec/records.js';
import { clearReserved } from '../codec/layout-codec.js';
import { copyBytes } from '../codec/bytes.js';
import { X86_TSC_INFO } from '../format/layouts/x86-tsc-info.js';
import { InspectArgumentError } from '../inspect/argument-error.js';
import type { StreamWriter } from '../writer/stream-writer.js';

/** Records a rewrite never carries over (the note says why). */
export const DROPPED_RECORDS: Readonly<Record<string, string>> = {
  'libxc:VERIFY': 'VERIFY (a debug re-send of every page; the flattened pages already hold their last contents)',
};

/** A copy of a record whose byte views no longer pin the reader's buffers (state records kept between passes). */
export function detachRecord(record: StreamRecord): StreamRecord {
  const body: Record<string, unknown> = { ...record.body };
  for (const [k, v] of Object.entries(body)) if (v instanceof Uint8Array) body[k] = copyBytes(v);
  return { ...record, body: body as unknown as StreamRecord['body'], ...(record.padding ? { padding: copyBytes(record.padding) } : {}) };
}

function unsupported(record: StreamRecord): never {
  throw new InspectArgumentError(
    `rewrite cannot carry ${record.layer} record ${record.name} (type 0x${record.type.toString(16)}) through the writer: it writes plain, Remus and COLO streams of the upstream format`,
  );
}

/**
 * Write `record` (not PAGE_DATA, not LIBXC_CONTEXT, not libxl END: the caller
 * sequences those). Throws the writer's own error when the order is illegal.
 */
export async function writeRecord(writer: StreamWriter, record: StreamRecord): Promise<void> {
  const b = record.body;
  const key = `${record.layer}:${record.name}`;
  switch (key) {
    case 'libxc:X86_PV_INFO':
      if (b.kind !== 'pv-info') break;
      return writer.writePvInfo(b.guestWidth, b.ptLevels);
    case 'libxc:X86_CPUID_POLICY':
      if (b.kind !== 'cpuid-policy') break;
      return writer.writeCpuidPolicy(b.leaves);
    case 'libxc:X86_MSR_POLICY':
      if (b.kind !== 'msr-policy') break;
      return writer.writeMsrPolicy(b.entries);
    case 'libxc:STATIC_DATA_END':
      return writer.writeStaticDataEnd();
    case 'libxc:X86_PV_P2M_FRAMES':
      if (b.kind !== 'p2m-frames') break;
      return writer.writeP2mFrames({ startPfn: b.startPfn, endPfn: b.endPfn, frames: b.frames });
    case 'libxc:VERIFY':
      return writer.writeVerify();
    case 'libxc:X86_TSC_INFO':
      if (b.kind !== 'tsc-info') break;
      return writer.writeTscInfo(clearReserved(X86_TSC_INFO, b));
    case 'libxc:SHARED_INFO':
      if (b.kind !== 'opaque') break;
      return writer.writeSharedInfo(b.data);
    case 'libxc:X86_PV_VCPU_BASIC':
      if (b.kind !== 'vcpu') break;
      return writer.writeVcpuBasic(b.vcpuId, b.context);
    case 'libxc:X86_PV_VCPU_EXTENDED':
      if (b.kind !== 'vcpu') break;
      return writer.writeVcpuExtended(b.vcpuId, b.context);
    case 'libxc:X86_PV_VCPU_XSAVE':
      if (b.kind !== 'vcpu') break;
      return writer.writeVcpuXsave(b.vcpuId, b.context);
    case 'libxc:X86_PV_VCPU_MSRS':
      if (b.kind !== 'vcpu') break;
      return writer.writeVcpuMsrs(b.vcpuId, b.context);
    case 'libxc:HVM_CONTEXT':
      if (b.kind !== 'opaque') break;
      return writer.writeHvmContext(b.data);
    case 'libxc:HVM_PARAMS':
      if (b.kind !== 'hvm-params') break;
      return writer.writeHvmParams(b.params);
    case 'libxc:END':
      return writer.endLibxc();
    case 'libxc:CHECKPOINT':
      return writer.checkpoint();
    case 'libxl:EMULATOR_XENSTORE_DATA':
      if (b.kind !== 'emulator-xenstore') break;
      return writer.writeEmulatorXenstoreData(b.pairs, { emulatorId: b.emulatorId, index: b.index });
    case 'libxl:EMULATOR_CONTEXT':
      if (b.kind !== 'emulator-context') break;
      return writer.writeEmulatorContext(b.blob, { emulatorId: b.emulatorId, index: b.index });
    case 'libxl:CHECKPOINT_END':
      return writer.endCheckpoint();
    case 'libxl:CHECKPOINT_STATE':
      if (b.kind !== 'checkpoint-state') break;
      return writer.writeCheckpointState(b.controlId);
  }
  unsupported(record);
}

/** The end-of-checkpoint state records and libxl's emulator records (what --flatten keeps the last copies of). */
export function isStateRecord(record: StreamRecord): boolean {
  return STATE_RECORDS.has(`${record.layer}:${record.name}`);
}

const STATE_RECORDS = new Set([
  'libxc:X86_TSC_INFO',
  'libxc:SHARED_INFO',
  'libxc:X86_PV_VCPU_BASIC',
  'libxc:X86_PV_VCPU_EXTENDED',
  'libxc:X86_PV_VCPU_XSAVE',
  'libxc:X86_PV_VCPU_MSRS',
  'libxc:HVM_CONTEXT',
  'libxc:HVM_PARAMS',
  'libxl:EMULATOR_XENSTORE_DATA',
  'libxl:EMULATOR_CONTEXT',
]);

/** Static data (written once at the start of the libxc stream). */
export function isStaticRecord(record: StreamRecord): boolean {
  return STATIC_RECORDS.has(`${record.layer}:${record.name}`);
}

const STATIC_RECORDS = new Set(['libxc:X86_PV_INFO', 'libxc:X86_CPUID_POLICY', 'libxc:X86_MSR_POLICY', 'libxc:STATIC_DATA_END', 'libxc:X86_PV_P2M_FRAMES']);
