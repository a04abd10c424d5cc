/** Result files and plain-text tables shared by the bench scripts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A text table: the first row is the header; columns after the first are right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1)) out.push(line(r));
  return `${out.join('\n')}\n`;
}

/** The same rows as a Markdown table (first column left-aligned, the rest right-aligned). */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const cell = (c: string) => c.replace(/\|/g, '\\|');
  const out = [`| ${rows[0].map(cell).join(' | ')} |`, `|${rows[0].map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows.slice(1)) out.push(`| ${r.map(cell).join(' | ')} |`);
  return `${out.join('\n')}\n`;
}

/** `bench/results/<kind>-<label>.json`, where label defaults to a UTC timestamp. Returns the path. */
export function writeResult(dir: string, kind: string, label: string | undefined, value: unknown): string {
  mkdirSync(dir, { recursive: true });
  const stamp = label ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const path = join(dir, `${kind}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

/** Bytes per second in human units (decimal: 1 GB/s = 10^9 B/s). */
export function rate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond)) return '-';
  if (bytesPerSecond >= 1e9) return `${(bytesPerSecond / 1e9).toFixed(bytesPerSecond >= 1e11 ? 0 : 1)} GB/s`;
  if (bytesPerSecond >= 1e6) return `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
  return `${(bytesPerSecond / 1e3).toFixed(1)} kB/s`;
}

export function opsText(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k`;
  return ops.toFixed(1);
}

export function mib(kib: number | undefined): string {
  return kib === undefined ? '-' : `${(kib / 1024).toFixed(1)}`;
}
