/**
 * The ELF64 structures of a core file (`extract --format elf`), as the System V
 * gABI and Linux's <elf.h> / <linux/elfcore.h> lay them out for x86-64:
 * file header, program header, section header (only for more than 65534
 * segments: PN_XNUM), note header, and the NT_PRSTATUS descriptor whose
 * register block is user_regs_struct, in the order gdb reads it.
 */
import { X86_64_PUSHED_GPRS } from './x86-bits.js';
import { defineLayout } from '../layout.js';

export const ELF_MAGIC = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46]);
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ET_CORE = 4;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
/** e_phnum when the real count (≥ 0xffff) is in section header 0's sh_info. */
export const PN_XNUM = 0xffff;
export const NT_PRSTATUS = 1;

export const ELF64_EHDR = defineLayout(
  'Elf64_Ehdr',
  [
    { name: 'ei_mag', type: 'bytes', size: 4 },
    { name: 'ei_class', type: 'u8', values: { 1: 'ELFCLASS32', 2: 'ELFCLASS64' } },
    { name: 'ei_data', type: 'u8', values: { 1: 'ELFDATA2LSB', 2: 'ELFDATA2MSB' } },
    { name: 'ei_version', type: 'u8' },
    { name: 'ei_osabi', type: 'u8' },
    { name: 'ei_abiversion', type: 'u8' },
    { name: 'ei_pad', type: 'bytes', size: 7, padding: true },
    { name: 'e_type', type: 'u16', values: { 4: 'ET_CORE' } },
    { name: 'e_machine', type: 'u16', values: { 62: 'EM_X86_64' } },
    { name: 'e_version', type: 'u32' },
    { name: 'e_entry', type: 'u64' },
    { name: 'e_phoff', type: 'u64' },
    { name: 'e_shoff', type: 'u64' },
    { name: 'e_flags', type: 'u32' },
    { name: 'e_ehsize', type: 'u16' },
    { name: 'e_phentsize', type: 'u16' },
    { name: 'e_phnum', type: 'u16' },
    { name: 'e_shentsize', type: 'u16' },
    { name: 'e_shnum', type: 'u16' },
    { name: 'e_shstrndx', type: 'u16' },
  ],
  { size: 64, doc: 'ELF64 file header.' },
);

export const ELF64_PHDR = defineLayout(
  'Elf64_Phdr',
  [
    { name: 'p_type', type: 'u32', values: { 1: 'PT_LOAD', 4: 'PT_NOTE' } },
    { name: 'p_flags', type: 'u32', bits: { 0: 'X', 1: 'W', 2: 'R' } },
    { name: 'p_offset', type: 'u64' },
    { name: 'p_vaddr', type: 'u64' },
    { name: 'p_paddr', type: 'u64' },
    { name: 'p_filesz', type: 'u64' },
    { name: 'p_memsz', type: 'u64' },
    { name: 'p_align', type: 'u64' },
  ],
  { size: 56, doc: 'ELF64 program header (a segment).' },
);

export const ELF64_SHDR = defineLayout(
  'Elf64_Shdr',
  [
    { name: 'sh_name', type: 'u32' },
    { name: 'sh_type', type: 'u32' },
    { name: 'sh_flags', type: 'u64' },
    { name: 'sh_addr', type: 'u64' },
    { name: 'sh_offset', type: 'u64' },
    { name: 'sh_size', type: 'u64' },
    { name: 'sh_link', type: 'u32' },
    { name: 'sh_info', type: 'u32' },
    { name: 'sh_addralign', type: 'u64' },
    { name: 'sh_entsize', type: 'u64' },
  ],
  { size: 64, doc: 'ELF64 section header (a core has only section 0, and only to hold a program header count ≥ PN_XNUM).' },
);

export const ELF64_NHDR = defineLayout(
  'Elf64_Nhdr',
  [
    { name: 'n_namesz', type: 'u32' },
    { name: 'n_descsz', type: 'u32' },
    { name: 'n_type', type: 'u32' },
  ],
  { size: 12, doc: 'ELF note header; the name and the descriptor follow, each padded to 4 bytes.' },
);

/** struct user_regs_struct (x86-64, <sys/user.h>): the general registers in the order a core's NT_PRSTATUS holds them. */
export const X86_64_USER_REGS = defineLayout(
  'user_regs_struct',
  [
    ...X86_64_PUSHED_GPRS,
    { name: 'orig_rax', type: 'u64' },
    { name: 'rip', type: 'u64' },
    { name: 'cs', type: 'u64' },
    { name: 'eflags', type: 'u64' },
    { name: 'rsp', type: 'u64' },
    { name: 'ss', type: 'u64' },
    { name: 'fs_base', type: 'u64' },
    { name: 'gs_base', type: 'u64' },
    { name: 'ds', type: 'u64' },
    { name: 'es', type: 'u64' },
    { name: 'fs', type: 'u64' },
    { name: 'gs', type: 'u64' },
  ],
  { size: 216, doc: 'x86-64 general registers as ptrace and core files order them.' },
);

const TIMEVAL = defineLayout(
  'timeval',
  [
    { name: 'tv_sec', type: 'i64' },
    { name: 'tv_usec', type: 'i64' },
  ],
  { size: 16 },
);

/** struct elf_prstatus (x86-64, <linux/elfcore.h>): NT_PRSTATUS's descriptor, one per thread (here: per vCPU). */
export const X86_64_ELF_PRSTATUS = defineLayout(
  'elf_prstatus',
  [
    { name: 'si_signo', type: 'i32' },
    { name: 'si_code', type: 'i32' },
    { name: 'si_errno', type: 'i32' },
    { name: 'pr_cursig', type: 'i16' },
    { name: 'pad0', type: 'bytes', size: 2, padding: true },
    { name: 'pr_sigpend', type: 'u64' },
    { name: 'pr_sighold', type: 'u64' },
    { name: 'pr_pid', type: 'i32' },
    { name: 'pr_ppid', type: 'i32' },
    { name: 'pr_pgrp', type: 'i32' },
    { name: 'pr_sid', type: 'i32' },
    { name: 'pr_utime', type: TIMEVAL },
    { name: 'pr_stime', type: TIMEVAL },
    { name: 'pr_cutime', type: TIMEVAL },
    { name: 'pr_cstime', type: TIMEVAL },
    { name: 'pr_reg', type: X86_64_USER_REGS },
    { name: 'pr_fpvalid', type: 'i32' },
    { name: 'pad1', type: 'bytes', size: 4, padding: true },
  ],
  { size: 336, doc: 'Process status of a core: signal, ids, times and the general registers.' },
);
