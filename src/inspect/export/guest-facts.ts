/**
 * What a stream says about its guest that an analyst of a memory export needs
 * to build a virtual-address view: Xen version, guest type, the PV guest's
 * width and P2M size, and per vCPU its general registers and CR3. Taken from
 * the physical-address view's scan (the state records of the exported
 * checkpoint).
 */
import type { ScanResult } from '../../rewrite/scan.js';
import type { X86UserRegs } from './elf-notes.js';
import { vcpuStates } from './vcpu-registers.js';

export interface VcpuFacts {
  id: number;
  /** General registers in user_regs_struct terms (absent when the stream holds no context for this vCPU). */
  registers?: X86UserRegs | undefined;
  /** CR3 as the stream holds it (HVM: the register; PV: xen_pfn_to_cr3 of the guest pfn libxc wrote). */
  cr3?: bigint | undefined;
  /** Guest-physical address of the top-level page table CR3 names (a p_paddr of the core). */
  pageTableRoot?: bigint | undefined;
}

export interface GuestFacts {
  /** "4.17": the domain header's Xen version. */
  xenVersion: string;
  guestType: 'pv' | 'hvm' | 'pvh';
  /** PV: guest width in bytes (X86_PV_INFO). */
  guestWidth?: number | undefined;
  /** PV: the P2M's pfn range (X86_PV_P2M_FRAMES) and its size in entries (end + 1). */
  p2m?: { startPfn: number; endPfn: number; size: number } | undefined;
  /** Checkpointed stream: the checkpoint the export holds. */
  checkpoint?: number | undefined;
  vcpus: VcpuFacts[];
}

export function guestFacts(scan: ScanResult): GuestFacts {
  const facts: GuestFacts = {
    xenVersion: `${scan.domainHeader.xenMajor}.${scan.domainHeader.xenMinor}`,
    guestType: scan.guest,
    vcpus: [],
  };
  for (const r of scan.staticRecords) {
    if (r.body.kind === 'pv-info') facts.guestWidth = r.body.guestWidth;
    else if (r.body.kind === 'p2m-frames') facts.p2m = { startPfn: r.body.startPfn, endPfn: r.body.endPfn, size: r.body.endPfn + 1 };
  }
  facts.vcpus = vcpuStates(scan.stateRecords, facts.guestWidth);
  if (scan.stateCheckpoint !== undefined) facts.checkpoint = scan.stateCheckpoint;
  return facts;
}
