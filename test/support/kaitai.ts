/**
 * Second implementation of the stream layout for tests: compiles
 * spec/xen-migration-stream.ksy with kaitai-struct-compiler (JS API) at test
 * time, evaluates the generated JavaScript in memory together with the
 * kaitai-struct runtime, and flattens the parse tree into a list of headers
 * and records (`kaitaiWalk`).
 *
 * Nothing here shares code with the project's own codec, on purpose: the only
 * knowledge of the format is in the .ksy file.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';

const require = createRequire(import.meta.url);

export const KSY_URL = new URL('../../spec/xen-migration-stream.ksy', import.meta.url);

// ---------------------------------------------------------------------------
// Minimal YAML loader. The repo has no YAML dependency, and the .ksy is kept
// to a small subset: block mappings / sequences (indentation by spaces),
// `- key: value` items, plain scalars, '…' and "…" scalars, flow sequences
// `[a, "b, c", 0x10]`, literal blocks `|`, and `#` comments. Scalars resolve
// like YAML's core schema for what the subset uses (ints, hex ints, booleans,
// null); mapping keys become strings, as they do with js-yaml.
// ---------------------------------------------------------------------------

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string; // without indentation and trailing comment
  raw: string; // full original line (for literal blocks)
  no: number;
}

function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote !== null) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || s[i - 1] === ' ')) {
      return s.slice(0, i).trimEnd();
    }
  }
  return s.trimEnd();
}

function parseQuoted(s: string, lineNo: number): { value: string; rest: string } {
  const q = s[0];
  let out = '';
  let i = 1;
  for (; i < s.length; i++) {
    const c = s[i];
    if (q === "'" && c === "'") {
      if (s[i + 1] === "'") {
        out += "'";
        i++;
        continue;
      }
      break;
    }
    if (q === '"' && c === '"') break;
    if (q === '"' && c === '\\') {
      const e = s[++i];
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '"': '"', '\\': '\\', '/': '/' };
      if (e === 'x') {
        out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (e !== undefined && e in map) {
        out += map[e];
      } else {
        throw new Error(`ksy line ${lineNo}: unsupported escape \\${e ?? ''}`);
      }
      continue;
    }
    out += c;
  }
  if (i >= s.length) throw new Error(`ksy line ${lineNo}: unterminated string`);
  return { value: out, rest: s.slice(i + 1).trim() };
}

function resolvePlain(s: string): YamlValue {
  if (/^-?[0-9]+$/.test(s)) return Number(s);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return Number.parseInt(s.slice(2), 16);
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === 'null' || s === '~' || s === '') return null;
  return s;
}

function parseFlowSeq(s: string, lineNo: number): YamlValue[] {
  const out: YamlValue[] = [];
  let rest = s.slice(1).trim();
  while (true) {
    if (rest.startsWith(']')) {
      if (rest.length > 1) throw new Error(`ksy line ${lineNo}: text after ]`);
      return out;
    }
    if (rest.startsWith('"') || rest.startsWith("'")) {
      const q = parseQuoted(rest, lineNo);
      out.push(q.value);
      rest = q.rest;
    } else {
      const m = /^[^,\]]*/.exec(rest);
      const item = m === null ? '' : m[0];
      out.push(resolvePlain(item.trim()));
      rest = rest.slice(item.length).trim();
    }
    if (rest.startsWith(',')) rest = rest.slice(1).trim();
    else if (!rest.startsWith(']')) throw new Error(`ksy line ${lineNo}: bad flow sequence`);
  }
}

function parseScalar(s: string, lineNo: number): YamlValue {
  if (s.startsWith('"') || s.startsWith("'")) {
    const q = parseQuoted(s, lineNo);
    if (q.rest !== '') throw new Error(`ksy line ${lineNo}: text after quoted scalar`);
    return q.value;
  }
  if (s.startsWith('[')) return parseFlowSeq(s, lineNo);
  if (s.startsWith('{') || s.startsWith('&') || s.startsWith('*') || s.startsWith('!') || s.startsWith('>')) {
    throw new Error(`ksy line ${lineNo}: YAML feature outside the supported subset: ${s}`);
  }
  return resolvePlain(s);
}

