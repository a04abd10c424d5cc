/**
 * PAGE_DATA pfn-entry type nibbles (bits 63–60): XEN_DOMCTL_PFINFO_* >> 28.
 * Source: spec/FORMAT.md §5.5.
 */
export interface PageTypeInfo {
  readonly nibble: number;
  readonly name: string;
  /** Whether an entry of this type is followed by 4096 bytes of page contents. */
  readonly hasData: boolean;
  /** Nibbles 5–8 are reserved: a restore must fail. */
  readonly valid: boolean;
}

const rows: Array<[number, string, boolean, boolean]> = [
  [0x0, 'NOTAB', true, true],
  [0x1, 'L1TAB', true, true],
  [0x2, 'L2TAB', true, true],
  [0x3, 'L3TAB', true, true],
  [0x4, 'L4TAB', true, true],
  [0x5, 'RESERVED_5', false, false],
  [0x6, 'RESERVED_6', false, false],
  [0x7, 'RESERVED_7', false, false],
  [0x8, 'RESERVED_8', false, false],
  [0x9, 'L1TAB_PINNED', true, true],
  [0xa, 'L2TAB_PINNED', true, true],
  [0xb, 'L3TAB_PINNED', true, true],
  [0xc, 'L4TAB_PINNED', true, true],
  [0xd, 'BROKEN', false, true],
  [0xe, 'XALLOC', false, true],
  [0xf, 'XTAB', false, true],
];

export const PAGE_TYPES: readonly PageTypeInfo[] = Object.freeze(
  rows.map(([nibble, name, hasData, valid]) =>
    Object.freeze({
      nibble,
      name,
      hasData,
      valid,
    }),
  ),
);

export const PAGE_TYPE = Object.freeze({
  NOTAB: 0x0,
  L1TAB: 0x1,
  L2TAB: 0x2,
  L3TAB: 0x3,
  L4TAB: 0x4,
  L1TAB_PINNED: 0x9,
  L2TAB_PINNED: 0xa,
  L3TAB_PINNED: 0xb,
  L4TAB_PINNED: 0xc,
  BROKEN: 0xd,
  XALLOC: 0xe,
  XTAB: 0xf,
} as const);

/** Lookup table: nibble -> 1 if the entry carries a page of data. */
export const PAGE_TYPE_HAS_DATA: Uint8Array = Uint8Array.from(PAGE_TYPES.map((t) => (t.hasData ? 1 : 0)));
/** Lookup table: nibble -> 1 if the nibble is a defined type. */
export const PAGE_TYPE_VALID: Uint8Array = Uint8Array.from(PAGE_TYPES.map((t) => (t.valid ? 1 : 0)));

export function pageTypeName(nibble: number): string {
  return PAGE_TYPES[nibble & 0xf].name;
}
