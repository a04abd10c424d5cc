/** What the legacy reader yields: each piece of a legacy image, with its offset and length in the input. */
import type { XlHeader } from '../codec/headers.js';
import type { LegacyContainer, LegacyGuest, ToolstackWidth } from './legacy-layout.js';

interface Base {
  /** Absolute byte offset in the (decompressed) input. */
  offset: number;
  length: number;
}

export interface LegacyContainerItem extends Base {
  kind: 'container';
  container: LegacyContainer;
  /** xl: the header (STREAMv2 clear), config included. */
  xlHeader?: XlHeader;
  /** xend: the S-expression domain config. */
  xendConfig?: string;
  width: ToolstackWidth;
  guest: LegacyGuest;
  /** Which of width and guest the stream told (the rest came from options). */
  inferred: { width: boolean; guest: boolean };
}

export interface P2mSizeItem extends Base {
  kind: 'p2m-size';
  p2mSize: number;
}

export interface ExtendedInfoBlock {
  id: string;
  offset: number;
  size: number;
}

/** PV: the extended-info header, whose "vcpu" block size tells the guest width. */
export interface ExtendedInfoItem extends Base {
  kind: 'extended-info';
  blocks: ExtendedInfoBlock[];
  guestWidth: 4 | 8;
  ptLevels: 3 | 4;
  vcpuContextSize: number;
  /** "extv": each vCPU carries a 128-byte extended context. */
  extendedContext: boolean;
  /** "xcnt": each vCPU carries xsave state of this many bytes (mask and size words included); 0: none. */
  xsaveSize: number;
}

/** PV: the pfns of the p2m's frames. */
export interface P2mFramesItem extends Base {
  kind: 'p2m-frames';
  frames: bigint[];
}

export interface PageBatchItem extends Base {
  kind: 'page-batch';
  /** The raw entries: type in bits 31–28, pfn in bits 27–0. */
  entries: number[];
  /** Entries that carry a page, and their pages (4096 bytes each, in entry order). */
  dataPages: number;
  pages: Uint8Array;
}

/** A metadata chunk (id < 0), decoded. */
export interface MetaChunkItem extends Base {
  kind: 'chunk';
  id: number;
  name: string;
  /** Chunks carrying one HVM param: its index and value. */
  param?: { index: number; value: bigint };
  tsc?: { mode: number; nsec: bigint; khz: number; incarnation: number };
  vcpuInfo?: { maxVcpuId: number; online: number[] };
  /** toolstack: the opaque data (libxl's physmap list). */
  data?: Uint8Array;
}

export interface BodyEndItem extends Base {
  kind: 'body-end';
}

export interface UnmappedPfnsItem extends Base {
  kind: 'unmapped-pfns';
  pfns: number[];
}

export interface VcpuItem extends Base {
  kind: 'vcpu';
  vcpuId: number;
  basic: Uint8Array;
  extended?: Uint8Array;
  xsave?: { mask: bigint; data: Uint8Array };
}

export interface SharedInfoItem extends Base {
  kind: 'shared-info';
  page: Uint8Array;
}

export interface MagicPfnsItem extends Base {
  kind: 'magic-pfns';
  ioreq: bigint;
  bufioreq: bigint;
  store: bigint;
}

export interface HvmContextItem extends Base {
  kind: 'hvm-context';
  blob: Uint8Array;
}

export interface QemuItem extends Base {
  kind: 'qemu';
  signature: string;
  data: Uint8Array;
}

/** Bytes after the image (e.g. a Remus stream's next checkpoint): shown, not converted. */
export interface LegacyTrailingItem extends Base {
  kind: 'trailing';
}

export type LegacyItem =
  | LegacyContainerItem
  | P2mSizeItem
  | ExtendedInfoItem
  | P2mFramesItem
  | PageBatchItem
  | MetaChunkItem
  | BodyEndItem
  | UnmappedPfnsItem
  | VcpuItem
  | SharedInfoItem
  | MagicPfnsItem
  | HvmContextItem
  | QemuItem
  | LegacyTrailingItem;