/** Splits `key: value` (key may be quoted); returns null when the line is not a mapping entry. */
function splitKey(text: string, lineNo: number): { key: string; value: string } | null {
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = parseQuoted(text, lineNo);
    if (!q.rest.startsWith(':')) return null;
    return { key: q.value, value: q.rest.slice(1).trim() };
  }
  const m = /^([^\s#-].*?):(?:\s+(.*))?$/.exec(text);
  if (m === null) return null;
  const key = resolvePlain(m[1]);
  return { key: String(key), value: (m[2] ?? '').trim() };
}

export function parseYamlSubset(src: string): YamlValue {
  const all = src.split(/\r?\n/);
  const lines: Line[] = [];
  for (let i = 0; i < all.length; i++) {
    const raw = all[i];
    if (/\t/.test(raw.match(/^\s*/)?.[0] ?? '')) throw new Error(`ksy line ${i + 1}: tab indentation`);
    const text = stripComment(raw.trim());
    lines.push({ indent: raw.length - raw.trimStart().length, text, raw, no: i + 1 });
  }
  let pos = 0;
  const skipBlank = (): void => {
    while (pos < lines.length && lines[pos].text === '') pos++;
  };

  // Literal block `|`: every following line more indented than `parentIndent` (or blank).
  function literal(parentIndent: number): string {
    const body: string[] = [];
    let blockIndent = -1;
    while (pos < lines.length) {
      const l = lines[pos];
      if (l.raw.trim() === '') {
        body.push('');
        pos++;
        continue;
      }
      if (l.indent <= parentIndent) break;
      if (blockIndent < 0) blockIndent = l.indent;
      body.push(l.raw.slice(blockIndent));
      pos++;
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    return `${body.join('\n')}\n`;
  }

  // Value after `key:` or `- `: inline scalar, literal block, or nested block.
  function valueAfter(inline: string, ownerIndent: number, lineNo: number): YamlValue {
    if (inline === '|') return literal(ownerIndent);
    if (inline !== '') return parseScalar(inline, lineNo);
    skipBlank();
    if (pos >= lines.length) return null;
    const next = lines[pos];
    // Sequences may sit at the key's own indentation (YAML allows it).
    if (next.indent > ownerIndent || (next.indent === ownerIndent && next.text.startsWith('- '))) {
      return block(next.indent);
    }
    return null;
  }

  function mapping(indent: number, into: { [key: string]: YamlValue }, firstText?: string, firstNo?: number): { [key: string]: YamlValue } {
    let pendingText = firstText;
    const pendingNo = firstNo ?? 0;
    while (true) {
      let text: string;
      let no: number;
      if (pendingText !== undefined) {
        text = pendingText;
        no = pendingNo;
        pendingText = undefined;
      } else {
        skipBlank();
        if (pos >= lines.length) break;
        const l = lines[pos];
        if (l.indent < indent) break;
        if (l.indent > indent) throw new Error(`ksy line ${l.no}: unexpected indentation`);
        if (l.text.startsWith('- ') || l.text === '-') break;
        text = l.text;
        no = l.no;
        pos++;
      }
      const kv = splitKey(text, no);
      if (kv === null) throw new Error(`ksy line ${no}: expected "key: value", got ${text}`);
      if (Object.hasOwn(into, kv.key)) throw new Error(`ksy line ${no}: duplicate key ${kv.key}`);
      into[kv.key] = valueAfter(kv.value, indent, no);
    }
    return into;
  }

  function sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    while (true) {
      skipBlank();
      if (pos >= lines.length) break;
      const l = lines[pos];
      if (l.indent !== indent || !(l.text.startsWith('- ') || l.text === '-')) break;
      pos++;
      const itemText = l.text === '-' ? '' : l.text.slice(2).trim();
      const itemIndent = indent + (l.raw.slice(indent).match(/^-\s+/)?.[0].length ?? 2);
      if (itemText === '') {
        out.push(valueAfter('', indent, l.no));
      } else if (splitKey(itemText, l.no) !== null && !itemText.startsWith('[')) {
        out.push(mapping(itemIndent, {}, itemText, l.no));
      } else {
        out.push(parseScalar(itemText, l.no));
      }
    }
    return out;
  }

  function block(indent: number): YamlValue {
    skipBlank();
    const l = lines[pos];
    if (l.text.startsWith('- ') || l.text === '-') return sequence(indent);
    return mapping(indent, {});
  }

  skipBlank();
  const doc = block(lines[pos]?.indent ?? 0);
  skipBlank();
  if (pos < lines.length) throw new Error(`ksy line ${lines[pos].no}: could not parse`);
  return doc;
}

// ---------------------------------------------------------------------------
// Compilation and loading (cached per test process)
// ---------------------------------------------------------------------------

interface KsCompiler {
  compile(lang: string, ksy: unknown, importer: unknown, debug: boolean): Promise<Record<string, string>>;
  version: string;
}

/** Constructor of a generated Kaitai class: (io, parent, root, ...params). */
type KaitaiCtor = new (io: unknown, parent?: unknown, root?: unknown, ...params: unknown[]) => unknown;

export interface CompiledKsy {
  /** File name -> generated JavaScript source. */
  files: Record<string, string>;
  /** The generated top-level class (XenMigrationStream). */
  root: KaitaiCtor;
  /** kaitai-struct runtime KaitaiStream class. */
  KaitaiStream: new (
    data: ArrayBuffer | Uint8Array,
  ) => unknown;
  compilerVersion: string;
}

let compiled: Promise<CompiledKsy> | undefined;
let compiledReady: CompiledKsy | undefined;

/** Compiles the .ksy once per test process (the compiler API is async). */
export function compileKsy(): Promise<CompiledKsy> {
  compiled ??= doCompile().then((c) => (compiledReady = c));
  return compiled;
}

async function doCompile(): Promise<CompiledKsy> {
  const ksy = parseYamlSubset(readFileSync(KSY_URL, 'utf8'));
  const compiler = require('kaitai-struct-compiler') as KsCompiler;
  const files = await compiler.compile('javascript', ksy, null, false);
  const KaitaiStream = require('kaitai-struct/KaitaiStream') as CompiledKsy['KaitaiStream'];
  const fakeRequire = (id: string): unknown => {
    if (id === 'kaitai-struct/KaitaiStream') return KaitaiStream;
    throw new Error(`generated Kaitai code requires unexpected module ${id}`);
  };
  const exportsObj: Record<string, unknown> = {};
  for (const [name, src] of Object.entries(files)) {
    // The UMD wrapper takes its CommonJS branch when `exports` and `require` exist.
    const fn = runInThisContext(`(function (exports, require) {\n${src}\n})`, { filename: `kaitai-generated/${name}` }) as (
      e: Record<string, unknown>,
      r: (id: string) => unknown,
    ) => void;
    fn(exportsObj, fakeRequire);
  }
  const root = exportsObj.XenMigrationStream;
  if (typeof root !== 'function') throw new Error(`generated code exports ${Object.keys(exportsObj).join(', ')}, not XenMigrationStream`);
  return { files, root: root as KaitaiCtor, KaitaiStream, compilerVersion: compiler.version };
}

// ---------------------------------------------------------------------------
// Walking the parse tree
// ---------------------------------------------------------------------------

/**
 * One header or record, in stream order. Shape (keep it flat and simple, a
 * cross-check against the project codec relies on it):
 *
 * - `layer`, `kind`, `offset` (absolute byte offset of the header / record
 *   header in the input, as tracked by Kaitai's own stream position) and
 *   `size` (bytes on the wire; records: 8 + body + padding) are always set.
 * - headers: `header` says which one ('xl' | 'libxl' | 'image' | 'domain');
 *   then xl: `mandatoryFlags`, `optionalFlags`, `optionalDataLen`,
 *   `configLen`; libxl: `version`, `options`; image: `version`, `options`;
 *   domain: `domainType`, `pageShift`, `xenMajor`, `xenMinor`.
 * - records: `type` (number), `typeName` (upper-case name from the .ksy enum,
 *   or undefined for unknown types), `bodyLength`, `paddingNonZero`; plus, by
 *   type: PAGE_DATA `count`, `dataPages`; HVM_PARAMS `count`;
 *   X86_CPUID_POLICY / X86_MSR_POLICY `count` (entries); X86_PV_INFO
 *   `guestWidth`, `ptLevels`; X86_PV_VCPU_* `vcpuId`; X86_TSC_INFO `tscMode`,
 *   `tscKhz`; EMULATOR_* `emulatorId`, `emulatorIndex`; CHECKPOINT_STATE
 *   `controlId`; HVM_CONTEXT `count` (save entries incl. the END entry).
 */
export interface KaitaiRecord {
  layer: 'xl' | 'libxl' | 'libxc';
  kind: 'header' | 'record';
  offset: number;
  size: number;
  header?: 'xl' | 'libxl' | 'image' | 'domain';
  type?: number;
  typeName?: string | undefined;
  bodyLength?: number;
  paddingNonZero?: boolean;
  version?: number;
  options?: number;
  mandatoryFlags?: number;
  optionalFlags?: number;
  optionalDataLen?: number;
  configLen?: number | undefined;
  domainType?: number;
  pageShift?: number;
  xenMajor?: number;
  xenMinor?: number;
  count?: number;
  dataPages?: number;
  guestWidth?: number;
  ptLevels?: number;
  vcpuId?: number;
  tscMode?: number;
  tscKhz?: number;
  emulatorId?: number;
  emulatorIndex?: number;
  controlId?: number;
}

// Narrowing helpers at the boundary with generated (untyped) objects.
type Obj = Record<string, unknown>;
function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null) throw new Error(`kaitai: ${what} is not an object`);
  return v as Obj;
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`kaitai: ${what} is not a number (${typeof v})`);
  return v;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`kaitai: ${what} is not an array`);
  return v;
}
function bytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Error(`kaitai: ${what} is not bytes`);
  return v;
}

