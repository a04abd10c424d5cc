/**
 * QEMU's savevm stream, as found in EMULATOR_CONTEXT (QEMU's
 * migration/savevm.c, scripts/analyze-migration.py). Big-endian:
 *   u32 magic "QEVM", u32 version (3; 2 is the old compatible one), then
 *   sections until QEMU_VM_EOF (0x00), optionally followed by a VMDESC
 *   (0x06, u32 length, JSON describing every device's fields).
 * A section: u8 type, u32 section_id; START/FULL add u8 len + idstr,
 * u32 instance_id, u32 version_id; then the device's data; then (machine
 * types since 2.4) a footer u8 0x7e + u32 section_id. CONFIGURATION (0x07) is
 * u32 length + machine name.
 *
 * Sections carry no length: a device's data is only self-delimiting to the
 * device's own VMState description. Xen's qemu-xen writes the blob with
 * xen-save-devices-state (qemu_save_device_state): FULL sections with
 * footers, no RAM, no VMDESC. So a section ends where its footer is followed
 * by something that parses as the next section or the EOF; without footers,
 * where the next plausible header starts. Both are searches, and the result
 * says which was used.
 */

export const QEMU_VM_FILE_MAGIC = 0x5145564d;

export const QEMU_SECTION_TYPES: Readonly<Record<number, string>> = Object.fromEntries([
  [0x00, 'EOF'],
  [0x01, 'START'],
  [0x02, 'PART'],
  [0x03, 'END'],
  [0x04, 'FULL'],
  [0x05, 'SUBSECTION'],
  [0x06, 'VMDESCRIPTION'],
  [0x07, 'CONFIGURATION'],
  [0x08, 'COMMAND'],
  [0x7e, 'FOOTER'],
]);

export interface QemuSection {
  type: 'START' | 'PART' | 'END' | 'FULL';
  id: number;
  /** idstr and instance (START/FULL only; a PART/END section is named by its START's id). */
  name: string;
  instance: number;
  version: number;
  /** Offset of the section's first byte (its type) in the blob. */
  offset: number;
  /** The device's data: offset and length in the blob (header and footer excluded). */
  dataOffset: number;
  size: number;
  /** The data ended at a footer (exact) rather than at the next plausible header (a guess). */
  footer: boolean;
}

export interface QemuSavevm {
  version: number;
  /** The machine type a CONFIGURATION section names (full migrations only). */
  configuration?: string;
  sections: QemuSection[];
  /** Offset of QEMU_VM_EOF, when reached. */
  eof?: number;
  /** QEMU's JSON description of the devices (VMDESC), when the blob carries one. */
  vmdesc?: unknown;
  /** Why parsing stopped before EOF, with the blob offset. */
  problem?: { offset: number; message: string };
}

class Cursor {
  private readonly dv: DataView;
  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  has(pos: number, n: number): boolean {
    return pos >= 0 && pos + n <= this.b.length;
  }
  u8(pos: number): number {
    return this.b[pos];
  }
  u32(pos: number): number {
    return this.dv.getUint32(pos, false);
  }
}

interface Header {
  type: QemuSection['type'];
  id: number;
  name: string;
  instance: number;
  version: number;
  /** Where the header ends (the data starts). */
  end: number;
}

const KINDS: Record<number, QemuSection['type']> = { 1: 'START', 2: 'PART', 3: 'END', 4: 'FULL' };

/** A section header at `pos`, or undefined when the bytes there cannot be one. */
function headerAt(c: Cursor, pos: number, names: Map<number, string>): Header | undefined {
  if (!c.has(pos, 5)) return undefined;
  const type = KINDS[c.u8(pos)];
  if (!type) return undefined;
  const id = c.u32(pos + 1);
  if (type === 'PART' || type === 'END') {
    // Only sections a START opened continue (names holds START ids only).
    const name = names.get(id);
    return name === undefined ? undefined : { type, id, name, instance: 0, version: 0, end: pos + 5 };
  }
  if (!c.has(pos, 6)) return undefined;
  const len = c.u8(pos + 5);
  if (len === 0 || !c.has(pos + 6, len + 8)) return undefined;
  const idstr = c.b.subarray(pos + 6, pos + 6 + len);
  if (!idstr.every((x) => x >= 0x20 && x < 0x7f)) return undefined;
  const at = pos + 6 + len;
  return { type, id, name: Buffer.from(idstr).toString('latin1'), instance: c.u32(at), version: c.u32(at + 4), end: at + 8 };
}

