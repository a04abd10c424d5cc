/**
 * The entries of an HVM_CONTEXT blob, each decoded with its layout table
 * (entry-layouts.ts); an unknown typecode or a length no table fits keeps
 * only its descriptor and bytes. Framing is checked elsewhere
 * (bodies/hvm-context-framing.ts): this walks whatever frames it can.
 */
import { HVM_SAVE_DESCRIPTOR_SIZE } from '../../format/hvm-save.js';
import { HVM_SAVE_TYPECODES } from '../../format/record-types.js';
import { hvmContextEntries } from '../bodies/x86-common.js';
import { hvmEntryLayout } from './entry-layouts.js';
import { decodeStruct, type DecodedStruct } from './struct.js';

export interface HvmEntry {
  readonly typecode: number;
  readonly instance: number;
  /** save.h's name (e.g. CPU, LAPIC_REGS), or type<N> for an unknown typecode. */
  readonly name: string;
  /** Blob offset of the entry's descriptor. */
  readonly offset: number;
  /** The entry's data (after its 8-byte descriptor). */
  readonly data: Uint8Array;
  /** Decoded with its table; absent for END, unknown typecodes and lengths no table fits. */
  readonly decoded?: DecodedStruct;
}

export function hvmEntryName(typecode: number): string {
  return HVM_SAVE_TYPECODES[typecode] ?? `type${typecode}`;
}

/** Every entry up to END (or up to where the blob stops framing), decoded. */
export function decodeHvmEntries(blob: Uint8Array): { entries: HvmEntry[]; truncatedAt?: number } {
  const walked = hvmContextEntries(blob);
  const entries = walked.entries.map((e): HvmEntry => {
    const layout = hvmEntryLayout(e.typecode, e.data.length);
    const base = { typecode: e.typecode, instance: e.instance, name: hvmEntryName(e.typecode), offset: e.offset, data: e.data };
    return layout ? { ...base, decoded: decodeStruct(layout, e.data) } : base;
  });
  return walked.truncatedAt === undefined ? { entries } : { entries, truncatedAt: walked.truncatedAt };
}

/** Byte offset in the blob of an entry's data. */
export function hvmEntryDataOffset(e: Pick<HvmEntry, 'offset'>): number {
  return e.offset + HVM_SAVE_DESCRIPTOR_SIZE;
}
