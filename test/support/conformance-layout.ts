/**
 * Conformance helpers: streams assembled from tagged parts (so a test knows the
 * exact offset of every header and record it put in), and the standard
 * HVM / PV skeletons the rule tests corrupt one piece of.
 */
import { StreamFormatError } from '../../src/codec/index.js';
import { readStreamSync, type ReaderOptions } from '../../src/reader/index.js';
import {
  concat,
  domainHeader,
  emulatorContext,
  hvmContext,
  hvmParams,
  imageHeader,
  libxlHeader,
  p2mFrames,
  pageData,
  pvInfo,
  rec,
  sharedInfo,
  tscInfo,
  vcpuBasic,
  xlHeader,
  type Part,
} from './build.js';

/** A part, optionally tagged: `['bad', bytes]`. */
export type LayoutPart = Part | readonly [string, Part];

export interface Layout {
  bytes: Uint8Array;
  /** Absolute offset of the part tagged `tag`. */
  at(tag: string): number;
  /** Offsets of every part, in order. */
  offsets: number[];
}

export function layout(...parts: LayoutPart[]): Layout {
  const offsets: number[] = [];
  const tags = new Map<string, number>();
  const bytes: Part[] = [];
  let pos = 0;
  for (const p of parts) {
    const [tag, b] = p instanceof Uint8Array ? [undefined, p] : p;
    if (tag !== undefined) {
      if (tags.has(tag)) throw new Error(`layout: tag ${tag} used twice`);
      tags.set(tag, pos);
    }
    offsets.push(pos);
    bytes.push(b);
    pos += b.length;
  }
  return {
    bytes: concat(bytes),
    offsets,
    at(tag: string): number {
      const o = tags.get(tag);
      if (o === undefined) throw new Error(`layout: no part tagged ${tag}`);
      return o;
    },
  };
}

/** xl header … libxc domain header (HVM, v3) … STATIC_DATA_END. */
export const hvmHead = (): Part[] => [
  xlHeader(),
  libxlHeader(),
  rec('libxl', 'LIBXC_CONTEXT'),
  imageHeader(3),
  domainHeader(2),
  rec('libxc', 'STATIC_DATA_END'),
];
/** The libxc records after STATIC_DATA_END up to and including libxc END. */
export const hvmLibxcBody = (): Part[] => [pageData([0, 1, 2, 3]), tscInfo(), hvmContext(), hvmParams(), rec('libxc', 'END')];
/** The libxl records after libxc END. */
export const hvmLibxlTail = (): Part[] => [emulatorContext(), rec('libxl', 'END')];

/** PV libxl stream (no xl header): libxl header … X86_PV_P2M_FRAMES (end pfn 1023). */
export const pvHead = (): Part[] => [
  libxlHeader(),
  rec('libxl', 'LIBXC_CONTEXT'),
  imageHeader(3),
  domainHeader(1),
  pvInfo(),
  rec('libxc', 'STATIC_DATA_END'),
  p2mFrames(1023),
];
export const pvLibxcBody = (): Part[] => [pageData([0, 1, 2, 3]), tscInfo(), sharedInfo(), vcpuBasic(0), rec('libxc', 'END')];
export const pvLibxlTail = (): Part[] => [rec('libxl', 'END')];

/** u32 little-endian. */
export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** Little-endian u32 list as bytes. */
export function u32s(...vs: number[]): Uint8Array {
  return concat(vs.map(u32));
}

/** Copy of `bytes` with `patch` written at `offset`. */
export function patched(bytes: Uint8Array, offset: number, patch: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set(patch, offset);
  return out;
}

/** Outcome of reading bytes synchronously: the error (typed or not) or the result. */
export type Outcome = { ok: true; result: ReturnType<ReturnType<typeof readStreamSync>['readAll']> } | { ok: false; error: unknown };

export function tryRead(bytes: Uint8Array, opts: ReaderOptions = {}): Outcome {
  try {
    return { ok: true, result: readStreamSync(bytes, opts).readAll() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Read and return the StreamFormatError; throws a readable assertion error otherwise. */
export function formatErrorOf(bytes: Uint8Array, opts: ReaderOptions = {}): StreamFormatError {
  const o = tryRead(bytes, opts);
  if (o.ok) throw new Error(`expected a StreamFormatError, the stream was accepted (${o.result.end.status})`);
  if (!(o.error instanceof StreamFormatError)) throw new Error(`expected a StreamFormatError, got ${String(o.error)}`);
  return o.error;
}