/** Whether what follows a section is the next section, the EOF or the end of the blob. */
function nextIsPlausible(c: Cursor, pos: number, names: Map<number, string>): boolean {
  if (pos === c.b.length) return true;
  const t = c.u8(pos);
  if (t === 0x00) return true;
  return headerAt(c, pos, names) !== undefined;
}

/** Where the data of section `h` ends: at its footer (exact) or before the next plausible header (a guess). */
function dataEnd(c: Cursor, h: Header, names: Map<number, string>): { end: number; next: number; footer: boolean } | undefined {
  for (let p = h.end; p + 5 <= c.b.length; p++) {
    if (c.u8(p) === 0x7e && c.u32(p + 1) === h.id && nextIsPlausible(c, p + 5, names)) return { end: p, next: p + 5, footer: true };
  }
  const eof = lastEofCandidate(c);
  for (let p = h.end; p < c.b.length; p++) {
    if (p === eof) return { end: p, next: p, footer: false };
    // Without a footer, only a new section with a higher id is taken as a boundary:
    // section ids are handed out in registration order, which is the save order.
    const next = c.u8(p) === 0x01 || c.u8(p) === 0x04 ? headerAt(c, p, names) : undefined;
    if (next && next.id > h.id) return { end: p, next: p, footer: false };
  }
  return undefined;
}

/** Without footers the EOF byte is the last byte, or the one before a VMDESC. */
function lastEofCandidate(c: Cursor): number {
  const n = c.b.length;
  for (let p = 0; p + 5 <= n; p++) if (c.u8(p) === 0x00 && c.u8(p + 1) === 0x06 && p + 6 + c.u32(p + 2) === n) return p;
  return n - 1;
}

/** Parse a QEVM blob; undefined when it does not start with QEMU's magic (it stays a blob). */
export function parseQemuSavevm(blob: Uint8Array): QemuSavevm | undefined {
  const c = new Cursor(blob);
  if (!c.has(0, 8) || c.u32(0) !== QEMU_VM_FILE_MAGIC) return undefined;
  const out: QemuSavevm = { version: c.u32(4), sections: [] };
  const names = new Map<number, string>();
  let pos = 8;
  if (c.has(pos, 5) && c.u8(pos) === 0x07) {
    const len = c.u32(pos + 1);
    if (!c.has(pos + 5, len)) return { ...out, problem: { offset: pos, message: `CONFIGURATION of ${len} bytes runs past the blob` } };
    out.configuration = Buffer.from(blob.subarray(pos + 5, pos + 5 + len)).toString('latin1');
    pos += 5 + len;
  }
  while (pos < blob.length) {
    if (c.u8(pos) === 0x00) {
      out.eof = pos;
      readVmdesc(c, pos + 1, out);
      return out;
    }
    const h = headerAt(c, pos, names);
    if (!h) return { ...out, problem: { offset: pos, message: `no section header here (byte 0x${c.u8(pos).toString(16)})` } };
    if (h.type === 'START') names.set(h.id, h.name);
    const e = dataEnd(c, h, names);
    if (!e) return { ...out, problem: { offset: pos, message: `section ${h.name}: no end found` } };
    const { end: dataOffset, ...named } = h;
    out.sections.push({ ...named, offset: pos, dataOffset, size: e.end - dataOffset, footer: e.footer });
    pos = e.next;
  }
  return { ...out, problem: { offset: pos, message: 'the blob ends before QEMU_VM_EOF' } };
}

function readVmdesc(c: Cursor, pos: number, out: QemuSavevm): void {
  if (pos === c.b.length) return;
  if (c.u8(pos) !== 0x06 || !c.has(pos, 5) || !c.has(pos + 5, c.u32(pos + 1))) {
    out.problem = { offset: pos, message: `${c.b.length - pos} bytes after QEMU_VM_EOF that are not a VMDESC` };
    return;
  }
  const text = Buffer.from(c.b.subarray(pos + 5, pos + 5 + c.u32(pos + 1))).toString('utf8');
  try {
    out.vmdesc = JSON.parse(text);
  } catch {
    out.problem = { offset: pos + 5, message: 'VMDESC is not valid JSON' };
  }
}

/** QEMU's description of one section's fields, from the VMDESC (`devices[]` by name and instance). */
export function vmdescOf(s: QemuSavevm, section: Pick<QemuSection, 'name' | 'instance'>): unknown {
  const devices = (s.vmdesc as { devices?: Array<{ name?: string; instance_id?: number }> } | undefined)?.devices;
  return devices?.find((d) => d.name === section.name && d.instance_id === section.instance);
}
