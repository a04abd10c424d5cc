/**
 * The vCPUs of the exported checkpoint, from its state records.
 * (Registers come from the decoded vCPU contexts; wired once their layout tables are on main.)
 */
import type { StreamRecord } from '../../codec/records.js';
import type { VcpuFacts } from './guest-facts.js';

export function vcpuStates(stateRecords: readonly StreamRecord[], _pv: boolean): VcpuFacts[] {
  const byId = new Map<number, VcpuFacts>();
  for (const r of stateRecords) {
    if (r.name === 'X86_PV_VCPU_BASIC' && r.body.kind === 'vcpu') byId.set(r.body.vcpuId, { id: r.body.vcpuId });
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}
