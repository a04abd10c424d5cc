/**
 * Bar charts as SVG: pages per pass (stacked: sent for the first time /
 * resent; postcopy passes in their own colour) and bytes by record type
 * (horizontal, one bar per layer and type).
 */
import type { TypeCount } from '../reader/summary.js';
import { PASS_COLORS, typeColor } from './colors.js';
import { bytesShort, countShort, esc, num, px } from './html.js';
import type { PassStat } from './passes.js';

/** A "nice" axis maximum and step for `max`. */
function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

export function passesSvg(passes: readonly PassStat[], total: number): string {
  const W = 540;
  const H = 260;
  const left = 58;
  const right = 10;
  const topPad = 22;
  const bottomPad = 40;
  const plotW = W - left - right;
  const plotH = H - topPad - bottomPad;
  const n = passes.length;
  const { top, step } = niceScale(Math.max(0, ...passes.map((p) => p.pages)));
  const y = (v: number) => topPad + plotH - (v / top) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg id="chart-passes" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Pages per pass: ${n} passes${total > n ? ` of ${total}` : ''}">`,
  );
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(
      `<line class="grid" x1="${left}" y1="${px(y(v))}" x2="${W - right}" y2="${px(y(v))}"/><text class="tick-label" x="${left - 6}" y="${px(y(v) + 4)}" text-anchor="end">${esc(countShort(v))}</text>`,
    );
  }
  parts.push(`<text class="axis-label" transform="translate(14 ${topPad + plotH / 2}) rotate(-90)" text-anchor="middle">pages with data</text>`);
  const slot = plotW / Math.max(1, n);
  const bw = Math.min(64, slot * 0.72);
  const labelEvery = Math.max(1, Math.ceil(n / 24));
  passes.forEach((p, i) => {
    const cx = left + slot * (i + 0.5);
    const fresh = p.pages - p.resentPages;
    const yFresh = y(fresh);
    const yAll = y(p.pages);
    const title = `pass ${p.pass}${p.checkpoint ? ` (checkpoint ${p.checkpoint})` : ''}${p.postcopy ? ' (postcopy)' : ''}: ${num(p.pages)} pages with data, ${num(p.resentPages)} of them resent; ${num(p.pfns)} pfn entries in ${num(p.records)} records`;
    parts.push(
      `<g class="bar" data-pass="${p.pass}" data-pages="${p.pages}" data-resent="${p.resentPages}"><title>${esc(title)}</title>` +
        `<rect class="fresh" x="${px(cx - bw / 2)}" y="${px(yFresh)}" width="${px(bw)}" height="${px(topPad + plotH - yFresh)}" fill="${p.postcopy ? PASS_COLORS.postcopy : PASS_COLORS.fresh}"/>` +
        (p.resentPages > 0
          ? `<rect class="resent" x="${px(cx - bw / 2)}" y="${px(yAll)}" width="${px(bw)}" height="${px(yFresh - yAll)}" fill="${PASS_COLORS.resent}"/>`
          : '') +
        (n <= 24 ? `<text class="bar-value" x="${px(cx)}" y="${px(yAll - 5)}" text-anchor="middle">${esc(countShort(p.pages))}</text>` : '') +
        (i % labelEvery === 0 ? `<text class="tick-label" x="${px(cx)}" y="${topPad + plotH + 15}" text-anchor="middle">${p.pass}</text>` : '') +
        '</g>',
    );
  });
  parts.push(`<line class="axis" x1="${left}" y1="${topPad + plotH}" x2="${W - right}" y2="${topPad + plotH}"/>`);
  parts.push(
    `<text class="axis-label" x="${left + plotW / 2}" y="${H - 6}" text-anchor="middle">pass${total > n ? ` (first ${n} of ${num(total)})` : ''}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

export function bytesByTypeSvg(types: readonly TypeCount[], totalBytes: number): string {
  const rows = [...types].sort((a, b) => b.bytes - a.bytes);
  const W = 540;
  const rowH = 22;
  const left = 222;
  const valueW = 160;
  const plotW = W - left - valueW;
  const H = rows.length * rowH + 12;
  const max = Math.max(1, ...rows.map((t) => t.bytes));
  const parts: string[] = [];
  parts.push(`<svg id="chart-bytes" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Bytes by record type: ${rows.length} types">`);
  rows.forEach((t, i) => {
    const y0 = 6 + i * rowH;
    const w = Math.max(1, (t.bytes / max) * plotW);
    const pct = totalBytes > 0 ? (100 * t.bytes) / totalBytes : 0;
    const pctText = pct >= 0.1 ? `${pct.toFixed(1)}%` : '<0.1%';
    parts.push(
      `<g class="bar" data-layer="${esc(t.layer)}" data-name="${esc(t.name)}" data-bytes="${t.bytes}"><title>${esc(`${t.layer} ${t.name}: ${num(t.records)} records, ${num(t.bytes)} bytes (${pctText})`)}</title>` +
        `<text class="bar-name" x="${left - 6}" y="${y0 + 14}" text-anchor="end"><tspan class="layer-tag">${esc(t.layer)}</tspan> ${esc(t.name)}</text>` +
        `<rect x="${left}" y="${y0 + 3}" width="${px(w)}" height="${rowH - 7}" fill="${typeColor(t.layer as 'libxc', t.name)}"/>` +
        `<text class="bar-value" x="${px(left + w + 6)}" y="${y0 + 14}">${esc(`${bytesShort(t.bytes)} · ${pctText} · ${countShort(t.records)} rec`)}</text></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
