/** `diff`'s output: a summary first, then records only on one side, records that differ with their fields, page runs. */
import type { StreamFormatError } from '../codec/errors.js';
import type { DiffResult, ItemRef, PageRun } from './diff.js';
import { grouped, hex, offsetHex } from './text-format.js';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}

function summaryLine(r: DiffResult): string {
  const recs = [
    r.recordDifferenceCount ? `${plural(r.recordDifferenceCount, 'record')} differ (${plural(r.fieldDifferenceCount, 'field')})` : '',
    r.onlyInA.length ? `${grouped(r.onlyInA.length)} only in A` : '',
    r.onlyInB.length ? `${grouped(r.onlyInB.length)} only in B` : '',
  ].filter(Boolean);
  const pages = r.pageDifferenceCount
    ? `pages: ${grouped(r.pagesDiffering)} changed, ${grouped(r.pagesOnlyInA)} only in A, ${grouped(r.pagesOnlyInB)} only in B (${plural(r.pageRunCount, 'run')} of pfns)`
    : 'pages: the same';
  return `summary: ${recs.length ? recs.join(', ') : 'headers and records: the same'}; ${pages}`;
}

/** `#1025 at 0x087f89c7` for a record (its identity is already on the line), `xl header at 0x00000000` otherwise. */
function where(ref: ItemRef): string {
  const index = /^record (#\d+) /.exec(ref.what)?.[1];
  return `${index ?? ref.what} at ${offsetHex(ref.offset)}`;
}

function pfnRunText(p: PageRun): string {
  const pfns = p.count === 1 ? `pfn ${hex(p.pfn)}` : `pfns ${hex(p.pfn)}–${hex(p.last)} (${grouped(p.count)})`;
  return `${pfns}: ${p.what}${p.typeA || p.typeB ? ` (${p.typeA ?? '-'} / ${p.typeB ?? '-'})` : ''}`;
}

export function renderDiffText(nameA: string, nameB: string, r: DiffResult): string {
  const out: string[] = [];
  if (r.errorA) out.push(`A is invalid: ${r.errorA.message}`);
  if (r.errorB) out.push(`B is invalid: ${r.errorB.message}`);
  if (r.same) {
    out.push(`same: ${nameA} and ${nameB} hold the same ${grouped(r.itemsA)} headers and records`);
    return `${out.join('\n')}\n`;
  }
  out.push(`A: ${nameA}`, `B: ${nameB}`, summaryLine(r));
  if (r.first) {
    const at = r.first.offsetA ?? r.first.offsetB ?? 0;
    const inB = r.first.offsetB !== undefined && r.first.offsetB !== r.first.offsetA ? `, ${offsetHex(r.first.offsetB)} in B` : '';
    out.push(`first difference at offset ${at} (${offsetHex(at)}) in A${inB}${r.first.a ? ` (${r.first.a.what})` : ''}`);
  }
  if (r.onlyInA.length || r.onlyInB.length) {
    out.push('', 'records in one stream only (pages aside):');
    for (const x of r.onlyInA) out.push(`  only in A: ${x.identity} (${where(x)}, ${grouped(x.length)} bytes)`);
    for (const x of r.onlyInB) out.push(`  only in B: ${x.identity} (${where(x)}, ${grouped(x.length)} bytes)`);
  }
  if (r.recordDifferenceCount) {
    out.push('', `records that differ: ${grouped(r.recordDifferenceCount)}`);
    for (const d of r.recordDifferences) {
      out.push(`  ${d.identity} (A ${where(d.a)}, B ${where(d.b)})${d.notKept ? ': differ (past the detail budget: compared by hash only)' : ''}`);
      for (const f of d.fields) out.push(`    ${f.path}: ${f.text}`);
      if (d.fieldCount > d.fields.length) out.push(`    … (+${grouped(d.fieldCount - d.fields.length)} more fields)`);
      if (!d.notKept && d.fieldCount === 0) out.push('    (same fields; the bytes differ in padding or encoding)');
    }
    if (r.recordDifferenceCount > r.recordDifferences.length) out.push(`  … (+${grouped(r.recordDifferenceCount - r.recordDifferences.length)} more records)`);
  }
  if (r.typeCounts.length) {
    out.push('', 'record counts that differ (count in A → count in B):');
    for (const t of r.typeCounts)
      out.push(`  ${t.layer.padEnd(6)} ${t.name.padEnd(26)} ${grouped(t.a).padStart(7)} → ${grouped(t.b).padEnd(7)} (${t.b > t.a ? '+' : ''}${t.b - t.a})`);
  }
  if (r.pageDifferenceCount) {
    out.push(
      '',
      `pages that differ (last copy of each pfn): ${grouped(r.pageDifferenceCount)} — ${grouped(r.pagesDiffering)} changed, ${grouped(r.pagesOnlyInA)} only in A, ${grouped(r.pagesOnlyInB)} only in B`,
    );
    for (const p of r.pageDifferences) out.push(`  ${pfnRunText(p)}`);
    if (r.pageRunCount > r.pageDifferences.length) out.push(`  … (+${grouped(r.pageRunCount - r.pageDifferences.length)} more runs)`);
  } else {
    out.push('', 'pages: the memory both streams imply is the same');
  }
  return `${out.join('\n')}\n`;
}

/** The result as JSON: the same structure, errors as {rule, offset, message}. */
export function diffJson(r: DiffResult): object {
  const err = (e?: StreamFormatError) => (e ? { rule: e.ruleId, offset: e.offset, message: e.message } : undefined);
  const { errorA, errorB, ...rest } = r;
  return { ...rest, errorA: err(errorA), errorB: err(errorB) };
}
