/**
 * The executables are esbuild bundles (scripts/build-cli.mjs): they run, a
 * command loads only its own code, --help and --version say the same as the
 * sources do, and dist/ ships no source map without its sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, ensureCliBuilt } from './support/cli-run.js';

const MIGRATE = join(ROOT, 'dist/cli/stream-migrate.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let dir: string;
let stream: string;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-bundle-'));
  stream = join(dir, 'p16.bin');
  expect(node([CLI, 'synth', '--pages', '16', '-q', '-o', stream]).status).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function node(args: readonly string[], cwd = ROOT) {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
}

/**
 * The files a run of the CLI loads as modules, relative to ROOT, in order: the CommonJS ones through a
 * preloaded patch of Module.prototype._compile, the ES modules (help, errors) through a module.register load hook.
 */
function modulesLoadedBy(args: readonly string[]): string[] {
  const log = join(dir, `loaded-${args[0]}.txt`);
  writeFileSync(log, '');
  const preload = join(dir, 'log-commonjs.cjs');
  writeFileSync(
    preload,
    `const { appendFileSync } = require('node:fs'); const Module = require('node:module'); const { pathToFileURL } = require('node:url');
     const compile = Module.prototype._compile;
     Module.prototype._compile = function (content, filename) { appendFileSync(${JSON.stringify(log)}, pathToFileURL(filename).href + '\\n'); return compile.call(this, content, filename); };`,
  );
  const hook = `import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { if (url.endsWith('.mjs')) appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const r = node(['--require', preload, '--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI, ...args]);
  expect(r.stderr).toBe('');
  const urls = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'));
  return [...new Set(urls)].map((url) => relative(ROOT, new URL(url).pathname)).filter((f) => f !== relative(ROOT, preload));
}

describe('CLI bundles', () => {
  it('dist/cli holds the two executables and their chunks, nothing built by tsc', () => {
    const files = readdirSync(join(ROOT, 'dist/cli'));
    expect(files).toContain('stream-inspect.js');
    expect(files).toContain('stream-migrate.js');
    // The run path is CommonJS (.js, as dist/cli/package.json says); the code-split build for help is ESM (.mjs).
    expect(JSON.parse(readFileSync(join(ROOT, 'dist/cli/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    expect(files.filter((f) => !/\.m?js$/.test(f))).toEqual(['package.json']);
    expect(files.filter((f) => f.endsWith('.mjs'))).toContain('stream-inspect-main.mjs');
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('verify loads the executable and its own run file, nothing else (no yargs, no other command)', () => {
    // scripts/build-cli.mjs: one file per command holds its whole run path; yargs only for help and errors.
    expect(modulesLoadedBy(['verify', stream])).toEqual(['dist/cli/stream-inspect.js', 'dist/cli/stream-inspect-run-verify.js']);
    const forHelp = modulesLoadedBy(['verify', '--help']);
    expect(forHelp.every((f) => f.startsWith('dist/cli/'))).toBe(true); // yargs and the rest are bundled
    expect(forHelp.some((f) => /\/yargs-[A-Z0-9]+\.mjs$/.test(f))).toBe(true);
    const commandChunks = forHelp.filter((f) => /\/(synth|dump|verify|stats|hexdump|extract|encode|diff|rewrite|report)-[A-Z0-9]+\.mjs$/.test(f));
    expect(commandChunks).toEqual([]); // the run file has verify's own code; other commands are not loaded
  });

  it("each command has its own run file, which holds no other command's code", () => {
    const commands = readdirSync(join(ROOT, 'src/cli/commands')).map((f) => f.replace(/\.ts$/, ''));
    for (const command of commands) {
      const run = readFileSync(join(ROOT, `dist/cli/stream-inspect-run-${command}.js`), 'utf8');
      const bundled = [...run.matchAll(/^\/\/ src\/cli\/commands\/([a-z-]+)\.ts$/gm)].map((m) => m[1]);
      expect(bundled, command).toEqual([command]);
    }
  });

  it('runs: verify of a small stream, from another directory', () => {
    const r = node([CLI, 'verify', stream], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/p16\.bin: VALID — libxl container, libxc v3, x86 PV/);
  });

  it('--help of the bundle is the help of the sources, byte for byte', () => {
    for (const args of [['--help'], ['verify', '--help'], ['extract', '--help']]) {
      const bundled = node([CLI, ...args]);
      const source = node(['--import', 'tsx', join(ROOT, 'src/cli/stream-inspect.ts'), ...args]);
      expect(bundled.status).toBe(0);
      expect(bundled.stdout).toBe(source.stdout);
    }
    // stream-migrate.ts runs main() only when invoked as stream-migrate(.js): call it from the sources directly.
    const migrate = node([MIGRATE, '--help']);
    const fromSource = `const m = await import(${JSON.stringify(join(ROOT, 'src/cli/stream-migrate.ts'))}); process.exitCode = await m.main(['--help']);`;
    expect(migrate.stdout).toBe(node(['--import', 'tsx', '--input-type=module', '-e', fromSource]).stdout);
    expect(migrate.stdout).toContain('stream-migrate receive');
  });

  it("--version prints this package.json's version", () => {
    const r = node([CLI, '--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('dist/ ships no source map without the sources it maps to', () => {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    const js = walk(join(ROOT, 'dist')).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    for (const file of js) {
      const link = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, 'utf8'));
      if (!link) continue;
      const map = JSON.parse(readFileSync(new URL(link[1], pathToFileURL(file)), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(
        map.sourcesContent?.every((s) => typeof s === 'string'),
        file,
      ).toBe(true);
    }
  });
});
