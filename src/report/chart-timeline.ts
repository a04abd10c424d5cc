/**
 * The timeline as SVG: every segment to scale by bytes (type colour, with a
 * band in the layer's colour above), then the same segments one cell each in
 * order (so small records show), markers for checkpoints, postcopy phases and
 * the error, and a byte axis.
 */
import { LAYER_COLORS, typeColor } from './colors.js';
import { bytesShort, esc, num, px } from './html.js';
import type { Timeline, TimelineSegment } from './timeline.js';

const W = 1100;
const LEFT = 92;
const PLOT = W - LEFT - 12;
/** Markers are labelled when there are at most this many (else only their tooltips). */
const LABELLED_MARKERS = 8;
/** The in-order strip is drawn when segments fit as cells at least this wide. */
const MIN_CELL = 1.5;

function segTitle(s: TimelineSegment): string {
  const what = s.layer === 'header' || s.layer === 'trailing' ? s.name : `${s.layer} ${s.name}${s.mixed ? ' and others (merged)' : ''}`;
  const recs = s.records > 1 ? `, ${num(s.records)} records from #${s.firstIndex}` : s.firstIndex !== undefined ? `, record #${s.firstIndex}` : '';
  return `${what}${s.pass !== undefined ? ` (pass ${s.pass})` : ''}: offset ${num(s.offset)}, ${num(s.length)} bytes${recs}`;
}

export function timelineSvg(t: Timeline): string {
  const total = Math.max(1, t.totalBytes);
  const x = (off: number) => LEFT + (off / total) * PLOT;
  const inOrder = t.segments.length > 0 && PLOT / t.segments.length >= MIN_CELL;
  const labelled = t.markers.length <= LABELLED_MARKERS;
  const top = labelled && t.markers.length ? (t.markers.length > 1 ? 34 : 22) : 8;
  const scaleY = top;
  const scaleH = 40;
  const orderY = scaleY + scaleH + 34;
  const orderH = 26;
  const bottom = (inOrder ? orderY + orderH : scaleY + scaleH) + 26;
  const parts: string[] = [];
  parts.push(
    `<svg id="chart-timeline" class="chart" viewBox="0 0 ${W} ${bottom}" role="img" aria-label="Timeline of the stream: ${t.segments.length} segments, ${num(t.totalBytes)} bytes">`,
  );
  parts.push(`<text class="axis-label" x="${LEFT - 8}" y="${scaleY + scaleH / 2 + 4}" text-anchor="end">to scale</text>`);
  parts.push(`<rect x="${LEFT}" y="${scaleY + 6}" width="${PLOT}" height="${scaleH - 6}" fill="#f3f5f7"/>`);
  for (const s of t.segments) {
    const x0 = x(s.offset);
    const w = Math.max(0.6, x(s.offset + s.length) - x0);
    const fill = typeColor(s.layer, s.name);
    parts.push(
      `<g class="seg" data-layer="${esc(s.layer)}" data-name="${esc(s.name)}"><title>${esc(segTitle(s))}</title>` +
        `<rect class="layer-band" x="${px(x0)}" y="${scaleY}" width="${px(w)}" height="5" fill="${LAYER_COLORS[s.layer]}"/>` +
        `<rect x="${px(x0)}" y="${scaleY + 6}" width="${px(w)}" height="${scaleH - 6}" fill="${fill}"${s.mixed ? ' fill-opacity="0.75"' : ''}/>` +
        // Pass boundaries inside PAGE_DATA: a white edge, and the pass number when there is room.
        (s.pass !== undefined && s.pass > 1 ? `<rect class="pass-edge" x="${px(x0)}" y="${scaleY + 6}" width="1" height="${scaleH - 6}" fill="#fff"/>` : '') +
        (s.pass !== undefined && w >= 34
          ? `<text class="seg-label" x="${px(x0 + w / 2)}" y="${scaleY + 6 + (scaleH - 6) / 2 + 4}" text-anchor="middle">pass ${s.pass}</text>`
          : '') +
        '</g>',
    );
  }
  // Byte axis under the to-scale strip.
  const axisY = scaleY + scaleH;
  parts.push(`<line class="axis" x1="${LEFT}" y1="${axisY}" x2="${LEFT + PLOT}" y2="${axisY}"/>`);
  for (let i = 0; i <= 4; i++) {
    const off = (total * i) / 4;
    const tx = LEFT + (PLOT * i) / 4;
    parts.push(
      `<line class="tick" x1="${px(tx)}" y1="${axisY}" x2="${px(tx)}" y2="${axisY + 4}"/><text class="tick-label" x="${px(tx)}" y="${axisY + 16}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">${esc(i === 0 ? '0' : bytesShort(Math.round(off)))}</text>`,
    );
  }
  if (inOrder) {
    const cw = PLOT / t.segments.length;
    parts.push(`<text class="axis-label" x="${LEFT - 8}" y="${orderY + orderH / 2 + 4}" text-anchor="end">in order</text>`);
    t.segments.forEach((s, i) => {
      parts.push(
        `<g class="cell"><title>${esc(segTitle(s))}</title><rect x="${px(LEFT + i * cw)}" y="${orderY}" width="${px(Math.max(0.5, cw - (cw > 4 ? 1 : 0)))}" height="${orderH}" fill="${typeColor(s.layer, s.name)}"/></g>`,
      );
    });
    parts.push(`<text class="note" x="${LEFT}" y="${orderY + orderH + 16}">one cell per run of records of one type, not to scale</text>`);
  }
  // Markers are byte positions: they belong to the to-scale strip only.
  const markBottom = scaleY + scaleH;
  t.markers.forEach((m, i) => {
    const mx = x(m.offset);
    const cls = `marker marker-${m.kind}`;
    let label = '';
    // Labels alternate between two rows so neighbouring markers stay readable.
    const markTop = labelled ? 4 + (i % 2) * 12 : scaleY;
    if (labelled) {
      const anchor = mx > LEFT + PLOT * 0.8 ? 'end' : 'start';
      label = `<text class="marker-label" x="${px(anchor === 'end' ? mx - 3 : mx + 3)}" y="${markTop + 9}" text-anchor="${anchor}">${esc(m.label)}</text>`;
    }
    parts.push(
      `<g class="${cls}" data-kind="${m.kind}" data-offset="${m.offset}"><title>${esc(`${m.label} (offset ${num(m.offset)})`)}</title><line x1="${px(mx)}" y1="${markTop}" x2="${px(mx)}" y2="${markBottom}"/>${label}</g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
