/**
 * The pfn map as an SVG heat strip: one cell per bucket of pfns, wrapped into
 * rows. Grey: pfns sent only as entries without data (XTAB, BROKEN…); blue:
 * sent once; amber: resent (up to twice on average); red: more. The cell is
 * paler when fewer of its entries carried data.
 */
import { HEAT_COLORS } from './colors.js';
import { esc, hx, num, px } from './html.js';
import type { PfnBucket, PfnMap } from './pfn-heat.js';

const W = 1100;
const LEFT = 92;
const COLS = 128;
const CELL_H = 16;

export function heatColor(b: PfnBucket): { fill: string; opacity: number; label: string } {
  if (b.entries === 0) return { fill: HEAT_COLORS.none, opacity: 1, label: 'not sent' };
  if (b.dataEntries === 0) return { fill: HEAT_COLORS.noData, opacity: 1, label: 'sent without data' };
  const perPfn = b.entries / b.distinct;
  const opacity = 0.45 + 0.55 * (b.dataEntries / b.entries);
  if (perPfn <= 1) return { fill: HEAT_COLORS.once, opacity, label: 'sent once' };
  if (perPfn <= 2) return { fill: HEAT_COLORS.twice, opacity, label: 'resent' };
  return { fill: HEAT_COLORS.more, opacity, label: 'resent often' };
}

export function pfnMapSvg(map: PfnMap): string {
  const n = map.buckets.length;
  const cols = Math.min(COLS, Math.max(1, n));
  const rows = Math.ceil(n / cols);
  const cw = (W - LEFT - 8) / cols;
  const H = rows * (CELL_H + 2) + 6;
  const parts: string[] = [];
  parts.push(`<svg id="chart-pfn" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="pfn map: ${n} cells of ${num(map.bucketSize)} pfns">`);
  for (let r = 0; r < rows; r++) {
    const y = 3 + r * (CELL_H + 2);
    parts.push(`<text class="tick-label" x="${LEFT - 6}" y="${y + CELL_H - 4}" text-anchor="end">${esc(hx(r * cols * map.bucketSize))}</text>`);
  }
  map.buckets.forEach((b, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const first = i * map.bucketSize;
    const last = first + map.bucketSize - 1;
    const { fill, opacity, label } = heatColor(b);
    const range = map.bucketSize === 1 ? `pfn ${hx(first)}` : `pfns ${hx(first)}–${hx(last)}`;
    const title = b.entries === 0 ? `${range}: not sent` : `${range}: ${label}; ${num(b.distinct)} distinct pfns, ${num(b.entries)} entries, ${num(b.dataEntries)} with data`;
    parts.push(`<rect class="cell" data-entries="${b.entries}" x="${px(LEFT + c * cw)}" y="${3 + r * (CELL_H + 2)}" width="${px(Math.max(0.5, cw - (cw >= 4 ? 1 : 0)))}" height="${CELL_H}" fill="${fill}"${opacity < 1 ? ` fill-opacity="${opacity.toFixed(2)}"` : ''}><title>${esc(title)}</title></rect>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
