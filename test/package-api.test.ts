/**
 * The package as a user installs it (dist/, through package.json's exports):
 * the root's names, the subpath entry points, what importing the root loads,
 * source maps that resolve to shipped sources, and record padding no caller
 * can corrupt. Needs `npm run build` (npm test's pretest runs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeRecordChunks, makeRecord } from '../src/codec/records.js';
import { concatBytes } from '../src/codec/bytes.js';
import { readStreamSync } from '../src/reader/index.js';
import type { StreamSink } from '../src/writer/sink.js';
import { synthHvmContext } from '../src/writer/synth-records.js';
import { StreamWriter } from '../src/writer/stream-writer.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  files: string[];
  sideEffects: unknown;
};
const SUBPATHS = ['./codec', './format', './reader', './writer', './inspect', './rewrite', './report', './session', './legacy'];

/** Runs `code` (an ES module) in a child node from the repository, logging every module URL it loads. */
function loadedBy(code: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'xms-api-'));
  try {
    writeFileSync(
      join(dir, 'hooks.mjs'),
      "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.LOAD_LOG, url + '\\n'); return next(url, context); }\n",
    );
    writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
    const log = join(dir, 'loaded.txt');
    writeFileSync(log, '');
    execFileSync(process.execPath, ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', code], {
      cwd: ROOT,
      env: { ...process.env, LOAD_LOG: log },
    });
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const heavy = (urls: string[]) => urls.filter((u) => /@sinclair\/typebox|\/dist\/(report|session|rewrite)\//.test(u));

describe('package entry points', () => {
  it('declares the root and every subpath, with sideEffects false', () => {
    expect(Object.keys(PKG.exports)).toEqual(['.', ...SUBPATHS, './package.json']);
    expect(PKG.sideEffects).toBe(false);
    for (const sub of ['.', ...SUBPATHS]) {
      const target = (PKG.exports[sub] as { default: string }).default;
      expect(existsSync(join(ROOT, target)), target).toBe(true);
    }
  });

  it('the root has named exports only: the reader, writer, sinks, errors, record types and inspect functions', async () => {
    const root = await import(join(ROOT, 'dist/index.js'));
    expect(Object.keys(root).sort()).toEqual([
      'ColoBackChannelWriter',
      'EncodeError',
      'FileByteSink',
      'FileSink',
      'InspectArgumentError',
      'JsonFormError',
      'MemorySink',
      'PAGE_TYPE',
      'PAGE_TYPES',
      'PostcopyBackChannelWriter',
      'PushDecoder',
      'RULES',
      'RULE_LIST',
      'StreamFormatError',
      'StreamReader',
      'StreamWriter',
      'StringTextSink',
      'SyncStreamReader',
      'WritableByteSink',
      'WritableSink',
      'WritableTextSink',
      'WriterError',
      'WriterGuardError',
      'WriterStateError',
      'diffStreams',
      'dumpStream',
      'encodeJsonStream',
      'extractStream',
      'hexdumpItem',
      'pageTypeName',
      'readBackChannel',
      'readBackChannelSync',
      'readStream',
      'readStreamSync',
      'recordTypeName',
      'recordTypeTable',
      'ruleById',
      'streamStats',
      'synth',
      'synthFinalPass',
      'synthPageContent',
      'verifyStream',
    ]);
  });

  it('every subpath resolves by the package name and has named exports only', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      for (const sub of ${JSON.stringify(SUBPATHS)}) {
        const m = await import('${PKG.name}/' + sub.slice(2));
        console.log(sub, Object.keys(m).length, 'default' in m);
      }`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    for (const line of out.trim().split('\n')) {
      const [sub, count, hasDefault] = line.split(' ');
      expect(Number(count), sub).toBeGreaterThan(0);
      expect(hasDefault, sub).toBe('false');
    }
  });

  it('importing the root loads neither TypeBox nor the report, rewrite or session layers (the subpaths do)', () => {
    const root = loadedBy(`await import('${PKG.name}')`);
    expect(root.some((u) => u.endsWith('/dist/index.js'))).toBe(true);
    expect(heavy(root)).toEqual([]);
    // The check sees what it looks for: the codec subpath loads TypeBox, the session one the session layer.
    expect(loadedBy(`await import('${PKG.name}/codec')`).some((u) => u.includes('@sinclair/typebox'))).toBe(true);
    expect(loadedBy(`await import('${PKG.name}/session')`).some((u) => u.includes('/dist/session/'))).toBe(true);
  });

  it('every shipped source map points at sources the package ships', () => {
    const maps: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.map')) maps.push(join(d, e.name));
      }
    };
    walk(join(ROOT, 'dist'));
    const shipped = (file: string) =>
      PKG.files.some((f) => {
        const r = relative(join(ROOT, f), file);
        return r === '' || (!r.startsWith('..') && !r.startsWith('/'));
      });
    const bad: string[] = [];
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
      if (sourcesContent?.length === sources.length) continue;
      for (const s of sources) {
        const file = resolve(dirname(map), s);
        if (!existsSync(file) || !shipped(file)) bad.push(`${relative(ROOT, map)} → ${s}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('nothing mutable is shared', () => {
  it("the root's tables (PAGE_TYPE, PAGE_TYPES, RULES, RULE_LIST, the record-type tables) are deeply frozen", async () => {
    const root = await import('../src/index.js');
    const unfrozen: string[] = [];
    const check = (v: unknown, path: string, seen: Set<unknown>) => {
      if (v === null || typeof v !== 'object' || seen.has(v)) return;
      seen.add(v);
      if (!Object.isFrozen(v)) unfrozen.push(path);
      for (const [k, x] of Object.entries(v)) check(x, `${path}.${k}`, seen);
    };
    for (const [name, value] of Object.entries(root)) if (typeof value === 'object') check(value, name, new Set());
    for (const layer of ['libxl', 'libxc'] as const) {
      for (const dialect of ['upstream', 'postcopy-rfc'] as const)
        check(root.recordTypeTable(layer, dialect), `recordTypeTable(${layer}, ${dialect})`, new Set());
    }
    expect(unfrozen).toEqual([]);
    expect(() => {
      (root.RULES.TRUNCATED as { severity: string }).severity = 'warning';
    }).toThrow(TypeError);
  });

  it('record padding is a fresh buffer per record: writing into one does not change the next', () => {
    const rec = makeRecord('libxc', 'HVM_CONTEXT', { kind: 'opaque', data: new Uint8Array(20) }); // 4 bytes of padding
    const a = encodeRecordChunks(rec);
    const padA = a[a.length - 1];
    expect(padA.length).toBe(4);
    padA.fill(0xff);
    const b = encodeRecordChunks(rec);
    expect([...b[b.length - 1]]).toEqual([0, 0, 0, 0]);
    expect(b[b.length - 1].buffer).not.toBe(padA.buffer);
  });

  it('a sink that reuses the chunks it is given (scribbles on them after copying) cannot corrupt later records', async () => {
    const copies: Uint8Array[] = [];
    const scribbler: StreamSink = {
      bytesWritten: 0,
      async write(chunks) {
        for (const c of chunks) {
          copies.push(c.slice());
          c.fill(0xee); // the writer handed these over; nothing it reuses may be among them
        }
      },
      async close() {},
      async abort() {},
    };
    const w = new StreamWriter(scribbler, { mode: 'plain', guest: 'hvm' });
    await w.writeLibxlHeader();
    await w.beginLibxc();
    await w.writeStaticDataEnd();
    await w.writeTscInfo({ khz: 1 });
    await w.writeHvmContext(synthHvmContext(1));
    await w.endLibxc();
    await w.writeEmulatorXenstoreData([['a', 'b']]); // 8 + 4 bytes: 4 of padding
    await w.writeEmulatorContext(Uint8Array.of(1, 2, 3)); // 8 + 3 bytes: 5 of padding
    await w.end();
    const r = readStreamSync(concatBytes(copies)).readAll(); // strict: non-zero padding would be RECORD-PADDING-NONZERO
    expect(r.end.status).toBe('complete');
    expect(r.problems).toEqual([]);
  });
});