/** Upper-case enum name for a record type, from the compiled .ksy enums. */
export async function kaitaiTypeName(layer: 'libxl' | 'libxc', type: number): Promise<string | undefined> {
  const { root } = await compileKsy();
  return enumName(root, layer, type);
}

function enumName(root: KaitaiCtor, layer: 'libxl' | 'libxc', type: number): string | undefined {
  const e = (root as unknown as Obj)[layer === 'libxl' ? 'LibxlRecType' : 'LibxcRecType'];
  const name = obj(e, 'enum')[String(type)];
  return typeof name === 'string' ? name : undefined;
}

/** Parses `bytes` with the compiled .ksy (any of the three entry forms). */
export async function kaitaiParse(input: Uint8Array): Promise<Obj> {
  const { root, KaitaiStream } = await compileKsy();
  return obj(new root(new KaitaiStream(input)), 'root');
}

/** Every header and record, in stream order (see KaitaiRecord). */
export async function kaitaiWalk(input: Uint8Array): Promise<KaitaiRecord[]> {
  return walk(await compileKsy(), input);
}

/** Synchronous kaitaiWalk; call `await compileKsy()` first (e.g. in beforeAll). */
export function kaitaiWalkSync(input: Uint8Array): KaitaiRecord[] {
  if (compiledReady === undefined) throw new Error('kaitaiWalkSync: await compileKsy() first');
  return walk(compiledReady, input);
}

