/**
 * The report as ONE self-contained HTML page: inline CSS and SVG, one small
 * inline script (allowed by hash in the page's Content-Security-Policy, which
 * forbids every fetch), nothing loaded from anywhere. Rows of the record
 * table are <details> elements, so the page reads fine without the script.
 */
import { createHash } from 'node:crypto';
import { PAGE_SIZE } from '../format/constants.js';
import { LAYER_COLORS, HEAT_COLORS, PASS_COLORS, typeColor } from './colors.js';
import { bytesByTypeSvg, passesSvg } from './chart-bars.js';
import { maxSendsPerPfn, pfnMapSvg, rampColor } from './chart-pfn.js';
import { timelineSvg } from './chart-timeline.js';
import type { HeaderInfo, ReportData } from './collect.js';
import { bytesShort, esc, hx, num } from './html.js';
import type { RecordRow } from './record-table.js';
import { REPORT_CSS, REPORT_SCRIPT } from './style.js';
import type { SegmentLayer } from './timeline.js';

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The page's policy: nothing may be fetched; only this stylesheet and this script run. */
export function reportCsp(): string {
  return `default-src 'none'; style-src ${cspHash(REPORT_CSS)}; script-src ${cspHash(REPORT_SCRIPT)}; img-src 'none'; base-uri 'none'; form-action 'none'`;
}

function swatch(color: string, cls = 'sw'): string {
  return `<svg class="${cls}" viewBox="0 0 12 12" aria-hidden="true"><rect width="12" height="12" fill="${color}"/></svg>`;
}

function card(k: string, v: string, id?: string): string {
  return `<div class="card"${id ? ` id="${id}"` : ''}><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`;
}

