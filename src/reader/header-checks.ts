/**
 * The reader's checks of the stream headers beyond what decoding them already
 * refuses (src/codec/headers.ts): flags and reserved fields, reported at the
 * field's offset. The decoder (decoder.ts) calls one per header it meets.
 */
import { LIBXC_OPTION_BIG_ENDIAN, LIBXL_OPTION_BIG_ENDIAN, XL_MANDATORY_FLAG_JSON } from '../format/constants.js';
import { formatError, type ErrorLocation } from '../codec/errors.js';
import type { LibxcDomainHeader, LibxcImageHeader, LibxlHeader, XlHeader } from '../codec/headers.js';
import { headerProblems } from '../codec/body-checks.js';
import { reportAll, type ReportProblem } from './record-checks.js';

export function checkXlHeader(header: XlHeader, offset: number, report: ReportProblem): void {
  if (header.optionalFlags !== 0)
    report('XL_OPTIONAL_FLAGS', { offset: offset + 40, layer: 'xl' }, { actual: `0x${header.optionalFlags.toString(16)}`, expected: '0' });
  const hasJson = (header.mandatoryFlags & XL_MANDATORY_FLAG_JSON) !== 0;
  if (hasJson !== (header.config !== undefined && header.config.length > 0)) {
    report(
      'XL_JSON_FLAG',
      { offset: offset + 36, layer: 'xl' },
      { detail: hasJson ? 'JSON flag set but no config' : 'config present but JSON flag clear (legacy config text)' },
    );
  }
}

export function checkLibxlHeader(header: LibxlHeader, offset: number, report: ReportProblem): void {
  const loc = { offset: offset + 12, layer: 'libxl' as const, recordName: 'libxl header' };
  if (header.options & LIBXL_OPTION_BIG_ENDIAN)
    throw formatError('BIG_ENDIAN', loc, { expected: 'options bit 0 clear', actual: `0x${header.options.toString(16)}` });
  reportAll(headerProblems('libxl-header', header), { ...loc, offset }, report);
}

export function checkLibxcImageHeader(header: LibxcImageHeader, offset: number, report: ReportProblem): void {
  const loc: ErrorLocation = { offset: offset + 16, layer: 'libxc', recordName: 'libxc image header' };
  if (header.options & LIBXC_OPTION_BIG_ENDIAN)
    throw formatError('BIG_ENDIAN', loc, { expected: 'options bit 0 clear', actual: `0x${header.options.toString(16)}` });
  reportAll(headerProblems('libxc-image-header', header), { ...loc, offset }, report);
}

export function checkLibxcDomainHeader(header: LibxcDomainHeader, offset: number, report: ReportProblem): void {
  reportAll(headerProblems('libxc-domain-header', header), { offset, layer: 'libxc', recordName: 'libxc domain header' }, report);
}
