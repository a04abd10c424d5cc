/**
 * `extract --format elf`: the guest as an ELF64 core (ET_CORE, EM_X86_64) that
 * gdb, the crash utility and Volatility read.
 *
 * Layout: file header; program headers (PT_NOTE, then one PT_LOAD per run of
 * pfns holding data); the notes (NT_PRSTATUS per vCPU, XENMIG); section
 * header 0 only when there are ≥ 0xffff program headers (PN_XNUM); then,
 * from the next page boundary, each run's pages back to back. PT_LOAD:
 * p_paddr = guest physical address and p_vaddr = p_paddr too, so that a
 * debugger's plain memory reads (`x/s 0x2000190`) read guest-physical memory
 * (a guest virtual address needs the guest's page tables: see the XENMIG
 * note's CR3s). Pfns without data are in no segment; all-zero pages are holes.
 */
import { layoutCodec } from '../../codec/layout-codec.js';
import { PAGE_SIZE } from '../../format/constants.js';
import {
  ELF_MAGIC,
  ELF64_EHDR,
  ELF64_PHDR,
  ELF64_SHDR,
  ELFCLASS64,
  ELFDATA2LSB,
  EM_X86_64,
  ET_CORE,
  EV_CURRENT,
  PF_R,
  PF_W,
  PF_X,
  PN_XNUM,
  PT_LOAD,
  PT_NOTE,
} from '../../format/layouts/elf-core.js';
import type { AtomicOutput } from '../../io/atomic-output.js';
import type { PhysicalMemoryView } from '../paddr-view.js';
import { coreNotes } from './elf-notes.js';
import type { GuestFacts } from './guest-facts.js';
import { countRuns, type ExportSizes, PhysicalPageCopier, pfnAddress } from './physical-pages.js';

const ehdr = layoutCodec(ELF64_EHDR);
const phdr = layoutCodec(ELF64_PHDR);
const shdr = layoutCodec(ELF64_SHDR);

/** Program headers encoded per write. */
const PHDR_BATCH = 1024;

const roundUpPage = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

function fileHeader(phnum: number, shoff: number): Uint8Array {
  const xnum = phnum >= PN_XNUM;
  return ehdr.encode({
    ei_mag: ELF_MAGIC,
    ei_class: ELFCLASS64,
    ei_data: ELFDATA2LSB,
    ei_version: EV_CURRENT,
    ei_osabi: 0,
    ei_abiversion: 0,
    ei_pad: new Uint8Array(7),
    e_type: ET_CORE,
    e_machine: EM_X86_64,
    e_version: EV_CURRENT,
    e_entry: 0n,
    e_phoff: BigInt(ehdr.size),
    e_shoff: BigInt(xnum ? shoff : 0),
    e_flags: 0,
    e_ehsize: ehdr.size,
    e_phentsize: phdr.size,
    e_phnum: xnum ? PN_XNUM : phnum,
    e_shentsize: xnum ? shdr.size : 0,
    e_shnum: xnum ? 1 : 0,
    e_shstrndx: 0,
  });
}

/** Section header 0 carrying the real program header count (PN_XNUM). */
function xnumSection(phnum: number): Uint8Array {
  return shdr.encode({
    sh_name: 0,
    sh_type: 0,
    sh_flags: 0n,
    sh_addr: 0n,
    sh_offset: 0n,
    sh_size: 0n,
    sh_link: 0,
    sh_info: phnum,
    sh_addralign: 0n,
    sh_entsize: 0n,
  });
}

function loadHeader(firstPfn: number, pages: number, offset: number): Uint8Array {
  const address = pfnAddress(firstPfn);
  const size = BigInt(pages * PAGE_SIZE);
  return phdr.encode({
    p_type: PT_LOAD,
    p_flags: PF_R | PF_W | PF_X,
    p_offset: BigInt(offset),
    p_vaddr: address,
    p_paddr: address,
    p_filesz: size,
    p_memsz: size,
    p_align: BigInt(PAGE_SIZE),
  });
}

export async function writeElfCore(view: PhysicalMemoryView, facts: GuestFacts, output: AtomicOutput): Promise<ExportSizes> {
  const { ranges, pages } = await countRuns(view);
  const notes = coreNotes(facts);
  const notesBytes = notes.reduce((n, b) => n + b.length, 0);
  const phnum = ranges + 1;
  const notesAt = ehdr.size + phnum * phdr.size;
  const shoff = notesAt + notesBytes;
  const headersEnd = shoff + (phnum >= PN_XNUM ? shdr.size : 0);
  const dataAt = roundUpPage(headersEnd);
  const fileBytes = dataAt + pages * PAGE_SIZE;
  // Sized first: all-zero pages are not written and stay holes.
  await output.handle.truncate(fileBytes);

  await output.writeAt(fileHeader(phnum, shoff), 0);
  const noteHeader = phdr.encode({
    p_type: PT_NOTE,
    p_flags: 0,
    p_offset: BigInt(notesAt),
    p_vaddr: 0n,
    p_paddr: 0n,
    p_filesz: BigInt(notesBytes),
    p_memsz: 0n,
    p_align: 4n,
  });
  await output.writeAt(noteHeader, ehdr.size);
  let at = notesAt;
  for (const n of notes) {
    await output.writeAt(n, at);
    at += n.length;
  }
  if (phnum >= PN_XNUM) await output.writeAt(xnumSection(phnum), shoff);

  // PT_LOAD headers (in batches) and their pages, run by run.
  const copier = new PhysicalPageCopier(view, output);
  let batch: Uint8Array[] = [];
  let batchAt = ehdr.size + phdr.size;
  const flush = async () => {
    if (batch.length === 0) return;
    await output.writeAt(Buffer.concat(batch), batchAt);
    batchAt += batch.length * phdr.size;
    batch = [];
  };
  let offset = dataAt;
  await view.forEachRun(async (run) => {
    batch.push(loadHeader(run.firstPfn, run.pages, offset));
    if (batch.length === PHDR_BATCH) await flush();
    await copier.copyRun(run, offset);
    offset += run.pages * PAGE_SIZE;
  });
  await flush();
  await copier.drain();
  return { ranges, pages, fileBytes };
}
