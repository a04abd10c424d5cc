/** The whole-file result as text: the rows table, one table per extra size, the targets' verdicts, references and notes. */
import { markdownTable, mib, table } from '../lib/report.js';
import type { FilesResult, RowResult, TargetResult } from './types.js';

export function filesTable(rows: readonly RowResult[]): string[][] {
  const out: string[][] = [['command', 'runs', 'median s', 'min–max s', 'MB/s', 'vs floor', 'floor', 'net of start-up', 'peak RSS MiB', 'RSS − floor MiB']];
  for (const r of rows) {
    if (!r.summary) {
      out.push([`${r.label} — ${r.skipped ?? r.failed ?? 'no samples'}`, '0', '', '', '', '', '', '', '', '']);
      continue;
    }
    const s = r.summary;
    const ratio = r.ratio === undefined ? '' : r.ratioKind === 'time' ? `${r.ratio.toFixed(2)}× time` : `${r.ratio.toFixed(2)}× thr.`;
    out.push([
      r.failed ? `${r.label} (${r.failed})` : r.label,
      String(s.runs),
      (s.medianMs / 1000).toFixed(3),
      `${(s.minMs / 1000).toFixed(3)}–${(s.maxMs / 1000).toFixed(3)}`,
      r.mbPerSecond === undefined ? '' : r.mbPerSecond.toFixed(0),
      ratio,
      r.floor ?? '',
      r.ratioNetOfStartup === undefined ? '' : `${r.ratioNetOfStartup.toFixed(2)}×`,
      mib(s.rssKiB),
      r.rssOverFloorKiB === undefined ? '' : `${r.rssOverFloorKiB >= 0 ? '+' : ''}${mib(r.rssOverFloorKiB)}`,
    ]);
  }
  return out;
}

export function verdictText(t: TargetResult): string {
  return t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED';
}

export function targetsTable(targets: readonly TargetResult[]): string[][] {
  const out: string[][] = [['target', 'bound', 'measured', 'verdict']];
  for (const t of targets) out.push([t.note ? `${t.name} (${t.note})` : t.name, t.target, t.value, verdictText(t)]);
  return out;
}

export function renderFiles(r: FilesResult, markdown = false): string {
  const t = markdown ? markdownTable : table;
  const load = `load ${r.loadBefore.join(' ')} → ${r.loadAfter.join(' ')}`;
  let s = `\nwhole-file benchmarks: ${r.size} PV stream (${r.bytes} bytes), ${r.runs} runs each, interleaved; MB/s = 10^6 bytes/s of the stream; ${load}\n\n`;
  s += t(filesTable(r.rows));
  for (const run of r.sizes) {
    if (run.fromMainTable) continue;
    s += `\nat ${run.size} (${run.bytes} bytes), ${run.runs} runs each, interleaved:\n\n${t(filesTable(run.rows))}`;
  }
  s += `\ntargets (issue #15; met / MISSED / n/a = not scored):\n\n${t(targetsTable(r.targets))}`;
  if (r.references.length) s += '\nfor reference:\n';
  for (const x of r.references) s += `  ${x.name}: ${x.value}\n`;
  for (const n of r.notes) s += `note: ${n}\n`;
  return s;
}

/** Comparisons shown next to the targets (not targets themselves). */
export function references(rows: readonly RowResult[]): FilesResult['references'] {
  const get = (id: string) => rows.find((r) => r.id === id)?.summary;
  const out: FilesResult['references'] = [];
  const ratio = (name: string, a: string, b: string) => {
    const x = get(a);
    const y = get(b);
    if (x && y) out.push({ name, value: `${(x.medianMs / y.medianMs).toFixed(2)}×` });
  };
  ratio('extract time vs user-space copy (node read + write, 1 MiB)', 'extract', 'user-copy');
  ratio('cat | verify - time vs cat | node read floor', 'pipe-verify', 'pipe-read-floor');
  ratio('cat | node read floor vs cat | cat > /dev/null', 'pipe-read-floor', 'pipe-floor');
  ratio('CLI start-up (verify of a 16-page stream) vs node -e 0', 'startup', 'node-startup');
  ratio('large record: send → receive vs cat | verify -', 'migrate-record', 'record-pipe-verify');
  for (const r of rows) {
    if (r.ratioNetOfStartup !== undefined) out.push({ name: `${r.id} vs its floor, net of start-up`, value: `${r.ratioNetOfStartup.toFixed(2)}×` });
  }
  return out;
}
