/** What a report may hold at most: every limit keeps memory and the HTML file bounded, whatever the stream's size. */
import type { ReaderOptions } from '../reader/decoder.js';

export interface ReportLimits {
  /** Record-table rows kept from the start of the stream (each with its details). */
  headRows: number;
  /** Record-table rows kept from the end of the stream (where an error usually is). */
  tailRows: number;
  /** Bytes of each row's first record shown as a hexdump. */
  hexBytes: number;
  /** Characters of a row's decoded-fields JSON shown before it is cut. */
  jsonChars: number;
  /** Segments of the timeline (adjacent ones are merged beyond this). */
  timelineSegments: number;
  /** Checkpoint / postcopy markers drawn on the timeline. */
  markers: number;
  /** Cells of the pfn heat strip (pfns are bucketed so there are at most this many). */
  pfnCells: number;
  /** Precopy passes drawn as bars (the rest are counted). */
  passes: number;
  /** Warnings and notes listed (the rest are counted). */
  problems: number;
  /** Characters of the xl config shown. */
  configChars: number;
}

export const DEFAULT_LIMITS: Readonly<ReportLimits> = {
  headRows: 1000,
  tailRows: 100,
  hexBytes: 128,
  jsonChars: 1500,
  timelineSegments: 2048,
  markers: 200,
  pfnCells: 1024,
  passes: 400,
  problems: 500,
  configChars: 256 * 1024,
};

export interface ReportOptions {
  /** dialect, mode, strict (default strict, like Xen's verifier). */
  reader?: ReaderOptions;
  /** The name shown for the input (a path, or "stdin"). */
  inputName?: string;
  limits?: Partial<ReportLimits>;
  /** Called after each item with the (decompressed) bytes walked so far. */
  onProgress?: (bytesDone: number) => void;
}

export function reportLimits(options: ReportOptions): ReportLimits {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (limits.pfnCells < 1 || limits.timelineSegments < 2) throw new RangeError('report limits: pfnCells must be ≥ 1 and timelineSegments ≥ 2');
  return limits;
}
