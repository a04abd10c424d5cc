/**
 * The notes of an ELF core export: one NT_PRSTATUS per vCPU (its general
 * registers, so gdb shows each vCPU as a thread) and one XENMIG note holding
 * what the stream says about the guest, as JSON text.
 */
import { layoutCodec } from '../../codec/layout-codec.js';
import type { LayoutValue } from '../../format/layout.js';
import { ELF64_NHDR, NT_PRSTATUS, X86_64_ELF_PRSTATUS, type X86_64_USER_REGS } from '../../format/layouts/elf-core.js';
import type { GuestFacts } from './guest-facts.js';

/** x86-64 general registers, named and ordered as user_regs_struct (what gdb reads from NT_PRSTATUS). */
export type X86UserRegs = LayoutValue<typeof X86_64_USER_REGS>;

/** Name of the project's note; its type ("XENM", clear of every NT_* number a core reader knows) holds the guest facts as JSON. */
export const XENMIG_NOTE_NAME = 'XENMIG';
export const XENMIG_NOTE_GUEST = 0x58454e4d;

const nhdr = layoutCodec(ELF64_NHDR);
const prstatus = layoutCodec(X86_64_ELF_PRSTATUS);

const pad4 = (n: number) => (n + 3) & ~3;

/** One note: header, NUL-terminated name and descriptor, each padded to 4 bytes. */
export function encodeNote(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const out = new Uint8Array(nhdr.size + pad4(nameBytes.length) + pad4(desc.length));
  nhdr.encodeInto({ n_namesz: nameBytes.length, n_descsz: desc.length, n_type: type }, out, 0);
  out.set(nameBytes, nhdr.size);
  out.set(desc, nhdr.size + pad4(nameBytes.length));
  return out;
}

const zeroTime = () => ({ tv_sec: 0n, tv_usec: 0n });

/**
 * NT_PRSTATUS of one vCPU. pr_pid is the vCPU id + 1: gdb names threads by
 * it ("LWP 1" is vCPU 0), and a pid of 0 would mean "no thread".
 */
export function prstatusNote(vcpuId: number, registers: X86UserRegs): Uint8Array {
  const desc = prstatus.encode({
    si_signo: 0,
    si_code: 0,
    si_errno: 0,
    pr_cursig: 0,
    pad0: new Uint8Array(2),
    pr_sigpend: 0n,
    pr_sighold: 0n,
    pr_pid: vcpuId + 1,
    pr_ppid: 0,
    pr_pgrp: 0,
    pr_sid: 0,
    pr_utime: zeroTime(),
    pr_stime: zeroTime(),
    pr_cutime: zeroTime(),
    pr_cstime: zeroTime(),
    pr_reg: registers,
    pr_fpvalid: 0,
    pad1: new Uint8Array(4),
  });
  return encodeNote('CORE', NT_PRSTATUS, desc);
}

const hex = (n: bigint | undefined) => (n === undefined ? undefined : `0x${n.toString(16)}`);

/** The guest facts as the XENMIG note's JSON (numbers that may pass 2^53 as 0x-hex strings). */
export function guestFactsJson(facts: GuestFacts): object {
  return {
    xenVersion: facts.xenVersion,
    guestType: facts.guestType,
    ...(facts.guestWidth !== undefined ? { guestWidth: facts.guestWidth } : {}),
    ...(facts.p2m ? { p2m: facts.p2m } : {}),
    ...(facts.checkpoint !== undefined ? { checkpoint: facts.checkpoint } : {}),
    vcpus: facts.vcpus.map((v) => ({
      id: v.id,
      ...(v.cr3 !== undefined ? { cr3: hex(v.cr3) } : {}),
      ...(v.pageTableRoot !== undefined ? { pageTableRoot: hex(v.pageTableRoot) } : {}),
      registers: v.registers !== undefined,
    })),
  };
}

export function guestFactsNote(facts: GuestFacts): Uint8Array {
  return encodeNote(XENMIG_NOTE_NAME, XENMIG_NOTE_GUEST, Buffer.from(JSON.stringify(guestFactsJson(facts)), 'utf8'));
}

/** Every note of the core, in order: the vCPUs' NT_PRSTATUS (ascending id), then XENMIG. */
export function coreNotes(facts: GuestFacts): Uint8Array[] {
  const notes: Uint8Array[] = [];
  for (const v of facts.vcpus) if (v.registers) notes.push(prstatusNote(v.id, v.registers));
  notes.push(guestFactsNote(facts));
  return notes;
}