function walk({ root, KaitaiStream }: CompiledKsy, input: Uint8Array): KaitaiRecord[] {
  const top = obj(new root(new KaitaiStream(input)), 'root');
  const stream = obj(top.stream, 'stream');
  const out: KaitaiRecord[] = [];
  const cls = (name: string): KaitaiCtor => (root as unknown as Record<string, KaitaiCtor>)[name];
  if (stream instanceof cls('XlSaveFile')) {
    const h = obj(stream.header, 'xl header');
    const opt = obj(h.optionalData, 'xl optional data');
    out.push({
      layer: 'xl',
      kind: 'header',
      header: 'xl',
      offset: num(h.ofs, 'xl ofs'),
      size: 48 + num(h.optionalDataLen, 'optional_data_len'),
      mandatoryFlags: num(h.mandatoryFlags, 'mandatory_flags'),
      optionalFlags: num(h.optionalFlags, 'optional_flags'),
      optionalDataLen: num(h.optionalDataLen, 'optional_data_len'),
      configLen: opt.configLen === undefined ? undefined : num(opt.configLen, 'config_len'),
    });
    if (stream.libxl !== undefined && stream.libxl !== null) walkLibxl(root, obj(stream.libxl, 'libxl'), out);
  } else if (stream instanceof cls('LibxlStream')) {
    walkLibxl(root, stream, out);
  } else if (stream instanceof cls('LibxcStream')) {
    walkLibxc(root, stream, out);
  } else {
    throw new Error(`kaitai: unrecognised stream (first bytes do not match any magic)`);
  }
  return out;
}

