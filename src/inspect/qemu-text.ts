/** EMULATOR_CONTEXT in words for `dump`: QEMU's savevm sections when the blob is QEMU's, else the blob's size. */
import type { EmulatorContextBody } from '../codec/bodies/libxl.js';
import { parseQemuSavevm, type QemuSavevm, vmdescOf } from '../codec/machine/qemu-savevm.js';
import { EMULATOR_IDS } from '../format/constants.js';
import { asciiPreview, grouped, hex } from './text-format.js';

function qemuSummary(q: QemuSavevm): string {
  const footers = q.sections.filter((s) => s.footer).length;
  const how = footers === q.sections.length ? 'sizes from their footers' : footers ? 'some sizes found by scanning' : 'no footers: sizes found by scanning';
  return `QEMU savevm v${q.version}${q.configuration ? ` machine ${JSON.stringify(q.configuration)}` : ''}, ${q.sections.length} sections${q.sections.length ? ` (${how})` : ''}${q.vmdesc ? ', with VMDESC' : ''}${q.problem ? `; stopped at blob offset ${q.problem.offset}: ${q.problem.message}` : ''}`;
}

export function emulatorContextText(body: EmulatorContextBody, keep: number): { summary: string; details: string[] } {
  const head = `emulator ${body.emulatorId} (${EMULATOR_IDS[body.emulatorId] ?? 'reserved'}), index ${body.index}, blob ${grouped(body.blob.length)} bytes`;
  const q = parseQemuSavevm(body.blob);
  if (!q) return { summary: `${head} starting "${asciiPreview(body.blob, 4)}"`, details: [] };
  const width = Math.max(0, ...q.sections.map((s) => s.name.length + String(s.instance).length + 2));
  const details = q.sections.slice(0, keep * 8).map((s) => {
    const desc = vmdescOf(q, s) as { vmsd_name?: string } | undefined;
    return `section ${String(s.id).padStart(3)} ${s.type.padEnd(5)} ${`${s.name}[${s.instance}]`.padEnd(width)} version ${String(s.version).padEnd(3)} ${grouped(s.size).padStart(6)} bytes at ${hex(s.dataOffset)}${desc?.vmsd_name ? ` (${desc.vmsd_name})` : ''}`;
  });
  if (q.sections.length > keep * 8) details.push(`… (+${q.sections.length - keep * 8} more sections)`);
  return { summary: `${head}: ${qemuSummary(q)}`, details };
}
