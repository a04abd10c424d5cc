/**
 * The pfn map as an SVG heat strip: one cell per bucket of pfns, wrapped into
 * rows. Grey: pfns sent only as entries without data (XTAB, BROKEN…); else a
 * ramp from blue (each pfn sent once) to red (the stream's highest average
 * sends per pfn). The cell is paler when fewer of its entries carried data.
 */
import { HEAT_COLORS } from './colors.js';
import { esc, hx, num, px } from './html.js';
import type { PfnBucket, PfnMap } from './pfn-heat.js';

const W = 1100;
const LEFT = 92;
const COLS = 128;
const CELL_H = 16;

/** Colour ramp for "times each pfn was sent", from once (blue) to the stream's most (red). */
const RAMP = [HEAT_COLORS.once, '#9fc5e8', HEAT_COLORS.twice, HEAT_COLORS.more];

function mix(a: string, b: string, t: number): string {
  const ch = (c: string, i: number) => parseInt(c.slice(1 + 2 * i, 3 + 2 * i), 16);
  return `#${[0, 1, 2]
    .map((i) =>
      Math.round(ch(a, i) + (ch(b, i) - ch(a, i)) * t)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** The ramp at t in [0, 1]. */
export function rampColor(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  return mix(RAMP[i], RAMP[i + 1], x - i);
}

/** Highest average sends per pfn over the buckets (at least 1). */
export function maxSendsPerPfn(map: PfnMap): number {
  let max = 1;
  for (const b of map.buckets) if (b.distinct > 0) max = Math.max(max, b.entries / b.distinct);
  return max;
}

export function heatColor(b: PfnBucket, maxPerPfn: number): { fill: string; opacity: number; label: string } {
  if (b.entries === 0) return { fill: HEAT_COLORS.none, opacity: 1, label: 'not sent' };
  if (b.dataEntries === 0) return { fill: HEAT_COLORS.noData, opacity: 1, label: 'sent without data' };
  const perPfn = b.entries / b.distinct;
  const opacity = 0.45 + 0.55 * (b.dataEntries / b.entries);
  const t = maxPerPfn > 1 ? (perPfn - 1) / (maxPerPfn - 1) : 0;
  return { fill: rampColor(t), opacity, label: `each pfn sent ${perPfn.toFixed(2)}× on average` };
}

export function pfnMapSvg(map: PfnMap): string {
  const n = map.buckets.length;
  const cols = Math.min(COLS, Math.max(1, n));
  const rows = Math.ceil(n / cols);
  const cw = (W - LEFT - 8) / cols;
  const H = rows * (CELL_H + 2) + 6;
  const maxPerPfn = maxSendsPerPfn(map);
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
    const { fill, opacity, label } = heatColor(b, maxPerPfn);
    const range = map.bucketSize === 1 ? `pfn ${hx(first)}` : `pfns ${hx(first)}–${hx(last)}`;
    const title =
      b.entries === 0
        ? `${range}: not sent`
        : `${range}: ${label}; ${num(b.distinct)} distinct pfns, ${num(b.entries)} entries, ${num(b.dataEntries)} with data`;
    parts.push(
      `<rect class="cell" data-entries="${b.entries}" x="${px(LEFT + c * cw)}" y="${3 + r * (CELL_H + 2)}" width="${px(Math.max(0.5, cw - (cw >= 4 ? 1 : 0)))}" height="${CELL_H}" fill="${fill}"${opacity < 1 ? ` fill-opacity="${opacity.toFixed(2)}"` : ''}><title>${esc(title)}</title></rect>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