function recordBase(root: KaitaiCtor, layer: 'libxl' | 'libxc', r: Obj): KaitaiRecord {
  const type = num(r.type, 'type');
  const bodyLength = num(r.bodyLength, 'body_length');
  const padding = bytes(r.padding, 'padding');
  return {
    layer,
    kind: 'record',
    offset: num(r.ofs, 'record ofs'),
    size: 8 + bodyLength + padding.length,
    type,
    typeName: enumName(root, layer, type),
    bodyLength,
    paddingNonZero: padding.some((b) => b !== 0),
  };
}

function walkLibxl(root: KaitaiCtor, s: Obj, out: KaitaiRecord[]): void {
  const h = obj(s.header, 'libxl header');
  out.push({
    layer: 'libxl',
    kind: 'header',
    header: 'libxl',
    offset: num(h.ofs, 'libxl ofs'),
    size: 16,
    version: num(h.version, 'libxl version'),
    options: num(h.options, 'libxl options'),
  });
  for (const item of arr(s.records, 'libxl records')) {
    const r = obj(item, 'libxl record');
    const rec = recordBase(root, 'libxl', r);
    const body = r.body;
    if (rec.type === 2 || rec.type === 3) {
      const emu = obj(obj(body, 'emulator body').emulator, 'emulator header');
      rec.emulatorId = num(emu.emulatorId, 'emulator_id');
      rec.emulatorIndex = num(emu.index, 'emulator index');
    } else if (rec.type === 5) {
      rec.controlId = num(obj(body, 'checkpoint_state').controlId, 'control_id');
    }
    out.push(rec);
    if (r.libxc !== undefined && r.libxc !== null) walkLibxc(root, obj(r.libxc, 'libxc'), out);
  }
}

function walkLibxc(root: KaitaiCtor, s: Obj, out: KaitaiRecord[]): void {
  const ih = obj(s.imageHeader, 'image header');
  out.push({
    layer: 'libxc',
    kind: 'header',
    header: 'image',
    offset: num(ih.ofs, 'image ofs'),
    size: 24,
    version: num(ih.version, 'image version'),
    options: num(ih.options, 'image options'),
  });
  const dh = obj(s.domainHeader, 'domain header');
  out.push({
    layer: 'libxc',
    kind: 'header',
    header: 'domain',
    offset: num(dh.ofs, 'domain ofs'),
    size: 16,
    domainType: num(dh.type, 'domain type'),
    pageShift: num(dh.pageShift, 'page_shift'),
    xenMajor: num(dh.xenMajor, 'xen_major'),
    xenMinor: num(dh.xenMinor, 'xen_minor'),
  });
  for (const item of arr(s.records, 'libxc records')) {
    const r = obj(item, 'libxc record');
    const rec = recordBase(root, 'libxc', r);
    const body = r.body;
    switch (rec.type) {
      case 0x01: {
        const b = obj(body, 'PAGE_DATA');
        rec.count = num(b.count, 'count');
        rec.dataPages = num(b.dataPages, 'data_pages');
        break;
      }
      case 0x02: {
        const b = obj(body, 'X86_PV_INFO');
        rec.guestWidth = num(b.guestWidth, 'guest_width');
        rec.ptLevels = num(b.ptLevels, 'pt_levels');
        break;
      }
      case 0x04:
      case 0x05:
      case 0x06:
      case 0x0c:
        rec.vcpuId = num(obj(body, 'vcpu').vcpuId, 'vcpu_id');
        break;
      case 0x08: {
        const b = obj(body, 'X86_TSC_INFO');
        rec.tscMode = num(b.mode, 'tsc mode');
        rec.tscKhz = num(b.khz, 'khz');
        break;
      }
      case 0x09:
        rec.count = arr(obj(body, 'HVM_CONTEXT').entries, 'hvm entries').length;
        break;
      case 0x0a:
        rec.count = num(obj(body, 'HVM_PARAMS').count, 'count');
        break;
      case 0x11:
        rec.count = arr(obj(body, 'CPUID policy').leaves, 'leaves').length;
        break;
      case 0x12:
        rec.count = arr(obj(body, 'MSR policy').msrs, 'msrs').length;
        break;
      default:
        break;
    }
    out.push(rec);
  }
}
