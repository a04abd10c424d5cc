/** Collect, render and write a report to a file that appears only when complete. */
import { withOutput } from '../io/atomic-output.js';
import type { StreamSource } from '../reader/sources.js';
import { collectReport, type ReportData } from './collect.js';
import type { ReportOptions } from './options.js';
import { renderReportHtml } from './render.js';

export interface WrittenReport {
  data: ReportData;
  /** Bytes of HTML written. */
  bytes: number;
}

/** The report of `source` as HTML text (and the data it shows). */
export async function buildReport(source: StreamSource, options: ReportOptions = {}): Promise<{ data: ReportData; html: string }> {
  const data = await collectReport(source, options);
  return { data, html: renderReportHtml(data) };
}

/**
 * Write the report of `source` to `path` (through a temporary file renamed when
 * complete, 0600: it shows record fields). The output is opened (and checked:
 * not the input, not a directory) before the stream is read. An invalid stream
 * still gets a report (it shows the error); only I/O problems throw, and then
 * no file is left behind.
 */
export async function writeReport(source: StreamSource, path: string, options: ReportOptions = {}): Promise<WrittenReport> {
  const inputs = typeof source === 'string' || typeof source === 'number' ? [source] : [];
  return withOutput(path, { inputs }, async (file) => {
    const { data, html } = await buildReport(source, options);
    const bytes = Buffer.from(html, 'utf8');
    await file.write([bytes]);
    return { data, bytes: bytes.length };
  });
}