function verdictSection(d: ReportData): string {
  const v = d.verdict;
  const parts: string[] = [];
  parts.push(`<section id="verdict" class="verdict ${v.status}" data-status="${v.status}">`);
  parts.push(`<h3><span class="badge">${v.status === 'valid' ? 'VALID' : 'INVALID'}</span> verify verdict</h3>`);
  if (v.error) {
    const e = v.error;
    parts.push(
      `<div class="error-box" id="stream-error" data-rule="${esc(e.ruleId)}" data-offset="${e.offset}">` +
        `<strong>Error ${esc(e.ruleId)} at offset ${num(e.offset)} (${hx(e.offset, 8)})</strong>` +
        '<dl>' +
        `<dt>rule</dt><dd><code class="rule-id">${esc(e.ruleId)}</code> — ${esc(e.ruleText)}</dd>` +
        `<dt>offset</dt><dd class="error-offset">${num(e.offset)} (${hx(e.offset, 8)})</dd>` +
        (e.recordIndex !== undefined
          ? `<dt>record</dt><dd>#${e.recordIndex}${e.layer ? ` ${esc(e.layer)}` : ''}${e.recordName ? ` ${esc(e.recordName)}` : ''}</dd>`
          : '') +
        (e.expected !== undefined ? `<dt>expected</dt><dd>${esc(e.expected)}</dd>` : '') +
        (e.actual !== undefined ? `<dt>got</dt><dd>${esc(e.actual)}</dd>` : '') +
        `<dt>message</dt><dd>${esc(e.message)}</dd>` +
        '</dl><div class="note">Everything below shows what was read before the error.</div></div>',
    );
  }
  parts.push(`<pre class="verdict-text">${esc(v.text.trimEnd())}</pre>`);
  if (v.problems.length) {
    parts.push(`<table id="problems"><thead><tr><th>severity</th><th>rule</th><th class="n">offset</th><th>record</th><th>message</th></tr></thead><tbody>`);
    for (const p of v.problems) {
      const rec = p.recordIndex !== undefined ? `<a href="#r${p.recordIndex}">#${p.recordIndex}</a>` : '';
      parts.push(
        `<tr class="problem" data-offset="${p.offset}"><td class="sev-${p.severity}">${p.severity}</td><td><code>${esc(p.rule.id)}</code></td><td class="n mono">${num(p.offset)}<br>${hx(p.offset, 8)}</td><td>${rec}</td><td>${esc(p.message)}</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
    if (v.problemsOmitted) parts.push(`<p class="note">… and ${num(v.problemsOmitted)} more problems (stream-inspect verify lists them all).</p>`);
  } else {
    parts.push('<p class="note">No warnings or notes.</p>');
  }
  parts.push('</section>');
  return parts.join('');
}

function overviewSection(d: ReportData): string {
  const s = d.summary;
  const cards: string[] = [];
  if (s.container) cards.push(card('container', s.container));
  if (s.domainType) cards.push(card('guest', s.domainType));
  if (s.xenVersion) cards.push(card('saved by', s.xenVersion.startsWith('legacy') ? s.xenVersion : `Xen ${s.xenVersion}`));
  if (s.imageVersion) cards.push(card('libxc image', `v${s.imageVersion}`));
  if (s.guestWidth) cards.push(card('guest width', `${s.guestWidth * 8}-bit`));
  cards.push(card('mode', s.mode ?? 'unknown'));
  cards.push(card('dialect', s.dialect));
  cards.push(card('records', num(s.records), 'card-records'));
  cards.push(card('bytes', `${bytesShort(d.timeline.totalBytes)}`));
  cards.push(card('passes', num(d.passesTotal), 'card-passes'));
  if (s.pageEntries) {
    cards.push(card('pages with data', `${num(s.pagesWithData)} (${bytesShort(s.pagesWithData * PAGE_SIZE)})`));
    cards.push(card('pfn entries', num(s.pageEntries)));
    cards.push(card('distinct pfns', num(s.distinctPfns)));
    cards.push(card('resent pfns', num(s.resentPfns)));
  }
  if (s.checkpoints) cards.push(card('checkpoints', num(s.checkpoints)));
  if (s.postcopyPages) cards.push(card('postcopy pages', num(s.postcopyPages)));
  if (d.verdict.end)
    cards.push(
      card(
        'end',
        d.verdict.end.status === 'complete' ? `complete at ${num(d.verdict.end.streamEnd)}` : `failover after checkpoint ${d.verdict.end.completeCheckpoints}`,
      ),
    );
  const types = Object.entries(s.pageTypes)
    .map(([k, n]) => `${k} ${num(n)}`)
    .join(' · ');
  return `<section id="overview"><h2>Overview</h2><div class="cards">${cards.join('')}</div>${types ? `<p class="note">page types: ${esc(types)}</p>` : ''}</section>`;
}

function timelineSection(d: ReportData): string {
  const t = d.timeline;
  const seen = new Map<string, { layer: SegmentLayer; name: string }>();
  for (const s of t.segments) seen.set(`${s.layer}:${s.name}`, { layer: s.layer, name: s.name });
  const legend = [...seen.values()].map(
    (s) => `<li>${swatch(typeColor(s.layer, s.name))}${esc(s.layer === 'header' || s.layer === 'trailing' ? s.name : `${s.layer} ${s.name}`)}</li>`,
  );
  const layers = (['header', 'libxl', 'libxc'] as const).map((l) => `<li>${swatch(LAYER_COLORS[l])}layer band: ${l}</li>`);
  const kinds = new Set(t.markers.map((m) => m.kind));
  const marks = [
    kinds.has('checkpoint') ? `<li>${swatch('#d62828')}checkpoint</li>` : '',
    kinds.has('postcopy') ? `<li>${swatch('#7b2cbf')}postcopy phase</li>` : '',
    kinds.has('error') ? `<li>${swatch('#b42318')}error</li>` : '',
  ].join('');
  const merged = t.segments.some((s) => s.mixed)
    ? '<p class="note">Long streams: neighbouring segments were merged to keep the page small (hover a segment for what it holds).</p>'
    : '';
  const omitted = t.markersOmitted ? `<p class="note">${num(t.markersOmitted)} more markers not drawn.</p>` : '';
  return (
    `<section id="timeline"><h2>Timeline</h2><p class="note">Headers and records in stream order; the top strip is to scale by bytes (${num(t.totalBytes)} bytes), the lower one gives each run of records one cell. Hover for details.</p>` +
    `${timelineSvg(t)}<ul class="legend" id="timeline-legend">${legend.join('')}</ul><ul class="legend">${layers.join('')}${marks}</ul>${merged}${omitted}</section>`
  );
}

function chartsSection(d: ReportData): string {
  const passes = d.passes.length
    ? passesSvg(d.passes, d.passesTotal) +
      `<ul class="legend">${`<li>${swatch(PASS_COLORS.fresh)}sent for the first time</li><li>${swatch(PASS_COLORS.resent)}resent (dirtied again)</li>`}${d.passes.some((p) => p.postcopy) ? `<li>${swatch(PASS_COLORS.postcopy)}postcopy pages</li>` : ''}</ul>`
    : '<p class="note" id="no-passes">No PAGE_DATA records: no passes.</p>';
  const totalTypeBytes = d.summary.byType.reduce((a, t) => a + t.bytes, 0);
  const bytes = d.summary.byType.length ? bytesByTypeSvg(d.summary.byType, totalTypeBytes) : '<p class="note">No records.</p>';
  return `<div class="grid2"><section id="passes"><h2>Pages per pass</h2>${passes}</section><section id="bytes"><h2>Bytes by record type</h2>${bytes}</section></div>`;
}

function pfnSection(d: ReportData): string {
  const m = d.pfnMap;
  if (m.buckets.length === 0) return '<section id="pfn-map"><h2>pfn map</h2><p class="note">No pfns were sent.</p></section>';
  const max = maxSendsPerPfn(m);
  const steps = max > 1 ? [0, 0.25, 0.5, 0.75, 1] : [0];
  const legend = [
    `<li>sent per pfn (cell average):</li>`,
    ...steps.map((t) => `<li>${swatch(rampColor(t))}${t === 0 ? '1' : (1 + t * (max - 1)).toFixed(1)}×</li>`),
    `<li>${swatch(HEAT_COLORS.noData)}sent without data (XTAB, BROKEN…)</li>`,
    `<li>${swatch(HEAT_COLORS.none)}not sent</li>`,
  ].join('');
  return (
    `<section id="pfn-map"><h2>pfn map</h2><p class="note">Which pfns were sent and how often: ${num(m.buckets.length)} cells of ${num(m.bucketSize)} pfn${m.bucketSize > 1 ? 's' : ''} each, pfns ${hx(m.pfnMin ?? 0)}–${hx(m.pfnMax ?? 0)}; paler cells had fewer entries with data. Hover a cell for its counts.</p>` +
    `${pfnMapSvg(m)}<ul class="legend">${legend}</ul></section>`
  );
}

function headerRow(h: HeaderInfo): string {
  const fields = Object.entries(h.fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' && k.toLowerCase().includes('flag') ? hx(v) : v}`)
    .join(', ');
  return `<tr><td class="n mono">${num(h.offset)}</td><td>${esc(h.kind)}</td><td class="n">${num(h.length)}</td><td>${esc(fields)}</td></tr>`;
}

function headersSection(d: ReportData): string {
  const rows = d.headers.map(headerRow).join('');
  const table = rows
    ? `<table id="headers-table"><thead><tr><th class="n">offset</th><th>header</th><th class="n">bytes</th><th>fields</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="note">No header was read.</p>';
  let config = '<p class="note" id="no-config">No xl config (the stream has no xl header).</p>';
  if (d.config) {
    let text = d.config.text;
    if (d.config.isJson) {
      try {
        text = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // shown as written
      }
    }
    config = `<details class="config" open><summary>xl domain config (${d.config.isJson ? 'JSON' : 'xl config text'}, ${num(d.config.text.length + d.config.truncated)} characters)</summary><pre id="xl-config">${esc(text)}</pre>${d.config.truncated ? `<p class="note">… ${num(d.config.truncated)} more characters not shown.</p>` : ''}</details>`;
  }
  return `<section id="headers"><h2>Container and headers</h2><p>Container: <strong>${esc(d.summary.container ?? 'not detected')}</strong></p>${table}<h3>xl config</h3>${config}</section>`;
}

function rowHtml(r: RecordRow): string {
  const idx = r.firstIndex === undefined ? '' : r.kind === 'run' ? `#${r.firstIndex}…` : `#${r.firstIndex}`;
  const id = r.firstIndex === undefined ? '' : ` id="r${r.firstIndex}"`;
  const type =
    r.layer === 'header' || r.layer === 'trailing'
      ? r.name
      : `${r.name}${r.type !== undefined ? ` (${hx(r.type)})` : ''}${r.kind === 'run' ? ` ×${num(r.records)}` : ''}`;
  const cp = (r.checkpoint !== undefined ? `[checkpoint ${r.checkpoint}] ` : '') + (r.pass !== undefined ? `[pass ${r.pass}] ` : '');
  const lenTitle = r.bodyLength !== undefined ? ` title="body_length ${num(r.bodyLength)}"` : '';
  const d = r.detail;
  const fields = d.fields.length ? `<pre class="fields-text">${esc(d.fields.join('\n'))}</pre>` : '';
  const hex = d.hex
    ? `<pre class="hexdump">${esc(d.hex.trimEnd())}</pre>${d.hexShown < d.hexTotal ? `<div class="note">first ${num(d.hexShown)} of ${num(d.hexTotal)} bytes</div>` : ''}`
    : '<div class="note">no bytes to show</div>';
  const runNote =
    r.kind === 'run'
      ? `<p class="note">${num(r.records)} consecutive ${esc(r.name)} records collapsed into this row; the fields and bytes below are those of the first (#${r.firstIndex}, at offset ${num(r.offset)}).</p>`
      : '';
  return (
    `<details class="rec ${r.kind}" data-kind="${r.kind}" data-offset="${r.offset}" data-records="${r.records}"${id}><summary>` +
    `<span class="mono">${hx(r.offset, 8)}</span><span><span class="lay lay-${r.layer}">${esc(r.layer)}</span></span><span class="mono">${esc(idx)}</span>` +
    `<span class="type">${esc(type)}</span><span class="len"${lenTitle}>${num(r.length)}</span><span class="fields">${esc(cp + r.summary)}</span></summary>` +
    `<div class="body">${runNote}${fields}<div class="detail-grid"><div><h3>decoded fields (JSON, big blobs elided)</h3><pre class="json">${esc(d.json)}</pre></div><div><h3>hexdump</h3>${hex}</div></div></div></details>`
  );
}

function recordsSection(d: ReportData): string {
  const t = d.table;
  const parts: string[] = [];
  const shown = t.head.length + t.tail.length;
  parts.push(
    `<section id="records"><h2>Records</h2><p class="note">One row per header or record (consecutive PAGE_DATA records collapsed into one row); click a row for its decoded fields and a hexdump of its first bytes. LENGTH is bytes on the wire.</p>`,
  );
  parts.push(
    `<div class="toolbar" id="row-tools" hidden><button type="button" id="expand-all">expand all</button><button type="button" id="collapse-all">collapse all</button><span class="note">${num(shown)} rows</span></div>`,
  );
  parts.push(
    '<div class="rows" id="record-table"><div class="rowhead"><span>OFFSET</span><span>LAYER</span><span>#</span><span>TYPE</span><span class="len">LENGTH</span><span>FIELDS</span></div>',
  );
  for (const r of t.head) parts.push(rowHtml(r));
  if (t.omitted.rows)
    parts.push(
      `<div class="omitted" id="rows-omitted" data-rows="${t.omitted.rows}">… ${num(t.omitted.rows)} rows (${num(t.omitted.records)} records, ${num(t.omitted.bytes)} bytes) not shown, to keep this page small: stream-inspect dump lists every record …</div>`,
    );
  for (const r of t.tail) parts.push(rowHtml(r));
  const e = d.verdict.error;
  if (e)
    parts.push(
      `<div class="rec-error" id="row-error">${hx(e.offset, 8)} — the reader stopped here: ${esc(e.ruleId)} at offset ${num(e.offset)}${e.recordIndex !== undefined ? `, record #${e.recordIndex}` : ''}</div>`,
    );
  parts.push('</div></section>');
  return parts.join('');
}

function machineSection(d: ReportData): string {
  const m = d.machine;
  const part = (p: { title: string; lines: string[] }) => `<h3>${esc(p.title)}</h3><pre>${esc(p.lines.join('\n'))}</pre>`;
  const devices = m.devices.map((p) => `<details class="device"><summary>${esc(p.title)}</summary><pre>${esc(p.lines.join('\n'))}</pre></details>`);
  const body =
    m.vcpus.length + m.cpu.length + m.devices.length === 0
      ? '<p class="note">No vCPU, CPU policy or HVM device state in this stream (HVM_CONTEXT, X86_PV_VCPU_*, X86_CPUID_POLICY, X86_MSR_POLICY).</p>'
      : `<p class="note">Saved vCPU registers and device state, decoded with Xen 4.17's public headers; zero fields hidden. Click a device for its fields.</p>` +
        `${m.vcpus.map(part).join('')}${m.cpu.length ? `<h3>CPU policy</h3>${m.cpu.map(part).join('')}` : ''}${devices.length ? `<h3>Devices and per-vCPU state</h3>${devices.join('')}` : ''}` +
        (m.omitted ? `<p class="note">${num(m.omitted)} more parts left out.</p>` : '');
  return `<section id="machine"><h2>Machine</h2>${body}</section>`;
}

export function renderReportHtml(d: ReportData, meta: { generator?: string } = {}): string {
  const title = `Stream report — ${d.input}`;
  const generator = meta.generator ?? 'xen-migration-stream stream-inspect report';
  return [
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(reportCsp())}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${esc(generator)}">`,
    `<title>${esc(title)}</title><style>${REPORT_CSS}</style></head><body><main>`,
    `<header><h1>Migration stream report</h1><div class="sub"><span class="mono" id="input-name">${esc(d.input)}</span> · reader: dialect ${esc(d.reader.dialect)}, mode ${esc(d.reader.mode)}, ${d.reader.strict ? 'strict' : 'lenient'}</div>`,
    '<nav><a href="#verdict">verdict</a><a href="#overview">overview</a><a href="#timeline">timeline</a><a href="#passes">passes</a><a href="#bytes">bytes by type</a><a href="#pfn-map">pfn map</a><a href="#machine">machine</a><a href="#headers">headers &amp; config</a><a href="#records">records</a></nav></header>',
    verdictSection(d),
    overviewSection(d),
    timelineSection(d),
    chartsSection(d),
    pfnSection(d),
    machineSection(d),
    headersSection(d),
    recordsSection(d),
    `<footer>Generated by ${esc(generator)}. Self-contained: no scripts, styles or fonts are loaded from anywhere.</footer>`,
    `</main><script>${REPORT_SCRIPT}</script></body></html>\n`,
  ].join('');
}
